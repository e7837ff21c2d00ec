//! Helpers for the functions' tests: API Gateway events from the files in
//! `tests/events/`, plain requests for the router, and reading answers.

#![allow(dead_code)]

use std::path::PathBuf;

use functions::{Route, State};
use lambda_http::{Body, Request, Response};
use serde_json::Value;

/// API Gateway payload versions: REST API (v1) and HTTP API (v2).
pub const VERSIONS: [&str; 2] = ["v1", "v2"];

/// A state for a test server, connecting lazily like a function does.
pub fn state(server: &testkit::RedisServer) -> State {
    taskq::logging::init(taskq::config::LogFormat::Text);
    State::new(server.config())
}

/// The event of `function` for API Gateway `version`, as JSON, placeholders filled in.
pub fn event_json(version: &str, function: &str, job_id: &str) -> Value {
    let file: PathBuf =
        [env!("CARGO_MANIFEST_DIR"), "tests", "events", version, &format!("{function}.json")].iter().collect();
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    serde_json::from_str(&text.replace("__JOB_ID__", job_id)).expect("event is JSON")
}

/// Turns event JSON into a request the way the Lambda runtime does.
pub fn request_of(event: &Value) -> Request {
    lambda_http::request::from_str(&event.to_string()).expect("lambda_http reads the event")
}

/// The event of `function` with its body replaced.
pub fn event_with_body(version: &str, function: &str, body: &str) -> Value {
    let mut e = event_json(version, function, "");
    e["body"] = Value::String(body.to_owned());
    e
}

/// Sets a header of an event, in both header maps of v1.
pub fn set_header(event: &mut Value, name: &str, value: &str) {
    event["headers"][name] = Value::String(value.to_owned());
    if event.get("multiValueHeaders").is_some_and(Value::is_object) {
        event["multiValueHeaders"][name] = serde_json::json!([value]);
    }
}

/// A plain request for the router.
pub fn request(method: &str, path: &str, body: &str) -> Request {
    lambda_http::http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("valid request")
}

/// Status and JSON body (Null if the body is not JSON).
pub fn read(resp: Response<Body>) -> (u16, Value) {
    let status = resp.status().as_u16();
    let body = serde_json::from_slice(resp.body().as_ref()).unwrap_or(Value::Null);
    (status, body)
}

/// Serves `req` through `route`'s function.
pub async fn invoke(state: &State, route: &'static Route, req: Request) -> (u16, Value) {
    read(functions::invoke(state.clone(), route, req).await.expect("infallible"))
}

/// Serves `req` through the router.
pub async fn dispatch(state: &State, req: Request) -> (u16, Value) {
    read(functions::dispatch(state.clone(), req).await)
}

/// The route of `function`.
pub fn route(function: &str) -> &'static Route {
    functions::ROUTES.iter().find(|r| r.function == function).expect("known function")
}

/// Number of job hashes in Redis.
pub fn job_count(server: &testkit::RedisServer) -> usize {
    let out = server.cli(&["--scan", "--pattern", "{taskq}:job:*"]);
    out.lines().filter(|l| !l.trim().is_empty()).count()
}
