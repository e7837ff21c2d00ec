//! The `get_task` function: GET /tasks/{job_id}.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    functions::run(&functions::routes::GET_TASK).await
}
