//! The `requeue_failed` function: POST /queues/{queue_name}/requeue.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    functions::run(&functions::routes::REQUEUE_FAILED).await
}
