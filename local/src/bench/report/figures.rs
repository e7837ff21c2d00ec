//! The figures a benchmark run collects: percentiles, rates, drains,
//! latencies, memory and the per-script profile.

use std::collections::BTreeMap;

use serde::Serialize;

use super::super::redis_stats::{CommandStat, ProfileRow};

/// Percentiles of a set of samples, in the unit of the samples.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// How many samples.
    pub samples: usize,
    /// Median (nearest rank).
    pub p50: f64,
    /// 99th percentile (nearest rank).
    pub p99: f64,
    /// Largest sample.
    pub max: f64,
    /// Arithmetic mean.
    pub mean: f64,
}

impl Summary {
    /// Summarises `samples` (any order).
    pub fn of(mut samples: Vec<f64>) -> Summary {
        if samples.is_empty() {
            return Summary::default();
        }
        samples.sort_by(f64::total_cmp);
        let n = samples.len();
        // Nearest rank: the smallest sample with at least p% of them at or below it.
        let rank = |p: f64| samples[((p / 100.0 * n as f64).ceil() as usize).clamp(1, n) - 1];
        Summary {
            samples: n,
            p50: rank(50.0),
            p99: rank(99.0),
            max: samples[n - 1],
            mean: samples.iter().sum::<f64>() / n as f64,
        }
    }
}

/// The median of `values` (the upper one of an even count), 0 when empty.
pub fn median(values: &[f64]) -> f64 {
    median_by(values, |v| *v).copied().unwrap_or(0.0)
}

/// The item whose `key` is the median (the upper one of an even count).
fn median_by<T>(items: &[T], key: impl Fn(&T) -> f64) -> Option<&T> {
    let mut sorted: Vec<&T> = items.iter().collect();
    sorted.sort_by(|a, b| key(a).total_cmp(&key(b)));
    sorted.get(sorted.len() / 2).copied()
}

/// Where the figures were measured.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// CPUs this process may use.
    pub nproc: usize,
    /// `model name` of /proc/cpuinfo.
    pub cpu_model: String,
    /// `redis_version` of the server used.
    pub redis_version: String,
    /// `private` (started by the benchmark) or `external` (--redis-url).
    pub redis: &'static str,
    /// The worker binary that ran the jobs.
    pub worker_binary: String,
    /// Age of that binary when the run began, seconds (a stale build measures old code).
    pub worker_binary_age_s: u64,
    /// Whether the worker ran this build's scripts (false: the worker binary
    /// is stale; rebuild it with `cargo build --release -p worker`).
    pub worker_scripts_match: bool,
    /// 1-minute load average when the run began and when it ended: other
    /// work on the machine's cores makes the figures lower and noisier.
    pub load_average: (f64, f64),
}

/// How the run was set up.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    /// Jobs per enqueue and drain measurement.
    pub jobs: usize,
    /// Times each rate was measured.
    pub repeat: usize,
}

/// One set-up of clients and connections, measured `repeat` times.
#[derive(Debug, Clone, Serialize)]
pub struct RateFigure {
    /// Short name: `sequential`, `concurrent_multiplexed` or `concurrent_connections`.
    pub name: &'static str,
    /// Tasks calling at once.
    pub clients: usize,
    /// Redis connections they share.
    pub connections: usize,
    /// Each run.
    pub runs: Vec<RateRun>,
    /// Median of the runs' rates, per second.
    pub median_per_s: f64,
}

impl RateFigure {
    /// The run whose rate is the median (the figures printed as text).
    pub fn median_run(&self) -> Option<&RateRun> {
        median_by(&self.runs, |r| r.per_s)
    }
}

/// One run: the rate, and who spent the CPU (the benchmark's clients share
/// the machine's cores with Redis, as Lambda functions would not).
#[derive(Debug, Clone, Serialize)]
pub struct RateRun {
    /// Calls (jobs, for enqueue) per second, first call to last reply.
    pub per_s: f64,
    /// CPU time of this process (the clients) per call, microseconds.
    pub client_cpu_us_per_op: f64,
    /// Redis CPU time per call, microseconds.
    pub redis_cpu_us_per_op: f64,
    /// `usec_per_call` of the command in INFO commandstats (`evalsha` for
    /// enqueue, `ping` for the round trips): time executing it, not reading
    /// or answering.
    pub command_usec_per_call: f64,
}

