//! A request as a handler reads it: the [`Call`] with its path parameters,
//! query parameters and headers (the JSON content type, the idempotency key).
//! Bodies are read field by field by [`crate::input`].

use lambda_http::Request;
use lambda_http::http::HeaderMap;
use serde_json::{Map, Value};
use taskq::Queue;

use crate::error::ApiError;
use crate::input::body_object;
use crate::state::State;

/// Path parameters by name, in template order.
pub type Params = Vec<(&'static str, String)>;

/// A request as a handler sees it.
pub struct Call {
    /// The execution environment's state.
    pub state: State,
    /// The request from API Gateway (or the local router).
    pub request: Request,
    /// Path parameters by name.
    pub params: Params,
}

impl Call {
    /// Path parameter `name` (always present: the route table put it there).
    pub fn param(&self, name: &str) -> &str {
        self.params.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }

    /// `queue` if it is one of QUEUES, else the 404 naming it.
    pub fn known_queue(&self, queue: String) -> Result<String, ApiError> {
        if self.state.config().queues.contains(&queue) {
            Ok(queue)
        } else {
            Err(ApiError::NotFound(format!("queue {queue:?} not found")))
        }
    }

    /// The first value of query parameter `name`.
    pub fn query(&self, name: &str) -> Option<String> {
        let query = self.request.uri().query()?;
        let map: lambda_http::aws_lambda_events::query_map::QueryMap = query.parse().ok()?;
        map.first(name).map(str::to_owned)
    }

    /// The request's headers.
    pub fn headers(&self) -> &HeaderMap {
        self.request.headers()
    }

    /// The body as a JSON object. A body whose `Content-Type` is not JSON
    /// is refused (415) before it is read: a web page can send `text/plain`
    /// or a form to any origin without asking, but not JSON.
    pub fn json_object(&self) -> Result<Map<String, Value>, ApiError> {
        let body = self.request.body();
        let empty = body.as_ref().iter().all(u8::is_ascii_whitespace);
        if !empty && !is_json_content_type(self.headers()) {
            return Err(ApiError::UnsupportedMediaType);
        }
        body_object(body)
    }

    /// Runs `f` against Redis within REDIS_TIMEOUT (see [`State::run`]).
    pub async fn redis<T, F, Fut>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(Queue) -> Fut,
        Fut: std::future::Future<Output = Result<T, taskq::Error>>,
    {
        self.state.run(f).await
    }
}

/// Whether `Content-Type` says JSON: `application/json` or
/// `application/<anything>+json`, any case, with or without parameters
/// (`; charset=utf-8`).
pub fn is_json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(lambda_http::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    match essence.split_once('/') {
        Some(("application", sub)) => sub == "json" || (sub.len() > 5 && sub.ends_with("+json")),
        _ => false,
    }
}

/// Longest accepted `Idempotency-Key`.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;

/// The `Idempotency-Key` header, if sent: 1 to 255 visible ASCII characters.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else { return Ok(None) };
    let bad = || {
        ApiError::invalid(
            &["header", "idempotency-key"],
            "value_error",
            format!("must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters"),
        )
    };
    let key = value.to_str().map_err(|_| bad())?.trim();
    if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY || !key.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
        return Err(bad());
    }
    Ok(Some(key.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_json_content_types_are_json() {
        let mut h = HeaderMap::new();
        assert!(!is_json_content_type(&h));
        for ok in ["application/json", "Application/JSON; charset=utf-8", "application/merge-patch+json"] {
            h.insert("content-type", ok.parse().unwrap());
            assert!(is_json_content_type(&h), "{ok}");
        }
        for bad in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "text/json", "+json"] {
            h.insert("content-type", bad.parse().unwrap());
            assert!(!is_json_content_type(&h), "{bad}");
        }
    }

    #[test]
    fn idempotency_keys_are_checked() {
        let mut h = HeaderMap::new();
        assert_eq!(idempotency_key(&h), Ok(None));
        h.insert("idempotency-key", "order-7".parse().unwrap());
        assert_eq!(idempotency_key(&h), Ok(Some("order-7".into())));
        h.insert("idempotency-key", "x".repeat(300).parse().unwrap());
        assert!(idempotency_key(&h).is_err());
        h.insert("idempotency-key", "".parse().unwrap());
        assert!(idempotency_key(&h).is_err());
    }
}
