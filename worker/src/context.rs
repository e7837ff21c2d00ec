//! What a running task sees of its job: id, attempt, progress and meta
//! reporting, and cancellation (as a future and as a cheap flag).

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use taskq::{Connection, Progress, scripts};
use tokio_util::sync::CancellationToken;

use crate::task::TaskError;

/// Progress and meta are written at most this often; the last value is
/// always written (with the job's end).
pub const PROGRESS_INTERVAL: Duration = Duration::from_millis(200);

/// Why a job's cancellation token fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum StopReason {
    /// Still running normally.
    None = 0,
    /// A client asked to cancel it.
    Canceled = 1,
    /// It ran past its timeout.
    Timeout = 2,
    /// The worker is shutting down and the grace period is over.
    Shutdown = 3,
    /// The job was taken from this worker (its heartbeat lapsed).
    Lost = 4,
    /// The run is over (its end is being written): a later reason changes nothing.
    Ended = 5,
}

/// A job's cancellation token with the reason it fired; the first reason wins.
#[derive(Clone, Default)]
pub struct Stop {
    token: CancellationToken,
    reason: Arc<AtomicU8>,
}

impl Stop {
    /// Fires the token with `reason` unless it fired already; returns
    /// whether `reason` is the one that stuck.
    pub fn fire(&self, reason: StopReason) -> bool {
        let first = self.reason.compare_exchange(0, reason as u8, Ordering::AcqRel, Ordering::Acquire).is_ok();
        self.token.cancel();
        first
    }

    /// Why it fired.
    pub fn reason(&self) -> StopReason {
        match self.reason.load(Ordering::Acquire) {
            1 => StopReason::Canceled,
            2 => StopReason::Timeout,
            3 => StopReason::Shutdown,
            4 => StopReason::Lost,
            5 => StopReason::Ended,
            _ => StopReason::None,
        }
    }

    /// The token.
    pub fn token(&self) -> &CancellationToken {
        &self.token
    }
}

/// Where progress writes go.
#[derive(Clone)]
pub(crate) struct Reporter {
    pub conn: Connection,
    pub job_key: String,
    pub worker: Arc<str>,
}

#[derive(Default)]
struct Report {
    progress: Option<Progress>,
    meta: Map<String, Value>,
    meta_set: bool,
    dirty: bool,
    last_write: Option<Instant>,
    flush_scheduled: bool,
}

impl Report {
    fn snapshot(&mut self) -> (String, String) {
        self.dirty = false;
        self.last_write = Some(Instant::now());
        let progress = self.progress.as_ref().map(|p| serde_json::to_string(p).unwrap_or_default()).unwrap_or_default();
        let meta = if self.meta_set { Value::Object(self.meta.clone()).to_string() } else { String::new() };
        (progress, meta)
    }
}

struct Inner {
    id: String,
    queue: String,
    attempt: u32,
    stop: Stop,
    report: Mutex<Report>,
    reporter: Reporter,
}

/// Handed to every task run. Cheap to clone.
#[derive(Clone)]
pub struct JobContext {
    inner: Arc<Inner>,
}

impl JobContext {
    pub(crate) fn new(id: String, queue: String, attempt: u32, stop: Stop, reporter: Reporter) -> Self {
        Self { inner: Arc::new(Inner { id, queue, attempt, stop, report: Mutex::default(), reporter }) }
    }

    /// The job's id.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// The queue it came from.
    pub fn queue(&self) -> &str {
        &self.inner.queue
    }

    /// Which run this is: 1 for the first; more for a retry after a failed
    /// attempt (see `taskq::RetryPolicy`) or a run after a crash recovery.
    pub fn attempt(&self) -> u32 {
        self.inner.attempt
    }

    /// Whether the job should stop (canceled, timed out, or the worker is stopping).
    pub fn is_cancelled(&self) -> bool {
        self.inner.stop.token.is_cancelled()
    }

    /// Completes when the job should stop; `select!` on it around long work.
    pub async fn cancelled(&self) {
        self.inner.stop.token.cancelled().await
    }

    /// Waits `d`, or returns `Err(Canceled)` as soon as the job should stop.
    pub async fn sleep(&self, d: Duration) -> Result<(), TaskError> {
        tokio::select! {
            _ = tokio::time::sleep(d) => Ok(()),
            _ = self.cancelled() => Err(TaskError::Canceled),
        }
    }

    /// Reports `done` of `total` steps, with an optional message.
    pub async fn progress(&self, done: u64, total: u64, message: impl Into<Option<String>>) {
        let p = Progress::new(done, total, message.into());
        self.update(|r| r.progress = Some(p)).await
    }

    /// Sets one field of the job's meta object.
    pub async fn set_meta(&self, key: &str, value: impl serde::Serialize) {
        let v = serde_json::to_value(value).unwrap_or(Value::Null);
        self.update(|r| {
            r.meta.insert(key.to_owned(), v);
            r.meta_set = true;
        })
        .await
    }

    /// The last progress and meta as JSON ('' when never set), for the finish script.
    pub(crate) fn final_report(&self) -> (String, String) {
        self.inner.report.lock().expect("report lock").snapshot()
    }

    /// Applies a change, then writes now if the last write is old enough, or
    /// schedules one write for when it will be.
    async fn update(&self, change: impl FnOnce(&mut Report)) {
        let due = {
            let mut r = self.inner.report.lock().expect("report lock");
            change(&mut r);
            r.dirty = true;
            match r.last_write.map(|t| t.elapsed()) {
                Some(age) if age < PROGRESS_INTERVAL => {
                    if !r.flush_scheduled {
                        r.flush_scheduled = true;
                        let ctx = self.clone();
                        tokio::spawn(async move {
                            tokio::time::sleep(PROGRESS_INTERVAL - age).await;
                            ctx.flush().await;
                        });
                    }
                    None
                }
                _ => Some(r.snapshot()),
            }
        };
        if let Some(snapshot) = due {
            self.write(snapshot).await;
        }
    }

    async fn flush(&self) {
        let due = {
            let mut r = self.inner.report.lock().expect("report lock");
            r.flush_scheduled = false;
            r.dirty.then(|| r.snapshot())
        };
        if let Some(snapshot) = due {
            self.write(snapshot).await;
        }
    }

    async fn write(&self, (progress, meta): (String, String)) {
        let rep = &self.inner.reporter;
        let mut conn = rep.conn.clone();
        let r: redis::RedisResult<i64> =
            scripts::PROGRESS.key(&rep.job_key).arg(&*rep.worker).arg(progress).arg(meta).invoke_async(&mut conn).await;
        if let Err(e) = r {
            // Progress is advisory; the final value goes with the job's end.
            tracing::debug!(job_id = %self.inner.id, error = %e, "progress not written");
        }
    }
}
