//! The `enqueue_task_b` function: POST /tasks/b.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    functions::run(&functions::routes::ENQUEUE_TASK_B).await
}
