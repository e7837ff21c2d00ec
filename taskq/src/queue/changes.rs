//! Changes of jobs' state: enqueue, cancel, purge, requeue, reschedule, and
//! the move of due scheduled and retrying jobs onto their queues. Each change
//! of one job is one script call; purge, `requeue_failed` and `promote_due`
//! go in bounded batches so that no call holds Redis for long.

use redis::AsyncCommands;
use serde::Serialize;
use serde_json::Value;

use super::{Error, Queue, is_job_id, stored_status};
use crate::catalogue;
use crate::idempotency;
use crate::job::{RetryPolicy, Status, now_ms, now_rfc3339};
use crate::scripts;

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// Task name from the catalogue.
    pub task: String,
    /// Its arguments.
    pub args: Value,
    /// Queue to put it on.
    pub queue: String,
    /// A client-chosen idempotency key; by default the key is derived from
    /// the task and its arguments.
    pub idempotency_key: Option<String>,
    /// Run-time limit in seconds; TASK_TIMEOUT by default.
    pub timeout: Option<f64>,
    /// Seconds the task expects to run (TASK_TIMEOUT when unknown); plus
    /// IDEMP_MARGIN, recorded with the job. The idempotency key has no TTL:
    /// it lives as long as the job.
    pub duration: Option<f64>,
    /// When it may run: it waits as `scheduled` until then. `None` or a time
    /// not after now: at once. At most [`MAX_DELAY`] ahead.
    pub run_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Its retry policy; by default the task's in the catalogue, else
    /// RETRY_MAX, RETRY_BACKOFF and RETRY_BACKOFF_MAX.
    pub retry: Option<RetryPolicy>,
}

/// How far ahead a job may be scheduled: one year.
pub const MAX_DELAY: std::time::Duration = std::time::Duration::from_secs(366 * 86_400);

impl NewJob {
    /// A job of any `task` with `args` on `queue`, unchecked: for tasks of
    /// your own that are not in the catalogue.
    pub fn new(task: impl Into<String>, args: Value, queue: impl Into<String>) -> Self {
        Self {
            task: task.into(),
            args,
            queue: queue.into(),
            idempotency_key: None,
            timeout: None,
            duration: None,
            run_at: None,
            retry: None,
        }
    }

    /// A job of a catalogue task, its arguments checked and its duration read
    /// from them: what the HTTP API enqueues.
    pub fn from_catalogue(task: &str, args: Value, queue: impl Into<String>) -> Result<Self, Error> {
        let spec = catalogue::find(task).ok_or_else(|| Error::UnknownTask(task.to_owned()))?;
        let duration = (spec.validate)(&args).map_err(Error::InvalidArgs)?;
        Ok(Self { duration, retry: spec.retry, ..Self::new(task, args, queue) })
    }

    /// [`NewJob::from_catalogue`] for a worker whose TASK_TIMEOUT is
    /// `task_timeout`: a task that declares a `duration` of that or more
    /// could only time out, so it is refused, naming the limit.
    pub fn from_catalogue_within(
        task: &str,
        args: Value,
        queue: impl Into<String>,
        task_timeout: std::time::Duration,
    ) -> Result<Self, Error> {
        let job = Self::from_catalogue(task, args, queue)?;
        if let Some(d) = job.duration {
            catalogue::check_timeout(d, task_timeout).map_err(Error::InvalidArgs)?;
        }
        Ok(job)
    }
}

/// What enqueue did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Enqueued {
    /// A new job.
    Created {
        /// Its id.
        job_id: String,
        /// Its queue.
        queue: String,
    },
    /// The idempotency key is held by an existing job.
    Duplicate {
        /// Always true.
        duplicate: bool,
        /// The existing job.
        job_id: String,
    },
}

impl Enqueued {
    /// The id of the new or existing job.
    pub fn job_id(&self) -> &str {
        match self {
            Enqueued::Created { job_id, .. } | Enqueued::Duplicate { job_id, .. } => job_id,
        }
    }
}

