//! Retries of failed attempts, run by an in-process worker against a real
//! redis-server: the waits between attempts, which errors are retried, the
//! retrying state as a client reads it, cancel and idempotency while a job
//! waits for its next attempt, and where its policy comes from.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use common::*;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use serde_json::json;
use taskq::catalogue::TaskArgs;
use taskq::{CancelOutcome, Config, Enqueued, Error, Job, NewJob, Queue, RequeueOutcome, RetryPolicy, Status};
use testkit::RedisServer;
use worker::{JobContext, Registry, Task, TaskError, TaskResult};

#[derive(Serialize, Deserialize)]
struct FlakyArgs {
    /// Attempts that fail before one succeeds.
    fails: u32,
    /// Tells apart jobs of one test (and their idempotency keys).
    n: u64,
}
impl TaskArgs for FlakyArgs {
    const NAME: &'static str = "flaky";
}
/// Fails its first `fails` attempts, then returns the attempt number.
struct Flaky;
impl Task for Flaky {
    type Args = FlakyArgs;
    async fn run(&self, ctx: JobContext, args: FlakyArgs) -> TaskResult {
        if ctx.attempt() <= args.fails {
            return Err(TaskError::Failed(format!("attempt {} failed", ctx.attempt())));
        }
        Ok(json!(ctx.attempt()))
    }
}

#[derive(Serialize, Deserialize)]
struct RefuseArgs {
    n: u64,
}
impl TaskArgs for RefuseArgs {
    const NAME: &'static str = "refuse";
}
/// Always fails with an error another attempt cannot mend.
struct Refuse;
impl Task for Refuse {
    type Args = RefuseArgs;
    async fn run(&self, _ctx: JobContext, args: RefuseArgs) -> TaskResult {
        Err(TaskError::Permanent(format!("refused {}", args.n)))
    }
}

#[derive(Serialize, Deserialize)]
struct SlowFailArgs {
    secs: f64,
    n: u64,
}
impl TaskArgs for SlowFailArgs {
    const NAME: &'static str = "slow_fail";
}
/// Works `secs` seconds, deaf to cancellation, then fails.
struct SlowFail;
impl Task for SlowFail {
    type Args = SlowFailArgs;
    async fn run(&self, _ctx: JobContext, args: SlowFailArgs) -> TaskResult {
        tokio::time::sleep(Duration::from_secs_f64(args.secs)).await;
        Err(TaskError::Failed(format!("slow failure {}", args.n)))
    }
}

fn registry() -> Registry {
    common::registry().register(Flaky).register(Refuse).register(SlowFail)
}

async fn start(tune: impl FnOnce(&mut Config)) -> (RedisServer, Queue, InProcess) {
    let server = RedisServer::start();
    let mut cfg = server.config();
    tune(&mut cfg);
    let q = queue(&cfg).await;
    let w = InProcess::start_with(cfg, registry()).await;
    (server, q, w)
}

fn policy(max: u32, backoff: f64, backoff_max: f64) -> RetryPolicy {
    RetryPolicy { max, backoff, backoff_max }
}

fn flaky(fails: u32, n: u64, retry: RetryPolicy) -> NewJob {
    NewJob { retry: Some(retry), ..NewJob::new("flaky", json!({"fails": fails, "n": n}), "default") }
}

async fn put(q: &Queue, job: &NewJob) -> String {
    q.enqueue(job).await.unwrap().job_id().to_owned()
}

fn time(t: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(t).unwrap_or_else(|e| panic!("{t:?}: {e}")).with_timezone(&Utc)
}

fn secs(from: &str, to: &str) -> f64 {
    (time(to) - time(from)).num_microseconds().unwrap() as f64 / 1e6
}

/// Ids waiting in `queue`'s retrying set.
async fn retrying_set(server: &RedisServer, q: &Queue, queue: &str) -> Vec<String> {
    redis_conn(server).await.zrange(q.keys().waiting(queue, Status::Retrying), 0, -1).await.unwrap()
}

