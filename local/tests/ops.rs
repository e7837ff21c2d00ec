//! The operator commands of the `local` binary against a real redis-server.

use std::process::Command;

use serde_json::Value;
use testkit::RedisServer;
use tokio_util::sync::CancellationToken;

/// Runs `local --json <args>`; returns the exit code and the JSON it printed.
fn local(server: &RedisServer, args: &[&str]) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_local")).envs(server.env()).arg("--json").args(args).output().unwrap();
    let doc = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), doc)
}

#[tokio::test]
async fn operator_commands_enqueue_inspect_and_act_on_jobs() {
    let server = RedisServer::start();
    let (code, e) = local(&server, &["enqueue", "long_task", "--args", r#"{"duration": 1, "payload": {"a": 1}}"#]);
    assert_eq!((code, e["queue"].as_str()), (0, Some("default")));
    let id = e["job_id"].as_str().unwrap().to_owned();
    let (_, dup) = local(&server, &["enqueue", "long_task", "--args", r#"{"payload": {"a": 1}, "duration": 1}"#]);
    assert_eq!((dup["duplicate"].as_bool(), dup["job_id"].as_str()), (Some(true), Some(id.as_str())));
    let (code, bad) = local(&server, &["enqueue", "task_a", "--args", r#"{"duration": 1}"#]);
    assert_ne!(code, 0, "{bad}");

    let (_, info) = local(&server, &["info"]);
    assert_eq!(info["queues"][1]["states"]["queued"], 1);
    let (_, status) = local(&server, &["status", &id]);
    assert_eq!(status["status"], "queued");

    // watch follows the job until a worker ends it.
    let stop = CancellationToken::new();
    let w = worker::Worker::connect(server.config(), worker::tasks::registry()).await.unwrap();
    let handle = tokio::spawn(w.run(stop.clone()));
    let (server_ref, id_ref) = (server.url(), id.clone());
    let watched = tokio::task::spawn_blocking(move || {
        let out = Command::new(env!("CARGO_BIN_EXE_local"))
            .env("REDIS_URL", server_ref)
            .args(["--json", "watch", &id_ref])
            .output()
            .unwrap();
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    })
    .await
    .unwrap();
    assert_eq!(watched["status"], "finished");
    assert_eq!(watched["progress"]["percent"], 100.0);
    stop.cancel();
    handle.await.unwrap().unwrap();

    // cancel, purge, requeue.
    let (_, queued) = local(&server, &["enqueue", "task_b", "--high", "--args", r#"{"user_id": 1, "duration": 1}"#]);
    let qid = queued["job_id"].as_str().unwrap().to_owned();
    assert_eq!(local(&server, &["cancel", &qid]).1["status"], "canceled");
    assert_ne!(local(&server, &["cancel", &qid]).0, 0, "cancelling an ended job is an error");
    assert_eq!(local(&server, &["requeue", &qid]).1["status"], "queued");
    assert_eq!(local(&server, &["purge", "high"]).1["purged"], 1);
    assert_eq!(local(&server, &["requeue", "--failed"]).1["requeued"], 0);
    assert_ne!(local(&server, &["status", "0b7a2f44-3c1e-4e6f-9d3a-2a4b5c6d7e8f"]).0, 0);
}
