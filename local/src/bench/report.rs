//! The benchmark's figures: one [`Report`], printed as text or as one JSON
//! object with the same fields, with the targets next to them ([`TARGETS`]:
//! each names what it compares with).

use serde::Serialize;

use super::redis_stats::{CommandStat, IN_SCRIPTS, TOP_LEVEL};

mod figures;
mod targets;

pub use figures::*;
pub use targets::{Bound, TARGETS, Target};

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
    pub delayed: Option<Delayed>,
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

        if let Some(d) = &self.delayed {
            line(
                &mut o,
                "\ndelayed jobs on an idle worker                                p50      p99      max  samples".into(),
            );
            for (what, s) in [
                ("run_at -> enters its queue (enqueued_at)", &d.due_latency.0),
                ("run_at -> starts (started_at)", &d.due_latency.1),
            ] {
                line(&mut o, format!("  {what:<58} {:>6.1}ms {:>6.1}ms {:>6.1}ms  {}", s.p50, s.p99, s.max, s.samples));
            }
            for m in &d.moves {
                line(
                    &mut o,
                    format!(
                        "  moves of {} due jobs with {} others waiting: {} /s ({} calls, {:.3} s)",
                        thousands(m.moved as f64),
                        thousands(m.waiting as f64),
                        thousands(m.per_s),
                        m.calls,
                        m.seconds
                    ),
                );
            }
            if let Some(r) = d.loaded_to_empty_move_ratio {
                line(&mut o, format!("  moves with the waiting jobs / moves without: {r:.2}"));
            }
            if let Some(b) = d.bytes_per_waiting_job {
                line(&mut o, format!("  Redis memory per waiting job: {b:.0} bytes"));
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
