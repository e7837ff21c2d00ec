//! Hostile or sloppy input against a real redis-server: cursors out of
//! range, numbers spelled differently, durations TASK_TIMEOUT would cut
//! short, bodies that are not JSON by their Content-Type; and the per-minute
//! counters kept as long as `/stats` offers.

mod common;

use std::time::Duration;

use common::*;
use functions::{ApiError, State};
use serde_json::{Value, json};
use testkit::{RedisServer, wait_for};

#[tokio::test]
async fn cursors_out_of_range_are_refused_and_keep_the_client() {
    let server = RedisServer::start();
    let state = state(&server);
    assert_eq!(dispatch(&state, request("GET", "/health", "")).await.0, 200);
    let id = client_id(&state).await;
    for cursor in [
        "e:0:9223372036854775808",
        "e:0:18446744073709551616",
        "e:0:4294967296",
        "e:253402300800000:0",
        "e:99999999999999999999:0",
        "e:-1:0",
        "e:+1:0",
        "e:1:+0",
        "e::0",
        "e:1:",
        &format!("e:1:{}", "0".repeat(90)),
    ] {
        let path = format!("/jobs?queue=default&state=finished&cursor={cursor}");
        let (code, body) = dispatch(&state, request("GET", &path, "")).await;
        assert_eq!(code, 422, "{cursor}: {body}");
        assert_eq!(body["detail"][0]["loc"], json!(["query", "cursor"]), "{cursor}: {body}");
    }
    // The largest a cursor may hold is a page Redis serves (empty here).
    let path = "/jobs?queue=default&state=finished&cursor=e:253402300799999:4294967295";
    let (code, body) = dispatch(&state, request("GET", path, "")).await;
    assert_eq!((code, &body["jobs"]), (200, &json!([])), "{body}");
    assert_eq!(client_id(&state).await, id, "the client was dropped");
}

#[tokio::test]
async fn a_call_redis_refuses_is_a_500_not_an_outage() {
    let server = RedisServer::start();
    let state = state(&server);
    let id = client_id(&state).await;
    let refused = state
        .run(|q| async move {
            let mut c = q.connection();
            // The call the cursor used to make: an offset Redis refuses.
            let r: Result<Vec<String>, _> = redis::cmd("ZRANGE")
                .arg("{taskq}:nothing")
                .arg("+inf")
                .arg("-inf")
                .arg("BYSCORE")
                .arg("REV")
                .arg("LIMIT")
                .arg("9223372036854775808")
                .arg(2)
                .query_async(&mut c)
                .await;
            r.map_err(taskq::Error::from)
        })
        .await;
    assert_eq!(refused, Err(ApiError::Internal));
    for _ in 0..20 {
        // Each call yields, so a drop of the client would have happened.
        assert_eq!(client_id(&state).await, id, "the client was dropped");
    }
}

async fn client_id(state: &State) -> i64 {
    state
        .run(|q| async move {
            let mut c = q.connection();
            let id: i64 = redis::cmd("CLIENT").arg("ID").query_async(&mut c).await?;
            Ok(id)
        })
        .await
        .expect("CLIENT ID")
}

