//! `local bench`: how fast taskq enqueues, drains, starts and cancels jobs,
//! and how much memory its worker needs, on this machine.
//!
//! Phases, each on an emptied Redis:
//! 1. enqueue rate: `Queue::enqueue` of `long_task {"duration":0,"payload":i}`
//!    (distinct args, else idempotency would merge them), by one client in
//!    sequence, then by 32 concurrent tasks on one multiplexed connection and
//!    on 32 connections (one per task, as 32 Lambda instances would have);
//! 2. drain rate: the backlog is enqueued with no worker running, then one
//!    release `worker` process at WORKER_CONCURRENCY 1, 16 and 64 drains it;
//!    the rate is jobs / (last `ended_at` - first `started_at`), so worker
//!    start-up is left out. Meanwhile: worker RSS and CPU, Redis CPU and
//!    commandstats, and PING round trips;
//! 3. on an idle worker: RSS, enqueue-to-start latency (`started_at -
//!    enqueued_at`, both written on this machine's clock) and cancel latency
//!    (a running `long_task` of 60 s is canceled; from the call to the job's
//!    `ended_at`);
//! 4. profile: the same work with the slow log recording every command, for
//!    the execution time of each script (commandstats cannot tell them apart).
//!
//! Redis is flushed between phases so that each starts from the same state.
//! That is why the benchmark starts a private redis-server by default, and
//! refuses to use a `--redis-url` server unless `--flush` says its data may go.

mod process;
mod redis_stats;
mod report;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;
use taskq::{CancelOutcome, Config, Connection, Enqueued, Keys, NewJob, Queue, Redis, Status};
use tokio::task::JoinSet;

use process::{RssSampler, WorkerProcess};
use report::{
    DrainFigure, DrainRun, Latency, Machine, Profile, RateFigure, RateRun, Report, Rss, Settings, Summary, median,
};

/// Options of `local bench`.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Use this Redis instead of starting a private redis-server (needs --flush).
    #[arg(long)]
    redis_url: Option<String>,
    /// Allow FLUSHALL, CONFIG RESETSTAT and SLOWLOG changes on the --redis-url server.
    #[arg(long)]
    flush: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Jobs per enqueue and drain measurement.
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(1..))]
    jobs: u64,
    /// Times each rate is measured (the median is reported).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..))]
    repeat: u64,
    /// Enqueue-to-start samples.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..))]
    latency_samples: u64,
    /// Cancel samples.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..))]
    cancel_samples: u64,
    /// Jobs of the profiling pass (slow log at threshold 0); 0 skips it.
    #[arg(long, default_value_t = 5_000)]
    profile_jobs: u64,
    /// The worker binary [default: `worker` beside this executable, built if missing].
    #[arg(long)]
    worker_bin: Option<PathBuf>,
}

/// Tasks enqueueing at once in the concurrent phases (as in the comparison
/// figure of a BullMQ port's enqueue, see `report::TARGETS`).
const CLIENTS: usize = 32;
/// The drains' WORKER_CONCURRENCY values.
const DRAIN_CONCURRENCY: [usize; 3] = [1, 16, 64];
/// WORKER_CONCURRENCY of the idle worker of the latency phase: the same as
/// the drain whose RSS counts as "under load", so idle and loaded compare.
const IDLE_CONCURRENCY: usize = 64;
/// WORKER_CONCURRENCY of the profile pass: the one with a target.
const PROFILE_CONCURRENCY: usize = 16;
/// Running jobs canceled in the profile pass.
const PROFILE_CANCELS: usize = 50;
/// How long a job runs before the cancel latency is measured: the job's
/// status turns `started` in Redis a little before the worker has
/// registered it as running, and a cancel in between is only noticed by the
/// heartbeat (measured separately, as "at start").
const CANCEL_AFTER: Duration = Duration::from_millis(10);
/// Slow-log room per job: the enqueue and finish scripts run about 17
/// commands between them, each logged, plus the scripts themselves.
const SLOWLOG_ENTRIES_PER_JOB: usize = 30;
/// Longest any wait on a job or a drain may take before the run fails.
const PATIENCE: Duration = Duration::from_secs(300);

/// Runs the benchmark; Ctrl-C ends it cleanly (private Redis and worker stopped).
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    tokio::select! {
        r = bench(args) => r,
        _ = tokio::signal::ctrl_c() => bail!("interrupted"),
    }
}

/// What every phase needs.
struct Bench {
    /// Settings of our clients; REDIS_URL is the server under test.
    cfg: Config,
    /// Admin commands: FLUSHALL, INFO, polling.
    admin: Connection,
    /// Key names under the default prefix, which the worker uses too.
    keys: Keys,
    /// The release worker binary.
    worker_bin: PathBuf,
    /// Jobs per enqueue and drain measurement.
    jobs: usize,
}

