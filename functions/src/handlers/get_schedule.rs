//! GET /schedules/{name}: one schedule with its next runs.

use lambda_http::http::StatusCode;

use crate::error::ErrorBody;
use crate::reply::{Reply, json};
use crate::request::Call;
use crate::views::ScheduleView;

/// Reads the schedule; unknown names are 404.
#[utoipa::path(get, path = "/schedules/{name}", tag = "schedules",
    params(("name" = String, Path, description = "The schedule's name")),
    responses(
        (status = 200, description = "The schedule", body = ScheduleView),
        (status = 404, description = "No such schedule", body = ErrorBody),
        (status = 503, description = "Redis is unreachable", body = ErrorBody),
    ))]
pub async fn handle(call: Call) -> Reply {
    let name = super::schedules::name(&call);
    let n = name.clone();
    let found = call.redis(move |q| async move { q.schedule(&n).await }).await?;
    let schedule = found.ok_or_else(|| super::schedules::not_found(&name))?;
    Ok(json(StatusCode::OK, &ScheduleView::from(schedule)))
}
