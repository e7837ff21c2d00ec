//! POST /tasks/{job_id}/requeue: put a failed or canceled job back on its queue.

use lambda_http::http::StatusCode;
use taskq::{RequeueOutcome, Status};

use crate::error::{ApiError, ErrorBody};
use crate::reply::{Reply, json};
use crate::request::Call;
use crate::views::JobStatusReply;

/// Requeues the job, or says why it cannot.
#[utoipa::path(post, path = "/tasks/{job_id}/requeue", tag = "tasks",
    params(("job_id" = String, Path, description = "The job's id")),
    responses(
        (status = 200, description = "Back on its queue", body = JobStatusReply,
            example = json!({"job_id": "8b0c5ab4-3f7a-4d39-9e1e-1f6f1b2f4a10", "status": "queued"})),
        (status = 404, description = "No such job", body = ErrorBody),
        (status = 409, description = "Only failed and canceled jobs are requeued", body = ErrorBody),
        (status = 503, description = "Redis is unreachable", body = ErrorBody),
    ))]
pub async fn handle(call: Call) -> Reply {
    let id = super::job_id(&call)?;
    let job_id = id.clone();
    match call.redis(move |q| async move { q.requeue(&id).await }).await? {
        RequeueOutcome::Requeued => Ok(json(StatusCode::OK, &JobStatusReply { job_id, status: Status::Queued.into() })),
        RequeueOutcome::NotRequeueable(status) => Err(ApiError::Conflict {
            detail: format!("only failed and canceled jobs can be requeued; this one is {status}"),
            status,
        }),
        RequeueOutcome::NotFound => Err(super::job_not_found()),
    }
}
