//! The one error type of the API, the HTTP status of each variant and the
//! error bodies (the answers themselves are made by the `reply` module).
//!
//! Validation errors keep FastAPI's shape, `{"detail": [{"loc", "msg",
//! "type"}]}`, so the starter's clients can read them; every other error is
//! `{"detail": "..."}`. Only Redis being unreachable (503) or refusing a
//! call taskq made (500, a bug) is a 5xx: client input never is.

use lambda_http::http::StatusCode;
use serde::Serialize;
use taskq::Status;
use utoipa::ToSchema;

/// Why a request was not served.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The input does not fit: 422 with one entry per problem.
    Validation(Vec<FieldError>),
    /// API_TOKEN is set and the request does not carry it: 401.
    Unauthorized,
    /// No such job, queue or path: 404.
    NotFound(String),
    /// The path exists, not with this method: 405.
    MethodNotAllowed {
        /// The methods the path accepts, for the `Allow` header.
        allow: String,
    },
    /// The job is in a state that forbids the operation: 409.
    Conflict {
        /// What is wrong, for people.
        detail: String,
        /// The job's state, for programs.
        status: Status,
    },
    /// The body is larger than MAX_BODY: 413.
    PayloadTooLarge {
        /// MAX_BODY, in bytes.
        limit: usize,
    },
    /// The queue holds MAX_QUEUED waiting jobs; nothing was written: 429.
    QueueFull(String),
    /// The body is not JSON by its `Content-Type`: 415.
    UnsupportedMediaType,
    /// Redis did not answer within REDIS_TIMEOUT, or the connection failed: 503.
    RedisUnavailable,
    /// Redis refused a call (a bug, never the client's input): 500, logged.
    Internal,
    /// A stored job holds a value taskq never writes: 500, naming the job and
    /// the field (a fault of the data, not of the request).
    DamagedJob(String),
}

/// One problem with the input, as FastAPI reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// Where: `["body", "duration"]`, `["query", "limit"]`, `["header", "idempotency-key"]`.
    pub loc: Vec<String>,
    /// What is wrong, for people.
    pub msg: String,
    /// What is wrong, for programs: `missing`, `int_type`, `extra_forbidden`, `value_error`, ...
    #[serde(rename = "type")]
    pub kind: String,
}

impl FieldError {
    /// A problem at `loc` of kind `kind`.
    pub fn new(loc: &[&str], kind: &str, msg: impl Into<String>) -> Self {
        Self { loc: loc.iter().map(|s| s.to_string()).collect(), msg: msg.into(), kind: kind.to_owned() }
    }
}

/// `{"detail": "..."}`: every error but validation.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"detail": "job not found"}))]
pub struct ErrorBody {
    /// What went wrong.
    pub detail: String,
    /// The job's state, on 409 only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::views::JobStatus>)]
    pub status: Option<Status>,
}

/// `{"detail": [...]}`: the input does not fit (422).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"detail": [{"loc": ["body", "duration"], "msg": "Field required", "type": "missing"}]}))]
pub struct ValidationBody {
    /// One entry per problem.
    pub detail: Vec<FieldError>,
}

impl ApiError {
    /// A 422 with one problem.
    pub fn invalid(loc: &[&str], kind: &str, msg: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::new(loc, kind, msg)])
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::QueueFull(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::RedisUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal | ApiError::DamagedJob(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<taskq::Error> for ApiError {
    fn from(e: taskq::Error) -> Self {
        match e {
            // Logged where it happens (see `State::run`), never shown: it may name hosts.
            taskq::Error::Redis(e) if !taskq::connection::is_outage(&e) => ApiError::Internal,
            taskq::Error::Redis(_) => ApiError::RedisUnavailable,
            taskq::Error::UnknownQueue(q) => ApiError::NotFound(format!("queue {q:?} not found")),
            taskq::Error::UnknownTask(t) => ApiError::invalid(
                &["body", "task_name"],
                "enum",
                format!("unknown task {t:?}; expected one of: {}", task_names()),
            ),
            taskq::Error::InvalidArgs(a) => ApiError::invalid(&["body", &a.field], "value_error", a.message),
            full @ taskq::Error::QueueFull { .. } => ApiError::QueueFull(format!("{full}; try again later")),
            // `retry.max` is the field `max` of the object `retry`.
            taskq::Error::Invalid { field, message } => {
                let loc: Vec<&str> = std::iter::once("body").chain(field.split('.')).collect();
                ApiError::invalid(&loc, "value_error", message)
            }
            taskq::Error::CursorMismatch => ApiError::Validation(vec![cursor_error()]),
            taskq::Error::Damaged(d) => {
                tracing::error!(error = %d, "damaged job");
                ApiError::DamagedJob(d.to_string())
            }
        }
    }
}

/// A `cursor` that is not the `next_cursor` of a page of the same list.
pub fn cursor_error() -> FieldError {
    FieldError::new(
        &["query", "cursor"],
        "value_error",
        "Input should be a next_cursor from a previous page of this list",
    )
}

/// The catalogue's task names, for messages.
pub fn task_names() -> String {
    taskq::catalogue::TASKS.iter().map(|t| t.name).collect::<Vec<_>>().join(", ")
}
