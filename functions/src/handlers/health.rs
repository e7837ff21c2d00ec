//! GET /health: whether the function runs and Redis answers.

use lambda_http::http::StatusCode;

use crate::error::ErrorBody;
use crate::reply::{Reply, json};
use crate::request::Call;
use crate::views::HealthReply;

/// Answers 200 when Redis answers a PING within REDIS_TIMEOUT, else 503.
#[utoipa::path(get, path = "/health", tag = "health",
    responses(
        (status = 200, description = "Redis answers", body = HealthReply),
        (status = 503, description = "Redis is unreachable", body = ErrorBody),
    ))]
pub async fn handle(call: Call) -> Reply {
    call.redis(|q| async move { q.ping().await }).await?;
    Ok(json(StatusCode::OK, &HealthReply { status: "ok".into(), redis: "ok".into() }))
}
