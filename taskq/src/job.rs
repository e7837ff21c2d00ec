//! The job model: what a job is, the states it goes through, and how it is
//! read back from its Redis hash.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting in a queue.
    Queued,
    /// Waiting for its time (`delay` or `run_at`) before it enters its queue.
    Scheduled,
    /// Failed an attempt; waiting for its next one (see [`RetryPolicy`]).
    Retrying,
    /// Running on a worker.
    Started,
    /// Running, and asked to stop.
    CancelRequested,
    /// Ended with a result.
    Finished,
    /// Ended with an error (raised, timeout, abandoned).
    Failed,
    /// Ended because it was canceled.
    Canceled,
}

impl Status {
    /// Every status, in life order.
    pub const ALL: [Status; 8] = [
        Status::Queued,
        Status::Scheduled,
        Status::Retrying,
        Status::Started,
        Status::CancelRequested,
        Status::Finished,
        Status::Failed,
        Status::Canceled,
    ];

    /// The states of jobs waiting for a time before they enter their queue;
    /// each has a sorted set per queue, by due time.
    pub const WAITING: [Status; 2] = [Status::Scheduled, Status::Retrying];

    /// The states with a registry of ended jobs.
    pub const ENDED: [Status; 3] = [Status::Finished, Status::Failed, Status::Canceled];

    /// The name stored in Redis and shown by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Scheduled => "scheduled",
            Status::Retrying => "retrying",
            Status::Started => "started",
            Status::CancelRequested => "cancel_requested",
            Status::Finished => "finished",
            Status::Failed => "failed",
            Status::Canceled => "canceled",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Whether the job has ended.
    pub fn is_ended(self) -> bool {
        Status::ENDED.contains(&self)
    }

    /// Whether the job waits for a time (scheduled or retrying).
    pub fn is_waiting(self) -> bool {
        Status::WAITING.contains(&self)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Progress reported by a task.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Steps done.
    pub done: u64,
    /// Steps in all.
    pub total: u64,
    /// `done / total` as 0..=100, one decimal.
    pub percent: f64,
    /// What the task is doing now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Progress {
    /// Progress of `done` out of `total` steps.
    pub fn new(done: u64, total: u64, message: Option<String>) -> Self {
        let percent = if total == 0 { 0.0 } else { ((done.min(total) as f64 / total as f64) * 1000.0).round() / 10.0 };
        Self { done, total, percent, message }
    }
}

/// Why a job failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobError {
    /// `error` (the task returned an error), `timeout`, `abandoned` (its worker
    /// died too often), `unknown_task`, `invalid_args`, `invalid_job` (a stored
    /// value of the job is not one taskq writes), or `panic`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Human-readable detail.
    pub message: String,
}

/// How a job is retried after a failed attempt: at most `max` more attempts,
/// the n-th after a wait drawn from `[d/2, d]` where
/// `d = min(backoff_max, backoff * 2^(n-1))` seconds (exponential backoff with
/// equal jitter). Timeouts and errors are retried; cancellation and
/// permanent errors never are.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// Retries after the first attempt; 0 means never retried.
    pub max: u32,
    /// Base wait, seconds.
    pub backoff: f64,
    /// Longest wait, seconds.
    pub backoff_max: f64,
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1 for the first), given `unit`,
    /// a random number in `[0, 1)`.
    pub fn delay(&self, retry: u32, unit: f64) -> std::time::Duration {
        let exp = 2f64.powi(retry.saturating_sub(1).min(60) as i32);
        let d = (self.backoff * exp).min(self.backoff_max).max(0.0);
        std::time::Duration::from_secs_f64(d / 2.0 + d / 2.0 * unit.clamp(0.0, 1.0))
    }

    /// The most attempts a job under this policy gets (the first included).
    pub fn max_attempts(&self) -> u32 {
        self.max.saturating_add(1)
    }
}

/// The error of one earlier attempt of a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptError {
    /// Which attempt failed (1 for the first).
    pub attempt: u32,
    /// When it failed (RFC 3339).
    pub at: String,
    /// Why.
    #[serde(flatten)]
    pub error: JobError,
}

/// Most earlier attempts' errors a job keeps (the latest ones).
pub const MAX_ATTEMPT_ERRORS: usize = 10;

