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
    pub const ALL: [Status; 6] =
        [Status::Queued, Status::Started, Status::CancelRequested, Status::Finished, Status::Failed, Status::Canceled];

    /// The states with a registry of ended jobs.
    pub const ENDED: [Status; 3] = [Status::Finished, Status::Failed, Status::Canceled];

    /// The name stored in Redis and shown by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
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
    /// died too often), `unknown_task`, `invalid_args`, or `panic`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Human-readable detail.
    pub message: String,
}

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
}

impl Job {
    /// Builds a job from its hash; `None` if the hash is missing or damaged.
    pub fn from_hash(id: &str, mut h: HashMap<String, String>) -> Option<Job> {
        fn json<T: serde::de::DeserializeOwned>(v: Option<String>) -> Option<T> {
            v.and_then(|s| serde_json::from_str(&s).ok())
        }
        let status = Status::parse(h.get("status")?)?;
        Some(Job {
            id: id.to_owned(),
            task: h.remove("task")?,
            args: json(h.remove("args")).unwrap_or(Value::Null),
            queue: h.remove("queue")?,
            status,
            enqueued_at: h.remove("enqueued_at").or_else(|| h.get("created_at").cloned()).unwrap_or_default(),
            created_at: h.remove("created_at").unwrap_or_default(),
            started_at: h.remove("started_at"),
            ended_at: h.remove("ended_at"),
            progress: json(h.remove("progress")),
            meta: json(h.remove("meta")).unwrap_or_else(|| Value::Object(Default::default())),
            result: json(h.remove("result")),
            error: json(h.remove("error")),
            attempts: h.get("attempts").and_then(|a| a.parse().ok()).unwrap_or(0),
            timeout: h.get("timeout").and_then(|a| a.parse().ok()).unwrap_or(0.0),
            idempotency_key: h.remove("idem").filter(|s| !s.is_empty()),
            worker: h.remove("worker").filter(|s| !s.is_empty()),
        })
    }
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

    #[test]
    fn times_have_microseconds() {
        let t = now_rfc3339();
        assert_eq!(t.len(), "2026-11-29T10:49:28.123456Z".len(), "{t}");
        assert!(t.ends_with('Z'));
    }
}
