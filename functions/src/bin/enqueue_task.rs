//! The `enqueue_task` function: POST /tasks.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    functions::run(&functions::routes::ENQUEUE_TASK).await
}