#[tokio::test]
async fn a_job_failing_twice_then_succeeding_finishes_on_attempt_3_after_backoff_waits() {
    let (_server, q, w) = start(|_| {}).await;
    let p = policy(3, 0.4, 0.6);
    let id = put(&q, &flaky(2, 1, p)).await;

    // Each attempt's start, read while the job waits after it (>= 0.2 s) or once it ended.
    let mut started: BTreeMap<u32, String> = BTreeMap::new();
    let deadline = std::time::Instant::now() + LONG;
    let done = loop {
        let j = get(&q, &id).await;
        if matches!(j.status, Status::Retrying | Status::Finished | Status::Failed) {
            started.insert(j.attempts, j.started_at.clone().expect("a run started"));
        }
        if j.status.is_ended() {
            break j;
        }
        assert!(std::time::Instant::now() < deadline, "job did not end: {j:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!((done.status, done.attempts, done.result.clone()), (Status::Finished, 3, Some(json!(3))));
    assert_eq!(done.error, None, "the earlier attempts' errors are in `errors`, not `error`");
    assert_eq!(done.run_at, None);
    assert_eq!(done.retry, Some(p));
    assert_eq!(done.attempts_left(), Some(1));
    let errors: Vec<(u32, &str, &str)> =
        done.errors.iter().map(|e| (e.attempt, e.error.kind.as_str(), e.error.message.as_str())).collect();
    assert_eq!(errors, [(1, "error", "attempt 1 failed"), (2, "error", "attempt 2 failed")]);
    assert_eq!(started.keys().copied().collect::<Vec<_>>(), [1, 2, 3], "each attempt seen: {started:?}");

    // Retry n waits within [d/2, d], d = min(backoff_max, backoff * 2^(n-1)),
    // plus the timer's 200 ms and the time to claim the job.
    for (retry, e) in (1..).zip(&done.errors) {
        let wait = secs(&e.at, &started[&(retry + 1)]);
        let d = (p.backoff * 2f64.powi(retry as i32 - 1)).min(p.backoff_max);
        assert!(wait >= d / 2.0 - 0.05, "retry {retry} came after {wait:.3} s, before {:.3} s", d / 2.0);
        assert!(wait <= d + 0.2 + 0.8, "retry {retry} came after {wait:.3} s, far beyond {d:.3} s");
        assert!(time(&e.at) >= time(&started[&retry]), "an attempt's error comes after its start");
    }
    w.stop().await;
}

#[tokio::test]
async fn a_retrying_job_shows_its_next_time_attempts_left_and_earlier_errors() {
    let (server, q, w) = start(|_| {}).await;
    let p = policy(2, 30.0, 60.0);
    let id = put(&q, &flaky(5, 1, p)).await;
    let j: Job = wait_status(&q, &id, Status::Retrying).await;
    assert_eq!((j.attempts, j.attempts_left(), j.retry), (1, Some(2), Some(p)));
    let err = j.error.clone().expect("this attempt's error");
    assert_eq!((err.kind.as_str(), err.message.as_str()), ("error", "attempt 1 failed"));
    assert_eq!(j.errors.len(), 1);
    assert_eq!((j.errors[0].attempt, &j.errors[0].error), (1, &err));
    assert_eq!(j.ended_at, None, "retrying is not an end");
    let wait = secs(&j.errors[0].at, j.run_at.as_deref().expect("run_at while retrying"));
    assert!((14.9..=30.1).contains(&wait), "the first retry is due after {wait} s, not within [15, 30]");
    assert_eq!(retrying_set(&server, &q, "default").await, vec![id.clone()]);
    let ttl: i64 = redis_conn(&server).await.ttl(q.keys().job(&id)).await.unwrap();
    assert_eq!(ttl, -1, "a retrying job does not expire");
    w.stop().await;
}

#[tokio::test]
async fn a_job_out_of_retries_fails_with_its_last_error_and_the_earlier_ones_listed() {
    let (server, q, w) = start(|cfg| cfg.failure_ttl = Duration::from_secs(200)).await;
    let id = put(&q, &flaky(10, 1, policy(2, 0.1, 0.1))).await;
    let j = wait_status(&q, &id, Status::Failed).await;
    assert_eq!((j.attempts, j.attempts_left()), (3, Some(0)));
    assert_eq!(j.error.unwrap().message, "attempt 3 failed");
    assert_eq!(j.errors.iter().map(|e| e.attempt).collect::<Vec<_>>(), [1, 2]);
    let ttl: i64 = redis_conn(&server).await.ttl(q.keys().job(&id)).await.unwrap();
    assert!((190..=200).contains(&ttl), "failure ttl {ttl}");
    assert!(retrying_set(&server, &q, "default").await.is_empty());

    // Requeued (no worker running), it starts over: no errors, no due time,
    // all its attempts again.
    w.stop().await;
    assert_eq!(q.requeue(&id).await.unwrap(), RequeueOutcome::Requeued);
    let again = get(&q, &id).await;
    assert!(again.errors.is_empty() && again.run_at.is_none() && again.error.is_none(), "{again:?}");
    assert_eq!(again.attempts_left(), Some(3));
    let w = InProcess::start_with(q.config().clone(), registry()).await;
    let j = wait_status(&q, &id, Status::Failed).await;
    assert_eq!((j.attempts, j.errors.len()), (3, 2));
    w.stop().await;
}

#[tokio::test]
async fn only_the_latest_errors_are_kept_and_retried_attempts_do_not_count_as_failed() {
    let (_server, q, w) = start(|_| {}).await;
    let id = put(&q, &flaky(100, 1, policy(12, 0.001, 0.001))).await;
    let j = wait_status(&q, &id, Status::Failed).await;
    assert_eq!(j.attempts, 13);
    assert_eq!(j.error.unwrap().message, "attempt 13 failed");
    assert_eq!(j.errors.iter().map(|e| e.attempt).collect::<Vec<_>>(), (3..=12).collect::<Vec<_>>());
    assert_eq!(j.errors.len(), taskq::job::MAX_ATTEMPT_ERRORS);
    let failed: u64 = q.throughput(5).await.unwrap().iter().map(|m| m.failed).sum();
    assert_eq!(failed, 1, "one job failed, once");
    w.stop().await;
}

#[tokio::test]
async fn a_failed_attempt_whose_cancel_was_requested_ends_canceled_not_retrying() {
    // A long heartbeat: the worker does not learn of the cancel before the
    // attempt fails (the request below is not published).
    let (server, q, w) = start(|cfg| cfg.worker_heartbeat = Duration::from_secs(30)).await;
    let job = NewJob {
        retry: Some(policy(3, 0.1, 0.1)),
        ..NewJob::new("slow_fail", json!({"secs": 0.5, "n": 1}), "default")
    };
    let id = put(&q, &job).await;
    wait_status(&q, &id, Status::Started).await;
    let _: () = redis_conn(&server).await.hset(q.keys().job(&id), "status", "cancel_requested").await.unwrap();
    let j = wait_status(&q, &id, Status::Canceled).await;
    assert_eq!((j.attempts, j.error, j.run_at), (1, None, None));
    assert!(j.ended_at.is_some());
    assert!(retrying_set(&server, &q, "default").await.is_empty());
    let canceled: Vec<String> =
        redis_conn(&server).await.zrange(q.keys().ended("default", Status::Canceled), 0, -1).await.unwrap();
    assert_eq!(canceled, vec![id.clone()]);
    assert!(matches!(q.enqueue(&job).await.unwrap(), Enqueued::Created { .. }), "its key was released");
    w.stop().await;
}

#[tokio::test]
async fn a_permanent_error_is_never_retried() {
    let (server, q, w) = start(|_| {}).await;
    let job = NewJob { retry: Some(policy(3, 0.1, 0.1)), ..NewJob::new("refuse", json!({"n": 7}), "default") };
    let id = put(&q, &job).await;
    let j = wait_status(&q, &id, Status::Failed).await;
    let err = j.error.unwrap();
    assert_eq!((err.kind.as_str(), err.message.as_str()), ("permanent", "refused 7"));
    assert_eq!((j.attempts, j.errors.len()), (1, 0));
    assert!(retrying_set(&server, &q, "default").await.is_empty());
    w.stop().await;
}

#[tokio::test]
async fn a_timeout_is_retried() {
    let (_server, q, w) = start(|_| {}).await;
    let mut slow = NewJob::from_catalogue("long_task", json!({"duration": 60}), "default").unwrap();
    slow.timeout = Some(0.3);
    slow.retry = Some(policy(1, 0.1, 0.1));
    let id = put(&q, &slow).await;
    let j = wait_status(&q, &id, Status::Failed).await;
    assert_eq!(j.attempts, 2, "one retry after the first timeout");
    assert_eq!(j.error.unwrap().kind, "timeout");
    assert_eq!(j.errors.iter().map(|e| (e.attempt, e.error.kind.as_str())).collect::<Vec<_>>(), [(1, "timeout")]);
    w.stop().await;
}

#[tokio::test]
async fn a_job_canceled_while_retrying_is_canceled_and_never_runs_again() {
    let (server, q, w) = start(|_| {}).await;
    let job = flaky(1, 1, policy(3, 2.0, 2.0));
    let id = put(&q, &job).await;
    let j = wait_status(&q, &id, Status::Retrying).await;
    assert_eq!(q.cancel(&id).await.unwrap(), CancelOutcome::Canceled);
    let canceled = get(&q, &id).await;
    assert_eq!((canceled.status, canceled.run_at.as_deref()), (Status::Canceled, None));
    // Its due time passes (the timers drop its id from the set then).
    let due = time(j.run_at.as_deref().unwrap());
    testkit::wait_for("the due time to pass and the set to empty", LONG, || async {
        Utc::now() > due + chrono::Duration::milliseconds(500) && retrying_set(&server, &q, "default").await.is_empty()
    })
    .await;
    let after = get(&q, &id).await;
    assert_eq!((after.status, after.attempts), (Status::Canceled, 1), "ran again: {after:?}");
    // Its idempotency key went with it: the same request makes a new job.
    assert!(matches!(q.enqueue(&job).await.unwrap(), Enqueued::Created { .. }));
    w.stop().await;
}

#[tokio::test]
async fn the_idempotency_key_is_held_across_retries_and_released_at_the_end() {
    let (_server, q, w) = start(|_| {}).await;
    let job = flaky(1, 1, policy(2, 1.0, 1.0));
    let id = put(&q, &job).await;
    wait_status(&q, &id, Status::Retrying).await;
    match q.enqueue(&job).await.unwrap() {
        Enqueued::Duplicate { job_id, .. } => assert_eq!(job_id, id),
        other => panic!("a twin of a retrying job was made: {other:?}"),
    }
    assert_eq!(wait_status(&q, &id, Status::Finished).await.attempts, 2);
    assert_ne!(put(&q, &job).await, id, "the key went with the job's end");
    w.stop().await;
}

#[tokio::test]
async fn the_policy_is_the_request_s_else_the_task_s_else_the_configured_one_and_is_checked() {
    let server = RedisServer::start();
    let mut cfg = server.config();
    let q = queue(&cfg).await;
    let args = |n: i64| json!({"user_id": n, "duration": 0});
    // Nothing configured: never retried, nothing stored.
    let plain = put(&q, &NewJob::new("fail", json!({"n": 1}), "default")).await;
    assert_eq!((get(&q, &plain).await.retry, get(&q, &plain).await.attempts_left()), (None, None));
    // The catalogue's task_b policy.
    let b = put(&q, &NewJob::from_catalogue("task_b", args(1), "default").unwrap()).await;
    assert_eq!(get(&q, &b).await.retry, Some(policy(3, 2.0, 60.0)));
    // task_b enqueued as a plain job takes it too.
    let b2 = put(&q, &NewJob::new("task_b", args(2), "default")).await;
    assert_eq!(get(&q, &b2).await.retry, Some(policy(3, 2.0, 60.0)));
    // A request's own wins; max 0 switches retries off.
    let own =
        NewJob { retry: Some(policy(5, 2.0, 120.0)), ..NewJob::from_catalogue("task_b", args(3), "high").unwrap() };
    assert_eq!(get(&q, &put(&q, &own).await).await.retry, Some(policy(5, 2.0, 120.0)));
    let off = NewJob { retry: Some(policy(0, 1.0, 1.0)), ..NewJob::from_catalogue("task_b", args(4), "high").unwrap() };
    assert_eq!(get(&q, &put(&q, &off).await).await.retry, None);
    // The configuration's, for tasks without their own.
    cfg.retry_max = 4;
    cfg.retry_backoff = Duration::from_millis(500);
    cfg.retry_backoff_max = Duration::from_secs(10);
    let q = queue(&cfg).await;
    let a = put(&q, &NewJob::from_catalogue("task_a", args(5), "default").unwrap()).await;
    assert_eq!(get(&q, &a).await.retry, Some(policy(4, 0.5, 10.0)));
    assert_eq!(q.retry_defaults("task_b"), policy(3, 2.0, 60.0));
    assert_eq!(q.retry_defaults("task_a"), policy(4, 0.5, 10.0));

    for (bad, field) in [
        (policy(101, 1.0, 1.0), "retry.max"),
        (policy(1, 0.0, 1.0), "retry.backoff"),
        (policy(1, f64::NAN, 1.0), "retry.backoff"),
        (policy(1, 86_401.0, 604_800.0), "retry.backoff"),
        (policy(1, 10.0, 5.0), "retry.backoff_max"),
        (policy(1, 1.0, 604_801.0), "retry.backoff_max"),
    ] {
        let job = NewJob { retry: Some(bad), ..NewJob::from_catalogue("task_a", args(6), "default").unwrap() };
        match q.enqueue(&job).await {
            Err(Error::Invalid { field: f, .. }) => assert_eq!(f, field, "{bad:?}"),
            other => panic!("{bad:?} was not refused: {other:?}"),
        }
    }
    let edge =
        NewJob { retry: Some(policy(100, 86_400.0, 604_800.0)), ..NewJob::new("fail", json!({"n": 2}), "default") };
    assert!(q.enqueue(&edge).await.is_ok(), "the bounds are included");
}
