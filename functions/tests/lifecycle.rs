//! The job lifecycle through the handlers against a real redis-server:
//! delayed enqueues and their checks, reschedule, retry policies as a job
//! shows them, requeue of a queue's failed jobs, and cron schedules.
//! Every refused request writes nothing.

mod common;

use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use common::*;
use functions::State;
use serde_json::{Value, json};
use testkit::{RedisServer, wait_for};

/// Every key in Redis, sorted.
fn keys(server: &RedisServer) -> Vec<String> {
    let out = server.cli(&["--scan", "--pattern", "*"]);
    let mut keys: Vec<String> = out.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect();
    keys.sort();
    keys
}

async fn send(state: &State, method: &str, path: &str, body: &str) -> (u16, Value) {
    dispatch(state, request(method, path, body)).await
}

fn rfc3339(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The locations of a 422's problems.
fn locs(body: &Value) -> Vec<Value> {
    body["detail"].as_array().map(|d| d.iter().map(|e| e["loc"].clone()).collect()).unwrap_or_default()
}

#[tokio::test]
async fn bad_delays_run_ats_and_retries_are_422_naming_the_field_and_write_nothing() {
    let server = RedisServer::start();
    let state = state(&server);
    assert_eq!(send(&state, "GET", "/health", "").await.0, 200);
    let before = keys(&server);
    let now = Utc::now();
    let past = rfc3339(now - chrono::Duration::seconds(120));
    let beyond = rfc3339(now + chrono::Duration::days(367));
    let cases: Vec<(Value, Value)> = vec![
        (json!({"delay": -1}), json!(["body", "delay"])),
        (json!({"delay": 31_622_401}), json!(["body", "delay"])),
        (json!({"delay": "10"}), json!(["body", "delay"])),
        (json!({"run_at": "tomorrow"}), json!(["body", "run_at"])),
        (json!({"run_at": "2026-12-01T09:30:00"}), json!(["body", "run_at"])),
        (json!({"run_at": 1_795_949_368}), json!(["body", "run_at"])),
        (json!({"run_at": past}), json!(["body", "run_at"])),
        (json!({"run_at": beyond}), json!(["body", "run_at"])),
        (json!({"delay": 5, "run_at": rfc3339(now)}), json!(["body", "run_at"])),
        (json!({"retry": 3}), json!(["body", "retry"])),
        (json!({"retry": {"max": -1}}), json!(["body", "retry", "max"])),
        (json!({"retry": {"max": 101}}), json!(["body", "retry", "max"])),
        (json!({"retry": {"max": 1.5}}), json!(["body", "retry", "max"])),
        (json!({"retry": {"backoff": 0}}), json!(["body", "retry", "backoff"])),
        (json!({"retry": {"backoff": 86_401}}), json!(["body", "retry", "backoff"])),
        (json!({"retry": {"backoff": "1"}}), json!(["body", "retry", "backoff"])),
        (json!({"retry": {"backoff": 10, "backoff_max": 5}}), json!(["body", "retry", "backoff_max"])),
        (json!({"retry": {"backoff_max": 604_801}}), json!(["body", "retry", "backoff_max"])),
        (json!({"retry": {"tries": 3}}), json!(["body", "retry", "tries"])),
    ];
    for (extra, loc) in cases {
        for (path, base) in [
            ("/tasks", json!({"task_name": "long_task", "duration": 1})),
            ("/tasks/a", json!({"user_id": 1, "duration": 1})),
            ("/tasks/b", json!({"user_id": 1, "duration": 1})),
        ] {
            let mut body = base;
            body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            let (code, answer) = send(&state, "POST", path, &body.to_string()).await;
            assert_eq!(code, 422, "{path} {body}: {answer}");
            assert_eq!(locs(&answer), std::slice::from_ref(&loc), "{path} {body}: {answer}");
        }
    }
    // Every problem of one body at once.
    let body = json!({"task_name": "long_task", "duration": 1, "delay": -1, "retry": {"max": "x", "backoff": -1}});
    let (code, answer) = send(&state, "POST", "/tasks", &body.to_string()).await;
    assert_eq!(code, 422);
    assert_eq!(locs(&answer), [json!(["body", "delay"]), json!(["body", "retry", "max"])], "{answer}");
    assert_eq!(keys(&server), before, "a refused enqueue wrote to Redis");
}

#[tokio::test]
async fn a_delayed_job_waits_scheduled_then_reschedules_to_later_and_to_now() {
    let server = RedisServer::start();
    let state = state(&server);
    let (code, created) = send(&state, "POST", "/tasks/a", r#"{"user_id": 1, "duration": 0, "delay": 3600}"#).await;
    assert_eq!(code, 200, "{created}");
    assert_eq!(created["status"], "scheduled", "{created}");
    let run_at = created["run_at"].as_str().expect("run_at").to_owned();
    let due = chrono::DateTime::parse_from_rfc3339(&run_at).unwrap().with_timezone(&Utc);
    let ahead = due - Utc::now();
    assert!(ahead > chrono::Duration::seconds(3590) && ahead <= chrono::Duration::seconds(3600), "{run_at}");
    let id = created["job_id"].as_str().unwrap().to_owned();
    let path = format!("/tasks/{id}");

    let (code, job) = send(&state, "GET", &path, "").await;
    assert_eq!(code, 200);
    assert_eq!((job["status"].as_str(), job["run_at"].as_str()), (Some("scheduled"), Some(run_at.as_str())), "{job}");
    for field in ["retry", "attempts_left", "errors", "schedule", "tick"] {
        assert!(job.get(field).is_some(), "{field} missing from {job}");
    }
    assert_eq!(job["errors"], json!([]));
    assert_eq!(server.cli(&["llen", "{taskq}:queue:default"]).trim(), "0", "a scheduled job is not queued");

    // The same request again answers the waiting job.
    let (code, again) = send(&state, "POST", "/tasks/a", r#"{"user_id": 1, "duration": 0, "delay": 3600}"#).await;
    assert_eq!((code, again), (200, json!({"duplicate": true, "job_id": id})));

    let (code, page) = send(&state, "GET", "/jobs?queue=default&state=scheduled", "").await;
    assert_eq!(code, 200, "{page}");
    assert_eq!(page["jobs"][0]["job_id"], id.as_str(), "{page}");
    let (code, queues) = send(&state, "GET", "/queues", "").await;
    assert_eq!(code, 200);
    assert_eq!(queues["queues"][1]["states"]["scheduled"], 1, "{queues}");

    let reschedule = format!("/tasks/{id}/reschedule");
    let later = rfc3339(Utc::now() + chrono::Duration::days(2));
    let (code, moved) = send(&state, "POST", &reschedule, &json!({"run_at": later}).to_string()).await;
    assert_eq!(code, 200, "{moved}");
    assert_eq!(moved["status"], "scheduled");
    let new_at = moved["run_at"].as_str().unwrap();
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(new_at).unwrap(),
        chrono::DateTime::parse_from_rfc3339(&later).unwrap()
    );
    assert_eq!(send(&state, "GET", &path, "").await.1["run_at"], new_at);

    // Refused bodies change nothing.
    let before = keys(&server);
    for body in [r#"{"delay": -5}"#, r#"{"delay": 1, "run_at": "2030-01-01T00:00:00Z"}"#, r#"{"at": 1}"#, "[1]"] {
        let (code, answer) = send(&state, "POST", &reschedule, body).await;
        assert_eq!(code, 422, "{body}: {answer}");
    }
    assert_eq!(keys(&server), before);
    assert_eq!(send(&state, "GET", &path, "").await.1["run_at"], new_at);

    // An empty body runs it now.
    let (code, now) = send(&state, "POST", &reschedule, "").await;
    assert_eq!((code, now), (200, json!({"job_id": id, "status": "queued"})));
    let (_, job) = send(&state, "GET", &path, "").await;
    assert_eq!((job["status"].as_str(), &job["run_at"]), (Some("queued"), &Value::Null), "{job}");
    assert_eq!(server.cli(&["llen", "{taskq}:queue:default"]).trim(), "1");

    // A queued job is not waiting: 409; unknown ids: 404.
    let (code, conflict) = send(&state, "POST", &reschedule, "{}").await;
    assert_eq!((code, &conflict["status"]), (409, &json!("queued")), "{conflict}");
    let unknown = format!("/tasks/{}/reschedule", uuid::Uuid::new_v4());
    assert_eq!(send(&state, "POST", &unknown, "{}").await.0, 404);
    assert_eq!(send(&state, "POST", "/tasks/nope/reschedule", "{}").await.0, 404);
}

#[tokio::test]
async fn run_at_shortly_past_runs_now_and_a_run_at_ahead_is_kept() {
    let server = RedisServer::start();
    let state = state(&server);
    let recent = rfc3339(Utc::now() - chrono::Duration::seconds(30));
    let body = json!({"task_name": "long_task", "duration": 0, "run_at": recent});
    let (code, created) = send(&state, "POST", "/tasks", &body.to_string()).await;
    assert_eq!(code, 200, "{created}");
    assert_eq!(created.as_object().unwrap().len(), 2, "a job that runs now answers as before: {created}");
    let (_, job) = send(&state, "GET", &format!("/tasks/{}", created["job_id"].as_str().unwrap()), "").await;
    assert_eq!(job["status"], "queued");

    let ahead = chrono::DateTime::parse_from_rfc3339(&rfc3339(Utc::now() + chrono::Duration::hours(5))).unwrap();
    let ahead = ahead.with_timezone(&chrono::FixedOffset::east_opt(3600).unwrap());
    let body = json!({"task_name": "long_task", "duration": 1, "run_at": ahead.to_rfc3339()});
    let (code, created) = send(&state, "POST", "/tasks", &body.to_string()).await;
    assert_eq!((code, created["status"].as_str()), (200, Some("scheduled")), "{created}");
    let stored = chrono::DateTime::parse_from_rfc3339(created["run_at"].as_str().unwrap()).unwrap();
    assert_eq!(stored, ahead);
    assert!(created["run_at"].as_str().unwrap().ends_with('Z'), "shown in UTC: {created}");
}

#[tokio::test]
async fn a_retry_override_is_completed_from_the_task_and_shown() {
    let server = RedisServer::start();
    let state = state(&server);
    // task_b's catalogue policy is {max 3, backoff 2, backoff_max 60}.
    let (code, b) = send(&state, "POST", "/tasks/b", r#"{"user_id": 1, "duration": 0, "retry": {"max": 5}}"#).await;
    assert_eq!(code, 200, "{b}");
    let (_, job) = send(&state, "GET", &format!("/tasks/{}", b["job_id"].as_str().unwrap()), "").await;
    assert_eq!(job["retry"], json!({"max": 5, "backoff": 2.0, "backoff_max": 60.0}), "{job}");
    assert_eq!(job["attempts_left"], 6, "{job}");
    // No policy anywhere (RETRY_MAX 0): never retried, shown as null.
    let (_, a) = send(&state, "POST", "/tasks/a", r#"{"user_id": 1, "duration": 0}"#).await;
    let (_, job) = send(&state, "GET", &format!("/tasks/{}", a["job_id"].as_str().unwrap()), "").await;
    assert_eq!((&job["retry"], &job["attempts_left"]), (&Value::Null, &Value::Null), "{job}");
    // A backoff above the default backoff_max (300) needs its own backoff_max.
    let body = r#"{"user_id": 2, "duration": 0, "retry": {"max": 1, "backoff": 600}}"#;
    let (code, answer) = send(&state, "POST", "/tasks/a", body).await;
    assert_eq!(code, 422, "{answer}");
    assert_eq!(locs(&answer), [json!(["body", "retry", "backoff_max"])], "{answer}");
    let body = r#"{"user_id": 2, "duration": 0, "retry": {"max": 1, "backoff": 600, "backoff_max": 600}}"#;
    let (code, a) = send(&state, "POST", "/tasks/a", body).await;
    assert_eq!(code, 200, "{a}");
    let (_, job) = send(&state, "GET", &format!("/tasks/{}", a["job_id"].as_str().unwrap()), "").await;
    assert_eq!(job["retry"], json!({"max": 1, "backoff": 600.0, "backoff_max": 600.0}), "{job}");
}

#[tokio::test]
async fn requeue_of_a_queue_puts_its_failed_jobs_back() {
    let server = RedisServer::start();
    let state = state(&server);
    assert_eq!(send(&state, "POST", "/queues/nope/requeue", "").await.0, 404);
    assert_eq!(
        send(&state, "POST", "/queues/default/requeue", "").await,
        (200, json!({"queue": "default", "requeued": 0}))
    );
    // Jobs of a task no worker knows fail at once (never retried).
    let mut ids = Vec::new();
    for n in 0..3 {
        let id =
            state
                .run(move |q| async move {
                    q.enqueue(&taskq::NewJob::new("no_such_task", json!({"n": n}), "default")).await
                })
                .await
                .unwrap()
                .job_id()
                .to_owned();
        ids.push(id);
    }
    let w = worker::Worker::connect(server.config(), worker::tasks::registry()).await.expect("worker connects");
    let stop = tokio_util::sync::CancellationToken::new();
    let handle = tokio::spawn(w.run(stop.clone()));
    wait_for("the jobs to fail", Duration::from_secs(30), || async {
        let mut failed = 0;
        for id in &ids {
            failed += usize::from(send(&state, "GET", &format!("/tasks/{id}"), "").await.1["status"] == "failed");
        }
        failed == ids.len()
    })
    .await;
    stop.cancel();
    handle.await.expect("worker task").expect("worker ran");
    assert_eq!(
        send(&state, "POST", "/queues/high/requeue", "").await,
        (200, json!({"queue": "high", "requeued": 0})),
        "another queue's failed jobs stay"
    );
    assert_eq!(
        send(&state, "POST", "/queues/default/requeue", "").await,
        (200, json!({"queue": "default", "requeued": 3}))
    );
    for id in &ids {
        assert_eq!(send(&state, "GET", &format!("/tasks/{id}"), "").await.1["status"], "queued");
    }
}

const NIGHTLY: &str = r#"{"cron": "30 2 * * *", "timezone": "Europe/Berlin", "task_name": "task_a",
    "args": {"user_id": 7, "duration": 5}}"#;

#[tokio::test]
async fn schedules_are_created_replaced_read_listed_paused_resumed_and_deleted() {
    let server = RedisServer::start();
    let state = state(&server);
    assert_eq!(send(&state, "GET", "/schedules", "").await, (200, json!({"schedules": []})));

    let (code, created) = send(&state, "PUT", "/schedules/nightly", NIGHTLY).await;
    assert_eq!(code, 201, "{created}");
    assert_eq!(created["name"], "nightly");
    assert_eq!(created["cron"], "30 2 * * *");
    assert_eq!(created["timezone"], "Europe/Berlin");
    assert_eq!(created["task_name"], "task_a");
    assert_eq!(created["args"], json!({"user_id": 7, "duration": 5}));
    assert_eq!(created["queue"], "default");
    assert_eq!(created["missed"], "skip");
    assert_eq!(created["paused"], false);
    let runs = created["next_runs"].as_array().expect("next_runs");
    assert_eq!(runs.len(), 5, "{created}");
    for run in runs {
        let t = chrono::DateTime::parse_from_rfc3339(run.as_str().unwrap()).unwrap();
        let local = t.with_timezone(&chrono::FixedOffset::east_opt(3600).unwrap());
        assert_eq!(local.format("%H:%M").to_string(), "02:30", "{run} in Berlin's winter time");
        assert!(t > Utc::now());
    }
    assert_eq!(created["last_run_at"], Value::Null);

    // Replace: 200, other fields, same creation time.
    let body = r#"{"cron": "@hourly", "task_name": "task_b", "args": {"user_id": 8, "duration": 1}, "high": true,
        "missed": "run_once"}"#;
    let (code, replaced) = send(&state, "PUT", "/schedules/nightly", body).await;
    assert_eq!(code, 200, "{replaced}");
    assert_eq!(
        (replaced["timezone"].as_str(), replaced["queue"].as_str(), replaced["missed"].as_str()),
        (Some("UTC"), Some("high"), Some("run_once"))
    );
    assert_eq!(replaced["created_at"], created["created_at"]);

    let (code, read) = send(&state, "GET", "/schedules/nightly", "").await;
    assert_eq!((code, &read), (200, &replaced));
    let (code, second) = send(&state, "PUT", "/schedules/a.b-c_1", NIGHTLY).await;
    assert_eq!(code, 201, "{second}");
    let (code, list) = send(&state, "GET", "/schedules", "").await;
    assert_eq!(code, 200);
    let names: Vec<&str> = list["schedules"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["a.b-c_1", "nightly"]);

    let (code, paused) = send(&state, "POST", "/schedules/nightly/pause", "").await;
    assert_eq!(code, 200, "{paused}");
    assert_eq!((&paused["paused"], &paused["next_runs"]), (&json!(true), &json!([])), "{paused}");
    assert_eq!(send(&state, "GET", "/schedules/nightly", "").await.1["paused"], true);
    let (code, resumed) = send(&state, "POST", "/schedules/nightly/resume", "").await;
    assert_eq!(code, 200, "{resumed}");
    assert_eq!(resumed["paused"], false);
    assert_eq!(resumed["next_runs"].as_array().map(Vec::len), Some(5), "{resumed}");

    assert_eq!(
        send(&state, "DELETE", "/schedules/nightly", "").await,
        (200, json!({"name": "nightly", "deleted": true}))
    );
    let gone = json!({"detail": "schedule \"nightly\" not found"});
    for (method, path) in [
        ("GET", "/schedules/nightly"),
        ("DELETE", "/schedules/nightly"),
        ("POST", "/schedules/nightly/pause"),
        ("POST", "/schedules/nightly/resume"),
    ] {
        assert_eq!(send(&state, method, path, "").await, (404, gone.clone()), "{method} {path}");
    }
    // A name no schedule can have is unknown too.
    assert_eq!(send(&state, "GET", "/schedules/bad%20name", "").await.0, 404);
    assert_eq!(send(&state, "GET", &format!("/schedules/{}", "x".repeat(101)), "").await.0, 404);
    let (_, list) = send(&state, "GET", "/schedules", "").await;
    assert_eq!(list["schedules"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn bad_schedules_are_422_naming_the_field_and_write_nothing() {
    let server = RedisServer::start();
    let state = state(&server);
    assert_eq!(send(&state, "GET", "/health", "").await.0, 200);
    let before = keys(&server);
    let base = json!({"cron": "*/5 * * * *", "task_name": "task_a", "args": {"user_id": 7, "duration": 5}});
    let with = |extra: Value| {
        let mut b = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                b.as_object_mut().unwrap().remove(k);
            } else {
                b[k] = v.clone();
            }
        }
        b.to_string()
    };
    let cases = [
        ("ok", with(json!({"cron": "not a cron"})), json!(["body", "cron"])),
        ("ok", with(json!({"cron": "61 * * * *"})), json!(["body", "cron"])),
        ("ok", with(json!({"cron": 5})), json!(["body", "cron"])),
        ("ok", with(json!({"cron": null})), json!(["body", "cron"])),
        ("ok", with(json!({"timezone": "Mars/Olympus"})), json!(["body", "timezone"])),
        ("ok", with(json!({"missed": "always"})), json!(["body", "missed"])),
        ("ok", with(json!({"missed": true})), json!(["body", "missed"])),
        ("ok", with(json!({"task_name": "nope"})), json!(["body", "task_name"])),
        ("ok", with(json!({"args": {"user_id": "x", "duration": 5}})), json!(["body", "args", "user_id"])),
        ("ok", with(json!({"args": {"user_id": 7, "duration": 999_999}})), json!(["body", "args", "duration"])),
        ("ok", with(json!({"args": [1]})), json!(["body", "args"])),
        ("ok", with(json!({"queue": "nope"})), json!(["body", "queue"])),
        ("ok", with(json!({"queue": "high", "high": true})), json!(["body", "high"])),
        ("ok", with(json!({"payload": {"user_id": 7, "duration": 5}})), json!(["body", "payload"])),
        ("ok", with(json!({"every": "day"})), json!(["body", "every"])),
        ("bad name", with(json!({})), json!(["path", "name"])),
        (&"x".repeat(101), with(json!({})), json!(["path", "name"])),
    ];
    for (name, body, loc) in cases {
        let path = format!("/schedules/{}", name.replace(' ', "%20"));
        let (code, answer) = send(&state, "PUT", &path, &body).await;
        assert_eq!(code, 422, "{name} {body}: {answer}");
        assert_eq!(locs(&answer), [loc], "{name} {body}: {answer}");
    }
    assert_eq!(send(&state, "PUT", "/schedules/ok", "").await.0, 422);
    assert_eq!(keys(&server), before, "a refused schedule wrote to Redis");
}

#[tokio::test]
async fn a_schedule_makes_jobs_that_name_it_and_their_tick() {
    let server = RedisServer::start();
    let state = state(&server);
    let body = r#"{"cron": "* * * * * *", "task_name": "task_a", "args": {"user_id": 7, "duration": 0}}"#;
    let (code, created) = send(&state, "PUT", "/schedules/every-second", body).await;
    assert_eq!(code, 201, "{created}");
    let w = worker::Worker::connect(server.config(), worker::tasks::registry()).await.expect("worker connects");
    let stop = tokio_util::sync::CancellationToken::new();
    let handle = tokio::spawn(w.run(stop.clone()));
    wait_for("the schedule's first job", Duration::from_secs(30), || async {
        send(&state, "GET", "/schedules/every-second", "").await.1["last_job_id"].is_string()
    })
    .await;
    let (_, paused) = send(&state, "POST", "/schedules/every-second/pause", "").await;
    stop.cancel();
    handle.await.expect("worker task").expect("worker ran");
    assert_eq!(paused["paused"], true);
    let (_, last) = send(&state, "GET", "/schedules/every-second", "").await;
    let id = last["last_job_id"].as_str().unwrap();
    let (code, job) = send(&state, "GET", &format!("/tasks/{id}"), "").await;
    assert_eq!(code, 200, "{job}");
    assert_eq!((job["schedule"].as_str(), job["task"].as_str()), (Some("every-second"), Some("task_a")), "{job}");
    let tick = chrono::DateTime::parse_from_rfc3339(job["tick"].as_str().expect("tick")).unwrap();
    let ran = chrono::DateTime::parse_from_rfc3339(last["last_run_at"].as_str().expect("last_run_at")).unwrap();
    assert_eq!(tick, ran, "{job} {last}");
}
