//! What the schedule endpoints share: reading the `name` path parameter and
//! the 404 of an unknown schedule.

use crate::error::ApiError;
use crate::request::Call;

/// Whether `name` can name a schedule: 1 to 100 of `[A-Za-z0-9_.-]`.
pub(super) fn valid_name(name: &str) -> bool {
    taskq::schedule::check_name(name).is_ok()
}

/// The `name` path parameter of an existing schedule's route: a name no
/// schedule can have is unknown (404), without asking Redis.
pub(super) fn name(call: &Call) -> Result<String, ApiError> {
    let name = call.param("name");
    if valid_name(name) { Ok(name.to_owned()) } else { Err(not_found(name)) }
}

/// No schedule `name`.
pub(super) fn not_found(name: &str) -> ApiError {
    let shown: String = name.chars().take(taskq::schedule::MAX_NAME).collect();
    ApiError::NotFound(format!("schedule {shown:?} not found"))
}

/// Pauses or resumes the schedule of the call's path.
pub(super) async fn set_paused(call: Call, paused: bool) -> crate::reply::Reply {
    let name = name(&call)?;
    let n = name.clone();
    let schedule = call
        .redis(move |q| async move { q.set_schedule_paused(&n, paused).await })
        .await?
        .ok_or_else(|| not_found(&name))?;
    Ok(crate::reply::json(lambda_http::http::StatusCode::OK, &crate::views::ScheduleView::from(schedule)))
}
