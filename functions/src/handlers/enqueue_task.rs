//! POST /tasks: enqueue any catalogue task with the starter's body
//! `{task_name, duration, payload, high}`.
//!
//! Arguments: `long_task` gets `{"duration", "payload"}`. Every other task
//! gets the fields of `payload` plus `duration`: `{"task_name": "task_a",
//! "duration": 5, "payload": {"user_id": 7}}` enqueues task_a with
//! `{"user_id": 7, "duration": 5}`. A `duration` inside `payload` is refused
//! rather than silently overridden.

use serde_json::{Map, Value};

use crate::error::{ApiError, task_names};
use crate::input::Fields;
use crate::reply::Reply;
use crate::request::Call;
use crate::views::EnqueueRequest;

super::enqueue::enqueue_handler!(
    /// Validates the body against the catalogue, then enqueues once per idempotency key.
    "/tasks", EnqueueRequest, "Unknown task, missing or mistyped field",
    |call| read_and_enqueue(call).await
);

/// Reads the body, builds the task's arguments from it and enqueues.
async fn read_and_enqueue(call: Call) -> Reply {
    let body = call.json_object()?;
    let mut f = Fields::new(&body, &["body"]);
    let task = f.string("task_name");
    let duration = f.number("duration");
    let payload = f.object_or_empty("payload");
    let high = f.boolean_or("high", false);
    let life = super::enqueue::Lifecycle::read(&mut f);
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
    super::enqueue::enqueue(call, &task, args, high, life, loc).await
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
