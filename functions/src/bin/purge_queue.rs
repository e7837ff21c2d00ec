//! The `purge_queue` function: DELETE /queues/{queue_name}/purge.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    functions::run(&functions::routes::PURGE_QUEUE).await
}