/// What cancel did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// It was queued; it is canceled and will never run.
    Canceled,
    /// It is running; its worker was asked to stop it.
    CancelRequested,
    /// It had already ended in this state.
    AlreadyEnded(Status),
    /// No such job.
    NotFound,
}

/// What requeue did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequeueOutcome {
    /// Back on its queue.
    Requeued,
    /// Only failed and canceled jobs are requeued; it is in this state.
    NotRequeueable(Status),
    /// No such job.
    NotFound,
}

/// What reschedule did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RescheduleOutcome {
    /// Its time had come: it is on its queue now.
    Queued,
    /// It waits, in this state, until this time (RFC 3339).
    Waiting(Status, String),
    /// Only scheduled and retrying jobs are rescheduled; it is in this state.
    NotWaiting(Status),
    /// No such job.
    NotFound,
}

/// Most retries a policy may give.
pub const MAX_RETRIES: u32 = 100;
/// Longest first wait of a retry policy, seconds (one day).
pub const MAX_RETRY_BACKOFF: f64 = 86_400.0;
/// Longest wait of a retry policy, seconds (one week).
pub const MAX_RETRY_BACKOFF_MAX: f64 = 604_800.0;

/// Checks a retry policy's bounds: `max` 0..=100, `backoff` above 0 and at
/// most a day, `backoff_max` from `backoff` to a week. The error names the
/// field (`retry.max`, `retry.backoff`, `retry.backoff_max`).
pub fn check_retry(p: &RetryPolicy) -> Result<(), Error> {
    let invalid = |field, message: String| Err(Error::Invalid { field, message });
    if p.max > MAX_RETRIES {
        return invalid("retry.max", format!("must be a whole number of retries from 0 to {MAX_RETRIES}"));
    }
    if !(p.backoff.is_finite() && p.backoff > 0.0 && p.backoff <= MAX_RETRY_BACKOFF) {
        return invalid(
            "retry.backoff",
            format!("must be a number of seconds above 0 and at most {MAX_RETRY_BACKOFF}"),
        );
    }
    if !(p.backoff_max.is_finite() && p.backoff_max >= p.backoff && p.backoff_max <= MAX_RETRY_BACKOFF_MAX) {
        return invalid(
            "retry.backoff_max",
            format!("must be a number of seconds from retry.backoff ({}) to {MAX_RETRY_BACKOFF_MAX}", p.backoff),
        );
    }
    Ok(())
}

/// Ids popped per purge call: bounds the time one script holds Redis.
const PURGE_BATCH: usize = 500;

/// Failed ids read per round of `requeue_failed`.
const REQUEUE_BATCH: usize = 500;

impl Queue {
    /// The retry policy a job of `task` gets when its request gives none:
    /// the task's in the catalogue, else the configured one (RETRY_MAX,
    /// RETRY_BACKOFF, RETRY_BACKOFF_MAX), `max` 0 included. A request that
    /// gives only some fields takes the others from it.
    pub fn retry_defaults(&self, task: &str) -> RetryPolicy {
        catalogue::find(task).and_then(|t| t.retry).unwrap_or_else(|| self.cfg.retry_defaults())
    }

    /// The policy a job is stored with: its own, else its task's, else the
    /// configured one; checked ([`check_retry`]); `None` when it is never
    /// retried (`max` 0). What [`Queue::enqueue`] stores (as JSON, in the
    /// job hash's `retry` field), for other scripts that make jobs.
    pub fn resolve_retry(&self, job: &NewJob) -> Result<Option<RetryPolicy>, Error> {
        let p = job.retry.unwrap_or_else(|| self.retry_defaults(&job.task));
        check_retry(&p)?;
        Ok(Some(p).filter(|p| p.max > 0))
    }