/// One drain of the backlog by one worker process.
#[derive(Debug, Clone, Serialize)]
pub struct DrainRun {
    /// Jobs drained.
    pub jobs: usize,
    /// First job start to last job end, seconds (from the jobs' own times).
    pub seconds: f64,
    /// `jobs / seconds`.
    pub jobs_per_s: f64,
    /// Worker process start to its first job start, ms.
    pub startup_ms: f64,
    /// Largest worker VmRSS seen during the drain, MB (10^6 bytes).
    pub worker_rss_peak_mb: f64,
    /// Worker CPU time (user + system) per job, microseconds.
    pub worker_cpu_us_per_job: f64,
    /// Redis CPU time (user + system) per job, microseconds.
    pub redis_cpu_us_per_job: f64,
    /// Redis CPU time over the drain time: 100 = one core busy.
    pub redis_cpu_percent: f64,
    /// Redis time executing scripts (`evalsha` in INFO commandstats) per job,
    /// microseconds; the rest of its CPU time goes to reading, parsing,
    /// replying and the few other commands.
    pub evalsha_us_per_job: f64,
    /// PING round trips sampled every 10 ms during the drain, ms (what `redis-cli --latency` shows).
    pub ping_ms: Summary,
    /// INFO commandstats of the drain (every script is `evalsha`).
    pub commands: BTreeMap<String, CommandStat>,
}

/// The drains at one concurrency.
#[derive(Debug, Clone, Serialize)]
pub struct DrainFigure {
    /// WORKER_CONCURRENCY.
    pub concurrency: usize,
    /// Each run.
    pub runs: Vec<DrainRun>,
    /// Median of the runs' jobs/s.
    pub median_jobs_per_s: f64,
}

impl DrainFigure {
    /// The run whose rate is the median (the figures printed as text).
    pub fn median_run(&self) -> Option<&DrainRun> {
        median_by(&self.runs, |r| r.jobs_per_s)
    }
}

/// Latencies on an idle worker.
#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    /// WORKER_CONCURRENCY of the idle worker.
    pub worker_concurrency: usize,
    /// `started_at - enqueued_at` of jobs enqueued one at a time, ms.
    pub enqueue_to_start_ms: Summary,
    /// `ended_at` of a canceled running job minus the time of the cancel call, ms:
    /// the task observed the cancellation before this. The job had been
    /// `started` for 10 ms when it was canceled.
    pub cancel_ms: Summary,
    /// Cancel call until the client, polling every millisecond, sees `canceled`, ms.
    pub cancel_seen_by_client_ms: Summary,
    /// As `cancel_ms`, but canceled as soon as the client saw it `started`.
    pub cancel_at_start_ms: Summary,
    /// How many of those took over 100 ms.
    pub cancel_at_start_slow: usize,
}

/// Worker memory.
#[derive(Debug, Clone, Serialize)]
pub struct Rss {
    /// VmRSS after start, before any job, MB (10^6 bytes).
    pub idle_mb: f64,
    /// Largest VmRSS seen during the concurrency-64 drains, MB.
    pub under_load_mb: f64,
}

/// The per-script profile pass.
#[derive(Debug, Clone, Serialize)]
pub struct Profile {
    /// Jobs enqueued, then drained by a worker at `worker_concurrency`.
    pub jobs: usize,
    /// Running jobs canceled after the drain.
    pub cancels: usize,
    /// WORKER_CONCURRENCY of the drain.
    pub worker_concurrency: usize,
    /// Slow-log entries read.
    pub entries: usize,
    /// Whether the slow log filled up, losing its oldest entries.
    pub truncated: bool,
    /// By origin and command, most expensive per job first.
    pub rows: Vec<ProfileRow>,
}

/// Delayed jobs (phase 5).
#[derive(Debug, Clone, Serialize)]
pub struct Delayed {
    /// From a job's `run_at` to entering its queue (`enqueued_at`) and to its
    /// start (`started_at`), ms, on an idle worker.
    pub due_latency: (Summary, Summary),
    /// Moves of due jobs by `Queue::promote_due`, with no other job waiting,
    /// then with the `waiting` jobs scheduled a day ahead.
    pub moves: Vec<MoveRate>,
    /// Moves per second with the waiting jobs over moves per second without.
    pub loaded_to_empty_move_ratio: Option<f64>,
    /// Redis `used_memory` per waiting (scheduled) job, bytes.
    pub bytes_per_waiting_job: Option<f64>,
}

/// One measurement of moves.
#[derive(Debug, Clone, Serialize)]
pub struct MoveRate {
    /// Other jobs waiting (not due) meanwhile.
    pub waiting: usize,
    /// Jobs moved onto their queue.
    pub moved: u64,
    /// `promote_due` calls it took.
    pub calls: u64,
    /// First call to last reply, seconds.
    pub seconds: f64,
    /// `moved / seconds`.
    pub per_s: f64,
}
