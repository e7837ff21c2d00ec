//! The `put_schedule` function: PUT /schedules/{name}.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    functions::run(&functions::routes::PUT_SCHEDULE).await
}
