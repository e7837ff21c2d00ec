//! Phase 5 of the benchmark: delayed jobs.
//!
//! - due-job latency: an idle worker and `samples` `long_task`s scheduled a
//!   little ahead, spread over a few seconds; for each, the time from its
//!   `run_at` to entering its queue (`enqueued_at`, written by the move) and
//!   to its start (`started_at`);
//! - moves per second: `due` jobs fall due at once and one client calls
//!   `Queue::promote_due` (the worker's timer call) until none is left, first
//!   with no other job waiting, then with `waiting` jobs scheduled a day
//!   ahead: the cost of a move must not grow with the number of waiting jobs;
//! - Redis memory per waiting job: `used_memory` before and after scheduling
//!   the `waiting` jobs, divided by their number (job hash, idempotency key
//!   and sorted-set entry).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;
use taskq::{Enqueued, NewJob, Queue, Status};

use super::process::WorkerProcess;
use super::report::{Delayed, MoveRate, Summary};
use super::{Bench, CLIENTS, IDLE_CONCURRENCY, PATIENCE, flush, micros, redis_stats, say};

/// Jobs a `promote_due` call moves at most: the worker's batch.
const MOVE_BATCH: usize = worker::timers::BATCH;

/// What phase 5 measures, from the options of `local bench`.
pub(super) struct DelayedArgs {
    /// Jobs scheduled a day ahead while moves are measured (0 skips that pass).
    pub waiting: usize,
    /// Jobs falling due at once in a moves measurement.
    pub due: usize,
    /// Due-latency samples.
    pub samples: usize,
}

/// Runs phase 5.
pub(super) async fn delayed_phase(b: &Bench, args: &DelayedArgs) -> anyhow::Result<Delayed> {
    let latency = due_latency(b, args.samples).await?;
    let mut moves = vec![move_rate(b, args.due, 0).await?];
    let mut bytes_per_waiting_job = None;
    if args.waiting > 0 {
        flush(b).await?;
        let q = Queue::connect(b.cfg.clone()).await?;
        let before = used_memory(b).await?;
        say(format!("bench: scheduling {} jobs a day ahead", args.waiting));
        let t0 = Instant::now();
        schedule_all(&q, args.waiting, "waiting", chrono::Duration::days(1)).await?;
        let took = t0.elapsed();
        let after = used_memory(b).await?;
        bytes_per_waiting_job = Some(after.saturating_sub(before) as f64 / args.waiting as f64);
        say(format!(
            "bench: {} waiting jobs scheduled in {:.1} s ({:.0} bytes of Redis memory each)",
            args.waiting,
            took.as_secs_f64(),
            bytes_per_waiting_job.unwrap_or(0.0)
        ));
        moves.push(move_rate(b, args.due, args.waiting).await?);
    }
    flush(b).await?;
    let ratio = match moves.as_slice() {
        [empty, loaded] if empty.per_s > 0.0 => Some(loaded.per_s / empty.per_s),
        _ => None,
    };
    Ok(Delayed { due_latency: latency, moves, loaded_to_empty_move_ratio: ratio, bytes_per_waiting_job })
}

