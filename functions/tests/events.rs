//! Every function fed real API Gateway events (REST API v1 and HTTP API v2)
//! through `lambda_http`, against a real redis-server: both through the
//! function's own entry point and through the router. Also the contract's
//! error answers: 404, 409, 413, 422.

mod common;

use common::*;
use functions::{ROUTES, State};
use serde_json::{Value, json};
use testkit::RedisServer;

/// How a scenario reaches the handlers.
#[derive(Clone, Copy, Debug)]
enum Via {
    /// `invoke` with the route of the event's function: what a binary does.
    Function,
    /// `dispatch` by method and path: what the local server does.
    Router,
}

async fn send(state: &State, via: Via, function: &str, event: &Value) -> (u16, Value) {
    let req = request_of(event);
    match via {
        Via::Function => invoke(state, route(function), req).await,
        Via::Router => dispatch(state, req).await,
    }
}

async fn fire(state: &State, via: Via, version: &str, function: &str, job_id: &str) -> (u16, Value) {
    send(state, via, function, &event_json(version, function, job_id)).await
}

/// Drives every route once with its event file, checking the starter's bodies.
async fn scenario(version: &str, via: Via) {
    let server = RedisServer::start();
    let state = state(&server);
    let mut seen = std::collections::BTreeSet::new();
    let mut call = async |function: &'static str, job_id: &str| {
        seen.insert(function);
        fire(&state, via, version, function, job_id).await
    };
    let ctx = format!("{version} via {via:?}");

    assert_eq!(call("health", "").await, (200, json!({"status": "ok", "redis": "ok"})), "{ctx}");

    let (code, created) = call("enqueue_task", "").await;
    assert_eq!(code, 200, "{ctx}: {created}");
    assert_eq!(created["queue"], "default");
    let job_id = created["job_id"].as_str().expect("job_id").to_owned();
    assert_eq!(created.as_object().unwrap().len(), 2, "{created}");
    // Same body again: the starter's duplicate answer.
    assert_eq!(call("enqueue_task", "").await, (200, json!({"duplicate": true, "job_id": job_id})), "{ctx}");

    let (code, a) = call("enqueue_task_a", "").await;
    assert_eq!((code, a["queue"].as_str()), (200, Some("default")), "{ctx}: {a}");
    let (code, b) = call("enqueue_task_b", "").await;
    assert_eq!((code, b["queue"].as_str()), (200, Some("high")), "{ctx}: {b}");

    let (code, job) = call("get_task", &job_id).await;
    assert_eq!(code, 200, "{ctx}: {job}");
    assert_eq!(job["job_id"], job_id.as_str());
    assert_eq!(job["status"], "queued");
    assert_eq!(job["task"], "long_task");
    assert_eq!(job["queue"], "default");
    assert_eq!(job["args"], json!({"duration": 10, "payload": {"usuario_id": 123}}));
    for field in
        ["progress", "meta", "result", "error", "attempts", "created_at", "enqueued_at", "started_at", "ended_at"]
    {
        assert!(job.get(field).is_some(), "{ctx}: {field} missing from {job}");
    }
    let (code, a_job) = call("get_task", a["job_id"].as_str().unwrap()).await;
    assert_eq!((code, &a_job["args"]), (200, &json!({"user_id": 123, "duration": 5})), "{ctx}");

    let (code, queues) = call("list_queues", "").await;
    assert_eq!(code, 200, "{ctx}");
    let names: Vec<&str> = queues["queues"].as_array().unwrap().iter().map(|q| q["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["high", "default"]);
    assert_eq!(queues["queues"][1]["count"], 2, "{queues}");
    assert_eq!(queues["queues"][1]["states"]["queued"], 2, "{queues}");

    let (code, page) = call("list_jobs", "").await;
    assert_eq!(code, 200, "{ctx}");
    let ids: Vec<&str> = page["jobs"].as_array().unwrap().iter().map(|j| j["job_id"].as_str().unwrap()).collect();
    assert_eq!(ids, [a["job_id"].as_str().unwrap(), job_id.as_str()], "newest first");
    assert_eq!(page["next_cursor"], Value::Null);

    assert_eq!(call("list_workers", "").await, (200, json!({"workers": []})), "{ctx}");
    let (code, stats) = call("get_stats", "").await;
    assert_eq!((code, stats["minutes"].as_array().map(Vec::len)), (200, Some(5)), "{ctx}: {stats}");

    // Cancel a queued job: 200, then 409; requeue it: 200; unknown: 404.
    assert_eq!(call("cancel_task", &job_id).await, (200, json!({"job_id": job_id, "status": "canceled"})), "{ctx}");
    let (code, conflict) = call("cancel_task", &job_id).await;
    assert_eq!((code, &conflict["status"]), (409, &json!("canceled")), "{ctx}: {conflict}");
    assert!(conflict["detail"].is_string());
    assert_eq!(call("requeue_task", &job_id).await, (200, json!({"job_id": job_id, "status": "queued"})), "{ctx}");
    let unknown = uuid::Uuid::new_v4().to_string();
    for function in ["get_task", "cancel_task", "requeue_task"] {
        assert_eq!(call(function, &unknown).await, (404, json!({"detail": "job not found"})), "{ctx} {function}");
        assert_eq!(call(function, "not-a-uuid").await.0, 404, "{ctx} {function}");
    }

    let (code, purged) = call("purge_queue", "").await;
    assert_eq!(code, 200, "{ctx}: {purged}");
    assert_eq!(purged, json!({"queue": "default", "purged": 2}));
    assert_eq!(server.cli(&["llen", "{taskq}:queue:default"]).trim(), "0");

    // A delayed job: scheduled with its run_at, then rescheduled to run now.
    let delayed = event_with_body(version, "enqueue_task_a", r#"{"user_id": 9, "duration": 1, "delay": 3600}"#);
    let (code, later) = send(&state, via, "enqueue_task_a", &delayed).await;
    assert_eq!((code, &later["status"]), (200, &json!("scheduled")), "{ctx}: {later}");
    let later_id = later["job_id"].as_str().unwrap().to_owned();
    let (code, job) = call("get_task", &later_id).await;
    assert_eq!((code, &job["status"], &job["run_at"]), (200, &json!("scheduled"), &later["run_at"]), "{ctx}: {job}");
    assert_eq!(server.cli(&["zcard", "{taskq}:waiting:default:scheduled"]).trim(), "1");
    assert_eq!(
        call("reschedule_task", &later_id).await,
        (200, json!({"job_id": later_id, "status": "queued"})),
        "{ctx}"
    );
    let (code, job) = call("get_task", &later_id).await;
    assert_eq!((code, &job["status"], &job["run_at"]), (200, &json!("queued"), &Value::Null), "{ctx}: {job}");
    let (code, conflict) = call("reschedule_task", &later_id).await;
    assert_eq!((code, &conflict["status"]), (409, &json!("queued")), "{ctx}: {conflict}");
    assert_eq!(call("reschedule_task", &unknown).await.0, 404, "{ctx}");
    assert_eq!(call("requeue_failed", "").await, (200, json!({"queue": "default", "requeued": 0})), "{ctx}");

    // A schedule: created, replaced, read, listed, paused, resumed, deleted.
    let (code, created) = call("put_schedule", "").await;
    assert_eq!(
        (code, &created["name"], &created["paused"]),
        (201, &json!("daily-report"), &json!(false)),
        "{ctx}: {created}"
    );
    assert_eq!(created["timezone"], "Europe/Madrid");
    assert_eq!(created["task_name"], "task_b");
    assert_eq!(created["args"], json!({"user_id": 7, "duration": 1}));
    assert_eq!((created["queue"].as_str(), created["missed"].as_str()), (Some("default"), Some("skip")));
    assert_eq!(created["next_runs"].as_array().map(Vec::len), Some(5), "{created}");
    assert_eq!(call("put_schedule", "").await.0, 200, "{ctx}: replaced");
    let (code, got) = call("get_schedule", "").await;
    assert_eq!((code, &got["cron"]), (200, &json!("0 9 * * 1-5")), "{ctx}: {got}");
    let (code, all) = call("list_schedules", "").await;
    assert_eq!((code, all["schedules"].as_array().map(Vec::len)), (200, Some(1)), "{ctx}: {all}");
    let (code, paused) = call("pause_schedule", "").await;
    assert_eq!((code, &paused["paused"], &paused["next_runs"]), (200, &json!(true), &json!([])), "{ctx}: {paused}");
    let (code, resumed) = call("resume_schedule", "").await;
    assert_eq!((code, &resumed["paused"]), (200, &json!(false)), "{ctx}: {resumed}");
    assert_eq!(resumed["next_runs"].as_array().map(Vec::len), Some(5), "{resumed}");
    assert_eq!(call("delete_schedule", "").await, (200, json!({"name": "daily-report", "deleted": true})), "{ctx}");
    for function in ["get_schedule", "delete_schedule", "pause_schedule", "resume_schedule"] {
        let (code, gone) = call(function, "").await;
        assert_eq!((code, gone), (404, json!({"detail": "schedule \"daily-report\" not found"})), "{ctx} {function}");
    }
    assert_eq!(call("list_schedules", "").await, (200, json!({"schedules": []})), "{ctx}");

    let (code, doc) = call("openapi", "").await;
    assert_eq!((code, doc["openapi"].as_str()), (200, Some("3.1.0")), "{ctx}");
    for page in ["docs", "dashboard"] {
        let resp =
            functions::invoke(state.clone(), route(page), request_of(&event_json(version, page, ""))).await.unwrap();
        assert_eq!(resp.status(), 200);
        assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        seen.insert(page);
    }

    let every: std::collections::BTreeSet<&str> = ROUTES.iter().map(|r| r.function).collect();
    assert_eq!(seen, every, "every function has an event and was called");
}

#[tokio::test]
async fn rest_api_events_through_each_function() {
    scenario("v1", Via::Function).await;
}

#[tokio::test]
async fn http_api_events_through_each_function() {
    scenario("v2", Via::Function).await;
}

#[tokio::test]
async fn rest_api_events_through_the_router() {
    scenario("v1", Via::Router).await;
}

#[tokio::test]
async fn http_api_events_through_the_router() {
    scenario("v2", Via::Router).await;
}

#[tokio::test]
async fn bad_bodies_are_422_naming_the_field_and_write_nothing() {
    let server = RedisServer::start();
    let state = state(&server);
    let cases: &[(&str, &str, &[&str], &str)] = &[
        ("enqueue_task", r#"{"task_name": "nope", "duration": 1}"#, &["body", "task_name"], "enum"),
        ("enqueue_task", r#"{"duration": 1}"#, &["body", "task_name"], "missing"),
        ("enqueue_task", r#"{"task_name": "long_task"}"#, &["body", "duration"], "missing"),
        ("enqueue_task", r#"{"task_name": "long_task", "duration": "10"}"#, &["body", "duration"], "float_type"),
        ("enqueue_task", r#"{"task_name": "long_task", "duration": -1}"#, &["body", "duration"], "value_error"),
        ("enqueue_task", r#"{"task_name": "long_task", "duration": 1e12}"#, &["body", "duration"], "value_error"),
        ("enqueue_task", r#"{"task_name": "long_task", "duration": 1, "high": "yes"}"#, &["body", "high"], "bool_type"),
        (
            "enqueue_task",
            r#"{"task_name": "long_task", "duration": 1, "payload": [1]}"#,
            &["body", "payload"],
            "dict_type",
        ),
        (
            "enqueue_task",
            r#"{"task_name": "long_task", "duration": 1, "hihg": true}"#,
            &["body", "hihg"],
            "extra_forbidden",
        ),
        (
            "enqueue_task",
            r#"{"task_name": "task_a", "duration": 1, "payload": {}}"#,
            &["body", "payload", "user_id"],
            "missing",
        ),
        (
            "enqueue_task",
            r#"{"task_name": "task_b", "duration": 1, "payload": {"user_id": "x"}}"#,
            &["body", "payload", "user_id"],
            "type_error",
        ),
        (
            "enqueue_task",
            r#"{"task_name": "task_a", "duration": 1, "payload": {"user_id": 1, "x": 2}}"#,
            &["body", "payload", "x"],
            "extra_forbidden",
        ),
        (
            "enqueue_task",
            r#"{"task_name": "task_a", "duration": 1, "payload": {"user_id": 1, "duration": 2}}"#,
            &["body", "payload"],
            "value_error",
        ),
        ("enqueue_task", r#"{"task_name": "long_task", "duration": 1"#, &["body"], "json_invalid"),
        ("enqueue_task", "", &["body"], "missing"),
        ("enqueue_task", "[]", &["body"], "model_attributes_type"),
        ("enqueue_task_a", r#"{"duration": 1}"#, &["body", "user_id"], "missing"),
        ("enqueue_task_a", r#"{"user_id": 1.5, "duration": 1}"#, &["body", "user_id"], "int_type"),
        ("enqueue_task_b", r#"{"user_id": 1, "duration": 86401}"#, &["body", "duration"], "value_error"),
        ("enqueue_task_b", r#"{"user_id": 1, "duration": null}"#, &["body", "duration"], "missing"),
    ];
    for version in VERSIONS {
        for (function, body, loc, kind) in cases {
            let (code, answer) = send(&state, Via::Function, function, &event_with_body(version, function, body)).await;
            assert_eq!(code, 422, "{version} {function} {body}: {answer}");
            let errors = answer["detail"].as_array().unwrap_or_else(|| panic!("{answer}"));
            let hit = errors.iter().any(|e| e["loc"] == json!(loc) && e["type"] == *kind && e["msg"].is_string());
            assert!(hit, "{version} {function} {body}: want {loc:?} {kind}, got {answer}");
        }
    }
    assert_eq!(job_count(&server), 0, "no job was written");
    assert_eq!(server.cli(&["dbsize"]).trim(), "0", "nothing at all was written");
}

#[tokio::test]
async fn the_idempotency_key_header_names_the_request() {
    let server = RedisServer::start();
    let state = state(&server);
    let mut first = event_with_body("v2", "enqueue_task_a", r#"{"user_id": 1, "duration": 1}"#);
    set_header(&mut first, "idempotency-key", "order-7");
    let (code, created) = send(&state, Via::Function, "enqueue_task_a", &first).await;
    assert_eq!(code, 200);
    let mut second = event_with_body("v1", "enqueue_task_a", r#"{"user_id": 2, "duration": 1}"#);
    set_header(&mut second, "Idempotency-Key", "order-7");
    let (code, dup) = send(&state, Via::Function, "enqueue_task_a", &second).await;
    assert_eq!((code, dup), (200, json!({"duplicate": true, "job_id": created["job_id"]})));

    let mut bad = event_with_body("v2", "enqueue_task_a", r#"{"user_id": 3, "duration": 1}"#);
    set_header(&mut bad, "idempotency-key", &"k".repeat(300));
    let (code, answer) = send(&state, Via::Function, "enqueue_task_a", &bad).await;
    assert_eq!((code, &answer["detail"][0]["loc"]), (422, &json!(["header", "idempotency-key"])));
    assert_eq!(job_count(&server), 1);
}

#[tokio::test]
async fn post_tasks_accepts_every_catalogue_task() {
    let server = RedisServer::start();
    let state = state(&server);
    let bodies = [
        (r#"{"task_name": "long_task", "duration": 1}"#, json!({"duration": 1, "payload": {}}), "default"),
        (
            r#"{"task_name": "task_a", "duration": 2, "payload": {"user_id": 7}, "high": true}"#,
            json!({"user_id": 7, "duration": 2}),
            "high",
        ),
        (
            r#"{"task_name": "task_b", "duration": 0.5, "payload": {"user_id": 8}}"#,
            json!({"user_id": 8, "duration": 0.5}),
            "default",
        ),
    ];
    for (body, args, queue) in bodies {
        let (code, created) = dispatch(&state, request("POST", "/tasks", body)).await;
        assert_eq!((code, created["queue"].as_str()), (200, Some(queue)), "{body}: {created}");
        let path = format!("/tasks/{}", created["job_id"].as_str().unwrap());
        let (code, job) = dispatch(&state, request("GET", &path, "")).await;
        assert_eq!((code, &job["args"]), (200, &args), "{body}");
    }
}

#[tokio::test]
async fn bodies_over_max_body_are_413() {
    let server = RedisServer::start();
    let mut cfg = server.config();
    cfg.max_body = 1024;
    let state = State::new(cfg);
    let big = format!(r#"{{"task_name": "long_task", "duration": 1, "payload": {{"x": "{}"}}}}"#, "a".repeat(2000));
    for version in VERSIONS {
        let (code, answer) =
            send(&state, Via::Function, "enqueue_task", &event_with_body(version, "enqueue_task", &big)).await;
        assert_eq!(code, 413, "{answer}");
        assert!(answer["detail"].as_str().unwrap().contains("MAX_BODY"));
    }
    assert_eq!(job_count(&server), 0);
}

#[tokio::test]
async fn list_and_stats_parameters_are_checked() {
    let server = RedisServer::start();
    let state = state(&server);
    let cases = [
        ("/jobs", 422, json!(["query", "queue"])),
        ("/jobs?queue=default&state=done", 422, json!(["query", "state"])),
        ("/jobs?queue=default&limit=0", 422, json!(["query", "limit"])),
        ("/jobs?queue=default&limit=x", 422, json!(["query", "limit"])),
        ("/jobs?queue=default&cursor=abc", 422, json!(["query", "cursor"])),
        ("/jobs?queue=default&cursor=12", 422, json!(["query", "cursor"])),
        // A cursor of the queued list, given to the finished list.
        (
            "/jobs?queue=default&state=finished&cursor=q:8f14e45f-ceea-467f-a8f9-5e3b5f3e0c1a",
            422,
            json!(["query", "cursor"]),
        ),
        ("/stats?minutes=0", 422, json!(["query", "minutes"])),
        ("/stats?minutes=99999", 422, json!(["query", "minutes"])),
    ];
    for (path, code, loc) in cases {
        let (got, answer) = dispatch(&state, request("GET", path, "")).await;
        assert_eq!((got, &answer["detail"][0]["loc"]), (code, &loc), "{path}: {answer}");
    }
    assert_eq!(dispatch(&state, request("GET", "/jobs?queue=nope", "")).await.0, 404);
    assert_eq!(dispatch(&state, request("DELETE", "/queues/nope/purge", "")).await.0, 404);
    let (code, page) = dispatch(&state, request("GET", "/jobs?queue=high&state=failed&limit=5", "")).await;
    assert_eq!((code, page), (200, json!({"jobs": [], "next_cursor": null})));
}

#[tokio::test]
async fn unknown_paths_and_methods_are_404_and_405() {
    let server = RedisServer::start();
    let state = state(&server);
    assert_eq!(dispatch(&state, request("GET", "/nope", "")).await, (404, json!({"detail": "Not Found"})));
    let resp = functions::dispatch(state.clone(), request("PUT", "/tasks", "")).await;
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.headers()["allow"], "POST");
    // A function refuses other methods and paths than its own.
    assert_eq!(invoke(&state, route("health"), request("POST", "/health", "")).await.0, 405);
    assert_eq!(invoke(&state, route("get_task"), request("GET", "/queues", "")).await.0, 404);
}

#[tokio::test]
async fn a_function_finds_its_parameters_behind_a_prefix() {
    let server = RedisServer::start();
    let state = state(&server);
    // A function URL or a catch-all route: no pathParameters, and a prefix before the route's path.
    let mut event = event_json("v2", "purge_queue", "");
    event.as_object_mut().unwrap().remove("pathParameters");
    event["rawPath"] = json!("/lambda-url/purge_queue/queues/high/purge");
    let (code, answer) = send(&state, Via::Function, "purge_queue", &event).await;
    assert_eq!((code, answer), (200, json!({"queue": "high", "purged": 0})));
}

#[tokio::test]
async fn bad_lifecycle_input_is_4xx_naming_the_field_and_writes_nothing() {
    let server = RedisServer::start();
    let state = state(&server);
    let past = (chrono::Utc::now() - chrono::Duration::seconds(120)).to_rfc3339();
    let beyond = (chrono::Utc::now() + chrono::Duration::days(367)).to_rfc3339();
    let a = |extra: &str| format!(r#"{{"user_id": 1, "duration": 1, {extra}}}"#);
    let cases: Vec<(&str, &str, String, Vec<&str>, &str)> = vec![
        ("POST", "/tasks/a", a(r#""delay": -1"#), vec!["body", "delay"], "value_error"),
        ("POST", "/tasks/a", a(r#""delay": 31622401"#), vec!["body", "delay"], "value_error"),
        ("POST", "/tasks/a", a(r#""delay": "5""#), vec!["body", "delay"], "float_type"),
        ("POST", "/tasks/a", a(&format!(r#""run_at": "{past}""#)), vec!["body", "run_at"], "value_error"),
        ("POST", "/tasks/a", a(&format!(r#""run_at": "{beyond}""#)), vec!["body", "run_at"], "value_error"),
        ("POST", "/tasks/a", a(r#""run_at": "2026-12-03 09:00""#), vec!["body", "run_at"], "datetime_parsing"),
        ("POST", "/tasks/a", a(r#""run_at": "2026-12-03T09:00:00""#), vec!["body", "run_at"], "datetime_parsing"),
        (
            "POST",
            "/tasks/b",
            a(r#""delay": 5, "run_at": "2030-01-01T00:00:00Z""#),
            vec!["body", "run_at"],
            "value_error",
        ),
        ("POST", "/tasks/a", a(r#""retry": {"max": -1}"#), vec!["body", "retry", "max"], "value_error"),
        ("POST", "/tasks/a", a(r#""retry": {"max": 101}"#), vec!["body", "retry", "max"], "value_error"),
        ("POST", "/tasks/a", a(r#""retry": {"max": 1.5}"#), vec!["body", "retry", "max"], "int_type"),
        ("POST", "/tasks/a", a(r#""retry": {"backoff": 0}"#), vec!["body", "retry", "backoff"], "value_error"),
        (
            "POST",
            "/tasks/a",
            a(r#""retry": {"max": 2, "backoff": 10, "backoff_max": 5}"#),
            vec!["body", "retry", "backoff_max"],
            "value_error",
        ),
        ("POST", "/tasks/a", a(r#""retry": {"tries": 2}"#), vec!["body", "retry", "tries"], "extra_forbidden"),
        ("POST", "/tasks/a", a(r#""retry": 3"#), vec!["body", "retry"], "dict_type"),
        (
            "POST",
            "/tasks",
            r#"{"task_name": "long_task", "duration": 1, "delay": -5}"#.into(),
            vec!["body", "delay"],
            "value_error",
        ),
        ("POST", "/tasks/{id}/reschedule", r#"{"delay": -1}"#.into(), vec!["body", "delay"], "value_error"),
        (
            "POST",
            "/tasks/{id}/reschedule",
            r#"{"delay": 1, "run_at": "2030-01-01T00:00:00Z"}"#.into(),
            vec!["body", "run_at"],
            "value_error",
        ),
        ("POST", "/tasks/{id}/reschedule", r#"{"at": 1}"#.into(), vec!["body", "at"], "extra_forbidden"),
        (
            "PUT",
            "/schedules/s1",
            r#"{"cron": "61 * * * *", "task_name": "task_a", "args": {"user_id": 1, "duration": 1}}"#.into(),
            vec!["body", "cron"],
            "value_error",
        ),
        (
            "PUT",
            "/schedules/s1",
            r#"{"cron": "0 * * * *", "timezone": "Mars/Olympus", "task_name": "task_a", "args": {"user_id": 1, "duration": 1}}"#.into(),
            vec!["body", "timezone"],
            "value_error",
        ),
        (
            "PUT",
            "/schedules/s1",
            r#"{"cron": "0 * * * *", "task_name": "task_a", "args": {"user_id": 1, "duration": 1}, "missed": "all"}"#
                .into(),
            vec!["body", "missed"],
            "enum",
        ),
        (
            "PUT",
            "/schedules/s1",
            r#"{"cron": "0 * * * *", "task_name": "nope"}"#.into(),
            vec!["body", "task_name"],
            "enum",
        ),
        (
            "PUT",
            "/schedules/s1",
            r#"{"cron": "0 * * * *", "task_name": "task_a", "args": {"duration": 1}}"#.into(),
            vec!["body", "args", "user_id"],
            "value_error",
        ),
        (
            "PUT",
            "/schedules/s1",
            r#"{"cron": "0 * * * *", "task_name": "task_a", "args": {"user_id": 1, "duration": 1}, "queue": "nope"}"#
                .into(),
            vec!["body", "queue"],
            "enum",
        ),
        (
            "PUT",
            "/schedules/s1",
            r#"{"cron": "0 * * * *", "task_name": "task_a", "args": {"user_id": 1, "duration": 1}, "queue": "high", "high": true}"#.into(),
            vec!["body", "high"],
            "value_error",
        ),
        ("PUT", "/schedules/s1", r#"{"task_name": "task_a"}"#.into(), vec!["body", "cron"], "missing"),
        (
            "PUT",
            "/schedules/bad%20name",
            r#"{"cron": "0 * * * *", "task_name": "task_a", "args": {"user_id": 1, "duration": 1}}"#.into(),
            vec!["path", "name"],
            "value_error",
        ),
    ];
    let job = uuid::Uuid::new_v4().to_string();
    for (method, path, body, loc, kind) in &cases {
        let path = path.replace("{id}", &job);
        let (code, answer) = dispatch(&state, request(method, &path, body)).await;
        assert_eq!(code, 422, "{method} {path} {body}: {answer}");
        let errors = answer["detail"].as_array().unwrap_or_else(|| panic!("{answer}"));
        let hit = errors.iter().any(|e| e["loc"] == json!(loc) && e["type"] == *kind && e["msg"].is_string());
        assert!(hit, "{method} {path} {body}: want {loc:?} {kind}, got {answer}");
    }
    // Unknown schedule, job or queue: 404 naming it.
    let not_found = [
        ("GET", "/schedules/nope".to_owned()),
        ("DELETE", "/schedules/nope".to_owned()),
        ("POST", "/schedules/nope/pause".to_owned()),
        ("POST", "/schedules/nope/resume".to_owned()),
        ("POST", format!("/tasks/{job}/reschedule")),
        ("POST", "/queues/nope/requeue".to_owned()),
    ];
    for (method, path) in not_found {
        let (code, answer) = dispatch(&state, request(method, &path, "")).await;
        assert_eq!(code, 404, "{method} {path}: {answer}");
        assert!(answer["detail"].as_str().unwrap().contains("nope") || path.contains(&job), "{answer}");
    }
    assert_eq!(server.cli(&["dbsize"]).trim(), "0", "nothing was written");
}

#[tokio::test]
async fn delayed_and_retried_enqueues_answer_and_store_what_was_asked() {
    let server = RedisServer::start();
    let state = state(&server);
    let at = chrono::Utc::now() + chrono::Duration::hours(2);
    let body = format!(
        r#"{{"task_name": "long_task", "duration": 1, "run_at": "{}", "retry": {{"max": 4}}}}"#,
        at.with_timezone(&chrono::FixedOffset::east_opt(3600).unwrap()).to_rfc3339()
    );
    let (code, created) = dispatch(&state, request("POST", "/tasks", &body)).await;
    assert_eq!((code, &created["status"]), (200, &json!("scheduled")), "{created}");
    let run_at = created["run_at"].as_str().unwrap();
    assert!(run_at.ends_with('Z'), "{run_at}");
    let parsed = chrono::DateTime::parse_from_rfc3339(run_at).unwrap();
    assert!((parsed.timestamp_micros() - at.timestamp_micros()).abs() <= 1, "{run_at} vs {at}");
    let (code, job) =
        dispatch(&state, request("GET", &format!("/tasks/{}", created["job_id"].as_str().unwrap()), "")).await;
    assert_eq!(code, 200);
    assert_eq!((&job["status"], job["run_at"].as_str()), (&json!("scheduled"), Some(run_at)), "{job}");
    // max from the request, the waits from the configuration (RETRY_BACKOFF 1, RETRY_BACKOFF_MAX 300).
    assert_eq!(job["retry"], json!({"max": 4, "backoff": 1.0, "backoff_max": 300.0}), "{job}");
    assert_eq!((&job["attempts_left"], &job["errors"], &job["schedule"]), (&json!(5), &json!([]), &Value::Null));

    // Reschedule to a later time, then by delay; both keep it scheduled.
    let path = format!("/tasks/{}/reschedule", created["job_id"].as_str().unwrap());
    let (code, moved) = dispatch(&state, request("POST", &path, r#"{"delay": 60}"#)).await;
    assert_eq!((code, &moved["status"]), (200, &json!("scheduled")), "{moved}");
    let due = chrono::DateTime::parse_from_rfc3339(moved["run_at"].as_str().unwrap()).unwrap();
    let ahead = due.timestamp() - chrono::Utc::now().timestamp();
    assert!((55..=61).contains(&ahead), "{moved}");
    // A run_at up to 60 s in the past means now.
    let recent = (chrono::Utc::now() - chrono::Duration::seconds(30)).to_rfc3339();
    let (code, now) = dispatch(&state, request("POST", &path, &format!(r#"{{"run_at": "{recent}"}}"#))).await;
    assert_eq!((code, &now["status"]), (200, &json!("queued")), "{now}");
    assert_eq!(server.cli(&["llen", "{taskq}:queue:default"]).trim(), "1");

    // delay 0 and no delay are the same: queued at once, the answer as before.
    let (code, plain) =
        dispatch(&state, request("POST", "/tasks/b", r#"{"user_id": 5, "duration": 1, "delay": 0}"#)).await;
    assert_eq!(code, 200);
    assert_eq!(plain.as_object().unwrap().len(), 2, "{plain}");
    // task_b's own policy fills the fields not given.
    let (_, job) = dispatch(&state, request("GET", &format!("/tasks/{}", plain["job_id"].as_str().unwrap()), "")).await;
    assert_eq!(job["retry"], json!({"max": 3, "backoff": 2.0, "backoff_max": 60.0}), "{job}");
    let (code, none) =
        dispatch(&state, request("POST", "/tasks/b", r#"{"user_id": 6, "duration": 1, "retry": {"max": 0}}"#)).await;
    assert_eq!(code, 200);
    let (_, job) = dispatch(&state, request("GET", &format!("/tasks/{}", none["job_id"].as_str().unwrap()), "")).await;
    assert_eq!((&job["retry"], &job["attempts_left"]), (&Value::Null, &Value::Null), "{job}");
}
