//! DELETE /tasks/{job_id}: cancel a job. A queued job is canceled at once
//! (200); a running one is asked to stop and ends `canceled` shortly (202).

use lambda_http::http::StatusCode;
use taskq::{CancelOutcome, Status};

use crate::error::{ApiError, ErrorBody};
use crate::reply::{Reply, json};
use crate::request::Call;
use crate::views::JobStatusReply;

/// Cancels the job, or says why it cannot.
#[utoipa::path(delete, path = "/tasks/{job_id}", tag = "tasks",
    params(("job_id" = String, Path, description = "The job's id")),
    responses(
        (status = 200, description = "It was queued: canceled, it will never run", body = JobStatusReply),
        (status = 202, description = "It is running: its worker was asked to stop it", body = JobStatusReply,
            example = json!({"job_id": "8b0c5ab4-3f7a-4d39-9e1e-1f6f1b2f4a10", "status": "cancel_requested"})),
        (status = 404, description = "No such job", body = ErrorBody),
        (status = 409, description = "It has already ended (finished, failed or canceled)", body = ErrorBody),
        (status = 503, description = "Redis is unreachable", body = ErrorBody),
    ))]
pub async fn handle(call: Call) -> Reply {
    let id = super::job_id(&call)?;
    let job_id = id.clone();
    let (code, status) = match call.redis(move |q| async move { q.cancel(&id).await }).await? {
        CancelOutcome::Canceled => (StatusCode::OK, Status::Canceled),
        CancelOutcome::CancelRequested => (StatusCode::ACCEPTED, Status::CancelRequested),
        CancelOutcome::AlreadyEnded(status) => {
            return Err(ApiError::Conflict { detail: format!("job has already ended: {status}"), status });
        }
        CancelOutcome::NotFound => return Err(super::job_not_found()),
    };
    Ok(json(code, &JobStatusReply { job_id, status: status.into() }))
}