/// Due-job latency on an idle worker: (to entering the queue, to start), ms.
async fn due_latency(b: &Bench, samples: usize) -> anyhow::Result<(Summary, Summary)> {
    flush(b).await?;
    let q = Queue::connect(b.cfg.clone()).await?;
    let mut worker = WorkerProcess::spawn(&b.worker_bin, &b.cfg.redis_url, IDLE_CONCURRENCY)?;
    super::latency::wait_registered(b, &mut worker).await?;
    say(format!("bench: measuring due-job latency ({samples} jobs due over the next 3 s)"));
    // Due times spread over 3 s, starting 1 s ahead: each meets the timer at another phase.
    let start = chrono::Utc::now() + chrono::Duration::seconds(1);
    let mut due = HashMap::new();
    for i in 0..samples {
        let at = start + chrono::Duration::microseconds((3_000_000 * i / samples.max(1)) as i64);
        let job = NewJob {
            run_at: Some(at),
            ..NewJob::from_catalogue("long_task", json!({"duration": 0, "payload": format!("due-{i}")}), "default")?
        };
        match q.enqueue(&job).await? {
            Enqueued::Created { job_id, .. } => due.insert(job_id, at.timestamp_micros()),
            Enqueued::Duplicate { job_id, .. } => bail!("unexpected duplicate of job {job_id}"),
        };
    }
    let deadline = Instant::now() + PATIENCE;
    let ids: Vec<String> = due.keys().cloned().collect();
    let (mut to_queue, mut to_start) = (Vec::new(), Vec::new());
    for id in &ids {
        let job = loop {
            let job = q.get(id).await?.with_context(|| format!("job {id} vanished"))?;
            if job.status == Status::Finished {
                break job;
            }
            if job.status.is_ended() {
                bail!("due job {id} ended {}", job.status);
            }
            worker.ensure_running()?;
            if Instant::now() > deadline {
                bail!("due job {id} still {} after {PATIENCE:?}", job.status);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let at = due[id];
        to_queue.push((micros(Some(job.enqueued_at.as_str()))? - at) as f64 / 1e3);
        to_start.push((micros(job.started_at.as_deref())? - at) as f64 / 1e3);
    }
    worker.stop().await?;
    if let Some(early) = to_start.iter().copied().find(|ms| *ms < 0.0) {
        bail!("a delayed job started {:.1} ms before its time", -early);
    }
    Ok((Summary::of(to_queue), Summary::of(to_start)))
}

/// Moves per second of `due` jobs falling due at once, with `waiting` other
/// jobs scheduled a day ahead (already there when `waiting` > 0).
async fn move_rate(b: &Bench, due: usize, waiting: usize) -> anyhow::Result<MoveRate> {
    if waiting == 0 {
        flush(b).await?;
    }
    let q = Queue::connect(b.cfg.clone()).await?;
    say(format!("bench: moving {due} due jobs with {waiting} others waiting"));
    let lead = chrono::Duration::seconds(2);
    schedule_all(&q, due, "due", lead).await?;
    // Wait until all of them are due (the last was scheduled `lead` after its enqueue).
    tokio::time::sleep(lead.to_std()? + Duration::from_millis(100)).await;
    let t0 = Instant::now();
    let mut moved = 0u64;
    let mut calls = 0u64;
    loop {
        let n = q.promote_due(MOVE_BATCH).await?;
        calls += 1;
        moved += n;
        if (n as usize) < MOVE_BATCH {
            break;
        }
    }
    let took = t0.elapsed();
    if moved != due as u64 {
        bail!("moved {moved} jobs, expected {due}");
    }
    let per_s = moved as f64 / took.as_secs_f64();
    say(format!("bench: {moved} moves in {:.3} s ({per_s:.0}/s, {calls} calls)", took.as_secs_f64()));
    Ok(MoveRate { waiting, moved, calls, seconds: took.as_secs_f64(), per_s })
}

/// Schedules `n` distinct no-op jobs `ahead` of now, from [`CLIENTS`] tasks.
async fn schedule_all(q: &Queue, n: usize, tag: &str, ahead: chrono::Duration) -> anyhow::Result<()> {
    let at = chrono::Utc::now() + ahead;
    let jobs: Vec<NewJob> = (0..n)
        .map(|i| {
            Ok(NewJob {
                run_at: Some(at),
                ..NewJob::from_catalogue(
                    "long_task",
                    json!({"duration": 0, "payload": format!("{tag}-{i}")}),
                    "default",
                )?
            })
        })
        .collect::<Result<_, taskq::Error>>()?;
    super::rates::enqueue_all(q, CLIENTS, Arc::new(jobs)).await?;
    Ok(())
}

/// Redis `used_memory`, bytes.
async fn used_memory(b: &Bench) -> anyhow::Result<u64> {
    let info = redis_stats::info(&b.admin, "memory").await?;
    redis_stats::field(&info, "used_memory").and_then(|v| v.parse().ok()).context("INFO memory has no used_memory")
}
