//! The bodies the API reads and writes. The OpenAPI document is generated
//! from these types, and the handlers serialize exactly these types, so the
//! document cannot drift from the wire.
//!
//! Several types here mirror a `taskq` type field for field (`Job`,
//! `Enqueued`, `Progress`, `WorkerInfo`, ...). They stay: the document is
//! made from `utoipa::ToSchema` types, and `taskq` must not depend on utoipa
//! (the worker links taskq and needs no schemas; the functions' binaries
//! never build the document). They are also the API's own contract: `job_id` not `id`,
//! no idempotency key, field docs written for clients.
//!
//! Conversions from the `taskq` types destructure them without `..`: a field
//! added there does not compile here until the API decides what to show.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use taskq::{
    AttemptError, Enqueued, Job, JobError, JobPage, Progress, QueueCounts, RetryPolicy, Status, WorkerInfo,
    queue::MinuteStats,
    schedule::{Missed, Schedule, ScheduleSpec},
};
use utoipa::ToSchema;

/// POST /tasks: the starter's body.
///
/// `task_name` is any task of the catalogue. Its arguments are made from the
/// other fields: `long_task` gets `{"duration", "payload"}`; every other task
/// gets the fields of `payload` plus `duration` (so `task_a` is
/// `{"task_name": "task_a", "duration": 5, "payload": {"user_id": 7}}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"task_name": "long_task", "duration": 10, "payload": {"usuario_id": 123}, "high": false}))]
pub struct EnqueueRequest {
    /// A task of the catalogue: `long_task`, `task_a` or `task_b`.
    pub task_name: String,
    /// Seconds the task works, from 0 to 86400.
    pub duration: f64,
    /// The task's data: echoed by `long_task`, the arguments of other tasks.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub payload: Map<String, Value>,
    /// `true` puts the job on the first queue of QUEUES (`high` by default),
    /// `false` on the last one (`default`).
    #[serde(default)]
    pub high: bool,
    /// Seconds to wait before the job enters its queue, 0 to 31622400
    /// (366 days); the job is `scheduled` meanwhile. Not with `run_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 31_622_400)]
    pub delay: Option<f64>,
    /// When the job enters its queue (RFC 3339 with an offset), at most 366
    /// days ahead; up to 60 s in the past means now. Not with `delay`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_at: Option<String>,
    /// Retries of failed attempts; fields not given come from the task's
    /// policy, else RETRY_MAX, RETRY_BACKOFF and RETRY_BACKOFF_MAX.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryRequest>,
}

/// POST /tasks/a and /tasks/b: the starter's body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"user_id": 123, "duration": 5, "high": false}))]
pub struct UserTaskRequest {
    /// The user concerned.
    pub user_id: i64,
    /// Seconds the task works, from 0 to 86400.
    pub duration: f64,
    /// `true` puts the job on the first queue of QUEUES (`high` by default),
    /// `false` on the last one (`default`).
    #[serde(default)]
    pub high: bool,
    /// Seconds to wait before the job enters its queue, 0 to 31622400
    /// (366 days); the job is `scheduled` meanwhile. Not with `run_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 31_622_400)]
    pub delay: Option<f64>,
    /// When the job enters its queue (RFC 3339 with an offset), at most 366
    /// days ahead; up to 60 s in the past means now. Not with `delay`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_at: Option<String>,
    /// Retries of failed attempts; fields not given come from the task's
    /// policy, else RETRY_MAX, RETRY_BACKOFF and RETRY_BACKOFF_MAX.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryRequest>,
}

/// A request's retry policy: each field optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"max": 3, "backoff": 2, "backoff_max": 60}))]
pub struct RetryRequest {
    /// Retries after the first attempt, 0 to 100 (0: never retried).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 100)]
    pub max: Option<u32>,
    /// Base wait in seconds, above 0 and at most 86400.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(exclusive_minimum = 0, maximum = 86_400)]
    pub backoff: Option<f64>,
    /// Longest wait in seconds, from `backoff` to 604800.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(exclusive_minimum = 0, maximum = 604_800)]
    pub backoff_max: Option<f64>,
}

