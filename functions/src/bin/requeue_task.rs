//! The `requeue_task` function: POST /tasks/{job_id}/requeue.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    functions::run(&functions::routes::REQUEUE_TASK).await
}
