//! DELETE /schedules/{name}: remove a schedule; the jobs it made stay.

use lambda_http::http::StatusCode;

use crate::error::ErrorBody;
use crate::reply::{Reply, json};
use crate::request::Call;
use crate::views::DeletedReply;

/// Deletes the schedule; unknown names are 404.
#[utoipa::path(delete, path = "/schedules/{name}", tag = "schedules",
    params(("name" = String, Path, description = "The schedule's name")),
    responses(
        (status = 200, description = "Deleted; the jobs it made stay", body = DeletedReply),
        (status = 404, description = "No such schedule", body = ErrorBody),
        (status = 503, description = "Redis is unreachable", body = ErrorBody),
    ))]
pub async fn handle(call: Call) -> Reply {
    let name = super::schedules::name(&call);
    let n = name.clone();
    if !call.redis(move |q| async move { q.delete_schedule(&n).await }).await? {
        return Err(super::schedules::not_found(&name));
    }
    Ok(json(StatusCode::OK, &DeletedReply { name, deleted: true }))
}
