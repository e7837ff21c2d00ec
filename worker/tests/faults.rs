//! Faults, with real processes: a worker killed with SIGKILL mid-job (over and
//! over), a worker stopped with SIGTERM mid-job, Redis killed and restarted
//! with AOF, Redis Cluster, TLS with auth, bad configuration.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use serde_json::json;
use taskq::{Redis, Status};
use testkit::{Mode, RedisServer, wait_until};

fn count(server: &RedisServer, args: &[&str]) -> u64 {
    server.cli(args).trim().parse().unwrap_or(0)
}

/// Sum of a field over every per-minute counter: how many times jobs ended so.
fn ended_count(server: &RedisServer, field: &str) -> u64 {
    server.cli(&["--scan", "--pattern", "{taskq}:stats:*"]).lines().map(|k| count(server, &["hget", k, field])).sum()
}

#[tokio::test]
async fn killing_workers_mid_job_loses_no_job_and_ends_none_twice() {
    let server = RedisServer::start();
    let q = queue(&server.config()).await;
    const JOBS: usize = 200;
    let mut ids = Vec::new();
    for i in 0..JOBS {
        ids.push(enqueue(&q, "long_task", json!({"duration": 0.25, "payload": i}), "default").await);
    }
    let env = [("WORKER_CONCURRENCY", "6"), ("MAX_ATTEMPTS", "1000")];
    let _survivor = WorkerProcess::start(&server, &[("WORKER_CONCURRENCY", "3"), ("MAX_ATTEMPTS", "1000")]);
    let mut kills = 0;
    while ended_count(&server, "finished") < JOBS as u64 && kills < 40 {
        let victim = WorkerProcess::start(&server, &env);
        // Wait until it runs jobs (or everything is done), then kill it mid-job.
        let mut busy = false;
        wait_until("victim to take jobs", LONG, || {
            busy =
                victim.name(&server).is_some_and(|n| count(&server, &["llen", &format!("{{taskq}}:inflight:{n}")]) > 0);
            busy || ended_count(&server, "finished") >= JOBS as u64
        });
        if busy {
            victim.kill9();
            kills += 1;
        }
    }
    wait_until("every job to finish", Duration::from_secs(120), || ended_count(&server, "finished") >= JOBS as u64);
    assert!(kills >= 5, "only {kills} kills happened");
    let mut recovered = 0;
    for id in &ids {
        let j = get(&q, id).await;
        assert_eq!(j.status, Status::Finished, "{j:?}");
        if j.attempts > 1 {
            recovered += 1;
        }
    }
    assert!(recovered > 0, "no job was recovered after {kills} kills");
    // Every job ended exactly once: the counters and the registry agree.
    assert_eq!(ended_count(&server, "finished"), JOBS as u64);
    assert_eq!(count(&server, &["zcard", "{taskq}:ended:default:finished"]), JOBS as u64);
    assert_eq!(count(&server, &["llen", "{taskq}:queue:default"]), 0);
    // The dead workers are gone from the registry; the survivor remains.
    wait_until("dead workers removed", LONG, || count(&server, &["zcard", "{taskq}:workers"]) == 1);
    eprintln!("{kills} kills, {recovered} jobs recovered");
}

