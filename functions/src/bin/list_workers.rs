//! The `list_workers` function: GET /workers.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    functions::run(&functions::routes::LIST_WORKERS).await
}
