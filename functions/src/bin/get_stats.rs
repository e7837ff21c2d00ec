//! The `get_stats` function: GET /stats.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    functions::run(&functions::routes::GET_STATS).await
}