    /// What a new job's hash records of its limits: its timeout (seconds), its
    /// `idem_ttl` (duration plus IDEMP_MARGIN, at least 1 s) and its retry
    /// policy as JSON ('' when never retried). For every script that makes a job.
    pub(super) fn stored_limits(&self, job: &NewJob) -> Result<(f64, u64, String), Error> {
        let retry = match self.resolve_retry(job)? {
            Some(p) => serde_json::to_string(&p).expect("a retry policy serializes"),
            None => String::new(),
        };
        let timeout = job.timeout.unwrap_or(self.cfg.task_timeout.as_secs_f64());
        let ttl =
            job.duration.unwrap_or(self.cfg.task_timeout.as_secs_f64()).ceil() as u64 + self.cfg.idemp_margin.as_secs();
        Ok((timeout, ttl.max(1), retry))
    }

    /// Enqueues a job unless an identical one holds the idempotency key (the
    /// answer is then that job), or its queue already holds MAX_QUEUED waiting
    /// jobs ([`Error::QueueFull`], nothing written). A job whose `run_at` is
    /// after now waits as `scheduled` until then (scheduled jobs do not count
    /// against MAX_QUEUED); one beyond [`MAX_DELAY`] is
    /// [`Error::Invalid`] (`run_at`), nothing written. Its retry policy is
    /// `job.retry`, else its task's, else the configured one; one out of
    /// bounds is [`Error::Invalid`] naming the field (see [`check_retry`]).
    pub async fn enqueue(&self, job: &NewJob) -> Result<Enqueued, Error> {
        if !self.has_queue(&job.queue) {
            return Err(Error::UnknownQueue(job.queue.clone()));
        }
        let (timeout, ttl, retry) = self.stored_limits(job)?;
        let (run_at_ms, run_at) = match job.run_at {
            Some(t) => due(t)?.unwrap_or_default(),
            None => (0, String::new()),
        };
        let digest = idempotency::digest(&job.task, &job.args, job.idempotency_key.as_deref());
        let id = uuid::Uuid::new_v4().to_string();
        let mut c = self.conn.clone();
        let mut call = scripts::ENQUEUE.key(self.keys.job(&id));
        call.key(self.keys.queue(&job.queue))
            .key(self.keys.idempotency(&digest))
            .key(self.keys.wake())
            .key(self.keys.tombstones(&job.queue))
            .key(self.keys.pushed(&job.queue));
        if run_at_ms > 0 {
            call.key(self.keys.waiting(&job.queue, Status::Scheduled));
        }
        call.arg(&id)
            .arg(ttl.max(1))
            .arg(&job.task)
            .arg(job.args.to_string())
            .arg(&job.queue)
            .arg(now_rfc3339())
            .arg(timeout)
            .arg(self.cfg.max_queued);
        // A job for now with no retry policy, the common one, sends no more:
        // each key and value costs the script a string.
        if run_at_ms > 0 || !retry.is_empty() {
            call.arg(run_at_ms).arg(run_at).arg(retry);
        }
        let answer: redis::Value = call.invoke_async(&mut c).await?;
        if let redis::Value::Int(waiting) = answer {
            let (queue, limit) = (job.queue.clone(), self.cfg.max_queued);
            return Err(Error::QueueFull { queue, waiting: waiting.max(0) as u64, limit });
        }
        let holder: Option<String> = redis::from_redis_value(answer).map_err(redis::RedisError::from)?;
        Ok(match holder {
            Some(existing) => Enqueued::Duplicate { duplicate: true, job_id: existing },
            None => Enqueued::Created { job_id: id, queue: job.queue.clone() },
        })
    }

