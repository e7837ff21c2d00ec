//! The benchmark's figures: one [`Report`], printed as text or as one JSON
//! object with the same fields, with the targets next to them ([`TARGETS`]:
//! each names what it compares with).

use std::collections::BTreeMap;

use serde::Serialize;

use super::redis_stats::{CommandStat, IN_SCRIPTS, ProfileRow, TOP_LEVEL};

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

/// A target and how the run compares.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    /// What is measured.
    pub figure: String,
    /// The target, with its unit.
    pub target: String,
    /// What the target is set against.
    pub compares_with: &'static str,
    /// The measured value, with its unit.
    pub measured: String,
    /// measured / target for rates (higher is better), target / measured for
    /// latencies and memory: above 1 means met.
    pub ratio: f64,
    /// Whether the target is met.
    pub met: bool,
}

/// Which side of a target is met.
#[derive(Debug, Clone, Copy)]
pub enum Bound {
    /// Rates: met at or above.
    AtLeast(f64),
    /// Latencies and memory: met at or below.
    AtMost(f64),
}

/// One target: what it bounds, and what it is set against.
pub struct Goal {
    /// The bound, in `unit`.
    pub bound: Bound,
    /// The unit of the bound and of the measured values.
    pub unit: &'static str,
    /// What the target is set against, for the reader of a report.
    pub compares_with: &'static str,
    /// The figures of a run it applies to: (name, measured value in `unit`).
    pub measure: fn(&Report) -> Vec<(String, f64)>,
}

/// Every target, in one place. The comparison figures (a Rust port of
/// BullMQ on the same 2-vCPU machine) are in BENCHMARKS.md.
pub const TARGETS: &[Goal] = &[
    Goal {
        bound: Bound::AtLeast(40_000.0),
        unit: "jobs/s",
        compares_with: "about 1.5x the drain of a Rust port of BullMQ on the same machine (26,000 no-op jobs/s)",
        measure: |r| {
            r.drain
                .iter()
                .filter(|d| d.concurrency == 16)
                .map(|d| ("drain, WORKER_CONCURRENCY=16".to_owned(), d.median_jobs_per_s))
                .collect()
        },
    },
    Goal {
        bound: Bound::AtLeast(70_000.0),
        unit: "jobs/s",
        compares_with: "above the enqueue rate of a Rust port of BullMQ from 32 clients on the same machine (59,000 jobs/s)",
        measure: |r| {
            r.enqueue
                .iter()
                .filter(|e| e.clients == 32)
                .map(|e| (format!("enqueue, 32 concurrent clients on {} connection(s)", e.connections), e.median_per_s))
                .collect()
        },
    },
    Goal {
        bound: Bound::AtMost(50.0),
        unit: "ms",
        compares_with: "a stop a person watching the dashboard sees as immediate",
        measure: |r| {
            vec![
                ("cancel latency p99 (job running 10 ms)".to_owned(), r.latency.cancel_ms.p99),
                ("cancel latency p99 (at start)".to_owned(), r.latency.cancel_at_start_ms.p99),
            ]
        },
    },
    Goal {
        bound: Bound::AtMost(2.0),
        unit: "ms",
        compares_with: "an idle worker starting a job within a few Redis round trips of its enqueue",
        measure: |r| vec![("enqueue-to-start p50".to_owned(), r.latency.enqueue_to_start_ms.p50)],
    },
    Goal {
        bound: Bound::AtMost(10.0),
        unit: "MB",
        compares_with: "below the memory of a Rust port of BullMQ under the same load (10-14 MB)",
        measure: |r| vec![("worker RSS under load".to_owned(), r.worker_rss.under_load_mb)],
    },
];

/// Everything one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub machine: Machine,
    pub settings: Settings,
    /// PING from the same clients on the same connections: the rate round
    /// trips alone allow on this machine, the ceiling of any one-call-per-job queue.
    pub round_trip: Vec<RateFigure>,
    pub enqueue: Vec<RateFigure>,
    pub drain: Vec<DrainFigure>,
    pub latency: Latency,
    pub worker_rss: Rss,
    pub profile: Option<Profile>,
    pub targets: Vec<Target>,
}

impl Report {
    /// Fills in `targets` from the figures, one per row of [`TARGETS`] the run measured.
    pub fn judge(&mut self) {
        let mut t = Vec::new();
        for goal in TARGETS {
            for (figure, measured) in (goal.measure)(self) {
                let (target, measured_text, ratio, met) = match goal.bound {
                    Bound::AtLeast(target) => (
                        format!(">= {} {}", thousands(target), goal.unit),
                        format!("{} {}", thousands(measured), goal.unit),
                        measured / target,
                        measured >= target,
                    ),
                    Bound::AtMost(target) => (
                        format!("<= {target} {}", goal.unit),
                        format!("{measured:.2} {}", goal.unit),
                        if measured > 0.0 { target / measured } else { f64::INFINITY },
                        measured <= target,
                    ),
                };
                t.push(Target {
                    figure,
                    target,
                    compares_with: goal.compares_with,
                    measured: measured_text,
                    ratio,
                    met,
                });
            }
        }
        self.targets = t;
    }

