//! GET /jobs?queue=&state=&cursor=&limit=: a queue's jobs in one state,
//! newest first (scheduled and retrying: soonest due first), a page at a time.

use lambda_http::http::StatusCode;
use taskq::{Cursor, Status};

use crate::error::{ApiError, ErrorBody, FieldError, ValidationBody, cursor_error};
use crate::reply::{Reply, json};
use crate::request::Call;
use crate::views::JobPageView;

/// Jobs per page unless `limit` says otherwise.
pub const DEFAULT_LIMIT: usize = 50;
/// Most jobs per page.
pub const MAX_LIMIT: usize = 500;

/// Lists one page.
#[utoipa::path(get, path = "/jobs", tag = "jobs",
    params(
        ("queue" = String, Query, description = "A queue of QUEUES"),
        ("state" = Option<crate::views::JobStatus>, Query, description = "Jobs in this state (default `queued`); `scheduled` and `retrying` list waiting jobs"),
        ("cursor" = Option<String>, Query, max_length = 80, pattern = "^[a-z]:[!-~]+$",
            description = "`next_cursor` of the previous page of the same queue and state, as it was given: \
                at most 80 characters; anything else is refused (422)"),
        ("limit" = Option<usize>, Query, minimum = 1, maximum = 500, description = "Jobs per page, 1 to 500 (default 50)"),
    ),
    responses(
        (status = 200, description = "One page, newest first (scheduled and retrying: soonest due first)", body = JobPageView),
        (status = 404, description = "No such queue", body = ErrorBody),
        (status = 422, description = "Missing or malformed parameter", body = ValidationBody),
        (status = 503, description = "Redis is unreachable", body = ErrorBody),
    ))]
pub async fn handle(call: Call) -> Reply {
    let mut errors = Vec::new();
    let queue = call.query("queue");
    if queue.is_none() {
        errors.push(FieldError::new(&["query", "queue"], "missing", "Field required"));
    }
    let state = match call.query("state") {
        None => Some(Status::Queued),
        Some(s) => Status::parse(&s).or_else(|| {
            let names: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
            let msg = format!("Input should be one of: {}", names.join(", "));
            errors.push(FieldError::new(&["query", "state"], "enum", msg));
            None
        }),
    };
    let limit = match call.query("limit") {
        None => Some(DEFAULT_LIMIT),
        Some(l) => l.parse::<usize>().ok().filter(|n| (1..=MAX_LIMIT).contains(n)).or_else(|| {
            let msg = format!("Input should be a whole number from 1 to {MAX_LIMIT}");
            errors.push(FieldError::new(&["query", "limit"], "int_parsing", msg));
            None
        }),
    };
    // Refuse a cursor that is not one of ours rather than silently restart at the top.
    let cursor = match call.query("cursor").filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => {
            let cursor = Cursor::parse(&c);
            if cursor.is_none() {
                errors.push(cursor_error());
            }
            cursor
        }
    };
    let (Some(queue), Some(state), Some(limit), true) = (queue, state, limit, errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let queue = call.known_queue(queue)?;
    let page = call.redis(move |q| async move { q.list(&queue, state, cursor.as_ref(), limit).await }).await?;
    Ok(json(StatusCode::OK, &JobPageView::from(page)))
}
