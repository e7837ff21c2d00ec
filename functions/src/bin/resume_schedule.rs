//! The `resume_schedule` function: POST /schedules/{name}/resume.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    functions::run(&functions::routes::RESUME_SCHEDULE).await
}
