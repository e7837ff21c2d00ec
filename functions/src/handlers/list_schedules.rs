//! GET /schedules: every schedule, by name.

use lambda_http::http::StatusCode;

use crate::error::ErrorBody;
use crate::reply::{Reply, json};
use crate::request::Call;
use crate::views::SchedulesReply;

/// Lists the schedules (at most 1000 exist).
#[utoipa::path(get, path = "/schedules", tag = "schedules",
    responses(
        (status = 200, description = "Every schedule, by name", body = SchedulesReply),
        (status = 503, description = "Redis is unreachable", body = ErrorBody),
    ))]
pub async fn handle(call: Call) -> Reply {
    let schedules = call.redis(|q| async move { q.schedules().await }).await?;
    Ok(json(StatusCode::OK, &SchedulesReply { schedules: schedules.into_iter().map(Into::into).collect() }))
}
