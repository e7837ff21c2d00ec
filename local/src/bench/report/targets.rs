//! The targets a run is judged against ([`TARGETS`]), each naming what it
//! compares with.

use serde::Serialize;

use super::Report;

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
        bound: Bound::AtMost(1000.0),
        unit: "ms",
        compares_with: "a delayed job entering its queue within a second of its time, whichever worker is up",
        measure: |r| {
            r.delayed.iter().map(|d| ("due job enters its queue, p99".to_owned(), d.due_latency.0.p99)).collect()
        },
    },
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
