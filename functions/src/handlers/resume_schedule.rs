//! POST /schedules/{name}/resume: resume a paused schedule: its next tick is computed from now (ticks passed while paused make no job).

use crate::error::ErrorBody;
use crate::reply::Reply;
use crate::request::Call;
use crate::views::ScheduleView;

/// Resumes the schedule (again is no error); unknown names are 404.
#[utoipa::path(post, path = "/schedules/{name}/resume", tag = "schedules",
    params(("name" = String, Path, description = "The schedule's name")),
    responses(
        (status = 200, description = "The schedule, resumed", body = ScheduleView),
        (status = 404, description = "No such schedule", body = ErrorBody),
        (status = 503, description = "Redis is unreachable", body = ErrorBody),
    ))]
pub async fn handle(call: Call) -> Reply {
    super::schedule::set_paused(call, false).await
}