#[tokio::test]
async fn equal_numbers_spelled_differently_are_one_request() {
    let server = RedisServer::start();
    let state = state(&server);
    let mut first = None;
    for spelling in ["5", "5.0", "5e0", "50e-1"] {
        let body = format!(r#"{{"user_id": 77, "duration": {spelling}}}"#);
        let (code, reply) = dispatch(&state, request("POST", "/tasks/a", &body)).await;
        assert_eq!(code, 200, "{spelling}: {reply}");
        match &first {
            None => first = Some(reply["job_id"].clone()),
            Some(id) => assert_eq!(reply, json!({"duplicate": true, "job_id": id}), "{spelling}"),
        }
    }
    let body = r#"{"task_name": "long_task", "duration": 1.0, "payload": {"n": 2e0, "m": [0.25]}}"#;
    let (_, created) = dispatch(&state, request("POST", "/tasks", body)).await;
    assert!(created["job_id"].is_string(), "{created}");
    let body = r#"{"payload": {"m": [25e-2], "n": 2}, "duration": 1, "task_name": "long_task"}"#;
    let (_, again) = dispatch(&state, request("POST", "/tasks", body)).await;
    assert_eq!(again, json!({"duplicate": true, "job_id": created["job_id"]}));
    assert_eq!(job_count(&server), 2);
}

#[tokio::test]
async fn a_duration_task_timeout_would_cut_short_is_refused() {
    let server = RedisServer::start();
    let mut cfg = server.config();
    cfg.task_timeout = Duration::from_secs(2);
    let state = State::new(cfg);
    for (path, body, loc) in [
        ("/tasks/a", r#"{"user_id": 1, "duration": 4}"#, json!(["body", "duration"])),
        ("/tasks/b", r#"{"user_id": 1, "duration": 2}"#, json!(["body", "duration"])),
        ("/tasks", r#"{"task_name": "long_task", "duration": 4}"#, json!(["body", "duration"])),
    ] {
        let (code, reply) = dispatch(&state, request("POST", path, body)).await;
        assert_eq!(code, 422, "{path} {body}: {reply}");
        let e = &reply["detail"][0];
        assert_eq!(e["loc"], loc, "{reply}");
        assert!(e["msg"].as_str().unwrap().contains("TASK_TIMEOUT (2 s)"), "{reply}");
    }
    assert_eq!(job_count(&server), 0);
    let (code, reply) = dispatch(&state, request("POST", "/tasks/a", r#"{"user_id": 1, "duration": 1.5}"#)).await;
    assert_eq!(code, 200, "{reply}");
}

#[tokio::test]
async fn bodies_must_say_they_are_json() {
    let server = RedisServer::start();
    let state = state(&server);
    for version in VERSIONS {
        for function in ["enqueue_task", "enqueue_task_a", "enqueue_task_b"] {
            for via_function in [true, false] {
                let send = async |event: &Value| {
                    let req = request_of(event);
                    if via_function { invoke(&state, route(function), req).await } else { dispatch(&state, req).await }
                };
                let mut event = event_json(version, function, "");
                let ctx = format!("{version} {function} via_function={via_function}");
                let before = job_count(&server);
                for refused in
                    ["text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded", "text/json"]
                {
                    set_header(&mut event, "content-type", refused);
                    let (code, reply) = send(&event).await;
                    assert_eq!(code, 415, "{ctx} {refused}: {reply}");
                    assert!(reply["detail"].as_str().unwrap().contains("application/json"), "{reply}");
                }
                // No Content-Type at all, as a form-less fetch sends text.
                remove_header(&mut event, "content-type");
                assert_eq!(send(&event).await.0, 415, "{ctx}");
                assert_eq!(job_count(&server), before, "{ctx}");
                set_header(&mut event, "content-type", "Application/JSON; charset=UTF-8");
                let (code, reply) = send(&event).await;
                assert_eq!(code, 200, "{ctx}: {reply}");
                let body = if function == "enqueue_task" {
                    r#"{"task_name": "task_a", "duration": 1, "payload": {"user_id": 5}}"#
                } else {
                    r#"{"user_id": 5, "duration": 1}"#
                };
                let mut typed = event_with_body(version, function, body);
                set_header(&mut typed, "content-type", "application/vnd.taskq+json");
                assert_eq!(send(&typed).await.0, 200, "{ctx}");
            }
        }
        // Routes without a body need no Content-Type.
        for function in ["cancel_task", "requeue_task", "purge_queue", "list_jobs", "health"] {
            let mut event = event_json(version, function, "8f14e45f-ceea-467f-a8f9-5e3b5f3e0c1a");
            remove_header(&mut event, "content-type");
            let (code, reply) = invoke(&state, route(function), request_of(&event)).await;
            assert!(code == 200 || code == 404, "{version} {function}: {code} {reply}");
        }
    }
}

fn remove_header(event: &mut Value, name: &str) {
    for map in ["headers", "multiValueHeaders"] {
        if let Some(h) = event.get_mut(map).and_then(Value::as_object_mut) {
            h.retain(|k, _| !k.eq_ignore_ascii_case(name));
        }
    }
}

#[tokio::test]
async fn minute_counters_outlive_the_window_stats_offers() {
    let server = RedisServer::start();
    let state = state(&server);
    let w = worker::Worker::connect(server.config(), worker::tasks::registry()).await.expect("worker connects");
    let stop = tokio_util::sync::CancellationToken::new();
    let handle = tokio::spawn(w.run(stop.clone()));
    let (code, created) = dispatch(&state, request("POST", "/tasks/a", r#"{"user_id": 3, "duration": 0}"#)).await;
    assert_eq!(code, 200, "{created}");
    let path = format!("/tasks/{}", created["job_id"].as_str().unwrap());
    wait_for("the job to finish", Duration::from_secs(30), || async {
        dispatch(&state, request("GET", &path, "")).await.1["status"] == "finished"
    })
    .await;
    stop.cancel();
    handle.await.expect("worker task").expect("worker ran");
    let keys = server.cli(&["--scan", "--pattern", "{taskq}:stats:*"]);
    let keys: Vec<&str> = keys.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!keys.is_empty(), "no counters written");
    let offered = i64::from(functions::handlers::get_stats::MAX_MINUTES) * 60;
    for key in keys {
        let ttl: i64 = server.cli(&["ttl", key]).trim().parse().unwrap();
        assert!(ttl >= offered, "{key} expires in {ttl} s, but /stats reads {offered} s back");
    }
}

#[test]
fn the_openapi_document_gives_the_ranges_the_code_enforces() {
    let doc: Value = serde_json::from_str(functions::openapi::json()).expect("the document is JSON");
    let param = |path: &str, method: &str, name: &str| -> Value {
        let params = doc["paths"][path][method]["parameters"].as_array().cloned().unwrap_or_default();
        params.into_iter().find(|p| p["name"] == name).unwrap_or_else(|| panic!("{method} {path}: no {name}"))["schema"]
            .clone()
    };
    use functions::handlers::{get_stats, list_jobs};
    let limit = param("/jobs", "get", "limit");
    assert_eq!((limit["minimum"].as_u64(), limit["maximum"].as_u64()), (Some(1), Some(list_jobs::MAX_LIMIT as u64)));
    let minutes = param("/stats", "get", "minutes");
    assert_eq!(
        (minutes["minimum"].as_u64(), minutes["maximum"].as_u64()),
        (Some(1), Some(u64::from(get_stats::MAX_MINUTES)))
    );
    let cursor = param("/jobs", "get", "cursor");
    assert_eq!(cursor["maxLength"].as_u64(), Some(taskq::Cursor::MAX_LEN as u64));
    for path in ["/tasks", "/tasks/a", "/tasks/b"] {
        let key = param(path, "post", "Idempotency-Key");
        let max = functions::request::MAX_IDEMPOTENCY_KEY as u64;
        assert_eq!((key["minLength"].as_u64(), key["maxLength"].as_u64()), (Some(1), Some(max)), "{path}");
        assert!(doc["paths"][path]["post"]["responses"]["415"].is_object(), "{path}: no 415");
    }
    let schema = |name: &str, field: &str| doc["components"]["schemas"][name]["properties"][field].clone();
    for body in ["EnqueueRequest", "UserTaskRequest", "RescheduleRequest"] {
        let delay = schema(body, "delay");
        assert_eq!(
            (delay["minimum"].as_f64(), delay["maximum"].as_f64()),
            (Some(0.0), Some(functions::input::MAX_DELAY_SECS)),
            "{body}"
        );
    }
    assert_eq!(functions::input::MAX_DELAY_SECS, taskq::queue::MAX_DELAY.as_secs_f64());
    let max = schema("RetryRequest", "max");
    assert_eq!(max["maximum"].as_u64(), Some(u64::from(taskq::queue::MAX_RETRIES)));
    let backoff = schema("RetryRequest", "backoff");
    assert_eq!(backoff["maximum"].as_f64(), Some(taskq::queue::MAX_RETRY_BACKOFF));
    let backoff_max = schema("RetryRequest", "backoff_max");
    assert_eq!(backoff_max["maximum"].as_f64(), Some(taskq::queue::MAX_RETRY_BACKOFF_MAX));
}
