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

/// Runs `local <args>` without `--json`; returns the exit code and what it printed.
fn local_text(server: &RedisServer, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_local")).envs(server.env()).args(args).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

/// Enqueues `n` jobs that always fail (a timeout shorter than their work).
async fn always_failing(q: &taskq::Queue, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let args = serde_json::json!({"duration": 5, "payload": {"n": i}});
        let mut job = taskq::NewJob::from_catalogue("long_task", args, "default").unwrap();
        job.timeout = Some(0.3);
        ids.push(q.enqueue(&job).await.unwrap().job_id().to_owned());
    }
    ids
}

async fn all_in(q: &taskq::Queue, ids: &[String], status: taskq::Status) -> bool {
    for id in ids {
        if !matches!(q.get(id).await, Ok(Some(j)) if j.status == status) {
            return false;
        }
    }
    true
}

#[tokio::test]
async fn requeue_failed_requeues_what_had_failed_once_even_while_it_keeps_failing() {
    let server = RedisServer::start();
    let q = taskq::Queue::connect(server.config()).await.unwrap();
    let ids = always_failing(&q, 3).await;
    let stop = CancellationToken::new();
    let w = worker::Worker::connect(server.config(), worker::tasks::registry()).await.unwrap();
    let handle = tokio::spawn(w.run(stop.clone()));
    let deadline = std::time::Duration::from_secs(60);
    testkit::wait_for("the three jobs to fail", deadline, || all_in(&q, &ids, taskq::Status::Failed)).await;

    let mut first_ends = Vec::new();
    for id in &ids {
        first_ends.push(q.get(id).await.unwrap().unwrap().ended_at.unwrap());
    }
    // The worker fails them again as soon as they are requeued: the command
    // still ends, having requeued each of them once.
    let srv = server.env();
    let requeued = tokio::task::spawn_blocking(move || {
        let out = Command::new(env!("CARGO_BIN_EXE_local"))
            .envs(srv)
            .args(["--json", "requeue", "--failed", "--queue", "default"])
            .output()
            .unwrap();
        (out.status.code(), serde_json::from_slice::<Value>(&out.stdout).unwrap_or(Value::Null))
    })
    .await
    .unwrap();
    assert_eq!(requeued.0, Some(0), "{}", requeued.1);
    assert_eq!(requeued.1["requeued"], 3);
    testkit::wait_for("them to fail a second time", deadline, || async {
        let mut all = true;
        for (id, first) in ids.iter().zip(&first_ends) {
            all &= matches!(q.get(id).await, Ok(Some(j)) if j.status == taskq::Status::Failed && j.ended_at.as_ref() != Some(first));
        }
        all
    })
    .await;
    // Other queues had none; an unknown queue is an error.
    assert_eq!(local(&server, &["requeue", "--failed", "--queue", "high"]).1["requeued"], 0);
    assert_ne!(local(&server, &["requeue", "--failed", "--queue", "nope"]).0, 0);
    let (code, text) = local_text(&server, &["requeue", "--failed"]);
    assert_eq!((code, text.trim()), (0, "requeued 3 failed jobs"));
    stop.cancel();
    handle.await.unwrap().unwrap();
}

