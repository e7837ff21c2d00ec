//! Delayed jobs with real worker processes: a job starts within a second
//! after its time and never before, and a worker killed with SIGKILL while
//! thousands of due jobs are being moved onto their queue loses none and
//! doubles none.

mod common;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use common::*;
use redis::AsyncCommands;
use serde_json::json;
use taskq::{Enqueued, NewJob, Queue, Status};
use testkit::RedisServer;

/// A `long_task` job of no duration with `payload`, to run at `run_at`.
fn job_at(payload: serde_json::Value, run_at: DateTime<Utc>) -> NewJob {
    let mut job = NewJob::from_catalogue("long_task", json!({"duration": 0, "payload": payload}), "default").unwrap();
    job.run_at = Some(run_at);
    job
}

async fn schedule(q: &Queue, job: &NewJob) -> String {
    match q.enqueue(job).await.unwrap() {
        Enqueued::Created { job_id, .. } => job_id,
        dup => panic!("unexpected duplicate: {dup:?}"),
    }
}

fn time(t: &Option<String>) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(t.as_deref().expect("a time")).unwrap().to_utc()
}

#[tokio::test]
async fn a_delayed_job_starts_within_a_second_after_its_time_and_never_before() {
    let server = RedisServer::start();
    let q = queue(&server.config()).await;
    let w = WorkerProcess::start(&server, &[("WORKER_CONCURRENCY", "4")]);
    w.registered(&server);
    // Due times off whole milliseconds, spread over two seconds.
    let mut jobs = Vec::new();
    for i in 0..8 {
        let run_at = Utc::now() + chrono::Duration::microseconds(1_500_000 + i * 250_321);
        jobs.push((schedule(&q, &job_at(json!(i), run_at)).await, run_at));
    }
    for (id, _) in &jobs {
        assert_eq!(status(&q, id).await, Status::Scheduled, "enqueued after its time: make the delay longer");
    }
    for (id, run_at) in &jobs {
        let j = wait_status(&q, id, Status::Finished).await;
        let started = time(&j.started_at);
        assert!(started >= *run_at, "started at {started}, before its time {run_at}");
        let late = started - *run_at;
        assert!(late < chrono::Duration::seconds(1), "started {late} after its time");
        assert_eq!((j.attempts, j.run_at.as_deref()), (1, None));
        eprintln!("started {} ms after its time", late.num_microseconds().unwrap() as f64 / 1000.0);
    }
}

#[tokio::test]
async fn a_worker_killed_while_due_jobs_are_moved_loses_none_and_doubles_none() {
    const JOBS: usize = 5000;
    let server = RedisServer::start();
    let q = queue(&server.config()).await;
    let env = [("WORKER_CONCURRENCY", "8"), ("MAX_ATTEMPTS", "1000")];
    let (victim, survivor) = (WorkerProcess::start(&server, &env), WorkerProcess::start(&server, &env));
    let victim_name = victim.registered(&server);
    survivor.registered(&server);

    // Every job due in the same millisecond.
    let due = DateTime::from_timestamp_millis((Utc::now() + chrono::Duration::seconds(15)).timestamp_millis()).unwrap();
    let mut ids = Vec::with_capacity(JOBS);
    for chunk in (0..JOBS).collect::<Vec<_>>().chunks(250) {
        let jobs: Vec<NewJob> = chunk.iter().map(|&i| job_at(json!(i), due)).collect();
        ids.extend(futures_util::future::join_all(jobs.iter().map(|j| schedule(&q, j))).await);
    }
    let mut c = redis_conn(&server).await;
    let set = q.keys().waiting("default", Status::Scheduled);
    let waiting = |c: &mut redis::aio::MultiplexedConnection| {
        let mut c = c.clone();
        let set = set.clone();
        async move { c.zcard::<_, usize>(&set).await.unwrap() }
    };
    assert_eq!(waiting(&mut c).await, JOBS, "jobs enqueued after their time: make the delay longer");
    assert!(Utc::now() < due);

    // Kill one worker as soon as the moving has begun.
    let end = Instant::now() + Duration::from_secs(60);
    let before_kill = loop {
        let n = waiting(&mut c).await;
        if n < JOBS {
            break n;
        }
        assert!(Instant::now() < end, "no job moved long after their time");
        tokio::time::sleep(Duration::from_micros(200)).await;
    };
    let mut victim = victim;
    victim.child.kill().unwrap();
    let _ = victim.child.wait();
    let after_kill = waiting(&mut c).await;
    // What it was running when it died: those runs are recovered and run again.
    let inflight: Vec<String> = c.lrange(q.keys().inflight(&victim_name), 0, -1).await.unwrap();
    eprintln!("{before_kill} of {JOBS} jobs waiting when the worker was killed, {after_kill} right after");
    assert!(after_kill > 0, "the moving was over before the kill ({before_kill} waiting just before)");

    let finished = q.keys().ended("default", Status::Finished);
    testkit::wait_for("every job to finish", Duration::from_secs(240), || {
        let mut c = c.clone();
        let finished = finished.clone();
        async move { c.zcard::<_, usize>(&finished).await.unwrap() >= JOBS }
    })
    .await;

    // Each job was moved once (one push each onto the queue), ran to its
    // end once, with its own result; a second run only for what the killed
    // worker was running.
    let pushed: usize = c.get(q.keys().pushed("default")).await.unwrap();
    assert_eq!(pushed, JOBS, "pushes onto the queue: a job moved twice, or not at all");
    let recovered: HashSet<&String> = inflight.iter().collect();
    let place: HashMap<&String, usize> = ids.iter().enumerate().map(|(i, id)| (id, i)).collect();
    let mut again = 0;
    for chunk in ids.chunks(500) {
        let jobs = q.get_many(chunk).await.unwrap();
        assert_eq!(jobs.len(), chunk.len(), "a job is gone");
        for j in jobs {
            let i = place[&j.id];
            assert_eq!(j.status, Status::Finished, "{j:?}");
            assert_eq!(j.result.as_ref().map(|r| r["payload"].clone()), Some(json!(i)), "{j:?}");
            if recovered.contains(&j.id) {
                assert!(j.attempts <= 2, "{j:?}");
                again += usize::from(j.attempts == 2);
            } else {
                assert_eq!(j.attempts, 1, "ran twice: {j:?}");
            }
        }
    }
    assert_eq!(waiting(&mut c).await, 0);
    let stats: Vec<String> = redis::cmd("KEYS").arg("{taskq}:stats:*").query_async(&mut c).await.unwrap();
    let mut ended = 0;
    for k in stats {
        ended += c.hget::<_, _, Option<usize>>(&k, "finished").await.unwrap().unwrap_or(0);
    }
    assert_eq!(ended, JOBS, "jobs ended once each");
    assert_eq!(c.llen::<_, usize>(q.keys().queue("default")).await.unwrap(), 0);
    eprintln!("{} jobs in the killed worker's hands, {again} of them ran again", inflight.len());
}
