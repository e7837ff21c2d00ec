//! GET /tasks/{job_id}: a job's state, progress, meta, result, error and times.

use lambda_http::http::StatusCode;

use crate::error::ErrorBody;
use crate::reply::{Reply, json};
use crate::request::Call;
use crate::views::JobView;

/// Reads the job; unknown, expired and malformed ids are 404.
#[utoipa::path(get, path = "/tasks/{job_id}", tag = "tasks",
    params(("job_id" = String, Path, description = "The job's id")),
    responses(
        (status = 200, description = "The job", body = JobView),
        (status = 404, description = "No such job (or it expired)", body = ErrorBody),
        (status = 503, description = "Redis is unreachable", body = ErrorBody),
    ))]
pub async fn handle(call: Call) -> Reply {
    let id = super::job_id(&call)?;
    let job = call.redis(move |q| async move { q.get(&id).await }).await?.ok_or_else(super::job_not_found)?;
    Ok(json(StatusCode::OK, &JobView::from(job)))
}
