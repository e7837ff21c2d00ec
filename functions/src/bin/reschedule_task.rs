//! The `reschedule_task` function: POST /tasks/{job_id}/reschedule.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    functions::run(&functions::routes::RESCHEDULE_TASK).await
}
