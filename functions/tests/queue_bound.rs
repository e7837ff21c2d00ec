//! MAX_QUEUED: an enqueue onto a queue that holds that many waiting jobs is
//! refused with 429 and writes nothing, through real gateway events and the
//! router, against a real redis-server; canceled jobs (tombstones still in
//! the list) do not count, and a duplicate still answers its job.

mod common;

use common::*;
use functions::State;
use serde_json::Value;
use testkit::RedisServer;

fn bounded(server: &RedisServer, max_queued: u64) -> State {
    let mut cfg = server.config();
    cfg.max_queued = max_queued;
    State::new(cfg)
}

fn task(n: u64) -> String {
    format!(r#"{{"task_name": "long_task", "duration": 1, "payload": {{"n": {n}}}}}"#)
}

#[tokio::test]
async fn a_full_queue_refuses_with_429_and_writes_nothing() {
    let server = RedisServer::start();
    let state = bounded(&server, 2);
    let (c1, first) = dispatch(&state, request("POST", "/tasks", &task(1))).await;
    let (c2, _) = dispatch(&state, request("POST", "/tasks", &task(2))).await;
    assert_eq!((c1, c2), (200, 200));
    let keys_before = server.cli(&["dbsize"]);

    for version in VERSIONS {
        let event = event_with_body(version, "enqueue_task", &task(3));
        let (code, answer) = invoke(&state, route("enqueue_task"), request_of(&event)).await;
        assert_eq!(code, 429, "{version}: {answer}");
        let detail = answer["detail"].as_str().unwrap_or_default();
        assert!(detail.contains("\"default\" is full") && detail.contains("MAX_QUEUED=2"), "{version}: {detail}");
    }
    let (code, answer) =
        dispatch(&state, request("POST", "/tasks/a", r#"{"user_id": 1, "duration": 1, "high": false}"#)).await;
    assert_eq!(code, 429, "{answer}");
    assert_eq!(server.cli(&["dbsize"]), keys_before, "a refused enqueue writes nothing");
    assert_eq!(job_count(&server), 2);

    // The same request as a queued job is its duplicate, full queue or not.
    let (code, again) = dispatch(&state, request("POST", "/tasks", &task(1))).await;
    assert_eq!((code, &again["job_id"], &again["duplicate"]), (200, &first["job_id"], &Value::Bool(true)));

    // Another queue has room of its own.
    let (code, answer) =
        dispatch(&state, request("POST", "/tasks/a", r#"{"user_id": 1, "duration": 1, "high": true}"#)).await;
    assert_eq!(code, 200, "{answer}");

    // A canceled job stays in the list as a tombstone but no longer waits.
    let id = first["job_id"].as_str().expect("job id");
    let (code, _) = dispatch(&state, request("DELETE", &format!("/tasks/{id}"), "")).await;
    assert_eq!(code, 200);
    let (code, answer) = dispatch(&state, request("POST", "/tasks", &task(3))).await;
    assert_eq!(code, 200, "{answer}");
    let (code, _) = dispatch(&state, request("POST", "/tasks", &task(4))).await;
    assert_eq!(code, 429);
}

#[tokio::test]
async fn zero_means_no_bound() {
    let server = RedisServer::start();
    let state = bounded(&server, 0);
    for n in 0..5 {
        let (code, answer) = dispatch(&state, request("POST", "/tasks", &task(n))).await;
        assert_eq!(code, 200, "{answer}");
    }
    assert_eq!(job_count(&server), 5);
}
