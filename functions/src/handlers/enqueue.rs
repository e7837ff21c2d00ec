//! What the three enqueue endpoints share: their OpenAPI annotation (the
//! Idempotency-Key header and the answers), made by [`enqueue_handler!`],
//! and the enqueue itself, with catalogue errors mapped to fields of the body.

use chrono::{DateTime, Utc};
use lambda_http::http::StatusCode;
use serde_json::{Map, Value};
use taskq::{Config, NewJob, RetryPolicy};

use crate::error::{ApiError, FieldError};
use crate::input::Fields;
use crate::reply::{Reply, json};
use crate::request::{Call, idempotency_key};
use crate::views::EnqueueReply;

/// Declares an enqueue endpoint's `handle`: its doc comment (the operation's
/// summary), path, body type and what its 422 says differ; the header and
/// the other answers are the same for all three.
macro_rules! enqueue_handler {
    ($(#[$doc:meta])* $path:literal, $body:ident, $invalid:literal, |$call:ident| $serve:expr) => {
        use $crate::error::{ErrorBody, ValidationBody};
        use $crate::views::EnqueueReply;

        $(#[$doc])*
        #[utoipa::path(post, path = $path, tag = "tasks",
            request_body = $body,
            params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[ -~]+$",
                description = "Names the request: while its job has not ended, the same key returns that job. \
                    1 to 255 visible ASCII characters or spaces; spaces at either end are ignored")),
            responses(
                (status = 200, description = "A new job (with `status` and `run_at` when it waits for its time), \
                    or the existing one (`duplicate`)", body = EnqueueReply),
                (status = 413, description = "Body larger than MAX_BODY", body = ErrorBody),
                (status = 415, description = "A body whose Content-Type is not JSON", body = ErrorBody),
                (status = 422, description = $invalid, body = ValidationBody),
                (status = 429, description = "The queue holds MAX_QUEUED waiting jobs: nothing was written", body = ErrorBody),
                (status = 503, description = "Redis is unreachable", body = ErrorBody),
            ))]
        pub async fn handle($call: $crate::request::Call) -> $crate::reply::Reply {
            $serve
        }
    };
}
pub(super) use enqueue_handler;

/// When a job runs and how it is retried, as its body says (`delay` or
/// `run_at`, `retry`).
pub(super) struct Timing {
    /// When it may run; `None`: at once.
    pub run_at: Option<DateTime<Utc>>,
    /// Its own retry policy; `None`: its task's or the configured one.
    pub retry: Option<RetryPolicy>,
}

impl Timing {
    /// Reads `delay`, `run_at` and `retry` from a body; a partial `retry`
    /// takes the other fields from `task`'s policy (or the configured one when
    /// the task is unknown or has none).
    pub fn read(f: &mut Fields, task: Option<&str>, config: &Config) -> Timing {
        let run_at = f.run_at(Utc::now());
        let defaults = task.and_then(taskq::catalogue::find).and_then(|t| t.retry).unwrap_or(config.retry_defaults());
        let retry = f.retry(defaults);
        Timing { run_at, retry }
    }
}

/// Checks `args` against the catalogue and enqueues: nothing is written unless every check passed.
/// `loc` says where an argument came from in the request body.
pub(super) async fn enqueue(
    call: Call,
    task: &str,
    args: Map<String, Value>,
    high: bool,
    timing: Timing,
    loc: fn(&str) -> Vec<String>,
) -> Reply {
    let idempotency_key = idempotency_key(call.headers())?;
    let config = call.state.config();
    let (queue, timeout) = (config.queue_for(high).to_owned(), config.task_timeout);
    let mut job = NewJob::from_catalogue_within(task, Value::Object(args), queue, timeout).map_err(|e| match e {
        taskq::Error::InvalidArgs(a) => ApiError::Validation(vec![FieldError {
            loc: loc(&a.field),
            kind: error_kind(&a.message).into(),
            msg: a.message,
        }]),
        other => other.into(),
    })?;
    job.idempotency_key = idempotency_key;
    job.run_at = timing.run_at;
    if timing.retry.is_some() {
        job.retry = timing.retry;
    }
    let run_at = timing.run_at;
    let done = call.redis(move |q| async move { q.enqueue(&job).await }).await?;
    Ok(json(StatusCode::OK, &EnqueueReply::new(done, run_at)))
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
pub(super) async fn enqueue_user_task(call: Call, task: &str) -> Reply {
    let body = call.json_object()?;
    let mut f = Fields::new(&body, &["body"]);
    let user_id = f.integer("user_id");
    let duration = f.number("duration");
    let high = f.boolean_or("high", false);
    let timing = Timing::read(&mut f, Some(task), call.state.config());
    f.finish()?;
    let (Some(user_id), Some(_)) = (user_id, duration) else {
        return Err(ApiError::invalid(&["body"], "missing", "Field required"));
    };
    let mut args = Map::new();
    args.insert("user_id".into(), user_id.into());
    // The number as sent (5 stays 5, not 5.0): identical requests hash alike.
    args.insert("duration".into(), body["duration"].clone());
    enqueue(call, task, args, high, timing, |field| vec!["body".into(), field.into()]).await
}
