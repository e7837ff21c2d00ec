//! The `get_schedule` function: GET /schedules/{name}.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    functions::run(&functions::routes::GET_SCHEDULE).await
}