#[tokio::test]
async fn sigterm_lets_short_jobs_finish_and_returns_long_ones_to_their_queue() {
    let server = RedisServer::start();
    let q = queue(&server.config()).await;
    let w = WorkerProcess::start(&server, &[("WORKER_CONCURRENCY", "2"), ("SHUTDOWN_GRACE", "2")]);
    let short = enqueue(&q, "long_task", json!({"duration": 1, "payload": "short"}), "default").await;
    let long = enqueue(&q, "long_task", json!({"duration": 60, "payload": "long"}), "default").await;
    wait_status(&q, &short, Status::Started).await;
    wait_status(&q, &long, Status::Started).await;
    let queued = enqueue(&q, "long_task", json!({"duration": 0, "payload": "queued"}), "default").await;
    w.signal("-TERM");
    let mut child = w;
    let exit = tokio::task::spawn_blocking(move || child.child.wait().map(|s| s.code())).await.unwrap().unwrap();
    assert_eq!(exit, Some(0));
    assert_eq!(status(&q, &short).await, Status::Finished);
    let back = get(&q, &long).await;
    assert_eq!((back.status, back.attempts, back.worker), (Status::Queued, 0, None));
    assert_eq!(status(&q, &queued).await, Status::Queued, "a stopping worker took a new job");
    // The long job is next in line; the queue holds both; the worker deregistered.
    assert_eq!(
        server.cli(&["lrange", "{taskq}:queue:default", "0", "-1"]).lines().collect::<Vec<_>>(),
        [queued.as_str(), long.as_str()]
    );
    assert_eq!(count(&server, &["zcard", "{taskq}:workers"]), 0);
    // Another worker runs them.
    let w2 = InProcess::start(server.config()).await;
    wait_status(&q, &queued, Status::Finished).await;
    wait_status(&q, &long, Status::Started).await;
    w2.stop().await;
}

#[tokio::test]
async fn queued_jobs_survive_a_redis_restart_and_the_worker_reconnects() {
    let mut server = RedisServer::start_mode(Mode::Aof);
    let q = queue(&server.config()).await;
    let w = WorkerProcess::start(&server, &[("WORKER_CONCURRENCY", "1")]);
    let blocker = enqueue(&q, "long_task", json!({"duration": 2, "payload": "blocker"}), "default").await;
    wait_status(&q, &blocker, Status::Started).await;
    let mut ids = Vec::new();
    for i in 0..20 {
        ids.push(enqueue(&q, "long_task", json!({"duration": 0, "payload": i}), "default").await);
    }
    server.kill();
    server.restart();
    assert_eq!(count(&server, &["llen", "{taskq}:queue:default"]), 20, "queued jobs lost in the restart");
    for id in ids.iter().chain([&blocker]) {
        wait_status(&q, id, Status::Finished).await;
    }
    assert!(w.name(&server).is_some(), "worker still registered");
}

#[tokio::test]
async fn an_outage_longer_than_three_beats_kills_no_live_worker() {
    let mut server = RedisServer::start_mode(Mode::Aof);
    let q = queue(&server.config()).await;
    let env = [("WORKER_HEARTBEAT", "1"), ("MAX_ATTEMPTS", "1"), ("WORKER_CONCURRENCY", "2")];
    let (a, b) = (WorkerProcess::start(&server, &env), WorkerProcess::start(&server, &env));
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(enqueue(&q, "long_task", json!({"duration": 10, "payload": i}), "default").await);
    }
    let inflight = |w: &WorkerProcess| {
        w.name(&server).map_or(0, |n| count(&server, &["llen", &format!("{{taskq}}:inflight:{n}")]))
    };
    wait_until("both workers to run two jobs each", LONG, || inflight(&a) == 2 && inflight(&b) == 2);
    // The outage: five beats long.
    server.kill();
    std::thread::sleep(Duration::from_secs(5));
    server.restart();
    wait_until("every job to end", Duration::from_secs(60), || {
        ended_count(&server, "finished") + ended_count(&server, "failed") >= 4
    });
    for id in &ids {
        let j = wait_status(&q, id, Status::Finished).await;
        assert_eq!(j.attempts, 1, "{j:?}");
    }
    assert_eq!(ended_count(&server, "failed"), 0, "a job failed (abandoned?)");
    assert_eq!(ended_count(&server, "finished"), 4);
    assert_eq!(count(&server, &["zcard", "{taskq}:workers"]), 2, "a live worker was removed");
    // A worker that truly died is still recovered, on the same clock.
    let last = enqueue(&q, "long_task", json!({"duration": 30, "payload": "last"}), "default").await;
    wait_status(&q, &last, Status::Started).await;
    let holder = get(&q, &last).await.worker.expect("a worker runs it");
    let (victim, _survivor) = if holder.contains(&format!("-{}-", a.pid())) { (a, b) } else { (b, a) };
    victim.kill9();
    let j = wait_status(&q, &last, Status::Failed).await;
    assert_eq!(j.error.map(|e| e.kind).as_deref(), Some("abandoned"));
    wait_until("the dead worker removed", LONG, || count(&server, &["zcard", "{taskq}:workers"]) == 1);
}

