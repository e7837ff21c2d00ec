//! The `cancel_task` function: DELETE /tasks/{job_id}.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    functions::run(&functions::routes::CANCEL_TASK).await
}
