//! The `delete_schedule` function: DELETE /schedules/{name}.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    functions::run(&functions::routes::DELETE_SCHEDULE).await
}
