//! What the three enqueue endpoints share: their OpenAPI annotation (the
//! Idempotency-Key header and the answers), made by [`enqueue_handler!`],
//! and the enqueue itself, with catalogue errors mapped to fields of the body.

use chrono::{DateTime, SecondsFormat, Utc};
use lambda_http::http::StatusCode;
use serde_json::{Map, Value};
use taskq::NewJob;

use crate::error::{ApiError, FieldError};
use crate::input::{self, Fields, RetryOverride};
use crate::reply::{Reply, json};
use crate::request::{Call, idempotency_key};
use crate::views::{EnqueueReply, JobStatus};

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
                (status = 200, description = "A new job, or the existing one (`duplicate`)", body = EnqueueReply),
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

/// The body fields every enqueue endpoint takes besides the task's own:
/// `delay` or `run_at`, and `retry`.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Lifecycle {
    /// When the job may run; `None` for at once.
    pub run_at: Option<DateTime<Utc>>,
    /// The request's retry fields, if it gave any.
    pub retry: Option<RetryOverride>,
}

impl Lifecycle {
    /// Reads `delay`, `run_at` and `retry` from the body's fields.
    pub fn read(f: &mut Fields<'_>) -> Self {
        Lifecycle { run_at: input::when(f), retry: input::retry(f) }
    }
}

/// Checks `args` against the catalogue and enqueues: nothing is written unless every check passed.
/// `loc` says where an argument came from in the request body.
pub(super) async fn enqueue(
    call: Call,
    task: &str,
    args: Map<String, Value>,
    high: bool,
    life: Lifecycle,
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
    job.run_at = life.run_at;
    if let Some(r) = life.retry {
        // The fields not given come from the task's policy, else the configuration.
        let defaults = taskq::catalogue::find(task).and_then(|t| t.retry).unwrap_or_else(|| config.retry_defaults());
        let policy = r.over(defaults);
        taskq::queue::check_retry(&policy)?;
        job.retry = Some(policy);
    }
    let done = call.redis(move |q| async move { q.enqueue(&job).await }).await?;
    let mut reply = EnqueueReply::from(done);
    // Said only of a time still ahead once the job is written: a time that
    // passed meanwhile may have put the job on its queue directly.
    if let (EnqueueReply::Created { status, run_at, .. }, Some(t)) = (&mut reply, life.run_at)
        && t > Utc::now()
    {
        *status = Some(JobStatus::Scheduled);
        *run_at = Some(t.to_rfc3339_opts(SecondsFormat::Micros, true));
    }
    Ok(json(StatusCode::OK, &reply))
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
    let life = Lifecycle::read(&mut f);
    f.finish()?;
    let (Some(user_id), Some(_)) = (user_id, duration) else {
        return Err(ApiError::invalid(&["body"], "missing", "Field required"));
    };
    let mut args = Map::new();
    args.insert("user_id".into(), user_id.into());
    // The number as sent (5 stays 5, not 5.0): identical requests hash alike.
    args.insert("duration".into(), body["duration"].clone());
    enqueue(call, task, args, high, life, |field| vec!["body".into(), field.into()]).await
}
