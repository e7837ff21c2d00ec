//! GET /workers: the workers whose heartbeat is current.

use lambda_http::http::StatusCode;

use crate::error::ErrorBody;
use crate::reply::{Reply, json};
use crate::request::Call;
use crate::views::WorkersReply;

/// Lists live workers.
#[utoipa::path(get, path = "/workers", tag = "workers",
    responses(
        (status = 200, description = "Live workers", body = WorkersReply),
        (status = 503, description = "Redis is unreachable", body = ErrorBody),
    ))]
pub async fn handle(call: Call) -> Reply {
    let workers = call.redis(|q| async move { q.workers().await }).await?;
    Ok(json(StatusCode::OK, &WorkersReply { workers: workers.into_iter().map(Into::into).collect() }))
}