    /// Cancels a job: at once if queued, scheduled or retrying, cooperatively
    /// if running.
    pub async fn cancel(&self, id: &str) -> Result<CancelOutcome, Error> {
        if !is_job_id(id) {
            return Ok(CancelOutcome::NotFound);
        }
        let mut c = self.conn.clone();
        let r: Option<(i64, String)> = scripts::CANCEL
            .key(self.keys.job(id))
            .key(self.keys.ended_prefix())
            .key(self.keys.tombstones_prefix())
            .key(self.keys.waiting_prefix())
            .arg(id)
            .arg(now_rfc3339())
            .arg(now_ms())
            .arg(self.cfg.result_ttl.as_secs())
            .arg(self.keys.cancel_channel())
            .invoke_async(&mut c)
            .await?;
        Ok(match r {
            None => CancelOutcome::NotFound,
            Some((1, s)) if s == "canceled" => CancelOutcome::Canceled,
            Some((1, _)) => CancelOutcome::CancelRequested,
            Some((_, s)) => CancelOutcome::AlreadyEnded(stored_status(id, &s)?),
        })
    }

    /// Cancels every job waiting in `queue`; returns how many.
    pub async fn purge(&self, queue: &str) -> Result<u64, Error> {
        if !self.has_queue(queue) {
            return Err(Error::UnknownQueue(queue.to_owned()));
        }
        let mut c = self.conn.clone();
        let qkey = self.keys.queue(queue);
        // Only what was queued when the purge began: jobs enqueued meanwhile stay.
        let mut left: usize = c.llen(&qkey).await?;
        let mut purged = 0;
        while left > 0 {
            let (popped, n): (usize, u64) = scripts::PURGE
                .key(&qkey)
                .key(self.keys.tombstones(queue))
                .key(self.keys.job_prefix())
                .key(self.keys.ended(queue, Status::Canceled))
                .arg(now_rfc3339())
                .arg(now_ms())
                .arg(self.cfg.result_ttl.as_secs())
                .arg(left.min(PURGE_BATCH))
                .invoke_async(&mut c)
                .await?;
            purged += n;
            if popped == 0 {
                break;
            }
            left = left.saturating_sub(popped);
        }
        Ok(purged)
    }

    /// Puts a failed or canceled job back on its queue.
    pub async fn requeue(&self, id: &str) -> Result<RequeueOutcome, Error> {
        if !is_job_id(id) {
            return Ok(RequeueOutcome::NotFound);
        }
        let mut c = self.conn.clone();
        let r: Option<(i64, String)> = scripts::REQUEUE
            .key(self.keys.job(id))
            .key(self.keys.ended_prefix())
            .key(self.keys.queue_prefix())
            .key(self.keys.wake())
            .key(self.keys.pushed_prefix())
            .arg(id)
            .arg(now_rfc3339())
            .invoke_async(&mut c)
            .await?;
        Ok(match r {
            None => RequeueOutcome::NotFound,
            Some((1, _)) => RequeueOutcome::Requeued,
            Some((_, s)) => RequeueOutcome::NotRequeueable(stored_status(id, &s)?),
        })
    }

