//! PUT /schedules/{name}: create or replace a cron schedule.
//!
//! The body names the task and its arguments as the catalogue checks them
//! (`args`, or `payload`), its queue (`queue`, or `high` as in the enqueue
//! bodies), the cron expression, its time zone and what to do with missed
//! ticks. A replaced schedule computes its next tick from now.

use lambda_http::http::StatusCode;
use serde_json::Value;
use taskq::schedule::{Missed, ScheduleSpec};

use crate::error::{ApiError, ErrorBody, FieldError, ValidationBody, task_names};
use crate::input::Fields;
use crate::reply::{Reply, json};
use crate::request::Call;
use crate::views::{ScheduleRequest, ScheduleView};

/// Creates (201) or replaces (200) the schedule.
#[utoipa::path(put, path = "/schedules/{name}", tag = "schedules",
    params(("name" = String, Path, description = "1 to 100 characters of A-Z, a-z, 0-9, `_`, `.` and `-`")),
    request_body = ScheduleRequest,
    responses(
        (status = 200, description = "Replaced", body = ScheduleView),
        (status = 201, description = "Created", body = ScheduleView),
        (status = 413, description = "Body larger than MAX_BODY", body = ErrorBody),
        (status = 415, description = "A body whose Content-Type is not JSON", body = ErrorBody),
        (status = 422, description = "Bad name, cron expression, time zone, task, arguments, queue or `missed`; \
            or 1000 schedules exist already", body = ValidationBody),
        (status = 503, description = "Redis is unreachable", body = ErrorBody),
    ))]
pub async fn handle(call: Call) -> Reply {
    let name = super::schedules::name(&call);
    let body = call.json_object()?;
    let mut f = Fields::new(&body, &["body"]);
    let cron = f.string("cron");
    let timezone = f.string_opt("timezone").unwrap_or_else(|| "UTC".into());
    let task = f.string("task_name");
    if let Some(t) = &task
        && taskq::catalogue::find(t).is_none()
    {
        f.reject("task_name", "enum", &format!("Input should be one of: {}", task_names()));
    }
    let (args_field, args) = if f.has("payload") && f.has("args") {
        f.reject("payload", "value_error", "Give args or payload, not both");
        f.skip("payload");
        f.skip("args");
        ("args", Default::default())
    } else if f.has("payload") {
        ("payload", f.object_or_empty("payload"))
    } else {
        ("args", f.object_or_empty("args"))
    };
    let config = call.state.config();
    let queue = if f.has("queue") && f.has("high") {
        f.reject("high", "value_error", "Give queue or high, not both");
        f.skip("queue");
        f.skip("high");
        None
    } else if f.has("high") {
        Some(config.queue_for(f.boolean_or("high", false)).to_owned())
    } else {
        let q = f.string_opt("queue").unwrap_or_else(|| config.queue_for(false).to_owned());
        if config.queues.contains(&q) {
            Some(q)
        } else {
            let msg = format!("Input should be one of: {}", config.queues.join(", "));
            f.reject("queue", "enum", &msg);
            None
        }
    };
    let missed = match f.string_opt("missed").as_deref() {
        None | Some("skip") => Some(Missed::Skip),
        Some("run_once") => Some(Missed::RunOnce),
        Some(_) => {
            f.reject("missed", "enum", "Input should be 'skip' or 'run_once'");
            None
        }
    };
    f.finish()?;
    let (Some(cron), Some(task), Some(queue), Some(missed)) = (cron, task, queue, missed) else {
        // `finish` passed, so every field was read; kept total rather than unwrapped.
        return Err(ApiError::invalid(&["body"], "missing", "Field required"));
    };
    // The arguments are checked here, where their place in the body is known.
    let args = Value::Object(args);
    if let Err(e) = taskq::NewJob::from_catalogue(&task, args.clone(), queue.clone()) {
        return Err(match e {
            taskq::Error::InvalidArgs(a) => {
                let mut loc = vec!["body", args_field];
                loc.extend(Some(a.field.as_str()).filter(|f| !f.is_empty()));
                ApiError::invalid(&loc, "value_error", a.message)
            }
            other => other.into(),
        });
    }
    let spec = ScheduleSpec { cron, timezone, task, args, queue, missed };
    let n = name.clone();
    let (schedule, created) =
        call.redis(move |q| async move { q.put_schedule(&n, spec).await }).await.map_err(locate)?;
    let code = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok(json(code, &ScheduleView::from(schedule)))
}

/// The name is in the path, not the body.
fn locate(e: ApiError) -> ApiError {
    let ApiError::Validation(errors) = e else { return e };
    let moved = errors.into_iter().map(|mut fe: FieldError| {
        if fe.loc == ["body", "name"] {
            fe.loc = vec!["path".into(), "name".into()];
        }
        fe
    });
    ApiError::Validation(moved.collect())
}
