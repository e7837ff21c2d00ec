//! The `list_queues` function: GET /queues.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    functions::run(&functions::routes::LIST_QUEUES).await
}
