//! POST /schedules/{name}/pause: pause a schedule: it makes no jobs until resumed; its next runs are empty meanwhile.

use crate::error::ErrorBody;
use crate::reply::Reply;
use crate::request::Call;
use crate::views::ScheduleView;

/// Pauses the schedule (again is no error); unknown names are 404.
#[utoipa::path(post, path = "/schedules/{name}/pause", tag = "schedules",
    params(("name" = String, Path, description = "The schedule's name")),
    responses(
        (status = 200, description = "The schedule, paused", body = ScheduleView),
        (status = 404, description = "No such schedule", body = ErrorBody),
        (status = 503, description = "Redis is unreachable", body = ErrorBody),
    ))]
pub async fn handle(call: Call) -> Reply {
    super::schedule::set_paused(call, true).await
}