    /// The report as text.
    pub fn to_text(&self) -> String {
        let mut o = String::new();
        let m = &self.machine;
        let line = |o: &mut String, s: String| {
            o.push_str(&s);
            o.push('\n');
        };
        line(&mut o, "taskq benchmark".into());
        line(
            &mut o,
            format!(
                "machine: {} CPUs ({}), redis-server {} ({}); worker binary {} (built {} s before the run); load average {:.2} at start, {:.2} at end",
                m.nproc,
                m.cpu_model,
                m.redis_version,
                m.redis,
                m.worker_binary,
                m.worker_binary_age_s,
                m.load_average.0,
                m.load_average.1
            ),
        );
        if !m.worker_scripts_match {
            line(
                &mut o,
                "WARNING: the worker ran other scripts than this build of taskq: its binary is stale \
                 (cargo build --release -p worker)"
                    .into(),
            );
        }
        line(
            &mut o,
            format!(
                "each rate: {} jobs, measured {} time(s); the median is shown, then every run\n",
                self.settings.jobs, self.settings.repeat
            ),
        );

        let how = |f: &RateFigure| {
            if f.clients == 1 {
                "1 client, sequential".to_owned()
            } else {
                format!("{} concurrent tasks, {} connection(s)", f.clients, f.connections)
            }
        };
        for (title, figures) in [
            ("round trips (PING, same clients and connections)    calls/s", &self.round_trip),
            ("enqueue (Queue::enqueue, long_task, distinct args)   jobs/s", &self.enqueue),
        ] {
            line(&mut o, format!("{title}  client CPU/op  Redis CPU/op  usec_per_call  runs (per s)"));
            for f in figures {
                let Some(r) = f.median_run() else { continue };
                line(
                    &mut o,
                    format!(
                        "  {:<46} {:>10} {:>12.1}us {:>11.1}us {:>12.1}us  {}",
                        how(f),
                        thousands(f.median_per_s),
                        r.client_cpu_us_per_op,
                        r.redis_cpu_us_per_op,
                        r.command_usec_per_call,
                        runs(&f.runs.iter().map(|r| r.per_s).collect::<Vec<_>>())
                    ),
                );
            }
        }
        let ratios: Vec<String> = self
            .enqueue
            .iter()
            .filter_map(|e| {
                let p = self.round_trip.iter().find(|p| p.name == e.name)?;
                Some(format!("{} {:.2}", how(e), e.median_per_s / p.median_per_s))
            })
            .collect();
        line(&mut o, format!("  enqueue / PING rate on the same set-up: {}", ratios.join("; ")));

        line(&mut o, format!("\ndrain of {} no-op jobs by one worker process (median run)", self.settings.jobs));
        line(
            &mut o,
            "  concurrency     jobs/s  startup  worker CPU/job  Redis CPU/job  evalsha/job  Redis CPU  peak RSS  ping p50/max   runs (jobs/s)".into(),
        );
        for d in &self.drain {
            let Some(r) = d.median_run() else { continue };
            line(
                &mut o,
                format!(
                    "  {:>11} {:>10} {:>6.0}ms {:>12.1}us {:>12.1}us {:>10.1}us {:>9.0}% {:>7.1}MB  {:>5.2}/{:<5.1}ms  {}",
                    d.concurrency,
                    thousands(d.median_jobs_per_s),
                    r.startup_ms,
                    r.worker_cpu_us_per_job,
                    r.redis_cpu_us_per_job,
                    r.evalsha_us_per_job,
                    r.redis_cpu_percent,
                    r.worker_rss_peak_mb,
                    r.ping_ms.p50,
                    r.ping_ms.max,
                    runs(&d.runs.iter().map(|r| r.jobs_per_s).collect::<Vec<_>>()),
                ),
            );
        }
        let rate = |c: usize| self.drain.iter().find(|d| d.concurrency == c).map(|d| d.median_jobs_per_s);
        if let (Some(c1), Some(c16), Some(c64)) = (rate(1), rate(16), rate(64)) {
            line(&mut o, format!("  speed-up: 16 vs 1 slots {:.2}x, 64 vs 16 slots {:.2}x", c16 / c1, c64 / c16));
        }
        for d in &self.drain {
            let Some(r) = d.median_run() else { continue };
            let Some(e) = r.commands.get("evalsha") else { continue };
            let jobs = r.jobs as f64;
            // What the scripts spent their time on, most expensive first.
            let mut inner: Vec<(&String, &CommandStat)> =
                r.commands.iter().filter(|(n, s)| !TOP_LEVEL.contains(&n.as_str()) && s.calls > 0).collect();
            inner.sort_by_key(|(_, s)| std::cmp::Reverse(s.usec));
            let inner: Vec<String> = inner
                .iter()
                .take(10)
                .map(|(n, s)| format!("{n} {:.2}x{:.1}", s.calls as f64 / jobs, s.usec_per_call))
                .collect();
            line(
                &mut o,
                format!(
                    "  commandstats at {:>2}: evalsha {:.3} calls/job x {:.1} usec_per_call; inside (calls/job x usec): {}",
                    d.concurrency,
                    e.calls as f64 / jobs,
                    e.usec_per_call,
                    inner.join(", ")
                ),
            );
        }

        let l = &self.latency;
        line(
            &mut o,
            format!(
                "\nlatency on an idle worker (WORKER_CONCURRENCY={})          p50      p99      max  samples",
                l.worker_concurrency
            ),
        );
        for (what, s) in [
            ("enqueue-to-start (started_at - enqueued_at)", &l.enqueue_to_start_ms),
            ("cancel, running 10 ms (call -> ended_at)", &l.cancel_ms),
            ("cancel, running 10 ms (call -> client sees it)", &l.cancel_seen_by_client_ms),
            ("cancel at start (call -> ended_at)", &l.cancel_at_start_ms),
        ] {
            line(&mut o, format!("  {what:<52} {:>6.2}ms {:>6.2}ms {:>6.2}ms  {}", s.p50, s.p99, s.max, s.samples));
        }
        line(
            &mut o,
            format!(
                "  cancels at start slower than 100 ms: {} of {}",
                l.cancel_at_start_slow, l.cancel_at_start_ms.samples
            ),
        );
        line(
            &mut o,
            format!(
                "\nworker RSS: idle {:.1} MB; under load (peak of the concurrency-64 drains) {:.1} MB",
                self.worker_rss.idle_mb, self.worker_rss.under_load_mb
            ),
        );

        if let Some(p) = &self.profile {
            line(
                &mut o,
                format!(
                    "\nprofile: Redis execution time per command (SLOWLOG at threshold 0; {} jobs enqueued and drained at concurrency {}, then {} running jobs canceled)",
                    p.jobs, p.worker_concurrency, p.cancels
                ),
            );
            let top: f64 = p.rows.iter().filter(|r| r.origin != IN_SCRIPTS).map(|r| r.usec_per_job).sum();
            line(
                &mut o,
                format!(
                    "  top-level commands: {top:.1} us per job; `script` rows split each script's time: the commands it ran, and (lua) for the rest"
                ),
            );
            line(
                &mut o,
                "  origin  command                  calls  calls/job   us p50   us p99   us mean   us/job".into(),
            );
            for r in &p.rows {
                line(
                    &mut o,
                    format!(
                        "  {:<7} {:<22} {:>7} {:>10.3} {:>8.1} {:>8.1} {:>9.2} {:>8.2}",
                        r.origin,
                        r.command,
                        r.calls,
                        r.calls_per_job,
                        r.usec.p50,
                        r.usec.p99,
                        r.usec.mean,
                        r.usec_per_job
                    ),
                );
            }
        }

        line(&mut o, "\ntargets".into());
        for t in &self.targets {
            line(
                &mut o,
                format!(
                    "  {:<55} {:>16}  measured {:>16}  {:>5.2}x  {}\n      against: {}",
                    t.figure,
                    t.target,
                    t.measured,
                    t.ratio,
                    if t.met { "met" } else { "NOT MET" },
                    t.compares_with
                ),
            );
        }
        o
    }
}

/// `12345.6` as `12,346`.
pub fn thousands(v: f64) -> String {
    let s = format!("{:.0}", v.max(0.0));
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn runs(values: &[f64]) -> String {
    format!("[{}]", values.iter().map(|v| thousands(*v)).collect::<Vec<_>>().join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_target_names_what_it_compares_with() {
        for goal in TARGETS {
            assert!(goal.compares_with.len() > 20, "{}", goal.compares_with);
            assert!(!goal.compares_with.contains("issue"), "{}", goal.compares_with);
        }
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let s = Summary::of((1..=100).rev().map(f64::from).collect());
        assert_eq!((s.samples, s.p50, s.p99, s.max, s.mean), (100, 50.0, 99.0, 100.0, 50.5));
        assert_eq!(Summary::of(vec![7.0]).p99, 7.0);
        assert_eq!(Summary::of(Vec::new()).samples, 0);
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(1234567.4), "1,234,567");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
    }
}