    /// Moves a scheduled or retrying job to another time: `None` (or a time
    /// not after now) puts it on its queue now.
    pub async fn reschedule(
        &self,
        id: &str,
        run_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<RescheduleOutcome, Error> {
        let when = match run_at {
            Some(t) => due(t)?,
            None => None,
        };
        if !is_job_id(id) {
            return Ok(RescheduleOutcome::NotFound);
        }
        let (ms, at) = when.unwrap_or((0, String::new()));
        let mut c = self.conn.clone();
        let r: Option<(i64, String, String)> = scripts::RESCHEDULE
            .key(self.keys.job(id))
            .key(self.keys.waiting_prefix())
            .key(self.keys.queue_prefix())
            .key(self.keys.pushed_prefix())
            .key(self.keys.wake())
            .arg(id)
            .arg(ms)
            .arg(at)
            .arg(now_rfc3339())
            .invoke_async(&mut c)
            .await?;
        Ok(match r {
            None => RescheduleOutcome::NotFound,
            Some((1, _, _)) => RescheduleOutcome::Queued,
            Some((2, s, at)) => RescheduleOutcome::Waiting(stored_status(id, &s)?, at),
            Some((_, s, _)) => RescheduleOutcome::NotWaiting(stored_status(id, &s)?),
        })
    }

    /// Moves up to `batch` due scheduled and retrying jobs of every queue
    /// onto their queues, in one script call; returns how many it moved. Its
    /// cost does not grow with the number of waiting jobs. Workers call it in
    /// a loop; whichever calls first moves a job, once. Queues are served in
    /// priority order, soonest due first within each: a call that fills its
    /// batch from the first queue leaves the others to the next call. Each
    /// job goes on the back of its queue; ids whose job is gone or no longer
    /// waiting are dropped from their set (they count against the batch).
    pub async fn promote_due(&self, batch: usize) -> Result<u64, Error> {
        if batch == 0 {
            return Ok(0);
        }
        let mut script = scripts::PROMOTE.key(self.keys.wake());
        script.key(self.keys.job_prefix());
        for q in &self.cfg.queues {
            script
                .key(self.keys.waiting(q, Status::Scheduled))
                .key(self.keys.waiting(q, Status::Retrying))
                .key(self.keys.queue(q))
                .key(self.keys.pushed(q));
        }
        let mut c = self.conn.clone();
        let moved: u64 = script.arg(now_ms()).arg(now_rfc3339()).arg(batch).invoke_async(&mut c).await?;
        Ok(moved)
    }

    /// Requeues every failed job of `queue` (all queues when `None`) that had
    /// failed when the call began; returns how many. Jobs that fail again
    /// meanwhile (their end time is later) stay failed: the call always ends.
    pub async fn requeue_failed(&self, queue: Option<&str>) -> Result<u64, Error> {
        let began = now_ms();
        let mut n = 0;
        for q in self.queues_or(queue)? {
            let key = self.keys.ended(&q, Status::Failed);
            let mut c = self.conn.clone();
            // At most what was there at the start, even if an end time comes
            // from a clock behind this one.
            let mut left: usize = c.zcount(&key, "-inf", began).await?;
            while left > 0 {
                let ids: Vec<String> = redis::cmd("ZRANGE")
                    .arg(&key)
                    .arg("-inf")
                    .arg(began)
                    .arg("BYSCORE")
                    .arg("LIMIT")
                    .arg(0)
                    .arg(left.min(REQUEUE_BATCH))
                    .query_async(&mut c)
                    .await?;
                if ids.is_empty() {
                    break;
                }
                left = left.saturating_sub(ids.len());
                for id in &ids {
                    if self.requeue(id).await? == RequeueOutcome::Requeued {
                        n += 1;
                    } else {
                        // Expired or changed meanwhile: drop it from the registry.
                        let _: () = c.zrem(&key, id).await?;
                    }
                }
            }
        }
        Ok(n)
    }
}

/// The due time of a job asked to run at `t`: `None` when `t` is not after
/// now (it runs at once), else its score (ms since the epoch, rounded up so
/// that it never enters its queue before `t`) and `t` as stored (RFC 3339).
/// A time beyond now plus [`MAX_DELAY`] is [`Error::Invalid`] (`run_at`).
fn due(t: chrono::DateTime<chrono::Utc>) -> Result<Option<(i64, String)>, Error> {
    let now = chrono::Utc::now();
    if t <= now {
        return Ok(None);
    }
    let max = chrono::Duration::from_std(MAX_DELAY).expect("a year fits");
    if t > now + max {
        return Err(Error::Invalid {
            field: "run_at",
            message: format!("{} is more than {} days ahead", t.to_rfc3339(), MAX_DELAY.as_secs() / 86_400),
        });
    }
    let ms = t.timestamp_millis() + i64::from(!t.timestamp_subsec_nanos().is_multiple_of(1_000_000));
    Ok(Some((ms, t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))))
}
