//! POST /tasks/{job_id}/reschedule: move a scheduled or retrying job to
//! another time, or run it now.

use chrono::Utc;
use lambda_http::http::StatusCode;
use serde_json::Map;
use taskq::{RescheduleOutcome, Status};

use crate::error::{ApiError, ErrorBody, ValidationBody};
use crate::input::Fields;
use crate::reply::{Reply, json};
use crate::request::Call;
use crate::views::{RescheduleReply, RescheduleRequest};

/// Moves the job, or says why it cannot.
#[utoipa::path(post, path = "/tasks/{job_id}/reschedule", tag = "tasks",
    params(("job_id" = String, Path, description = "The job's id")),
    request_body(content = Option<RescheduleRequest>, description = "When it should run; an empty body or `{}` runs it now"),
    responses(
        (status = 200, description = "On its queue now (`queued`), or waiting until `run_at`", body = RescheduleReply),
        (status = 404, description = "No such job", body = ErrorBody),
        (status = 409, description = "Only scheduled and retrying jobs are rescheduled", body = ErrorBody),
        (status = 415, description = "A body whose Content-Type is not JSON", body = ErrorBody),
        (status = 422, description = "Malformed `delay` or `run_at`, both given, or beyond 366 days", body = ValidationBody),
        (status = 503, description = "Redis is unreachable", body = ErrorBody),
    ))]
pub async fn handle(call: Call) -> Reply {
    let id = super::job_id(&call)?;
    let empty = call.request.body().as_ref().iter().all(u8::is_ascii_whitespace);
    let body = if empty { Map::new() } else { call.json_object()? };
    let mut f = Fields::new(&body, &["body"]);
    let run_at = f.run_at(Utc::now());
    f.finish()?;
    let job_id = id.clone();
    let reply =
        |status: Status, run_at| json(StatusCode::OK, &RescheduleReply { job_id, status: status.into(), run_at });
    match call.redis(move |q| async move { q.reschedule(&id, run_at).await }).await? {
        RescheduleOutcome::Queued => Ok(reply(Status::Queued, None)),
        RescheduleOutcome::Waiting(status, at) => Ok(reply(status, Some(at))),
        RescheduleOutcome::NotWaiting(status) => Err(ApiError::Conflict {
            detail: format!("only scheduled and retrying jobs can be rescheduled; this one is {status}"),
            status,
        }),
        RescheduleOutcome::NotFound => Err(super::job_not_found()),
    }
}
