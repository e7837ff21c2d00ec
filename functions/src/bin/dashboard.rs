//! The `dashboard` function: GET /dashboard.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    functions::run(&functions::routes::DASHBOARD).await
}
