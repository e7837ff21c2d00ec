//! PUT /schedules/{name}: create or replace a cron schedule.
//!
//! The body is checked like an enqueue (task, arguments, queue) before
//! anything is written; the cron expression and the time zone are checked
//! by taskq, and a bad one is written nowhere either.

use lambda_http::http::StatusCode;
use serde_json::Value;
use taskq::NewJob;
use taskq::schedule::{Missed, ScheduleSpec};

use crate::error::{ApiError, ErrorBody, FieldError, ValidationBody, task_names};
use crate::input::Fields;
use crate::reply::{Reply, json};
use crate::request::Call;
use crate::views::{ScheduleRequest, ScheduleView};

/// Creates or replaces the schedule; its next tick is computed from now.
#[utoipa::path(put, path = "/schedules/{name}", tag = "schedules",
    params(("name" = String, Path, description = "The schedule's name: 1 to 100 letters, digits, `_`, `.` or `-`")),
    request_body = ScheduleRequest,
    responses(
        (status = 200, description = "Replaced", body = ScheduleView),
        (status = 201, description = "Created", body = ScheduleView),
        (status = 413, description = "Body larger than MAX_BODY", body = ErrorBody),
        (status = 415, description = "A body whose Content-Type is not JSON", body = ErrorBody),
        (status = 422, description = "Bad name (or 1000 schedules exist), unparsable cron expression, unknown time zone, \
            task, queue or `missed`, arguments that do not fit the task", body = ValidationBody),
        (status = 503, description = "Redis is unreachable", body = ErrorBody),
    ))]
pub async fn handle(call: Call) -> Reply {
    let name = call.param("name").to_owned();
    let body = call.json_object()?;
    let mut f = Fields::new(&body, &["body"]);
    let cron = f.string("cron");
    let timezone = f.string_opt("timezone").unwrap_or_else(|| "UTC".into());
    let task = f.string("task_name");
    let args_given = body.get("args").is_some_and(|a| !a.is_null());
    let args = f.object_opt("args").cloned();
    let args_ok = args.is_some() || !args_given;
    let args = args.unwrap_or_default();
    let queue = f.string_opt("queue");
    let high = f.boolean_opt("high");
    let missed = f.string_opt("missed");
    let mut errors = Vec::new();
    if let Err(taskq::Error::Invalid { message, .. }) = taskq::schedule::check_name(&name) {
        errors.push(FieldError::new(&["path", "name"], "value_error", message));
    }
    if let Some(t) = &task
        && taskq::catalogue::find(t).is_none()
    {
        f.reject("task_name", "enum", &format!("Input should be one of: {}", task_names()));
    }
    let config = call.state.config();
    let queue = match (queue, high) {
        (Some(_), Some(_)) => {
            f.reject("high", "value_error", "Give queue or high, not both");
            None
        }
        (Some(q), None) if !config.queues.contains(&q) => {
            let msg = format!("Input should be one of: {}", config.queues.join(", "));
            f.reject("queue", "enum", &msg);
            None
        }
        (Some(q), None) => Some(q),
        (None, high) => Some(config.queue_for(high.unwrap_or(false)).to_owned()),
    };
    let missed = match missed.as_deref() {
        None | Some("skip") => Some(Missed::Skip),
        Some("run_once") => Some(Missed::RunOnce),
        Some(_) => {
            f.reject("missed", "enum", "Input should be 'skip' or 'run_once'");
            None
        }
    };
    errors.extend(f.into_errors());
    if let Some(t) = task.as_deref().filter(|t| args_ok && taskq::catalogue::find(t).is_some()) {
        // The arguments are checked as an enqueue checks them, TASK_TIMEOUT included.
        let checked = NewJob::from_catalogue_within(t, Value::Object(args.clone()), "", config.task_timeout);
        if let Err(taskq::Error::InvalidArgs(a)) = checked {
            errors.push(FieldError { loc: args_loc(&a.field), kind: "value_error".into(), msg: a.message });
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let (Some(cron), Some(task), Some(queue), Some(missed)) = (cron, task, queue, missed) else {
        // No error was found, so every field was read; kept total rather than unwrapped.
        return Err(ApiError::invalid(&["body"], "missing", "Field required"));
    };
    let spec = ScheduleSpec { cron, timezone, task, args: Value::Object(args), queue, missed };
    let (schedule, created) =
        call.redis(move |q| async move { q.put_schedule(&name, spec).await }).await.map_err(|e| match e {
            ApiError::Validation(mut errors) => {
                for e in &mut errors {
                    if e.loc == ["body", "name"] {
                        e.loc = vec!["path".into(), "name".into()];
                    }
                }
                ApiError::Validation(errors)
            }
            other => other,
        })?;
    let code = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok(json(code, &ScheduleView::from(schedule)))
}

/// Where an argument of the task sits in the body.
fn args_loc(field: &str) -> Vec<String> {
    let mut loc = vec!["body".to_owned(), "args".to_owned()];
    if !field.is_empty() {
        loc.push(field.to_owned());
    }
    loc
}