/// A job's retry policy: retry number n waits a random time in `[d/2, d]`,
/// `d = min(backoff_max, backoff * 2^(n-1))` seconds.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RetryView {
    /// Retries after the first attempt.
    pub max: u32,
    /// Base wait, seconds.
    pub backoff: f64,
    /// Longest wait, seconds.
    pub backoff_max: f64,
}

impl From<RetryPolicy> for RetryView {
    fn from(p: RetryPolicy) -> Self {
        let RetryPolicy { max, backoff, backoff_max } = p;
        RetryView { max, backoff, backoff_max }
    }
}

/// The error of an earlier attempt of a job.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AttemptErrorView {
    /// Which attempt failed (1 for the first).
    pub attempt: u32,
    /// When it failed (RFC 3339).
    pub at: String,
    /// Why: `error`, `timeout` or `panic`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Detail for people.
    pub message: String,
}

impl From<AttemptError> for AttemptErrorView {
    fn from(e: AttemptError) -> Self {
        let AttemptError { attempt, at, error: JobError { kind, message } } = e;
        AttemptErrorView { attempt, at, kind, message }
    }
}

/// What an enqueue did: a new job, or the job that already holds the idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum EnqueueReply {
    /// A new job.
    Created {
        /// Its id.
        job_id: String,
        /// Its queue.
        queue: String,
        /// `scheduled` when it waits for its time (`delay` or `run_at`); absent when it is queued.
        #[serde(skip_serializing_if = "Option::is_none")]
        status: Option<JobStatus>,
        /// When it enters its queue (RFC 3339, UTC), if it waits.
        #[serde(skip_serializing_if = "Option::is_none")]
        run_at: Option<String>,
    },
    /// An identical request (or one with the same `Idempotency-Key`) made this job, which has not ended.
    Duplicate {
        /// Always `true`.
        duplicate: bool,
        /// The existing job.
        job_id: String,
    },
}

impl From<Enqueued> for EnqueueReply {
    fn from(e: Enqueued) -> Self {
        match e {
            Enqueued::Created { job_id, queue } => EnqueueReply::Created { job_id, queue, status: None, run_at: None },
            Enqueued::Duplicate { duplicate, job_id } => EnqueueReply::Duplicate { duplicate, job_id },
        }
    }
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Waiting in a queue.
    Queued,
    /// Waiting for its time (`delay` or `run_at`) before it enters its queue.
    Scheduled,
    /// Failed an attempt; waiting for its next one (at `run_at`).
    Retrying,
    /// Running on a worker.
    Started,
    /// Running, and asked to stop.
    CancelRequested,
    /// Ended with a result.
    Finished,
    /// Ended with an error.
    Failed,
    /// Ended because it was canceled.
    Canceled,
}

impl From<Status> for JobStatus {
    fn from(s: Status) -> Self {
        match s {
            Status::Queued => JobStatus::Queued,
            Status::Started => JobStatus::Started,
            Status::Scheduled => JobStatus::Scheduled,
            Status::Retrying => JobStatus::Retrying,
            Status::CancelRequested => JobStatus::CancelRequested,
            Status::Finished => JobStatus::Finished,
            Status::Failed => JobStatus::Failed,
            Status::Canceled => JobStatus::Canceled,
        }
    }
}

/// Progress written by the task.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ProgressView {
    /// Steps done.
    pub done: u64,
    /// Steps in all.
    pub total: u64,
    /// `done / total` as 0 to 100, one decimal.
    pub percent: f64,
    /// What the task is doing now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl From<Progress> for ProgressView {
    fn from(p: Progress) -> Self {
        let Progress { done, total, percent, message } = p;
        ProgressView { done, total, percent, message }
    }
}

/// Why a job failed.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct JobErrorView {
    /// `error` (the task returned an error), `permanent` (an error the task
    /// says no retry can fix), `timeout`, `abandoned` (its worker died too
    /// often), `unknown_task`, `invalid_args`, `invalid_job` or `panic`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Detail for people.
    pub message: String,
}

