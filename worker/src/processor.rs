//! A processor is one slot of the worker: it runs a job, ends it, and takes
//! the next one that the finish script claimed, until the worker stops.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::FutureExt;
use serde_json::Value;
use taskq::scripts::{self, Claimed};
use taskq::{JobError, Status};

use crate::backoff::Backoff;
use crate::context::{JobContext, Reporter, StopReason};
use crate::fetch::Fetcher;
use crate::finisher::Ending;
use crate::state::Shared;
use crate::task::TaskError;

/// How long a job may take to return once its token fired before it is dropped.
pub const STOP_GRACE: Duration = Duration::from_secs(5);

/// How a run ended.
#[derive(Debug)]
enum End {
    Finished(Value),
    Failed(JobError),
    Canceled,
    /// Interrupted by shutdown: back to its queue.
    Release,
    /// Taken from this worker meanwhile: nothing to write.
    Lost,
}

/// Runs jobs until the worker stops fetching.
pub async fn run(shared: Arc<Shared>, fetcher: Arc<Fetcher>) {
    let mut next: Option<Claimed> = None;
    loop {
        let job = match next.take() {
            Some(job) => job,
            None => match fetcher.next(&shared, &shared.stopping).await {
                Some(job) => job,
                None => return,
            },
        };
        let (end, report) = execute(&shared, &job).await;
        let id = job.id.clone();
        next = finish(&shared, Arc::new(job), end, report).await;
        // Held until its end is written (or given back): the heartbeat never
        // takes a job whose end is still being retried for an orphan.
        shared.running.remove(&id);
    }
}

/// Runs one job under its timeout; returns how it ended and its last report.
/// The job stays registered in `running`: the caller removes it once its end
/// is written.
async fn execute(shared: &Arc<Shared>, job: &Claimed) -> (End, (String, String)) {
    let stop = shared.running.add(&job.id);
    let reporter =
        Reporter { conn: shared.conn.clone(), job_key: shared.keys.job(&job.id), worker: shared.name.clone() };
    let ctx = JobContext::new(job.id.clone(), job.queue.clone(), job.attempts, stop.clone(), reporter);
    tracing::debug!(job_id = %job.id, task = %job.task, attempt = job.attempts, "job started");

    let Some((started, own_timeout)) = shared.registry.start(&job.task, ctx.clone(), &job.args) else {
        return (
            End::Failed(error("unknown_task", format!("no task named {:?} on this worker", job.task))),
            ctx.final_report(),
        );
    };
    let mut fut = match started {
        Ok(fut) => AssertUnwindSafe(fut).catch_unwind(),
        Err(e) => {
            return (End::Failed(error("invalid_args", e)), ctx.final_report());
        }
    };
    let timeout = match (own_timeout, &job.timeout) {
        (Some(own), _) => own,
        (None, Ok(secs)) => Duration::from_secs_f64(*secs),
        (None, Err(stored)) => {
            shared.running.remove(&job.id);
            let e = taskq::DamagedJob::new(&job.id, "timeout", Some(stored), "not a number of seconds above 0");
            tracing::error!(job_id = %job.id, error = %e, "damaged job");
            return (End::Failed(error("invalid_job", e.to_string())), ctx.final_report());
        }
    };

    let outcome = tokio::select! {
        r = &mut fut => Some(r),
        _ = tokio::time::sleep(timeout) => {
            stop.fire(StopReason::Timeout);
            None
        }
        _ = stop.token().cancelled() => None,
    };
    // Stopped: give the task a short grace to return by itself, then drop it.
    let outcome = match outcome {
        Some(r) => Some(r),
        None => tokio::time::timeout(STOP_GRACE, &mut fut).await.ok(),
    };
    drop(fut);

    let reason = stop.reason();
    // From here on a stop changes nothing: the heartbeat's check, which may
    // see the id leave the in-flight list as its end is written, stays quiet.
    stop.fire(StopReason::Ended);
    let end = match (outcome, reason) {
        (_, StopReason::Lost) => End::Lost,
        (Some(Ok(Ok(value))), _) => End::Finished(value),
        (Some(Err(panic)), _) => End::Failed(error("panic", panic_message(&panic))),
        (_, StopReason::Timeout) => {
            End::Failed(error("timeout", format!("job exceeded its timeout of {:.3}s", timeout.as_secs_f64())))
        }
        (_, StopReason::Shutdown) => End::Release,
        (_, StopReason::Canceled) => End::Canceled,
        // `Ended` is set below this read only.
        (Some(Ok(Err(TaskError::Failed(msg)))), StopReason::None | StopReason::Ended) => {
            End::Failed(error("error", msg))
        }
        (Some(Ok(Err(TaskError::Permanent(msg)))), StopReason::None | StopReason::Ended) => {
            End::Failed(error("permanent", msg))
        }
        // Canceled without being asked: treat as an error of the task.
        (Some(Ok(Err(TaskError::Canceled))) | None, StopReason::None | StopReason::Ended) => {
            End::Failed(error("error", "task reported cancellation without a request".into()))
        }
    };
    (end, ctx.final_report())
}

