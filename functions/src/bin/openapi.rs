//! The `openapi` function: GET /openapi.json.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    functions::run(&functions::routes::OPENAPI).await
}
