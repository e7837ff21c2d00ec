//! Redis unreachable: every route that needs it answers 503 with a JSON body
//! within REDIS_TIMEOUT (never a hang), and the first request after Redis is
//! back succeeds in the same process, without a restart. Also a cold start
//! with Redis down, and a server that accepts connections but does not answer.

mod common;

use std::time::{Duration, Instant};

use common::*;
use functions::State;
use serde_json::Value;
use testkit::RedisServer;

const TIMEOUT: Duration = Duration::from_secs(1);
/// Scheduling slack on a busy 2-core machine.
const MARGIN: Duration = Duration::from_millis(700);

fn state_with_timeout(server: &RedisServer) -> State {
    let mut cfg = server.config();
    cfg.redis_timeout = TIMEOUT;
    taskq::logging::init(taskq::config::LogFormat::Text);
    State::new(cfg)
}

/// One request per route that talks to Redis.
fn redis_requests(job_id: &str) -> Vec<(&'static str, String, &'static str)> {
    vec![
        ("GET", "/health".into(), ""),
        ("POST", "/tasks".into(), r#"{"task_name": "long_task", "duration": 1, "payload": {"n": 2}}"#),
        ("POST", "/tasks/a".into(), r#"{"user_id": 1, "duration": 1}"#),
        ("POST", "/tasks/b".into(), r#"{"user_id": 1, "duration": 1}"#),
        ("GET", format!("/tasks/{job_id}"), ""),
        ("DELETE", format!("/tasks/{job_id}"), ""),
        ("POST", format!("/tasks/{job_id}/requeue"), ""),
        ("GET", "/queues".into(), ""),
        ("DELETE", "/queues/default/purge".into(), ""),
        ("GET", "/jobs?queue=default".into(), ""),
        ("GET", "/workers".into(), ""),
        ("GET", "/stats".into(), ""),
    ]
}

async fn all_unavailable(state: &State, job_id: &str) {
    for (method, path, body) in redis_requests(job_id) {
        let started = Instant::now();
        let (code, answer) = dispatch(state, request(method, &path, body)).await;
        let took = started.elapsed();
        assert_eq!(code, 503, "{method} {path}: {answer}");
        assert!(answer["detail"].is_string(), "{method} {path}: JSON body, got {answer}");
        assert!(took < TIMEOUT + MARGIN, "{method} {path} took {took:?}");
    }
}

#[tokio::test]
async fn redis_killed_mid_test_gives_quick_503_then_200_without_restart() {
    let mut server = RedisServer::start();
    let state = state_with_timeout(&server);
    let (code, created) =
        dispatch(&state, request("POST", "/tasks", r#"{"task_name": "long_task", "duration": 1}"#)).await;
    assert_eq!(code, 200);
    let job_id = created["job_id"].as_str().unwrap().to_owned();

    server.kill();
    all_unavailable(&state, &job_id).await;
    // Routes that need no Redis keep working.
    assert_eq!(dispatch(&state, request("GET", "/openapi.json", "")).await.0, 200);
    assert_eq!(dispatch(&state, request("GET", "/tasks/not-a-job", "")).await.0, 404);

    server.restart();
    // The very next request succeeds: no retry loop, no new State.
    assert_eq!(dispatch(&state, request("GET", "/health", "")).await.0, 200);
    for (method, path, body) in redis_requests(&job_id) {
        let (code, answer) = dispatch(&state, request(method, &path, body)).await;
        assert!(code < 500, "{method} {path} after restart: {code} {answer}");
    }
}

#[tokio::test]
async fn cold_start_with_redis_down_answers_503_then_recovers() {
    let mut server = RedisServer::start();
    server.kill();
    // A function's state is made at start-up: it must not need Redis then.
    let state = state_with_timeout(&server);
    all_unavailable(&state, &uuid::Uuid::new_v4().to_string()).await;
    server.restart();
    assert_eq!(dispatch(&state, request("GET", "/health", "")).await.0, 200);
    let (code, created) =
        dispatch(&state, request("POST", "/tasks", r#"{"task_name": "long_task", "duration": 1}"#)).await;
    assert_eq!((code, created["queue"].clone()), (200, Value::from("default")));
}

#[tokio::test]
async fn a_redis_that_does_not_answer_gives_503_within_the_timeout() {
    let server = RedisServer::start();
    let state = state_with_timeout(&server);
    assert_eq!(dispatch(&state, request("GET", "/health", "")).await.0, 200);
    // Stopped, not dead: connections stay open and nothing is answered.
    let info = server.cli(&["info", "server"]);
    let pid = info.lines().find_map(|l| l.trim().strip_prefix("process_id:")).expect("process_id").to_owned();
    let signal = |sig: &str| {
        let ok = std::process::Command::new("kill").args([sig, &pid]).status().map(|s| s.success());
        assert_eq!(ok.ok(), Some(true), "kill {sig} {pid}");
    };
    signal("-STOP");
    for path in ["/health", "/queues", "/workers", "/tasks/8b0c5ab4-3f7a-4d39-9e1e-1f6f1b2f4a10"] {
        let t = Instant::now();
        let (code, answer) = dispatch(&state, request("GET", path, "")).await;
        if code != 503 {
            signal("-CONT");
        }
        assert_eq!(code, 503, "{path}: {answer}");
        assert!(t.elapsed() < TIMEOUT + MARGIN, "{path} took {:?}", t.elapsed());
    }
    signal("-CONT");
    assert_eq!(dispatch(&state, request("GET", "/health", "")).await.0, 200);
}
