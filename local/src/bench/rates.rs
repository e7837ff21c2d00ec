//! Phase 1 of the benchmark: the round-trip ceiling (PING) and enqueue
//! rates, and the concurrent runner every phase enqueues with.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::bail;
use serde_json::json;
use taskq::{Connection, Enqueued, NewJob, Queue};
use tokio::task::JoinSet;

use super::report::{RateFigure, RateRun, median};
use super::{Bench, CLIENTS, flush, process, redis_stats, say};

/// Phase 1: round-trip ceiling (PING) and enqueue rates, on the same connections.
pub(super) async fn rate_phase(b: &Bench, repeat: usize) -> anyhow::Result<(Vec<RateFigure>, Vec<RateFigure>)> {
    let jobs = Arc::new(no_op_jobs(b.jobs));
    let one = Queue::connect(b.cfg.clone()).await?;
    let mut many = Vec::new();
    for _ in 0..CLIENTS {
        many.push(Queue::connect(b.cfg.clone()).await?);
    }
    let setups: [(&'static str, usize, &[Queue]); 3] = [
        ("sequential", 1, std::slice::from_ref(&one)),
        ("concurrent_multiplexed", CLIENTS, std::slice::from_ref(&one)),
        ("concurrent_connections", CLIENTS, &many),
    ];
    let (mut ping, mut enqueue) = (Vec::new(), Vec::new());
    for (name, clients, queues) in setups {
        // PING costs Redis nothing: its rate is what round trips alone allow
        // with these clients and connections on this machine.
        let conns: Arc<Vec<Connection>> = Arc::new(queues.iter().map(Queue::connection).collect());
        let figure = measure_rate(b, "ping", name, clients, queues.len(), repeat, move |task, _| {
            let mut c = conns[task % conns.len()].clone();
            async move { Ok(redis::cmd("PING").query_async::<()>(&mut c).await?) }
        })
        .await?;
        ping.push(figure);
        let (queues, jobs): (Arc<Vec<Queue>>, _) = (Arc::new(queues.to_vec()), jobs.clone());
        let figure = measure_rate(b, "evalsha", name, clients, queues.len(), repeat, move |task, n| {
            let (q, jobs) = (queues[task % queues.len()].clone(), jobs.clone());
            async move {
                match q.enqueue(&jobs[n]).await? {
                    Enqueued::Created { .. } => Ok(()),
                    Enqueued::Duplicate { job_id, .. } => {
                        bail!("job {n} was taken for a duplicate of {job_id}: Redis was not empty")
                    }
                }
            }
        })
        .await?;
        enqueue.push(figure);
    }
    Ok((ping, enqueue))
}

/// Runs `op` for items 0..jobs with `clients` concurrent tasks, `repeat`
/// times on an emptied Redis, and reads what it cost; `command` is the
/// command whose `usec_per_call` is reported.
#[allow(clippy::too_many_arguments)]
async fn measure_rate<F, Fut>(
    b: &Bench,
    command: &str,
    name: &'static str,
    clients: usize,
    connections: usize,
    repeat: usize,
    op: F,
) -> anyhow::Result<RateFigure>
where
    F: Fn(usize, usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    let mut runs = Vec::new();
    for r in 0..repeat {
        flush(b).await?;
        redis_stats::reset_stats(&b.admin).await?;
        let redis_cpu = redis_stats::cpu_seconds(&b.admin).await?;
        let client_cpu = process::cpu_seconds(std::process::id()).unwrap_or(0.0);
        let took = run_concurrently(clients, b.jobs, op.clone()).await?;
        let client_cpu = process::cpu_seconds(std::process::id()).unwrap_or(0.0) - client_cpu;
        let redis_cpu = redis_stats::cpu_seconds(&b.admin).await? - redis_cpu;
        let stat = redis_stats::command_stats(&b.admin).await?.remove(command).unwrap_or_default();
        let per_op = |secs: f64| secs * 1e6 / b.jobs as f64;
        let run = RateRun {
            per_s: b.jobs as f64 / took.as_secs_f64(),
            client_cpu_us_per_op: per_op(client_cpu),
            redis_cpu_us_per_op: per_op(redis_cpu),
            command_usec_per_call: stat.usec_per_call,
        };
        say(format!("bench: {command} {name} run {}: {:.0}/s", r + 1, run.per_s));
        runs.push(run);
    }
    let rates: Vec<f64> = runs.iter().map(|r| r.per_s).collect();
    Ok(RateFigure { name, clients, connections, median_per_s: median(&rates), runs })
}

/// Runs `op(task, item)` for every item of 0..items with `clients`
/// concurrent tasks; returns the time from the first call to the last reply.
async fn run_concurrently<F, Fut>(clients: usize, items: usize, op: F) -> anyhow::Result<Duration>
where
    F: Fn(usize, usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = JoinSet::new();
    let start = Instant::now();
    for task in 0..clients {
        let (op, next) = (op.clone(), next.clone());
        tasks.spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= items {
                    return Ok::<_, anyhow::Error>(());
                }
                op(task, n).await?;
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r??;
    }
    Ok(start.elapsed())
}

/// `n` no-op jobs with distinct arguments.
pub(super) fn no_op_jobs(n: usize) -> Vec<NewJob> {
    (0..n)
        .map(|i| NewJob::from_catalogue("long_task", json!({"duration": 0, "payload": i}), "default"))
        .collect::<Result<_, _>>()
        .expect("long_task accepts a duration of 0")
}

/// Enqueues every job of `jobs` with `clients` concurrent tasks sharing `q`.
pub(super) async fn enqueue_all(q: &Queue, clients: usize, jobs: Arc<Vec<NewJob>>) -> anyhow::Result<Duration> {
    let q = q.clone();
    run_concurrently(clients, jobs.len(), move |_, n| {
        let (q, jobs) = (q.clone(), jobs.clone());
        async move {
            q.enqueue(&jobs[n]).await?;
            Ok(())
        }
    })
    .await
}