/// A job as stored, read back in full.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// UUID v4.
    pub id: String,
    /// Task name from the catalogue.
    pub task: String,
    /// Arguments given at enqueue.
    pub args: Value,
    /// Queue it was put on.
    pub queue: String,
    /// Current state.
    pub status: Status,
    /// When it was first enqueued (RFC 3339, UTC, microseconds).
    pub created_at: String,
    /// When it was last put on its queue (differs after a requeue).
    pub enqueued_at: String,
    /// When its current or last run started.
    pub started_at: Option<String>,
    /// When it ended.
    pub ended_at: Option<String>,
    /// Last progress written by the task.
    pub progress: Option<Progress>,
    /// Free-form metadata written by the task.
    pub meta: Value,
    /// What the task returned.
    pub result: Option<Value>,
    /// Why it failed.
    pub error: Option<JobError>,
    /// Runs started so far.
    pub attempts: u32,
    /// Limit on one run, in seconds.
    pub timeout: f64,
    /// Name of the Redis key holding its idempotency claim.
    #[serde(skip)]
    pub idempotency_key: Option<String>,
    /// Worker running it, or that ran it last.
    pub worker: Option<String>,
    /// When a scheduled or retrying job enters its queue (RFC 3339).
    pub run_at: Option<String>,
    /// Its retry policy; `None` when it is never retried.
    pub retry: Option<RetryPolicy>,
    /// Errors of its earlier failed attempts, oldest first, at most
    /// [`MAX_ATTEMPT_ERRORS`] (the latest).
    pub errors: Vec<AttemptError>,
    /// The schedule that made it, if any.
    pub schedule: Option<String>,
    /// The schedule's tick it was made for (RFC 3339).
    pub tick: Option<String>,
}

/// A stored job whose hash holds a value taskq never writes: read as an
/// error naming the job and the field, never as another meaning.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("job {id}: stored {field} {value:?} is {expected}")]
pub struct DamagedJob {
    /// The job's id.
    pub id: String,
    /// The hash field.
    pub field: &'static str,
    /// What is stored there (empty when absent).
    pub value: String,
    /// What taskq writes there.
    pub expected: &'static str,
}

impl DamagedJob {
    /// `field` of job `id` holds `value` instead of `expected`.
    pub fn new(id: &str, field: &'static str, value: Option<&str>, expected: &'static str) -> Self {
        let value = value.unwrap_or_default().chars().take(100).collect();
        Self { id: id.to_owned(), field, value, expected }
    }
}

impl Job {
    /// Attempts it may still get: `None` when it has no retry policy.
    pub fn attempts_left(&self) -> Option<u32> {
        self.retry.map(|r| r.max_attempts().saturating_sub(self.attempts))
    }

    /// Builds a job from its hash: `Ok(None)` if the hash is missing
    /// (unknown or expired), an error naming the field if a stored value is
    /// not one taskq writes.
    pub fn from_hash(id: &str, mut h: HashMap<String, String>) -> Result<Option<Job>, DamagedJob> {
        if h.is_empty() {
            return Ok(None);
        }
        let damaged = |field: &'static str, v: Option<&str>, expected| DamagedJob::new(id, field, v, expected);
        let mut json = |field: &'static str| -> Result<Option<Value>, DamagedJob> {
            match h.remove(field) {
                None => Ok(None),
                Some(s) => serde_json::from_str(&s).map(Some).map_err(|_| damaged(field, Some(&s), "not JSON")),
            }
        };
        let args = json("args")?.ok_or_else(|| damaged("args", None, "missing"))?;
        let progress = json("progress")?
            .map(|v| {
                serde_json::from_value(v.clone())
                    .map_err(|_| damaged("progress", Some(&v.to_string()), "not a progress object"))
            })
            .transpose()?;
        let meta = json("meta")?.unwrap_or_else(|| Value::Object(Default::default()));
        let result = json("result")?;
        let error = json("error")?
            .map(|v| {
                serde_json::from_value(v.clone())
                    .map_err(|_| damaged("error", Some(&v.to_string()), "not an error object"))
            })
            .transpose()?;
        let retry = json("retry")?
            .map(|v| {
                serde_json::from_value(v.clone())
                    .map_err(|_| damaged("retry", Some(&v.to_string()), "not a retry policy"))
            })
            .transpose()?;
        let errors = json("errors")?
            .map(|v| {
                serde_json::from_value(v.clone())
                    .map_err(|_| damaged("errors", Some(&v.to_string()), "not a list of attempt errors"))
            })
            .transpose()?
            .unwrap_or_default();
        let status = h.get("status").map(String::as_str);
        let status = status.and_then(Status::parse).ok_or_else(|| damaged("status", status, "not a job status"))?;
        let attempts = match h.get("attempts") {
            None => 0,
            Some(a) => a.parse().map_err(|_| damaged("attempts", Some(a), "not a count of runs"))?,
        };
        let timeout = h.get("timeout").map(String::as_str);
        let timeout =
            parse_timeout(timeout).ok_or_else(|| damaged("timeout", timeout, "not a number of seconds above 0"))?;
        let task = h.remove("task").ok_or_else(|| damaged("task", None, "missing"))?;
        let queue = h.remove("queue").ok_or_else(|| damaged("queue", None, "missing"))?;
        let created_at = h.remove("created_at").ok_or_else(|| damaged("created_at", None, "missing"))?;
        Ok(Some(Job {
            id: id.to_owned(),
            task,
            args,
            queue,
            status,
            enqueued_at: h.remove("enqueued_at").unwrap_or_else(|| created_at.clone()),
            created_at,
            started_at: h.remove("started_at"),
            ended_at: h.remove("ended_at"),
            progress,
            meta,
            result,
            error,
            attempts,
            timeout,
            idempotency_key: h.remove("idem").filter(|s| !s.is_empty()),
            worker: h.remove("worker").filter(|s| !s.is_empty()),
            run_at: h.remove("run_at").filter(|s| !s.is_empty()),
            retry,
            errors,
            schedule: h.remove("schedule").filter(|s| !s.is_empty()),
            tick: h.remove("tick").filter(|s| !s.is_empty()),
        }))
    }
}