impl From<JobError> for JobErrorView {
    fn from(e: JobError) -> Self {
        let JobError { kind, message } = e;
        JobErrorView { kind, message }
    }
}

/// A job: GET /tasks/{job_id}, and each entry of GET /jobs.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct JobView {
    /// Its id (UUID v4).
    pub job_id: String,
    /// Task name.
    pub task: String,
    /// Arguments given at enqueue.
    #[schema(value_type = Object)]
    pub args: Value,
    /// Queue it was put on.
    pub queue: String,
    /// Current state.
    pub status: JobStatus,
    /// When it was first enqueued (RFC 3339, UTC, microseconds).
    pub created_at: String,
    /// When it was last put on its queue (later than `created_at` after a requeue).
    pub enqueued_at: String,
    /// When its current or last run started.
    pub started_at: Option<String>,
    /// When it ended.
    pub ended_at: Option<String>,
    /// Last progress written by the task.
    pub progress: Option<ProgressView>,
    /// Free-form metadata written by the task.
    #[schema(value_type = Object)]
    pub meta: Value,
    /// What the task returned, once finished.
    #[schema(value_type = Option<Object>)]
    pub result: Option<Value>,
    /// Why it failed, once failed.
    pub error: Option<JobErrorView>,
    /// Runs started so far.
    pub attempts: u32,
    /// Limit on one run, in seconds.
    pub timeout: f64,
    /// Worker running it, or that ran it last.
    pub worker: Option<String>,
    /// When it enters its queue, while `scheduled` or `retrying` (RFC 3339).
    pub run_at: Option<String>,
    /// Its retry policy; `null` when it is never retried.
    pub retry: Option<RetryView>,
    /// Attempts it may still start under its retry policy; `null` without one.
    pub attempts_left: Option<u32>,
    /// Errors of its earlier failed attempts, oldest first (the last 10);
    /// `error` holds the final one.
    pub errors: Vec<AttemptErrorView>,
    /// The schedule that made it, if any.
    pub schedule: Option<String>,
    /// The schedule's tick it was made for (RFC 3339), if a schedule made it.
    pub tick: Option<String>,
}

impl From<Job> for JobView {
    fn from(j: Job) -> Self {
        let attempts_left = j.attempts_left();
        let Job {
            id,
            task,
            args,
            queue,
            status,
            created_at,
            enqueued_at,
            started_at,
            ended_at,
            progress,
            meta,
            result,
            error,
            attempts,
            timeout,
            // Internal: the name of a Redis key.
            idempotency_key: _,
            worker,
            run_at,
            retry,
            errors,
            schedule,
            tick,
        } = j;
        JobView {
            job_id: id,
            task,
            args,
            queue,
            status: status.into(),
            created_at,
            enqueued_at,
            started_at,
            ended_at,
            progress: progress.map(Into::into),
            meta,
            result,
            error: error.map(Into::into),
            attempts,
            timeout,
            worker,
            run_at,
            retry: retry.map(Into::into),
            attempts_left,
            errors: errors.into_iter().map(Into::into).collect(),
            schedule,
            tick,
        }
    }
}

/// DELETE /tasks/{job_id} and POST /tasks/{job_id}/requeue: what became of the job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"job_id": "8b0c5ab4-3f7a-4d39-9e1e-1f6f1b2f4a10", "status": "canceled"}))]
pub struct JobStatusReply {
    /// The job.
    pub job_id: String,
    /// `canceled` (it was queued, scheduled or retrying), `cancel_requested`
    /// (it is running and will stop), or `queued` (requeued, or rescheduled to run now).
    pub status: JobStatus,
}

/// One queue's counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct QueueView {
    /// Queue name.
    pub name: String,
    /// Jobs waiting (the starter's `count`).
    pub count: u64,
    /// Jobs per state: queued, scheduled, retrying, started, cancel_requested,
    /// finished, failed, canceled. Scheduled and retrying jobs are not in
    /// `count` and do not count against MAX_QUEUED.
    pub states: BTreeMap<String, u64>,
}

