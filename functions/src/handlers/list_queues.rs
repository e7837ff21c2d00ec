//! GET /queues: every configured queue with its waiting count and per-state counts.

use lambda_http::http::StatusCode;

use crate::error::ErrorBody;
use crate::reply::{Reply, json};
use crate::request::Call;
use crate::views::QueuesReply;

/// Counts every queue, in priority order.
#[utoipa::path(get, path = "/queues", tag = "queues",
    responses(
        (status = 200, description = "Every queue", body = QueuesReply),
        (status = 503, description = "Redis is unreachable", body = ErrorBody),
    ))]
pub async fn handle(call: Call) -> Reply {
    let counts = call.redis(|q| async move { q.counts().await }).await?;
    Ok(json(StatusCode::OK, &QueuesReply { queues: counts.into_iter().map(Into::into).collect() }))
}
