//! One module per endpoint; each exports `handle(Call) -> Reply`, annotated
//! for the OpenAPI document. What several share is here (reading a job id)
//! or in `enqueue` (the three enqueue endpoints) and `schedules`.

pub mod cancel_task;
pub mod dashboard;
pub mod delete_schedule;
pub mod docs;
mod enqueue;
pub mod enqueue_task;
pub mod enqueue_task_a;
pub mod enqueue_task_b;
pub mod get_schedule;
pub mod get_stats;
pub mod get_task;
pub mod health;
pub mod list_jobs;
pub mod list_queues;
pub mod list_schedules;
pub mod list_workers;
pub mod openapi;
pub mod pause_schedule;
pub mod purge_queue;
pub mod put_schedule;
pub mod requeue_failed;
pub mod requeue_task;
pub mod reschedule_task;
pub mod resume_schedule;
mod schedules;

use crate::error::ApiError;
use crate::request::Call;

/// The `job_id` path parameter, if it can name a job: anything but a UUID is unknown.
fn job_id(call: &Call) -> Result<String, ApiError> {
    let id = call.param("job_id");
    match uuid::Uuid::try_parse(id) {
        Ok(u) if u.hyphenated().to_string() == id => Ok(id.to_owned()),
        _ => Err(job_not_found()),
    }
}

fn job_not_found() -> ApiError {
    ApiError::NotFound("job not found".into())
}
