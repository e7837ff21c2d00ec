//! The `list_jobs` function: GET /jobs.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    functions::run(&functions::routes::LIST_JOBS).await
}
