//! One module per endpoint; each exports `handle(Call) -> Reply`, annotated
//! for the OpenAPI document. What several share (enqueueing, reading a job
//! id, mapping catalogue errors) is here.

pub mod cancel_task;
pub mod dashboard;
pub mod docs;
pub mod enqueue_task;
pub mod enqueue_task_a;
pub mod enqueue_task_b;
pub mod get_stats;
pub mod get_task;
pub mod health;
pub mod list_jobs;
pub mod list_queues;
pub mod list_workers;
pub mod openapi;
pub mod purge_queue;
pub mod requeue_task;

use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Response};
use serde_json::{Map, Value};
use taskq::NewJob;

use crate::Reply;
use crate::error::{ApiError, FieldError, json};
use crate::input::{Call, Fields, idempotency_key};
use crate::views::EnqueueReply;

/// The queue of a job: the starter's two queues.
fn queue_for(high: bool) -> &'static str {
    if high { "high" } else { "default" }
}

/// Checks `args` against the catalogue and enqueues: nothing is written unless every check passed.
/// `loc` says where an argument came from in the request body.
async fn enqueue(call: Call, task: &str, args: Map<String, Value>, high: bool, loc: fn(&str) -> Vec<String>) -> Reply {
    let idempotency_key = idempotency_key(call.headers())?;
    let timeout = call.state.config().task_timeout;
    let mut job =
        NewJob::from_catalogue_within(task, Value::Object(args), queue_for(high), timeout).map_err(|e| match e {
            taskq::Error::InvalidArgs(a) => ApiError::Validation(vec![FieldError {
                loc: loc(&a.field),
                kind: error_kind(&a.message).into(),
                msg: a.message,
            }]),
            other => other.into(),
        })?;
    job.idempotency_key = idempotency_key;
    let done = call.redis(move |q| async move { q.enqueue(&job).await }).await?;
    Ok(json(StatusCode::OK, &EnqueueReply::from(done)))
}

/// FastAPI's error type for a catalogue message (serde's wording).
fn error_kind(message: &str) -> &'static str {
    if message.starts_with("missing field") {
        "missing"
    } else if message.starts_with("unknown field") {
        "extra_forbidden"
    } else if message.starts_with("invalid type") {
        "type_error"
    } else {
        "value_error"
    }
}

/// `{"user_id", "duration", "high"}` for `task`: POST /tasks/a and /tasks/b.
async fn enqueue_user_task(call: Call, task: &str) -> Reply {
    let body = call.json_object()?;
    let mut f = Fields::new(&body, &["body"]);
    let user_id = f.integer("user_id");
    let duration = f.number("duration");
    let high = f.boolean_or("high", false);
    f.finish()?;
    let (Some(user_id), Some(_)) = (user_id, duration) else {
        return Err(ApiError::invalid(&["body"], "missing", "Field required"));
    };
    let mut args = Map::new();
    args.insert("user_id".into(), user_id.into());
    // The number as sent (5 stays 5, not 5.0): identical requests hash alike.
    args.insert("duration".into(), body["duration"].clone());
    enqueue(call, task, args, high, |field| vec!["body".into(), field.into()]).await
}

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

/// An HTML page.
fn html(page: &'static str) -> Reply {
    let mut r = Response::new(Body::Text(page.into()));
    r.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("text/html; charset=utf-8"));
    Ok(r)
}
