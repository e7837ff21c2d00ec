//! The headers every answer carries, through real API Gateway events (REST
//! API v1 and HTTP API v2) and each function's own entry point: `nosniff`,
//! no framing and no Referer on every answer, JSON and errors included; the
//! two pages a Content-Security-Policy that allows only their own inlined
//! script and style and talks to their own origin only.

mod common;

use common::*;
use functions::ROUTES;
use lambda_http::http::HeaderMap;
use testkit::RedisServer;

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

fn assert_protected(what: &str, headers: &HeaderMap) {
    assert_eq!(header(headers, "x-content-type-options"), "nosniff", "{what}");
    assert_eq!(header(headers, "x-frame-options"), "DENY", "{what}");
    assert_eq!(header(headers, "referrer-policy"), "no-referrer", "{what}");
    assert!(header(headers, "content-security-policy").contains("frame-ancestors 'none'"), "{what}");
}

#[tokio::test]
async fn every_answer_is_protected_and_pages_have_their_policy() {
    let server = RedisServer::start();
    let state = state(&server);
    let job_id = uuid::Uuid::new_v4().to_string();
    for version in VERSIONS {
        for route in ROUTES {
            let event = event_json(version, route.function, &job_id);
            let answer = functions::invoke(state.clone(), route, request_of(&event)).await.expect("infallible");
            let what = format!("{version} {route:?}: {}", answer.status());
            assert!(answer.status().as_u16() < 500, "{what}");
            let headers = answer.headers();
            assert_protected(&what, headers);
            let csp = header(headers, "content-security-policy");
            if route.path == "/docs" || route.path == "/dashboard" {
                assert!(header(headers, "content-type").starts_with("text/html"), "{what}");
                for part in ["default-src 'none'", "connect-src 'self'", "base-uri 'none'", "form-action 'none'"] {
                    assert!(csp.contains(part), "{what}: {part} in {csp}");
                }
                let script = csp.split("script-src ").nth(1).and_then(|s| s.split(';').next()).unwrap_or("");
                assert!(script.starts_with("'sha256-") && !script.contains(' '), "{what}: one hashed script: {csp}");
                assert!(!csp.contains("unsafe"), "{what}: {csp}");
            } else {
                assert_eq!(csp, "default-src 'none'; frame-ancestors 'none'", "{what}");
            }
        }
        // An error, before any handler runs: a method the route does not serve.
        let mut event = event_json(version, "list_queues", "");
        let method =
            if version == "v1" { &mut event["httpMethod"] } else { &mut event["requestContext"]["http"]["method"] };
        *method = "PUT".into();
        let answer =
            functions::invoke(state.clone(), route("list_queues"), request_of(&event)).await.expect("infallible");
        assert_eq!(answer.status(), 405, "{version}");
        assert_protected(&format!("{version} 405"), answer.headers());
    }
}
