//! POST /tasks/{job_id}/reschedule: move a scheduled or retrying job to
//! another time, or onto its queue now.

use lambda_http::http::StatusCode;
use taskq::{RescheduleOutcome, Status};

use crate::error::{ApiError, ErrorBody, ValidationBody};
use crate::input::{self, Fields};
use crate::reply::{Reply, json};
use crate::request::Call;
use crate::views::{RescheduleReply, RescheduleRequest};

/// Reschedules the job, or says why it cannot.
#[utoipa::path(post, path = "/tasks/{job_id}/reschedule", tag = "tasks",
    params(("job_id" = String, Path, description = "The job's id")),
    request_body(content = Option<RescheduleRequest>,
        description = "`{\"delay\": s}` or `{\"run_at\": t}`; no body or `{}` runs it now"),
    responses(
        (status = 200, description = "On its queue now (`queued`), or waiting until `run_at`", body = RescheduleReply),
        (status = 404, description = "No such job", body = ErrorBody),
        (status = 409, description = "Only scheduled and retrying jobs are rescheduled", body = ErrorBody),
        (status = 415, description = "A body whose Content-Type is not JSON", body = ErrorBody),
        (status = 422, description = "Bad `delay` or `run_at`, or both given", body = ValidationBody),
        (status = 503, description = "Redis is unreachable", body = ErrorBody),
    ))]
pub async fn handle(call: Call) -> Reply {
    let id = super::job_id(&call)?;
    let bytes: &[u8] = call.request.body().as_ref();
    let body = if bytes.iter().all(u8::is_ascii_whitespace) { serde_json::Map::new() } else { call.json_object()? };
    let mut f = Fields::new(&body, &["body"]);
    let run_at = input::when(&mut f);
    f.finish()?;
    let job_id = id.clone();
    let (status, run_at) = match call.redis(move |q| async move { q.reschedule(&id, run_at).await }).await? {
        RescheduleOutcome::Queued => (Status::Queued, None),
        RescheduleOutcome::Waiting(status, at) => (status, Some(at)),
        RescheduleOutcome::NotWaiting(status) => {
            return Err(ApiError::Conflict {
                detail: format!("only scheduled and retrying jobs can be rescheduled; this one is {status}"),
                status,
            });
        }
        RescheduleOutcome::NotFound => return Err(super::job_not_found()),
    };
    Ok(json(StatusCode::OK, &RescheduleReply { job_id, status: status.into(), run_at }))
}