/// Sets up (worker binary, Redis), runs the phases in order, prints the report.
async fn bench(args: BenchArgs) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        eprintln!("bench: warning: this is a debug build; run `cargo run --release -p local -- bench`");
    }
    let worker_bin = process::worker_binary(args.worker_bin.clone())?;
    let worker_age = std::fs::metadata(&worker_bin)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .map_or(0, |d| d.as_secs());

    // The private server lives until the end of this function (killed on drop).
    let (_server, url, kind) = match &args.redis_url {
        Some(url) if args.flush => (None, url.clone(), "external"),
        Some(_) => bail!(
            "--redis-url: the benchmark empties Redis (FLUSHALL) between phases; add --flush if that server's data may go"
        ),
        None => {
            std::process::Command::new("redis-server")
                .arg("--version")
                .output()
                .context("redis-server not found: install it (apt-get install redis-server) or pass --redis-url")?;
            let server = testkit::RedisServer::start();
            let url = server.url();
            (Some(server), url, "private")
        }
    };
    // A bound the backlogs never reach: its check is part of every enqueue measured.
    let cfg = Config {
        redis_url: url.clone(),
        redis_timeout: Duration::from_secs(10),
        max_queued: 1 << 40,
        ..Config::default()
    };
    let admin = Redis::open(&cfg).await?.connect().await.context("connecting to Redis")?;
    let server_info = redis_stats::info(&admin, "server").await?;
    let mut machine = Machine {
        nproc: std::thread::available_parallelism().map_or(1, |n| n.get()),
        cpu_model: cpu_model(),
        redis_version: redis_stats::field(&server_info, "redis_version").unwrap_or("?").to_owned(),
        redis: kind,
        worker_binary: display_path(&worker_bin),
        worker_binary_age_s: worker_age,
        worker_scripts_match: true,
        load_average: (load_average(), 0.0),
    };
    let b = Bench { keys: Keys::new(&cfg.key_prefix), cfg, admin, worker_bin, jobs: args.jobs as usize };
    let repeat = args.repeat as usize;
    say(format!(
        "bench: {} CPUs, redis-server {} ({kind}), worker {}",
        machine.nproc, machine.redis_version, machine.worker_binary
    ));

    let (round_trip, enqueue) = rate_phase(&b, repeat).await?;
    let mut drain = Vec::new();
    for c in DRAIN_CONCURRENCY {
        drain.push(drain_phase(&b, c, repeat).await?);
    }
    machine.worker_scripts_match = redis_stats::has_our_finish_script(&b.admin).await?;
    if !machine.worker_scripts_match {
        say(format!(
            "bench: WARNING: {} ran other scripts than this build of taskq; rebuild it (cargo build --release -p worker)",
            machine.worker_binary
        ));
    }
    let (latency, idle_mb) = latency_phase(&b, args.latency_samples as usize, args.cancel_samples as usize).await?;
    let profile = match args.profile_jobs {
        0 => None,
        n => Some(profile_phase(&b, n as usize).await?),
    };
    flush(&b).await?;

    let under_load_mb = drain
        .iter()
        .filter(|d| d.concurrency == 64)
        .flat_map(|d| d.runs.iter().map(|r| r.worker_rss_peak_mb))
        .fold(0.0, f64::max);
    machine.load_average.1 = load_average();
    let mut report = Report {
        machine,
        settings: Settings { jobs: b.jobs, repeat },
        round_trip,
        enqueue,
        drain,
        latency,
        worker_rss: Rss { idle_mb, under_load_mb },
        profile,
        targets: Vec::new(),
    };
    report.judge();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.to_text());
    }
    Ok(())
}

/// Phase 1: round-trip ceiling (PING) and enqueue rates, on the same connections.
async fn rate_phase(b: &Bench, repeat: usize) -> anyhow::Result<(Vec<RateFigure>, Vec<RateFigure>)> {
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
fn no_op_jobs(n: usize) -> Vec<NewJob> {
    (0..n)
        .map(|i| NewJob::from_catalogue("long_task", json!({"duration": 0, "payload": i}), "default"))
        .collect::<Result<_, _>>()
        .expect("long_task accepts a duration of 0")
}

/// Enqueues every job of `jobs` with `clients` concurrent tasks sharing `q`.
async fn enqueue_all(q: &Queue, clients: usize, jobs: Arc<Vec<NewJob>>) -> anyhow::Result<Duration> {
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

/// Phase 2: drains at WORKER_CONCURRENCY `concurrency`.
async fn drain_phase(b: &Bench, concurrency: usize, repeat: usize) -> anyhow::Result<DrainFigure> {
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
async fn await_drained(b: &Bench, worker: &mut WorkerProcess, jobs: usize, what: &str) -> anyhow::Result<()> {
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

/// Phase 3: an idle worker's RSS, enqueue-to-start and cancel latencies;
/// returns them and the idle RSS in MB.
async fn latency_phase(b: &Bench, samples: usize, cancels: usize) -> anyhow::Result<(Latency, f64)> {
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
async fn profile_phase(b: &Bench, jobs: usize) -> anyhow::Result<Profile> {
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
async fn wait_registered(b: &Bench, worker: &mut WorkerProcess) -> anyhow::Result<()> {
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

/// Empties Redis (allowed: the server is ours, or --flush was given).
async fn flush(b: &Bench) -> anyhow::Result<()> {
    let mut c = b.admin.clone();
    redis::cmd("FLUSHALL").query_async::<()>(&mut c).await.context("FLUSHALL")
}

/// An RFC 3339 time as microseconds since the epoch.
fn micros(t: Option<&str>) -> anyhow::Result<i64> {
    let t = t.context("a job without its start or end time")?;
    Ok(chrono::DateTime::parse_from_rfc3339(t).with_context(|| format!("bad time {t:?}"))?.timestamp_micros())
}

/// KiB as MB (10^6 bytes), the unit of the memory target.
fn mb(kib: u64) -> f64 {
    kib as f64 * 1024.0 / 1e6
}

/// The 1-minute load average (0 when unknown).
fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0.0)
}

/// `model name` of the first CPU in /proc/cpuinfo.
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| l.strip_prefix("model name")?.split_once(':').map(|(_, v)| v.trim().to_owned()))
        })
        .unwrap_or_else(|| "unknown".into())
}

/// A path relative to the current folder when it is inside it: no machine paths in reports.
fn display_path(p: &std::path::Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| p.strip_prefix(cwd).ok().map(|r| r.display().to_string()))
        .unwrap_or_else(|| p.display().to_string())
}

/// Progress on stderr, so that stdout holds only the report.
fn say(msg: String) {
    eprintln!("{msg}");
}
