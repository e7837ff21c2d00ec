//! The `pause_schedule` function: POST /schedules/{name}/pause.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    functions::run(&functions::routes::PAUSE_SCHEDULE).await
}
