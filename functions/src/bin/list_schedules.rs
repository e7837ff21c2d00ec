//! The `list_schedules` function: GET /schedules.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    functions::run(&functions::routes::LIST_SCHEDULES).await
}
