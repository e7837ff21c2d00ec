//! Cron schedules: a named definition that makes one job per tick of a cron
//! expression in an IANA time zone. The next tick is computed here; the
//! worker's timer hands due ticks to `tick.lua`, which makes each tick's job
//! at most once whatever the number of workers.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What to do with ticks that passed while no worker ran.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Missed {
    /// Make no job for them; go on from the next tick.
    #[default]
    Skip,
    /// Make one job for all of them, then go on from the next tick.
    RunOnce,
}

/// A schedule as a client defines it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleSpec {
    /// Cron expression: 5 fields (minute hour day month weekday), 6 with
    /// seconds first, or `@yearly`, `@monthly`, `@weekly`, `@daily`, `@hourly`.
    pub cron: String,
    /// IANA time zone the expression is read in.
    pub timezone: String,
    /// Task name from the catalogue.
    pub task: String,
    /// Its arguments.
    pub args: Value,
    /// Queue its jobs go on.
    pub queue: String,
    /// Policy for ticks missed while no worker ran.
    pub missed: Missed,
}

/// A stored schedule with its state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    /// Its name.
    pub name: String,
    /// Its definition.
    #[serde(flatten)]
    pub spec: ScheduleSpec,
    /// Whether it is paused (makes no jobs).
    pub paused: bool,
    /// Its next ticks (RFC 3339, UTC), soonest first; empty while paused.
    pub next_runs: Vec<String>,
    /// The tick of its last job (RFC 3339, UTC).
    pub last_run_at: Option<String>,
    /// Its last job.
    pub last_job_id: Option<String>,
    /// When it was first created.
    pub created_at: String,
    /// When it was last created or replaced.
    pub updated_at: String,
}
