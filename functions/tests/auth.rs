//! API_TOKEN: every route but /health (and the static pages) answers 401
//! without `Authorization: Bearer <token>` or with a wrong one, through the
//! router and through real gateway events; and the request log lines carry
//! no token and no Redis password.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use functions::routes::Access;
use functions::{ROUTES, State};
use lambda_http::Request;
use testkit::RedisServer;

const TOKEN: &str = "s3cret-token-0123";

fn with_token(server: &RedisServer) -> State {
    let mut cfg = server.config();
    cfg.api_token = Some(TOKEN.into());
    State::new(cfg)
}

/// A request for `route` with its parameters filled in.
fn request_for(route: &functions::Route, authorization: Option<&str>) -> Request {
    let path = route.path.replace("{job_id}", &uuid::Uuid::new_v4().to_string()).replace("{queue_name}", "default");
    let path = if route.path == "/jobs" { "/jobs?queue=default".to_owned() } else { path };
    let body = match route.path {
        "/tasks" => r#"{"task_name": "long_task", "duration": 1}"#,
        "/tasks/a" | "/tasks/b" => r#"{"user_id": 1, "duration": 1}"#,
        _ => "",
    };
    let mut req = request(route.method, &path, body);
    if let Some(value) = authorization {
        req.headers_mut().insert("authorization", value.parse().unwrap());
    }
    req
}

#[tokio::test]
async fn every_protected_route_needs_the_token() {
    let server = RedisServer::start();
    let state = with_token(&server);
    let public: Vec<&str> = ROUTES.iter().filter(|r| r.access == Access::Public).map(|r| r.path).collect();
    assert_eq!(public, ["/health", "/docs", "/dashboard"], "the routes open without a token");
    for route in ROUTES {
        for auth in [None, Some("Bearer wrong"), Some(TOKEN), Some("Basic czNjcmV0LXRva2VuLTAxMjM=")] {
            let (code, answer) = dispatch(&state, request_for(route, auth)).await;
            let want_open = route.access == Access::Public;
            assert_eq!(code == 401, !want_open, "{route:?} with {auth:?}: {code} {answer}");
            if code == 401 {
                assert_eq!(answer, serde_json::json!({"detail": "Not authenticated"}));
            }
        }
        let bearer = format!("Bearer {TOKEN}");
        let (code, answer) = dispatch(&state, request_for(route, Some(&bearer))).await;
        assert!(code != 401 && code < 500, "{route:?} with the token: {code} {answer}");
    }
    assert_eq!(job_count(&server), 3, "only the three authorized enqueues wrote");
}

#[tokio::test]
async fn gateway_events_carry_the_token_in_their_headers() {
    let server = RedisServer::start();
    let state = with_token(&server);
    for version in VERSIONS {
        let (code, _) = invoke(&state, route("list_queues"), request_of(&event_json(version, "list_queues", ""))).await;
        assert_eq!(code, 401, "{version}");
        let mut event = event_json(version, "list_queues", "");
        set_header(
            &mut event,
            if version == "v1" { "Authorization" } else { "authorization" },
            &format!("Bearer {TOKEN}"),
        );
        let (code, _) = invoke(&state, route("list_queues"), request_of(&event)).await;
        assert_eq!(code, 200, "{version}");
        let (code, _) = invoke(&state, route("health"), request_of(&event_json(version, "health", ""))).await;
        assert_eq!(code, 200, "{version}: /health is open");
    }
}

/// Collects log output in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn one_log_line_per_request_without_secrets() {
    let server = RedisServer::start();
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    // A password Redis does not expect: connecting fails and is logged.
    let mut cfg = server.config();
    cfg.redis_url = format!("redis://taskq:hunter2-password@127.0.0.1:{}/0", server.port());
    cfg.api_token = Some(TOKEN.into());
    let state = State::new(cfg);
    let bearer = format!("Bearer {TOKEN}");
    let (code, _) = dispatch(&state, request_for(&functions::routes::LIST_QUEUES, Some(&bearer))).await;
    assert_eq!(code, 503);
    let (code, _) = dispatch(&state, request_for(&functions::routes::LIST_QUEUES, Some("Bearer not-the-token"))).await;
    assert_eq!(code, 401);

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(!text.contains("hunter2"), "a Redis password reached the logs:\n{text}");
    assert!(!text.contains(TOKEN) && !text.contains("not-the-token"), "a token reached the logs:\n{text}");
    let requests: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|l| l["fields"]["message"] == "request")
        .collect();
    assert_eq!(requests.len(), 2, "one line per request:\n{text}");
    for line in &requests {
        let f = &line["fields"];
        assert!(f["request_id"].is_string() && f["duration_ms"].is_number(), "{line}");
        assert_eq!(f["route"], "/queues");
    }
    assert_eq!(requests[0]["fields"]["status"], 503);
    assert_eq!(requests[1]["fields"]["status"], 401);
}
