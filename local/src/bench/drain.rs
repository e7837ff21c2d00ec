//! Phase 2 of the benchmark: drains of a queued backlog by one worker
//! process, with its memory and CPU, Redis CPU and commandstats, and PING
//! round trips sampled meanwhile.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use taskq::{Config, Queue, Redis, Status};

use super::process::{RssSampler, WorkerProcess};
use super::rates::{enqueue_all, no_op_jobs};
use super::report::{DrainFigure, DrainRun, Summary, median};
use super::{Bench, CLIENTS, PATIENCE, flush, mb, micros, redis_stats, say};

/// Phase 2: drains at WORKER_CONCURRENCY `concurrency`.
pub(super) async fn drain_phase(b: &Bench, concurrency: usize, repeat: usize) -> anyhow::Result<DrainFigure> {
    let jobs = Arc::new(no_op_jobs(b.jobs));
    let q = Queue::connect(b.cfg.clone()).await?;
    let mut runs = Vec::new();
    for r in 0..repeat {
        flush(b).await?;
        enqueue_all(&q, CLIENTS, jobs.clone()).await?;
        let run = drain_once(b, concurrency, b.jobs).await?;
        say(format!(
            "bench: drain at concurrency {concurrency} run {}: {:.0} jobs/s, peak RSS {:.1} MB",
            r + 1,
            run.jobs_per_s,
            run.worker_rss_peak_mb
        ));
        runs.push(run);
    }
    let rates: Vec<f64> = runs.iter().map(|r| r.jobs_per_s).collect();
    Ok(DrainFigure { concurrency, median_jobs_per_s: median(&rates), runs })
}

/// Starts a worker on the queued backlog of `jobs` jobs, waits until every
/// one has ended, stops the worker, and reads what the drain cost.
async fn drain_once(b: &Bench, concurrency: usize, jobs: usize) -> anyhow::Result<DrainRun> {
    redis_stats::reset_stats(&b.admin).await?;
    let redis_cpu_before = redis_stats::cpu_seconds(&b.admin).await?;
    let spawned_at = chrono::Utc::now();
    let mut worker = WorkerProcess::spawn(&b.worker_bin, &b.cfg.redis_url, concurrency)?;
    let rss = RssSampler::start(worker.pid(), Duration::from_millis(5));
    let pinger = Pinger::start(&b.cfg).await?;

    let finished_key = b.keys.ended("default", Status::Finished);
    await_drained(b, &mut worker, jobs, &format!("drain at concurrency {concurrency}")).await?;
    let worker_cpu = worker.cpu_seconds().unwrap_or(0.0);
    let redis_cpu = redis_stats::cpu_seconds(&b.admin).await? - redis_cpu_before;
    let commands = redis_stats::command_stats(&b.admin).await?;
    let ping = pinger.finish().await;
    let peak_kib = rss.peak_kib();
    worker.stop().await?;

    let (first_start, last_end) = job_span(b, &finished_key).await?;
    let seconds = ((last_end - first_start) as f64 / 1e6).max(1e-6);
    let evalsha_usec = commands.get("evalsha").map_or(0, |s| s.usec);
    Ok(DrainRun {
        jobs,
        seconds,
        jobs_per_s: jobs as f64 / seconds,
        startup_ms: (first_start - spawned_at.timestamp_micros()) as f64 / 1e3,
        worker_rss_peak_mb: mb(peak_kib),
        worker_cpu_us_per_job: worker_cpu * 1e6 / jobs as f64,
        redis_cpu_us_per_job: redis_cpu * 1e6 / jobs as f64,
        redis_cpu_percent: redis_cpu / seconds * 100.0,
        evalsha_us_per_job: evalsha_usec as f64 / jobs as f64,
        ping_ms: ping,
        commands,
    })
}

/// Waits until `jobs` no-op jobs of `default` have finished, polling every
/// 10 ms; fails when one fails, the worker exits, or PATIENCE runs out.
pub(super) async fn await_drained(
    b: &Bench,
    worker: &mut WorkerProcess,
    jobs: usize,
    what: &str,
) -> anyhow::Result<()> {
    let finished_key = b.keys.ended("default", Status::Finished);
    let failed_key = b.keys.ended("default", Status::Failed);
    let deadline = Instant::now() + PATIENCE;
    loop {
        let mut c = b.admin.clone();
        let (finished, failed): (usize, usize) =
            redis::pipe().zcard(&finished_key).zcard(&failed_key).query_async(&mut c).await?;
        if failed > 0 {
            bail!("{what}: {failed} no-op jobs failed; see the worker's log");
        }
        if finished >= jobs {
            return Ok(());
        }
        worker.ensure_running()?;
        if Instant::now() > deadline {
            bail!("{what}: only {finished} of {jobs} jobs ended within {PATIENCE:?}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Earliest `started_at` and latest `ended_at` of the jobs in `registry`,
/// in microseconds since the epoch.
async fn job_span(b: &Bench, registry: &str) -> anyhow::Result<(i64, i64)> {
    let mut c = b.admin.clone();
    let ids: Vec<String> = redis::cmd("ZRANGE").arg(registry).arg(0).arg(-1).query_async(&mut c).await?;
    let (mut first, mut last) = (i64::MAX, i64::MIN);
    for chunk in ids.chunks(1000) {
        let mut p = redis::pipe();
        for id in chunk {
            p.cmd("HMGET").arg(b.keys.job(id)).arg("started_at").arg("ended_at");
        }
        let times: Vec<(Option<String>, Option<String>)> = p.query_async(&mut c).await?;
        for (started, ended) in times {
            first = first.min(micros(started.as_deref())?);
            last = last.max(micros(ended.as_deref())?);
        }
    }
    if ids.is_empty() {
        bail!("no job ended");
    }
    Ok((first, last))
}

/// Samples PING round trips every 10 ms on a connection of its own, as
/// `redis-cli --latency` does: how long any client waits for Redis meanwhile.
struct Pinger {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Vec<f64>>,
}

impl Pinger {
    async fn start(cfg: &Config) -> anyhow::Result<Pinger> {
        let mut conn = Redis::open(cfg).await?.connect().await?;
        let (stop, mut stopped) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(async move {
            let mut rtts = Vec::new();
            loop {
                let t = Instant::now();
                if redis::cmd("PING").query_async::<String>(&mut conn).await.is_ok() {
                    rtts.push(t.elapsed().as_secs_f64() * 1e3);
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(10)) => {}
                    _ = &mut stopped => return rtts,
                }
            }
        });
        Ok(Pinger { stop, task })
    }

    async fn finish(self) -> Summary {
        let _ = self.stop.send(());
        Summary::of(self.task.await.unwrap_or_default())
    }
}