/// Writes the end of a run and returns the next claimed job, if any. Retries
/// while Redis is unreachable: a job's end is never dropped.
async fn finish(shared: &Arc<Shared>, job: Arc<Claimed>, end: End, report: (String, String)) -> Option<Claimed> {
    let mut retry_at = None;
    let (status, value) = match end {
        End::Finished(v) => (Status::Finished, v.to_string()),
        End::Failed(e) => {
            let json = serde_json::to_string(&e).unwrap_or_default();
            match retry_delay(&job, &e) {
                Some(delay) => {
                    let due = chrono::Utc::now() + delay;
                    let run_at = due.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
                    tracing::info!(
                        job_id = %job.id, task = %job.task, attempt = job.attempts, error = %json, run_at = %run_at,
                        "job attempt failed; retrying"
                    );
                    retry_at = Some((due.timestamp_millis(), Arc::from(run_at)));
                    (Status::Retrying, json)
                }
                None => (Status::Failed, json),
            }
        }
        End::Canceled => (Status::Canceled, "null".to_owned()),
        End::Lost => {
            tracing::warn!(job_id = %job.id, "job was recovered by another worker; its end is not written here");
            return None;
        }
        End::Release => match release_id(shared, &job.id, &job.queue).await {
            Released::Requeued | Released::NotOurs => return None,
            Released::CancelRequested => (Status::Canceled, "null".to_owned()),
        },
    };
    let mut ending = Ending {
        job: job.clone(),
        status,
        value: value.into(),
        report: Arc::new(report),
        claim: !shared.stopping.is_cancelled(),
        retry_at,
    };
    let mut backoff = Backoff::COMMAND;
    loop {
        match shared.finisher.end(ending.clone()).await {
            Ok((ended, next)) => {
                if ended {
                    let counter = if status == Status::Failed { &shared.failed } else { &shared.processed };
                    counter.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(job_id = %job.id, status = %status, "job ended");
                    if status == Status::Failed {
                        tracing::warn!(job_id = %job.id, task = %job.task, error = %ending.value, "job failed");
                    }
                }
                return next;
            }
            Err(e) => {
                tracing::warn!(job_id = %job.id, error = %e, "ending job failed; retrying");
                tokio::time::sleep(backoff.next_delay()).await;
                // The lost reply may have claimed a job; the heartbeat gives
                // back any claimed job that no slot runs. Claim no more here.
                ending.claim = false;
            }
        }
    }
}

enum Released {
    Requeued,
    NotOurs,
    CancelRequested,
}

/// Gives job `id` of `queue`, claimed by this worker, back to its queue.
async fn release_id(shared: &Arc<Shared>, id: &str, queue: &str) -> Released {
    let mut backoff = Backoff::COMMAND;
    loop {
        let mut conn = shared.conn.clone();
        let r: redis::RedisResult<i64> = scripts::RELEASE
            .key(shared.keys.job(id))
            .key(&shared.inflight_key)
            .key(shared.keys.queue(queue))
            .key(shared.keys.wake())
            .key(shared.keys.pushed(queue))
            .arg(id)
            .invoke_async(&mut conn)
            .await;
        match r {
            Ok(1) => {
                tracing::info!(job_id = %id, queue, "job returned to its queue");
                return Released::Requeued;
            }
            Ok(-1) => return Released::CancelRequested,
            Ok(_) => return Released::NotOurs,
            Err(e) if !backoff.exhausted() => {
                tracing::warn!(job_id = %id, error = %e, "returning job failed; retrying");
                tokio::time::sleep(backoff.next_delay()).await;
            }
            Err(e) => {
                // Left in our in-flight list: recovered once our heartbeat lapses.
                tracing::error!(job_id = %id, error = %e, "could not return job to its queue");
                return Released::NotOurs;
            }
        }
    }
}

/// Ends a claimed job that no slot runs (an orphan of a lost reply) as a
/// job interrupted by shutdown would be: back to its queue.
pub(crate) async fn give_back(shared: &Arc<Shared>, id: &str, queue: &str) {
    if let Released::CancelRequested = release_id(shared, id, queue).await {
        let mut conn = shared.conn.clone();
        let idem: Option<String> =
            redis::AsyncCommands::hget(&mut conn, shared.keys.job(id), "idem").await.ok().flatten();
        let job = Claimed {
            id: id.to_owned(),
            task: String::new(),
            args: String::new(),
            timeout: Ok(0.0),
            idempotency_key: idem.unwrap_or_default(),
            queue: queue.to_owned(),
            attempts: 0,
            retry: None,
        };
        let ending = Ending {
            job: Arc::new(job),
            status: Status::Canceled,
            value: "null".into(),
            report: Default::default(),
            claim: false,
            retry_at: None,
        };
        let _ = shared.finisher.end(ending).await;
    }
}

/// Error types another attempt may mend. Never retried: `canceled`,
/// `permanent`, `unknown_task`, `invalid_args`, `invalid_job` (another
/// attempt would fail alike) and `abandoned` (crash recovery's own limit,
/// MAX_ATTEMPTS).
pub const RETRYABLE: [&str; 3] = ["error", "timeout", "panic"];

/// The wait before the next attempt of `job`, whose attempt just failed with
/// `e`: `None` when it is not retried (an error of a kind not in
/// [`RETRYABLE`], no retry policy, or its attempts used up).
fn retry_delay(job: &Claimed, e: &JobError) -> Option<Duration> {
    let policy = job.retry?;
    (RETRYABLE.contains(&e.kind.as_str()) && job.attempts < policy.max_attempts())
        .then(|| policy.delay(job.attempts, fastrand::f64()))
}

fn error(kind: &str, message: String) -> JobError {
    JobError { kind: kind.to_owned(), message }
}

fn panic_message(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "task panicked".into())
}