#[tokio::test]
async fn a_crashed_job_whose_retry_policy_allows_more_attempts_than_max_attempts_is_run_again() {
    let server = RedisServer::start();
    let q = queue(&server.config()).await;
    let env = [("WORKER_HEARTBEAT", "1"), ("MAX_ATTEMPTS", "1")];
    let (a, b) = (WorkerProcess::start(&server, &env), WorkerProcess::start(&server, &env));
    let job = taskq::NewJob {
        retry: Some(taskq::RetryPolicy { max: 2, backoff: 1.0, backoff_max: 1.0 }),
        ..taskq::NewJob::from_catalogue("long_task", json!({"duration": 30, "payload": "crash"}), "default").unwrap()
    };
    let id = q.enqueue(&job).await.unwrap().job_id().to_owned();
    wait_status(&q, &id, Status::Started).await;
    let holder = get(&q, &id).await.worker.expect("a worker runs it");
    let (victim, survivor) = if holder.contains(&format!("-{}-", a.pid())) { (a, b) } else { (b, a) };
    victim.kill9();
    // MAX_ATTEMPTS=1 alone would fail it as abandoned; its policy allows 3 attempts.
    let mut again = None;
    for _ in 0..600 {
        let j = get(&q, &id).await;
        assert_ne!(j.status, Status::Failed, "abandoned although its policy allows more attempts: {j:?}");
        if j.status == Status::Started && j.attempts == 2 {
            again = Some(j);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let j = again.expect("the job started again within 60 s");
    assert_eq!(j.worker.as_deref(), survivor.name(&server).as_deref());
    q.cancel(&id).await.unwrap();
    wait_status(&q, &id, Status::Canceled).await;
}

#[tokio::test]
async fn a_job_whose_end_is_retried_after_an_outage_is_never_given_back() {
    // Jobs end while Redis is down; each slot retries its end with its own
    // backoff, some more than a beat after Redis is back. Meanwhile the
    // heartbeat looks for claimed jobs no slot holds: none of these may be
    // given back (run again, their first end dropped).
    let mut server = RedisServer::start_mode(Mode::Aof);
    let q = queue(&server.config()).await;
    let env = [("WORKER_HEARTBEAT", "1"), ("WORKER_CONCURRENCY", "8")];
    let w = WorkerProcess::start(&server, &env);
    let mut ids = Vec::new();
    for i in 0..8 {
        let duration = 1.0 + 0.45 * i as f64;
        ids.push(enqueue(&q, "long_task", json!({"duration": duration, "payload": i}), "default").await);
    }
    let running =
        || w.name(&server).is_some_and(|n| count(&server, &["llen", &format!("{{taskq}}:inflight:{n}")]) == 8);
    wait_until("all eight jobs to start", LONG, running);
    let outage_began = chrono::Utc::now();
    server.kill();
    std::thread::sleep(Duration::from_secs(6));
    server.restart();
    for id in &ids {
        let j = wait_status(&q, id, Status::Finished).await;
        let started = chrono::DateTime::parse_from_rfc3339(j.started_at.as_deref().expect("started")).unwrap();
        assert!(started < outage_began, "job ran again after the outage: {j:?}");
    }
    // A few more beats: nothing is given back late either.
    let beats = count(&server, &["hget", &format!("{{taskq}}:worker:{}", w.name(&server).unwrap()), "heartbeat_ms"]);
    wait_until("three more beats", LONG, || {
        count(&server, &["hget", &format!("{{taskq}}:worker:{}", w.name(&server).unwrap()), "heartbeat_ms"])
            >= beats + 3000
    });
    assert_eq!(ended_count(&server, "finished"), 8);
    assert_eq!(count(&server, &["llen", "{taskq}:queue:default"]), 0);
    for id in &ids {
        assert_eq!(get(&q, id).await.status, Status::Finished);
    }
}

#[tokio::test]
async fn a_one_node_cluster_runs_jobs_and_cancels() {
    let server = RedisServer::start_mode(Mode::Cluster);
    let cfg = server.config();
    assert!(Redis::open(&cfg).await.unwrap().is_cluster(), "cluster not detected");
    let q = queue(&cfg).await;
    let w = InProcess::start(cfg).await;
    let id = enqueue(&q, "task_b", json!({"user_id": 1, "duration": 0.3}), "high").await;
    let done = wait_status(&q, &id, Status::Finished).await;
    assert_eq!(done.result.unwrap()["user_id"], 1);
    let long = enqueue(&q, "long_task", json!({"duration": 60}), "default").await;
    wait_status(&q, &long, Status::Started).await;
    q.cancel(&long).await.unwrap();
    wait_status(&q, &long, Status::Canceled).await;
    w.stop().await;
}

#[tokio::test]
async fn tls_with_a_private_ca_and_user_password_auth_runs_a_job() {
    let server = RedisServer::start_mode(Mode::Tls);
    assert!(server.cli(&["acl", "setuser", "app", "on", ">s3cret", "~*", "&*", "+@all"]).contains("OK"));
    assert!(server.cli(&["acl", "setuser", "default", "off"]).contains("OK"));
    let mut cfg = server.config();
    cfg.redis_url = format!("rediss://app:s3cret@localhost:{}/0", server.port());
    let q = queue(&cfg).await;
    let w = InProcess::start(cfg.clone()).await;
    let id = enqueue(&q, "task_a", json!({"user_id": 7, "duration": 0.2}), "default").await;
    assert_eq!(wait_status(&q, &id, Status::Finished).await.result.unwrap()["user_id"], 7);
    w.stop().await;
    // A wrong password is refused.
    cfg.redis_url = format!("rediss://app:wrong@localhost:{}/0", server.port());
    assert!(taskq::Queue::connect(cfg).await.is_err());
}

#[test]
fn bad_configuration_stops_the_worker_naming_the_variable() {
    let cases = [("TASK_TIMEOUT", "ten"), ("REDIS_URL", "http://x"), ("QUEUES", "a,,b"), ("WORKER_CONCURRENCY", "0")];
    for (var, value) in cases {
        // Pointed at a closed port: should the check fail to stop it, it exits on its own.
        let out = Command::new(env!("CARGO_BIN_EXE_worker"))
            .env("REDIS_URL", format!("redis://127.0.0.1:{}", testkit::free_port()))
            .env(var, value)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{var}={value}: {stderr}");
        assert!(stderr.contains(var) && stderr.contains("expected"), "{var}: {stderr}");
    }
}

#[test]
fn the_worker_reports_liveness_and_queue_depth_for_ecs() {
    use std::io::{BufRead, BufReader};
    let server = RedisServer::start();
    let health = server.dir().join("worker.alive");
    let mut child = Command::new(env!("CARGO_BIN_EXE_worker"))
        .envs(server.env())
        .env("WORKER_HEALTH_FILE", &health)
        .env("TASKQ_EMF", "1")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _guard = WorkerProcess { child };
    let mut lines = BufReader::new(stdout).lines();
    let first: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(first["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"], "QueueDepth");
    assert_eq!((first["Queue"].as_str(), first["QueueDepth"].as_u64()), (Some("high"), Some(0)));
    wait_until("health file written", LONG, || health.exists());
}