/// A stored timeout: a finite number of seconds above 0; `None` for anything else.
pub fn parse_timeout(stored: Option<&str>) -> Option<f64> {
    stored?.parse::<f64>().ok().filter(|t| t.is_finite() && *t > 0.0)
}

/// The current time as stored: RFC 3339, UTC, microseconds.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Milliseconds since the Unix epoch, the score of time-ordered sets.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_is_rounded_and_capped() {
        assert_eq!(Progress::new(1, 3, None).percent, 33.3);
        assert_eq!(Progress::new(5, 3, None).percent, 100.0);
        assert_eq!(Progress::new(0, 0, None).percent, 0.0);
    }

    #[test]
    fn status_names_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert!(Status::Failed.is_ended() && !Status::CancelRequested.is_ended());
    }

    fn stored(fields: &[(&str, &str)]) -> HashMap<String, String> {
        let mut h: HashMap<String, String> = [
            ("task", "long_task"),
            ("args", "{}"),
            ("queue", "default"),
            ("status", "queued"),
            ("created_at", "2026-11-29T10:49:28.123456Z"),
            ("timeout", "600"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        h.extend(fields.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        h
    }

    #[test]
    fn a_stored_value_taskq_never_writes_is_an_error_naming_job_and_field() {
        let job = Job::from_hash("j1", stored(&[])).unwrap().unwrap();
        assert_eq!((job.timeout, job.attempts, job.status), (600.0, 0, Status::Queued));
        assert_eq!(Job::from_hash("j1", HashMap::new()), Ok(None));
        for (field, value) in [
            ("timeout", "ten"),
            ("timeout", "0"),
            ("timeout", "NaN"),
            ("status", "paused"),
            ("attempts", "-1"),
            ("args", "{"),
            ("progress", "[1]"),
            ("error", "\"boom\""),
        ] {
            let e = Job::from_hash("j1", stored(&[(field, value)])).unwrap_err();
            assert_eq!((e.id.as_str(), e.field, e.value.as_str()), ("j1", field, value));
            assert!(e.to_string().starts_with(&format!("job j1: stored {field} ")), "{e}");
        }
    }

    #[test]
    fn retry_waits_grow_and_stay_within_bounds() {
        let p = RetryPolicy { max: 5, backoff: 1.0, backoff_max: 5.0 };
        let secs = |n, u| p.delay(n, u).as_secs_f64();
        assert_eq!((secs(1, 0.0), secs(1, 1.0)), (0.5, 1.0));
        assert_eq!((secs(2, 0.0), secs(2, 1.0)), (1.0, 2.0));
        assert_eq!((secs(4, 0.0), secs(4, 1.0)), (2.5, 5.0), "capped at backoff_max");
        assert_eq!(secs(u32::MAX, 0.5), 3.75);
        assert_eq!(p.max_attempts(), 6);
    }

    #[test]
    fn times_have_microseconds() {
        let t = now_rfc3339();
        assert_eq!(t.len(), "2026-11-29T10:49:28.123456Z".len(), "{t}");
        assert!(t.ends_with('Z'));
    }
}
