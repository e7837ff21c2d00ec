//! POST /tasks: enqueue any catalogue task with the starter's body
//! `{task_name, duration, payload, high}`.
//!
//! Arguments: `long_task` gets `{"duration", "payload"}`. Every other task
//! gets the fields of `payload` plus `duration`: `{"task_name": "task_a",
//! "duration": 5, "payload": {"user_id": 7}}` enqueues task_a with
//! `{"user_id": 7, "duration": 5}`. A `duration` inside `payload` is refused
//! rather than silently overridden.

use serde_json::{Map, Value};

use crate::Reply;
use crate::error::{ApiError, ErrorBody, ValidationBody, task_names};
use crate::input::{Call, Fields};
use crate::views::{EnqueueReply, EnqueueRequest};

/// Validates the body against the catalogue, then enqueues once per idempotency key.
#[utoipa::path(post, path = "/tasks", tag = "tasks",
    request_body = EnqueueRequest,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[ -~]+$",
        description = "Names the request: while its job has not ended, the same key returns that job. \
            1 to 255 visible ASCII characters or spaces; spaces at either end are ignored")),
    responses(
        (status = 200, description = "A new job, or the existing one (`duplicate`)", body = EnqueueReply),
        (status = 413, description = "Body larger than MAX_BODY", body = ErrorBody),
        (status = 415, description = "A body whose Content-Type is not JSON", body = ErrorBody),
        (status = 422, description = "Unknown task, missing or mistyped field", body = ValidationBody),
        (status = 429, description = "The queue holds MAX_QUEUED waiting jobs: nothing was written", body = ErrorBody),
        (status = 503, description = "Redis is unreachable", body = ErrorBody),
    ))]
pub async fn handle(call: Call) -> Reply {
    let body = call.json_object()?;
    let mut f = Fields::new(&body, &["body"]);
    let task = f.string("task_name");
    let duration = f.number("duration");
    let payload = f.object_or_empty("payload");
    let high = f.boolean_or("high", false);
    if let Some(t) = &task
        && taskq::catalogue::find(t).is_none()
    {
        f.reject("task_name", "enum", &format!("Input should be one of: {}", task_names()));
    }
    let long_task = task.as_deref() == Some("long_task");
    if !long_task && payload.contains_key("duration") {
        f.reject("payload", "value_error", "duration goes at the top level of the body, not in payload");
    }
    f.finish()?;
    let (Some(task), Some(_)) = (task, duration) else {
        // `finish` passed, so both were read; kept total rather than unwrapped.
        return Err(ApiError::invalid(&["body"], "missing", "Field required"));
    };
    // The number as sent (10 stays 10, not 10.0): identical requests hash alike.
    let duration = body["duration"].clone();
    let args = if long_task {
        Map::from_iter([("duration".to_owned(), duration), ("payload".to_owned(), Value::Object(payload))])
    } else {
        let mut args = payload;
        args.insert("duration".into(), duration);
        args
    };
    let loc = if long_task { long_task_loc } else { payload_loc };
    super::enqueue(call, &task, args, high, loc).await
}

fn long_task_loc(field: &str) -> Vec<String> {
    vec!["body".into(), field.into()]
}

/// Arguments of other tasks come from `payload`, except `duration`.
fn payload_loc(field: &str) -> Vec<String> {
    match field {
        "duration" => vec!["body".into(), "duration".into()],
        "" => vec!["body".into(), "payload".into()],
        f => vec!["body".into(), "payload".into(), f.into()],
    }
}
