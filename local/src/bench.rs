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
//!    the execution time of each script (commandstats cannot tell them apart);
//! 5. delayed jobs: due-job latency, moves of due jobs per second with and
//!    without a million waiting jobs, Redis memory per waiting job (`delayed`).
//!
//! Redis is flushed between phases so that each starts from the same state.
//! That is why the benchmark starts a private redis-server by default, and
//! refuses to use a `--redis-url` server unless `--flush` says its data may go.

mod delayed;
mod drain;
mod latency;
mod machine;
mod process;
mod rates;
mod redis_stats;
mod report;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use taskq::{Config, Connection, Keys, Redis};

use delayed::{DelayedArgs, delayed_phase};
use drain::drain_phase;
use latency::{latency_phase, profile_phase};
use machine::{PrivateServer, cpu_model, display_path, load_average};
use rates::rate_phase;
use report::{Machine, Report, Rss, Settings};

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
    /// Jobs scheduled a day ahead while moves of due jobs are measured; 0
    /// skips that pass and the memory figure.
    #[arg(long, default_value_t = 1_000_000)]
    waiting: u64,
    /// Jobs falling due at once in each moves measurement.
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(1..))]
    due_jobs: u64,
    /// Due-job latency samples (jobs due over 3 s); 0 skips the delayed-jobs phase.
    #[arg(long, default_value_t = 300)]
    due_samples: u64,
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
            let server = PrivateServer::start()?;
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
    let delayed = match args.due_samples {
        0 => None,
        n => {
            let d = DelayedArgs { waiting: args.waiting as usize, due: args.due_jobs as usize, samples: n as usize };
            Some(delayed_phase(&b, &d).await?)
        }
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
        delayed,
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

/// Progress on stderr, so that stdout holds only the report.
fn say(msg: String) {
    eprintln!("{msg}");
}