impl From<QueueCounts> for QueueView {
    fn from(q: QueueCounts) -> Self {
        let QueueCounts { name, count, states } = q;
        QueueView { name, count, states: states.into_iter().map(|(k, v)| (k.to_owned(), v)).collect() }
    }
}

/// GET /queues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct QueuesReply {
    /// Every configured queue, in priority order.
    pub queues: Vec<QueueView>,
}

/// DELETE /queues/{queue_name}/purge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PurgeReply {
    /// The queue.
    pub queue: String,
    /// Jobs taken off it and canceled.
    pub purged: u64,
}

/// GET /jobs: one page.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct JobPageView {
    /// Jobs, newest first (scheduled and retrying: soonest due first).
    pub jobs: Vec<JobView>,
    /// Pass as `cursor` for the next page; absent on the last page. It names
    /// where this page stopped, so jobs added or ended meanwhile do not shift
    /// the next page.
    pub next_cursor: Option<String>,
}

impl From<JobPage> for JobPageView {
    fn from(p: JobPage) -> Self {
        let JobPage { jobs, next_cursor } = p;
        JobPageView { jobs: jobs.into_iter().map(Into::into).collect(), next_cursor }
    }
}

/// A live worker.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct WorkerView {
    /// Unique name (host, pid, random suffix).
    pub name: String,
    /// Queues it takes from, in priority order.
    pub queues: Vec<String>,
    /// Jobs it runs at once.
    pub concurrency: u64,
    /// `busy` or `idle`.
    pub state: String,
    /// Ids of the jobs it runs now.
    pub current_jobs: Vec<String>,
    /// Milliseconds since its last heartbeat.
    pub heartbeat_age_ms: i64,
    /// Jobs it finished.
    pub processed: u64,
    /// Jobs that failed on it.
    pub failed: u64,
    /// When it started (RFC 3339).
    pub started_at: String,
}

impl From<WorkerInfo> for WorkerView {
    fn from(w: WorkerInfo) -> Self {
        let WorkerInfo {
            name,
            queues,
            concurrency,
            state,
            current_jobs,
            heartbeat_age_ms,
            processed,
            failed,
            started_at,
        } = w;
        WorkerView {
            name,
            queues,
            concurrency,
            state: state.to_owned(),
            current_jobs,
            heartbeat_age_ms,
            processed,
            failed,
            started_at,
        }
    }
}

/// GET /workers.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct WorkersReply {
    /// Workers whose heartbeat is current.
    pub workers: Vec<WorkerView>,
}

/// Finished and failed counts of one minute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MinuteView {
    /// `YYYY-MM-DDTHH:MMZ`.
    pub minute: String,
    /// Jobs finished in that minute.
    pub finished: u64,
    /// Jobs failed in that minute.
    pub failed: u64,
}

impl From<MinuteStats> for MinuteView {
    fn from(m: MinuteStats) -> Self {
        let MinuteStats { minute, finished, failed } = m;
        MinuteView { minute, finished, failed }
    }
}

/// GET /stats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StatsReply {
    /// One entry per minute, oldest first, the current minute last.
    pub minutes: Vec<MinuteView>,
}

/// GET /health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"status": "ok", "redis": "ok"}))]
pub struct HealthReply {
    /// `ok`.
    pub status: String,
    /// `ok`: Redis answered.
    pub redis: String,
}

/// POST /tasks/{job_id}/reschedule: when the waiting job enters its queue.
/// An empty body or `{}` means now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"delay": 60}))]
pub struct RescheduleRequest {
    /// Seconds from now, 0 to 31622400. Not with `run_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 31_622_400)]
    pub delay: Option<f64>,
    /// RFC 3339 with an offset, at most 366 days ahead; up to 60 s in the
    /// past means now. Not with `delay`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_at: Option<String>,
}

