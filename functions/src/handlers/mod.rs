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

/// Checks `args` against the catalogue and enqueues: nothing is written unless every check passed.
/// `loc` says where an argument came from in the request body.
async fn enqueue(call: Call, task: &str, args: Map<String, Value>, high: bool, loc: fn(&str) -> Vec<String>) -> Reply {
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

/// An HTML page, with the Content-Security-Policy `csp` (see [`page_policy`]).
fn html(page: &'static str, csp: &str) -> Reply {
    let mut r = Response::new(Body::Text(page.into()));
    let headers = r.headers_mut();
    headers.insert(header::CONTENT_TYPE, header::HeaderValue::from_static("text/html; charset=utf-8"));
    if let Ok(v) = header::HeaderValue::from_str(csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    Ok(r)
}

/// The Content-Security-Policy of a page whose script and stylesheet are
/// inlined (one `<script>` and one `<style>` element): only those two, by
/// their SHA-256 hashes, run or apply; the page may fetch from its own
/// origin only (so neither a document nor a button can send the token
/// elsewhere), load images only from itself or `data:` (the icon), submit no
/// form anywhere and be framed by no one.
pub fn page_policy(page: &str) -> String {
    let hash = |tag: &str| {
        use base64::Engine;
        use sha2::Digest;
        let inline = inline_element(page, tag);
        format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(inline)))
    };
    format!(
        "default-src 'none'; script-src {}; style-src {}; connect-src 'self'; img-src 'self' data:; \
         base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        hash("script"),
        hash("style")
    )
}

/// The text of the first `<tag>` element of `page` (empty if none).
fn inline_element<'a>(page: &'a str, tag: &str) -> &'a str {
    let open = format!("<{tag}>");
    let Some(start) = page.find(&open).map(|i| i + open.len()) else { return "" };
    let end = page[start..].find(&format!("</{tag}>")).map_or(page.len(), |i| start + i);
    &page[start..end]
}
