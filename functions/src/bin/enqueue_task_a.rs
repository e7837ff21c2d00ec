//! The `enqueue_task_a` function: POST /tasks/a.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    functions::run(&functions::routes::ENQUEUE_TASK_A).await
}
