//! Phases 3 and 4 of the benchmark: latencies on an idle worker
//! (enqueue-to-start, cancel) and the slow-log profile of every script.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;
use taskq::{CancelOutcome, Enqueued, NewJob, Queue, Status};

use super::drain::await_drained;
use super::process::WorkerProcess;
use super::rates::{enqueue_all, no_op_jobs};
use super::report::{Latency, Profile, Summary};
use super::{
    Bench, CANCEL_AFTER, CLIENTS, IDLE_CONCURRENCY, PATIENCE, PROFILE_CANCELS, PROFILE_CONCURRENCY,
    SLOWLOG_ENTRIES_PER_JOB, flush, mb, micros, redis_stats, say,
};

/// Phase 3: an idle worker's RSS, enqueue-to-start and cancel latencies;
/// returns them and the idle RSS in MB.
pub(super) async fn latency_phase(b: &Bench, samples: usize, cancels: usize) -> anyhow::Result<(Latency, f64)> {
    flush(b).await?;
    let q = Queue::connect(b.cfg.clone()).await?;
    let mut worker = WorkerProcess::spawn(&b.worker_bin, &b.cfg.redis_url, IDLE_CONCURRENCY)?;
    wait_registered(b, &mut worker).await?;
    // Let start-up allocations settle: "idle" is a worker waiting for jobs.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_mb = mb(worker.rss_kib().unwrap_or(0));
    say(format!("bench: idle worker RSS {idle_mb:.1} MB; measuring enqueue-to-start latency"));

    let mut to_start = Vec::new();
    for i in 0..samples {
        let id = enqueue_one(&q, json!({"duration": 0, "payload": format!("latency-{i}")})).await?;
        let job = wait_status(&q, &id, Status::Finished).await?;
        let started = micros(job.started_at.as_deref())?;
        let enqueued = micros(Some(job.enqueued_at.as_str()))?;
        to_start.push((started - enqueued) as f64 / 1e3);
        // Give the worker time to go back to waiting: the latency of an idle worker.
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    say("bench: measuring cancel latency".into());
    let (cancel, seen) = cancel_samples(&q, cancels, "cancel", CANCEL_AFTER).await?;
    say("bench: measuring cancel latency right at start".into());
    let (at_start, _) = cancel_samples(&q, cancels, "cancel-at-start", Duration::ZERO).await?;
    worker.ensure_running()?;
    worker.stop().await?;
    let latency = Latency {
        worker_concurrency: IDLE_CONCURRENCY,
        enqueue_to_start_ms: Summary::of(to_start),
        cancel_ms: Summary::of(cancel),
        cancel_seen_by_client_ms: Summary::of(seen),
        cancel_at_start_slow: at_start.iter().filter(|ms| **ms > 100.0).count(),
        cancel_at_start_ms: Summary::of(at_start),
    };
    Ok((latency, idle_mb))
}

/// Starts `n` `long_task`s one at a time and cancels each once the client
/// has seen it `started` and `running_for` more has passed; returns the
/// latencies from the cancel call to the job's `ended_at`, and to the moment
/// the client saw it canceled, in ms.
async fn cancel_samples(q: &Queue, n: usize, tag: &str, running_for: Duration) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
    let (mut to_end, mut seen) = (Vec::new(), Vec::new());
    for i in 0..n {
        let id = enqueue_one(q, json!({"duration": 60, "payload": format!("{tag}-{i}")})).await?;
        wait_status(q, &id, Status::Started).await?;
        if !running_for.is_zero() {
            tokio::time::sleep(running_for).await;
        }
        let called_at = chrono::Utc::now().timestamp_micros();
        let t0 = Instant::now();
        match q.cancel(&id).await? {
            CancelOutcome::CancelRequested => {}
            other => bail!("cancel of running job {id}: expected cancel_requested, got {other:?}"),
        }
        let job = wait_status(q, &id, Status::Canceled).await?;
        seen.push(t0.elapsed().as_secs_f64() * 1e3);
        to_end.push((micros(job.ended_at.as_deref())? - called_at) as f64 / 1e3);
    }
    Ok((to_end, seen))
}

/// Phase 4: execution time of every script, from the slow log.
pub(super) async fn profile_phase(b: &Bench, jobs: usize) -> anyhow::Result<Profile> {
    flush(b).await?;
    say(format!("bench: profiling {jobs} jobs with the slow log"));
    let q = Queue::connect(b.cfg.clone()).await?;
    let ours: HashSet<String> =
        [redis_stats::client_addr(&b.admin).await?, redis_stats::client_addr(&q.connection()).await?].into();
    let max_len = SLOWLOG_ENTRIES_PER_JOB * (jobs + PROFILE_CANCELS) + 10_000;
    let old = redis_stats::slowlog_everything(&b.admin, max_len).await?;
    let result = async {
        enqueue_all(&q, CLIENTS, Arc::new(no_op_jobs(jobs))).await?;
        let mut worker = WorkerProcess::spawn(&b.worker_bin, &b.cfg.redis_url, PROFILE_CONCURRENCY)?;
        await_drained(b, &mut worker, jobs, "profile drain").await?;
        cancel_samples(&q, PROFILE_CANCELS, "profile-cancel", CANCEL_AFTER).await?;
        worker.stop().await?;
        redis_stats::slowlog_profile(&b.admin, &ours, jobs).await
    }
    .await;
    // Put the slow log back even when the pass failed.
    redis_stats::slowlog_restore(&b.admin, old).await?;
    let (rows, entries) = result?;
    let truncated = entries >= max_len;
    if truncated {
        say(format!("bench: warning: the slow log filled up ({entries} entries); the profile misses the oldest"));
    }
    Ok(Profile { jobs, cancels: PROFILE_CANCELS, worker_concurrency: PROFILE_CONCURRENCY, entries, truncated, rows })
}

/// Enqueues one `long_task` with `args`; fails on a duplicate.
async fn enqueue_one(q: &Queue, args: serde_json::Value) -> anyhow::Result<String> {
    match q.enqueue(&NewJob::from_catalogue("long_task", args, "default")?).await? {
        Enqueued::Created { job_id, .. } => Ok(job_id),
        Enqueued::Duplicate { job_id, .. } => bail!("unexpected duplicate of job {job_id}"),
    }
}

/// Polls job `id` every millisecond until it is in `want`.
async fn wait_status(q: &Queue, id: &str, want: Status) -> anyhow::Result<taskq::Job> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let job = q.get(id).await?.with_context(|| format!("job {id} vanished"))?;
        if job.status == want {
            return Ok(job);
        }
        if job.status.is_ended() {
            bail!("job {id} ended {} while we waited for {want}", job.status);
        }
        if Instant::now() > deadline {
            bail!("job {id} still {} after {PATIENCE:?}; is the worker running?", job.status);
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Waits until the worker has registered (its first heartbeat), i.e. it is up.
pub(super) async fn wait_registered(b: &Bench, worker: &mut WorkerProcess) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut c = b.admin.clone();
        let n: usize = redis::cmd("ZCARD").arg(b.keys.workers()).query_async(&mut c).await?;
        if n > 0 {
            return Ok(());
        }
        worker.ensure_running()?;
        if Instant::now() > deadline {
            bail!("the worker did not register within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