#[tokio::test]
async fn delayed_jobs_show_their_countdown_and_run_when_rescheduled() {
    let server = RedisServer::start();
    let (code, e) = local(&server, &["enqueue", "long_task", "--delay", "600", "--args", r#"{"duration": 1}"#]);
    assert_eq!((code, e["status"].as_str()), (0, Some("scheduled")), "{e}");
    assert!(e["run_at"].is_string(), "{e}");
    let id = e["job_id"].as_str().unwrap().to_owned();
    let (_, status) = local(&server, &["status", &id]);
    assert_eq!((status["status"].as_str(), status["run_at"].is_string()), (Some("scheduled"), true), "{status}");
    let (_, text) = local_text(&server, &["status", &id]);
    assert!(
        text.contains("scheduled") && (text.contains("runs in 9 min") || text.contains("runs in 10 min")),
        "{text}"
    );
    let (_, page) = local(&server, &["jobs", "--state", "scheduled"]);
    assert_eq!(page["jobs"][0]["id"].as_str(), Some(id.as_str()), "{page}");
    assert_eq!(local(&server, &["jobs", "--state", "queued"]).1["jobs"], serde_json::json!([]));
    assert_eq!(local(&server, &["jobs", "--state", "retrying", "--queue", "high"]).1["jobs"], serde_json::json!([]));
    assert_ne!(local(&server, &["jobs", "--state", "waiting"]).0, 0);
    let (_, text) = local_text(&server, &["jobs", "--state", "scheduled"]);
    assert!(text.contains(&id) && text.contains("runs in"), "{text}");
    let (_, info) = local(&server, &["info"]);
    assert_eq!(
        (info["queues"][1]["states"]["scheduled"].as_u64(), info["queues"][1]["count"].as_u64()),
        (Some(1), Some(0))
    );

    // Bad times are refused before anything is written.
    assert_ne!(local(&server, &["enqueue", "long_task", "--delay=-1"]).0, 0);
    assert_ne!(local(&server, &["enqueue", "long_task", "--run-at", "tomorrow"]).0, 0);
    assert_ne!(local(&server, &["enqueue", "long_task", "--run-at", "2020-01-01T00:00:00Z"]).0, 0);
    let (code, later) = local(&server, &["enqueue", "long_task", "--run-at", "2099-01-01T00:00:00+01:00"]);
    assert_ne!(code, 0, "beyond a year ahead: {later}");

    // Moved later, it still waits; "run now" puts it on its queue, and a worker runs it.
    let (_, moved) = local(&server, &["reschedule", &id, "--delay", "900"]);
    assert_eq!(moved["status"], "scheduled", "{moved}");
    let (_, now) = local(&server, &["reschedule", &id]);
    assert_eq!(now["status"], "queued", "{now}");
    assert_ne!(local(&server, &["reschedule", &id]).0, 0, "a queued job is not waiting");
    let stop = CancellationToken::new();
    let w = worker::Worker::connect(server.config(), worker::tasks::registry()).await.unwrap();
    let handle = tokio::spawn(w.run(stop.clone()));
    let (srv, id_ref) = (server.env(), id.clone());
    let watched = tokio::task::spawn_blocking(move || {
        let out =
            Command::new(env!("CARGO_BIN_EXE_local")).envs(srv).args(["--json", "watch", &id_ref]).output().unwrap();
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    })
    .await
    .unwrap();
    assert_eq!(watched["status"], "finished");
    stop.cancel();
    handle.await.unwrap().unwrap();
}

#[tokio::test]
async fn schedules_are_created_listed_paused_resumed_and_deleted() {
    let server = RedisServer::start();
    let put = |extra: &[&str]| {
        let mut args = vec!["schedules", "put", "nightly", "--cron", "30 2 * * *", "--timezone", "Europe/Berlin"];
        args.extend_from_slice(&["--task", "long_task", "--args", r#"{"duration": 1}"#]);
        args.extend_from_slice(extra);
        local(&server, &args)
    };
    let (code, s) = put(&[]);
    assert_eq!((code, s["created"].as_bool(), s["name"].as_str()), (0, Some(true), Some("nightly")), "{s}");
    assert_eq!(
        (s["queue"].as_str(), s["missed"].as_str(), s["paused"].as_bool()),
        (Some("default"), Some("skip"), Some(false))
    );
    assert_eq!(s["next_runs"].as_array().map(Vec::len), Some(5), "{s}");
    let (_, again) = put(&["--missed", "run_once", "--queue", "high"]);
    assert_eq!(
        (again["created"].as_bool(), again["missed"].as_str(), again["queue"].as_str()),
        (Some(false), Some("run_once"), Some("high"))
    );

    let (_, list) = local(&server, &["schedules", "list"]);
    assert_eq!(list["schedules"].as_array().map(Vec::len), Some(1), "{list}");
    let (_, text) = local_text(&server, &["schedules", "list"]);
    assert!(text.contains("nightly") && text.contains("30 2 * * *") && text.contains("Europe/Berlin"), "{text}");

    let (_, paused) = local(&server, &["schedules", "pause", "nightly"]);
    assert_eq!((paused["paused"].as_bool(), paused["next_runs"].as_array().map(Vec::len)), (Some(true), Some(0)));
    assert_eq!(local(&server, &["schedules", "get", "nightly"]).1["paused"], true);
    let (_, resumed) = local(&server, &["schedules", "resume", "nightly"]);
    assert_eq!((resumed["paused"].as_bool(), resumed["next_runs"].as_array().map(Vec::len)), (Some(false), Some(5)));

    // Refused: a bad cron, zone, task or name; unknown names are errors.
    let bad = |args: &[&str]| local(&server, args).0;
    let base = ["schedules", "put", "x", "--task", "long_task", "--cron"];
    assert_ne!(bad(&[&base[..], &["not a cron"]].concat()), 0);
    assert_ne!(bad(&[&base[..], &["* * * * *", "--timezone", "Mars/Olympus"]].concat()), 0);
    assert_ne!(bad(&["schedules", "put", "x", "--task", "nope", "--cron", "* * * * *"]), 0);
    assert_ne!(bad(&["schedules", "put", "bad name", "--task", "long_task", "--cron", "* * * * *"]), 0);
    assert_ne!(bad(&["schedules", "get", "nope"]), 0);
    assert_ne!(bad(&["schedules", "pause", "nope"]), 0);

    assert_eq!(local(&server, &["schedules", "delete", "nightly"]).1["deleted"], true);
    assert_ne!(local(&server, &["schedules", "delete", "nightly"]).0, 0);
    assert_ne!(local(&server, &["schedules", "get", "nightly"]).0, 0);
    assert_eq!(local(&server, &["schedules", "list"]).1["schedules"], serde_json::json!([]));

    // With a worker running, a schedule due every second makes jobs that name it.
    let every = ["schedules", "put", "every-second", "--cron", "* * * * * *", "--task", "long_task"];
    assert_eq!(local(&server, &[&every[..], &["--args", r#"{"duration": 1}"#]].concat()).0, 0);
    let stop = CancellationToken::new();
    let w = worker::Worker::connect(server.config(), worker::tasks::registry()).await.unwrap();
    let handle = tokio::spawn(w.run(stop.clone()));
    let q = taskq::Queue::connect(server.config()).await.unwrap();
    testkit::wait_for("the schedule's first job", std::time::Duration::from_secs(30), || async {
        matches!(q.schedule("every-second").await, Ok(Some(s)) if s.last_job_id.is_some())
    })
    .await;
    let (_, s) = local(&server, &["schedules", "get", "every-second"]);
    let (_, made) = local(&server, &["status", s["last_job_id"].as_str().unwrap()]);
    assert_eq!((made["schedule"].as_str(), made["task"].as_str()), (Some("every-second"), Some("long_task")), "{made}");
    assert_eq!(local(&server, &["schedules", "pause", "every-second"]).1["paused"], true);
    stop.cancel();
    handle.await.unwrap().unwrap();
}
