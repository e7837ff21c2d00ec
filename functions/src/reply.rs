//! What a handler answers: [`Reply`], JSON and HTML answers, and the answer
//! each [`ApiError`] becomes.

use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::error::{ApiError, ErrorBody, ValidationBody};

/// What every handler returns.
pub type Reply = Result<Response<Body>, ApiError>;

impl ApiError {
    /// The answer sent to the client.
    pub fn into_response(self) -> Response<Body> {
        let status = self.status();
        let detail = |detail: String| ErrorBody { detail, status: None };
        let mut resp = match self {
            ApiError::Validation(errors) => json(status, &ValidationBody { detail: errors }),
            ApiError::Unauthorized => json(status, &detail("Not authenticated".into())),
            ApiError::NotFound(what) => json(status, &detail(what)),
            ApiError::MethodNotAllowed { allow } => {
                let mut r = json(status, &detail("Method Not Allowed".into()));
                if let Ok(v) = allow.parse() {
                    r.headers_mut().insert(header::ALLOW, v);
                }
                r
            }
            ApiError::Conflict { detail, status: job_status } => {
                json(status, &ErrorBody { detail, status: Some(job_status) })
            }
            ApiError::PayloadTooLarge { limit } => {
                json(status, &detail(format!("request body is larger than MAX_BODY ({limit} bytes)")))
            }
            ApiError::QueueFull(what) | ApiError::DamagedJob(what) => json(status, &detail(what)),
            ApiError::UnsupportedMediaType => {
                json(status, &detail("Content-Type must be application/json (or application/*+json)".into()))
            }
            ApiError::RedisUnavailable => json(status, &detail("Redis is unreachable; try again shortly".into())),
            ApiError::Internal => json(status, &detail("internal error".into())),
        };
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

/// A JSON answer.
pub fn json<T: Serialize>(status: StatusCode, body: &T) -> Response<Body> {
    // Our bodies are plain data (no maps with non-string keys): serializing cannot fail.
    let text = serde_json::to_string(body).unwrap_or_else(|_| r#"{"detail":"internal error"}"#.into());
    let mut resp = Response::new(Body::Text(text));
    *resp.status_mut() = status;
    resp.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    resp
}

/// An HTML page, with the Content-Security-Policy `csp` (see [`page_policy`]).
pub fn html(page: &'static str, csp: &str) -> Reply {
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

#[cfg(test)]
mod tests {
    use taskq::Status;

    use super::*;

    fn body(r: &Response<Body>) -> serde_json::Value {
        serde_json::from_slice(r.body().as_ref()).unwrap()
    }

    #[test]
    fn validation_has_fastapi_shape() {
        let r = ApiError::invalid(&["body", "duration"], "missing", "Field required").into_response();
        assert_eq!(r.status(), 422);
        assert_eq!(
            body(&r),
            serde_json::json!({"detail": [{"loc": ["body", "duration"], "msg": "Field required", "type": "missing"}]})
        );
    }

    #[test]
    fn other_errors_are_a_detail_string() {
        for (e, code) in [
            (ApiError::Unauthorized, 401),
            (ApiError::NotFound("job not found".into()), 404),
            (ApiError::PayloadTooLarge { limit: 10 }, 413),
            (ApiError::RedisUnavailable, 503),
            (ApiError::UnsupportedMediaType, 415),
            (ApiError::Internal, 500),
            (ApiError::MethodNotAllowed { allow: "GET".into() }, 405),
        ] {
            let r = e.into_response();
            assert_eq!(r.status(), code);
            assert!(body(&r)["detail"].is_string());
            assert_eq!(r.headers()["content-type"], "application/json");
        }
        let r = ApiError::Conflict { detail: "ended".into(), status: Status::Finished }.into_response();
        assert_eq!(body(&r), serde_json::json!({"detail": "ended", "status": "finished"}));
    }
}