/// POST /tasks/{job_id}/reschedule: what became of the job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"job_id": "8b0c5ab4-3f7a-4d39-9e1e-1f6f1b2f4a10", "status": "scheduled", "run_at": "2026-12-03T09:00:00.000000Z"}))]
pub struct RescheduleReply {
    /// The job.
    pub job_id: String,
    /// `queued` (its time had come: it is on its queue now), or `scheduled`
    /// / `retrying` (it waits until `run_at`).
    pub status: JobStatus,
    /// When it enters its queue (RFC 3339, UTC), while it waits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_at: Option<String>,
}

/// POST /queues/{queue_name}/requeue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"queue": "default", "requeued": 3}))]
pub struct RequeueFailedReply {
    /// The queue.
    pub queue: String,
    /// Failed jobs put back on it (those that had failed when the call began).
    pub requeued: u64,
}

/// What to do with ticks missed while no worker ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MissedView {
    /// Make no job for them; go on from the next tick.
    Skip,
    /// Make one job for all of them, then go on from the next tick.
    RunOnce,
}

impl From<Missed> for MissedView {
    fn from(m: Missed) -> Self {
        match m {
            Missed::Skip => MissedView::Skip,
            Missed::RunOnce => MissedView::RunOnce,
        }
    }
}

/// PUT /schedules/{name}: a schedule's definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"cron": "0 9 * * 1-5", "timezone": "Europe/Madrid", "task_name": "task_b",
    "args": {"user_id": 7, "duration": 1}, "queue": "default", "missed": "skip"}))]
pub struct ScheduleRequest {
    /// Cron expression: 5 fields (minute hour day month weekday), 6 with
    /// seconds first, or `@yearly`, `@monthly`, `@weekly`, `@daily`, `@hourly`.
    pub cron: String,
    /// IANA time zone the expression is read in (default `UTC`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// A task of the catalogue.
    pub task_name: String,
    /// The task's arguments, as the catalogue checks them (default `{}`).
    /// `payload` is accepted as another name for it.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub args: Map<String, Value>,
    /// Queue its jobs go on (default `default`, the last of QUEUES). Not with `high`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    /// As in the enqueue bodies: `true` for the first queue of QUEUES. Not with `queue`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<bool>,
    /// Ticks missed while no worker ran: `skip` (default) or `run_once`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missed: Option<MissedView>,
}

/// A schedule with its state.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ScheduleView {
    /// Its name.
    pub name: String,
    /// Its cron expression.
    pub cron: String,
    /// The IANA time zone it is read in.
    pub timezone: String,
    /// The task its jobs run.
    pub task_name: String,
    /// Their arguments.
    #[schema(value_type = Object)]
    pub args: Value,
    /// The queue they go on.
    pub queue: String,
    /// What it does with missed ticks.
    pub missed: MissedView,
    /// Whether it is paused (makes no jobs).
    pub paused: bool,
    /// Its next 5 ticks (RFC 3339, UTC), soonest first; empty while paused.
    pub next_runs: Vec<String>,
    /// The tick of its last job.
    pub last_run_at: Option<String>,
    /// Its last job.
    pub last_job_id: Option<String>,
    /// When it was first created.
    pub created_at: String,
    /// When it was last created or replaced.
    pub updated_at: String,
}

impl From<Schedule> for ScheduleView {
    fn from(s: Schedule) -> Self {
        let Schedule { name, spec, paused, next_runs, last_run_at, last_job_id, created_at, updated_at } = s;
        let ScheduleSpec { cron, timezone, task, args, queue, missed } = spec;
        ScheduleView {
            name,
            cron,
            timezone,
            task_name: task,
            args,
            queue,
            missed: missed.into(),
            paused,
            next_runs,
            last_run_at,
            last_job_id,
            created_at,
            updated_at,
        }
    }
}

/// GET /schedules.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SchedulesReply {
    /// Every schedule, by name.
    pub schedules: Vec<ScheduleView>,
}

/// DELETE /schedules/{name}.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"name": "daily-report", "deleted": true}))]
pub struct DeletedReply {
    /// The schedule.
    pub name: String,
    /// Always `true`: it is gone (the jobs it made stay).
    pub deleted: bool,
}
