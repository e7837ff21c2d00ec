//! Cron schedules with real worker processes: three workers and a schedule
//! firing every second make one job per tick, and ticks missed while every
//! worker was down follow the schedule's policy.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use common::*;
use redis::AsyncCommands;
use serde_json::json;
use taskq::Queue;
use taskq::schedule::{Missed, ScheduleSpec};
use testkit::{RedisServer, wait_until};

fn every_second(missed: Missed) -> ScheduleSpec {
    ScheduleSpec {
        cron: "* * * * * *".into(),
        timezone: "UTC".into(),
        task: "long_task".into(),
        args: json!({"duration": 0, "payload": "tick"}),
        queue: "default".into(),
        missed,
    }
}

/// The jobs each schedule made, by schedule name: their ticks (seconds since
/// the epoch) with how many jobs each tick made.
async fn ticks(q: &Queue, server: &RedisServer) -> BTreeMap<String, BTreeMap<i64, usize>> {
    let mut c = redis_conn(server).await;
    let mut ids: Vec<String> = c.zrange(q.keys().ended("default", taskq::Status::Finished), 0, -1).await.unwrap();
    ids.extend(c.lrange::<_, Vec<String>>(q.keys().queue("default"), 0, -1).await.unwrap());
    ids.sort();
    ids.dedup();
    let mut out: BTreeMap<String, BTreeMap<i64, usize>> = BTreeMap::new();
    for job in q.get_many(&ids).await.unwrap() {
        if let (Some(name), Some(tick)) = (job.schedule, job.tick) {
            let t = DateTime::parse_from_rfc3339(&tick).unwrap().timestamp();
            *out.entry(name).or_default().entry(t).or_default() += 1;
        }
    }
    out
}

fn count(map: &BTreeMap<String, BTreeMap<i64, usize>>, name: &str) -> usize {
    map.get(name).map_or(0, |t| t.values().sum())
}

#[tokio::test]
async fn three_workers_and_a_schedule_every_second_make_one_job_per_tick() {
    let server = RedisServer::start();
    let q = queue(&server.config()).await;
    let workers: Vec<_> = (0..3).map(|_| WorkerProcess::start(&server, &[("WORKER_HEARTBEAT", "1")])).collect();
    for w in &workers {
        w.registered(&server);
    }
    q.put_schedule("every-second", every_second(Missed::Skip)).await.unwrap();
    let mut seen = BTreeMap::new();
    for _ in 0..300 {
        seen = ticks(&q, &server).await;
        if count(&seen, "every-second") >= 12 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(q.delete_schedule("every-second").await.unwrap());
    let made = &seen["every-second"];
    assert!(made.values().all(|n| *n == 1), "a tick made two jobs: {made:?}");
    // Ten consecutive ticks from the first: exactly one job each, none skipped.
    let first = *made.keys().next().unwrap();
    let window: Vec<usize> = (first..first + 10).map(|t| made.get(&t).copied().unwrap_or(0)).collect();
    assert_eq!(window, [1; 10], "one job for each of 10 ticks: {made:?}");
    // After the delete no tick makes a job.
    let after = count(&ticks(&q, &server).await, "every-second");
    let until = Instant::now() + Duration::from_secs(2);
    wait_until("two seconds with the schedule deleted", LONG, || Instant::now() >= until);
    assert_eq!(count(&ticks(&q, &server).await, "every-second"), after, "a deleted schedule made a job");
}

#[tokio::test]
async fn ticks_missed_while_every_worker_was_down_follow_each_schedule_s_policy() {
    let server = RedisServer::start();
    let q = queue(&server.config()).await;
    q.put_schedule("skip", every_second(Missed::Skip)).await.unwrap();
    q.put_schedule("once", every_second(Missed::RunOnce)).await.unwrap();
    let w = WorkerProcess::start(&server, &[("WORKER_HEARTBEAT", "1")]);
    w.registered(&server);
    let mut before = BTreeMap::new();
    for _ in 0..300 {
        before = ticks(&q, &server).await;
        if count(&before, "skip") >= 2 && count(&before, "once") >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    w.kill9();
    let down_since = Utc::now().timestamp();
    // Every worker down for 8 s: beyond the 5 s grace, ticks are missed.
    let until = Instant::now() + Duration::from_secs(8);
    wait_until("eight seconds without a worker", LONG, || Instant::now() >= until);
    let _w = WorkerProcess::start(&server, &[("WORKER_HEARTBEAT", "1")]);
    let up_at = Utc::now().timestamp();
    let mut after = BTreeMap::new();
    for _ in 0..300 {
        after = ticks(&q, &server).await;
        let caught_up = |n: &str| after.get(n).and_then(|t| t.keys().last()).is_some_and(|t| *t >= up_at + 3);
        if caught_up("skip") && caught_up("once") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let last_before = |n: &str| *before[n].keys().last().unwrap();
    let after_kill = |n: &str| -> Vec<i64> { after[n].keys().copied().filter(|t| *t > last_before(n)).collect() };
    let (skip, once) = (after_kill("skip"), after_kill("once"));
    assert!(after.values().all(|m| m.values().all(|n| *n == 1)), "a tick made two jobs: {after:?}");
    // skip: no job for the missed ticks; it goes on from an on-time tick.
    let resumed = skip[0];
    assert!(resumed >= down_since + 7, "skip made a job for a missed tick: {skip:?} (down at {down_since})");
    assert!(skip.windows(2).all(|w| w[1] == w[0] + 1), "{skip:?}");
    // run_once: exactly one job stands for the missed ticks (the latest of
    // them), then it goes on like skip.
    let missed: Vec<i64> = once.iter().copied().filter(|t| *t < resumed).collect();
    assert_eq!(missed.len(), 1, "run_once: one job for the missed ticks: {once:?}, resumed at {resumed}");
    assert!(missed[0] > last_before("once") + 5, "{missed:?}");
    assert!(once.iter().filter(|t| **t >= resumed).zip(resumed..).all(|(t, want)| *t == want), "{once:?}");
}
