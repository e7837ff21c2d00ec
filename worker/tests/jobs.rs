//! The semantics of jobs run by an in-process worker against a real
//! redis-server: idempotency, life cycle, progress, retention, cancellation,
//! priority, timeouts, requeue, listing of ended and running jobs. What the
//! `Queue` client does without a worker is tested in `taskq/tests`.

mod common;

use std::time::Duration;

use common::*;
use redis::AsyncCommands;
use serde_json::json;
use taskq::{CancelOutcome, Cursor, Enqueued, NewJob, RequeueOutcome, Status};
use testkit::RedisServer;

#[tokio::test]
async fn idempotency_key_lives_while_its_job_waits_in_the_queue() {
    let server = RedisServer::start();
    let mut cfg = server.config();
    cfg.idemp_margin = Duration::from_secs(2);
    let q = queue(&cfg).await;
    let args = json!({"user_id": 4242, "duration": 0});
    let first = enqueue(&q, "task_a", args.clone(), "default").await;
    let mut c = redis_conn(&server).await;
    let server_ms = |c: &mut redis::aio::MultiplexedConnection| {
        let mut c = c.clone();
        async move {
            let (s, us): (i64, i64) = redis::cmd("TIME").query_async(&mut c).await.unwrap();
            s * 1000 + us / 1000
        }
    };
    let enqueued_ms = server_ms(&mut c).await;
    let keys: Vec<String> = c.keys("{taskq}:idem:*").await.unwrap();
    let pttl: i64 = c.pttl(&keys[0]).await.unwrap();
    assert_eq!(pttl, -1, "the key of a queued job must not expire");
    // Past the old TTL (duration plus IDEMP_MARGIN, from enqueue), on Redis's clock.
    let deadline = std::time::Instant::now() + LONG;
    while server_ms(&mut c).await < enqueued_ms + 2_500 {
        assert!(std::time::Instant::now() < deadline, "Redis's clock does not advance");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let job = NewJob::from_catalogue("task_a", args.clone(), "default").unwrap();
    match q.enqueue(&job).await.unwrap() {
        taskq::Enqueued::Duplicate { job_id, .. } => assert_eq!(job_id, first),
        other => panic!("a twin of a queued job was made: {other:?}"),
    }
    // It still goes with the job's end: the same request then makes a new job.
    let w = InProcess::start(cfg.clone()).await;
    wait_status(&q, &first, Status::Finished).await;
    assert_ne!(enqueue(&q, "task_a", args, "default").await, first);
    w.stop().await;
}

#[tokio::test]
async fn a_job_goes_queued_started_finished_with_rising_progress() {
    let server = RedisServer::start();
    let mut cfg = server.config();
    cfg.result_ttl = Duration::from_secs(100);
    let q = queue(&cfg).await;
    let id = enqueue(&q, "long_task", json!({"duration": 3, "payload": {"usuario_id": 5}}), "default").await;
    let queued = get(&q, &id).await;
    assert_eq!((queued.status, queued.task.as_str(), queued.queue.as_str()), (Status::Queued, "long_task", "default"));
    assert_eq!(queued.attempts, 0);

    let w = InProcess::start(cfg.clone()).await;
    let mut seen = Vec::new();
    let deadline = std::time::Instant::now() + LONG;
    loop {
        let j = get(&q, &id).await;
        if let Some(p) = &j.progress {
            seen.push(p.done);
        }
        if j.status != Status::Queued {
            assert!(j.started_at.is_some());
        }
        if j.status == Status::Finished {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "job did not finish: {j:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let done = get(&q, &id).await;
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "progress went back: {seen:?}");
    assert!(seen.iter().filter(|d| **d > 0 && **d < 3).count() > 0, "no intermediate progress seen: {seen:?}");
    let p = done.progress.unwrap();
    assert_eq!((p.done, p.total, p.percent), (3, 3, 100.0));
    assert_eq!(done.result.unwrap()["payload"], json!({"usuario_id": 5}));
    assert_eq!(done.attempts, 1);
    assert!(done.ended_at.unwrap() >= done.started_at.unwrap());
    let mut c = redis_conn(&server).await;
    let ttl: i64 = c.ttl(format!("{{taskq}}:job:{id}")).await.unwrap();
    assert!((90..=100).contains(&ttl), "result ttl {ttl}");
    // The idempotency key went with the end: the same request runs again.
    let again = enqueue(&q, "long_task", json!({"duration": 3, "payload": {"usuario_id": 5}}), "default").await;
    assert_ne!(again, id);
    w.stop().await;
}

#[tokio::test]
async fn failures_and_timeouts_fail_the_job_release_the_key_and_the_worker_carries_on() {
    let (server, q, w) = start_worker(|cfg| cfg.failure_ttl = Duration::from_secs(200)).await;

    let failing = NewJob::new("fail", json!({"n": 1}), "default");
    let id = q.enqueue(&failing).await.unwrap().job_id().to_owned();
    let failed = wait_status(&q, &id, Status::Failed).await;
    let err = failed.error.unwrap();
    assert_eq!((err.kind.as_str(), err.message.as_str()), ("error", "failure 1"));
    let ttl: i64 = redis_conn(&server).await.ttl(format!("{{taskq}}:job:{id}")).await.unwrap();
    assert!((190..=200).contains(&ttl), "failure ttl {ttl}");
    assert!(matches!(q.enqueue(&failing).await.unwrap(), Enqueued::Created { .. }), "key kept after failure");

    // Timeout: a task that ignores cancellation is dropped after the grace.
    let mut slow = NewJob::from_catalogue("long_task", json!({"duration": 60}), "default").unwrap();
    slow.timeout = Some(0.5);
    let id = q.enqueue(&slow).await.unwrap().job_id().to_owned();
    let timed_out = wait_status(&q, &id, Status::Failed).await;
    assert_eq!(timed_out.error.unwrap().kind, "timeout");
    assert!(matches!(q.enqueue(&slow).await.unwrap(), Enqueued::Created { .. }), "key kept after timeout");

    let mut stubborn = NewJob::new("sleep", json!({"secs": 60, "n": 1}), "default");
    stubborn.timeout = Some(0.3);
    let id = q.enqueue(&stubborn).await.unwrap().job_id().to_owned();
    assert_eq!(wait_status(&q, &id, Status::Failed).await.error.unwrap().kind, "timeout");

    // The worker carries on.
    let next = enqueue(&q, "task_b", json!({"user_id": 9, "duration": 0.1}), "high").await;
    let done = wait_status(&q, &next, Status::Finished).await;
    assert_eq!(done.result.unwrap()["notified"], json!(["email", "sms", "push"]));
    w.stop().await;
}

#[tokio::test]
async fn a_canceled_queued_job_never_runs_and_frees_its_key() {
    let server = RedisServer::start();
    let cfg = server.config();
    let q = queue(&cfg).await;
    let args = json!({"duration": 0, "payload": "x"});
    let id = enqueue(&q, "long_task", args.clone(), "default").await;
    assert_eq!(q.cancel(&id).await.unwrap(), CancelOutcome::Canceled);
    assert_eq!(q.counts().await.unwrap()[1].count, 0, "tombstone counted as queued");
    let again = enqueue(&q, "long_task", args, "default").await;

    let w = InProcess::start(cfg).await;
    wait_status(&q, &again, Status::Finished).await;
    let canceled = get(&q, &id).await;
    assert_eq!((canceled.status, canceled.attempts, canceled.started_at), (Status::Canceled, 0, None));
    assert_eq!(q.cancel(&id).await.unwrap(), CancelOutcome::AlreadyEnded(Status::Canceled));
    assert_eq!(q.cancel(&again).await.unwrap(), CancelOutcome::AlreadyEnded(Status::Finished));
    assert_eq!(q.cancel(&unknown_id()).await.unwrap(), CancelOutcome::NotFound);
    assert_eq!(q.cancel("not-a-uuid").await.unwrap(), CancelOutcome::NotFound);
    assert_eq!(q.counts().await.unwrap()[1].states["canceled"], 1);
    w.stop().await;
}

#[tokio::test]
async fn ended_pages_hold_their_place_and_split_jobs_that_ended_in_one_millisecond() {
    let (server, q, w) = start_worker(|_| {}).await;
    let run = |n: usize| {
        let q = q.clone();
        async move {
            let mut ids = Vec::new();
            for i in 0..n {
                let id = enqueue(&q, "long_task", json!({"duration": 0, "payload": i}), "default").await;
                wait_status(&q, &id, Status::Finished).await;
                ids.push(id);
            }
            ids
        }
    };
    let ended = run(7).await;
    // Five of them ended in the same millisecond, between the other two.
    let mut c = redis_conn(&server).await;
    let registry = q.keys().ended("default", Status::Finished);
    let at: i64 = c.zscore(&registry, &ended[6]).await.unwrap();
    let _: () = c.zadd(&registry, &ended[6], at + 1).await.unwrap();
    for id in &ended[1..6] {
        let _: () = c.zadd(&registry, id, at).await.unwrap();
    }
    let first = q.list("default", Status::Finished, None, 2).await.unwrap();
    let cursor = Cursor::parse(&first.next_cursor.expect("more pages")).unwrap();
    // Jobs that end before the next page is read do not push it along.
    let newer = run(3).await;
    let mut seen: Vec<String> = first.jobs.into_iter().map(|j| j.id).collect();
    for page in pages(&q, "default", Status::Finished, Some(cursor), 2).await {
        assert!(page.len() <= 2);
        seen.extend(page);
    }
    assert_eq!(seen.len(), 7, "each job once: {seen:?}");
    assert_eq!(seen[0], ended[6]);
    assert_eq!(seen[6], ended[0]);
    let mut tied = seen[1..6].to_vec();
    tied.sort();
    let mut want = ended[1..6].to_vec();
    want.sort();
    assert_eq!(tied, want);
    assert!(newer.iter().all(|id| !seen.contains(id)));
    w.stop().await;
}

#[tokio::test]
async fn running_pages_list_each_running_job_once_newest_start_first() {
    let (_server, q, w) = start_worker(|_| {}).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let id = enqueue(&q, "long_task", json!({"duration": 60, "payload": i}), "default").await;
        wait_status(&q, &id, Status::Started).await;
        ids.push(id);
    }
    let pages = pages(&q, "default", Status::Started, None, 2).await;
    assert_eq!(pages, vec![vec![ids[2].clone(), ids[1].clone()], vec![ids[0].clone()]]);
    for id in &ids {
        q.cancel(id).await.unwrap();
        wait_status(&q, id, Status::Canceled).await;
    }
    w.stop().await;
}

#[tokio::test]
async fn a_running_job_is_canceled_cooperatively_and_its_progress_stops() {
    let (_server, q, w) = start_worker(|_| {}).await;
    let args = json!({"user_id": 3, "duration": 6});
    let id = enqueue(&q, "task_a", args.clone(), "default").await;
    testkit::wait_for("first progress", LONG, || async { get(&q, &id).await.progress.is_some_and(|p| p.done >= 1) })
        .await;
    let asked = std::time::Instant::now();
    assert_eq!(q.cancel(&id).await.unwrap(), CancelOutcome::CancelRequested);
    let canceled = wait_status(&q, &id, Status::Canceled).await;
    assert!(asked.elapsed() < Duration::from_secs(5), "cancel took {:?}", asked.elapsed());
    assert_eq!(canceled.meta["user_id"], 3);
    let progress = canceled.progress.clone();
    // Observe a window longer than a step: progress must not move.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(get(&q, &id).await.progress, progress);
    assert!(matches!(
        q.enqueue(&NewJob::from_catalogue("task_a", args, "default").unwrap()).await.unwrap(),
        Enqueued::Created { .. }
    ));
    w.stop().await;
}

#[tokio::test]
async fn a_started_job_reports_done_0_of_its_total_from_its_start() {
    let (_server, q, w) = start_worker(|_| {}).await;
    // Three steps of 20 s: before the first ends, only the start's report can be seen.
    let id = enqueue(&q, "task_a", json!({"user_id": 9, "duration": 60}), "default").await;
    testkit::wait_for("progress at start", Duration::from_secs(15), || async { get(&q, &id).await.progress.is_some() })
        .await;
    let p = get(&q, &id).await.progress.unwrap();
    assert_eq!((p.done, p.total, p.percent), (0, 3, 0.0));
    assert_eq!(q.cancel(&id).await.unwrap(), CancelOutcome::CancelRequested);
    wait_status(&q, &id, Status::Canceled).await;
    w.stop().await;
}

#[tokio::test]
async fn high_jobs_start_before_earlier_default_jobs() {
    let (_server, q, w) = start_worker(|cfg| cfg.worker_concurrency = 1).await;
    let blocker = enqueue(&q, "long_task", json!({"duration": 60}), "default").await;
    wait_status(&q, &blocker, Status::Started).await;
    let mut defaults = Vec::new();
    let mut highs = Vec::new();
    for i in 0..3 {
        defaults.push(enqueue(&q, "long_task", json!({"duration": 0, "payload": i}), "default").await);
    }
    for i in 0..3 {
        highs.push(enqueue(&q, "long_task", json!({"duration": 0, "payload": 10 + i}), "high").await);
    }
    q.cancel(&blocker).await.unwrap();
    for id in defaults.iter().chain(&highs) {
        wait_status(&q, id, Status::Finished).await;
    }
    let started = |ids: &Vec<String>| {
        let q = q.clone();
        let ids = ids.clone();
        async move {
            let mut v = Vec::new();
            for id in ids {
                v.push(get(&q, &id).await.started_at.unwrap());
            }
            v
        }
    };
    let (d, h) = (started(&defaults).await, started(&highs).await);
    assert!(h.iter().max() < d.iter().min(), "high {h:?} vs default {d:?}");
    // Within a queue, first in first out.
    assert!(d.windows(2).all(|w| w[0] <= w[1]) && h.windows(2).all(|w| w[0] <= w[1]));
    w.stop().await;
}

#[tokio::test]
async fn failed_jobs_can_be_requeued_and_listed() {
    let (_server, q, w) = start_worker(|_| {}).await;
    let id = q.enqueue(&NewJob::new("fail", json!({"n": 2}), "high")).await.unwrap().job_id().to_owned();
    wait_status(&q, &id, Status::Failed).await;
    let page = q.list("high", Status::Failed, None, 10).await.unwrap();
    assert_eq!(page.jobs.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(), [id.as_str()]);
    assert_eq!(q.requeue(&id).await.unwrap(), RequeueOutcome::Requeued);
    testkit::wait_for("second failure", LONG, || async {
        let j = get(&q, &id).await;
        j.status == Status::Failed && j.attempts == 1 && j.ended_at.is_some()
    })
    .await;
    let finished = enqueue(&q, "long_task", json!({"duration": 0}), "high").await;
    wait_status(&q, &finished, Status::Finished).await;
    assert_eq!(q.requeue(&finished).await.unwrap(), RequeueOutcome::NotRequeueable(Status::Finished));
    assert_eq!(q.requeue(&unknown_id()).await.unwrap(), RequeueOutcome::NotFound);
    assert_eq!(q.requeue_failed(None).await.unwrap(), 1);
    let workers = q.workers().await.unwrap();
    assert_eq!(workers.len(), 1);
    assert_eq!(workers[0].queues, ["high", "default"]);
    w.stop().await;
    assert!(q.workers().await.unwrap().is_empty(), "worker deregistered on stop");
}

#[tokio::test]
async fn a_burst_of_short_jobs_is_ended_in_batches_each_exactly_once() {
    let server = RedisServer::start();
    let mut cfg = server.config();
    cfg.worker_concurrency = 16;
    let q = queue(&cfg).await;
    let mut ids = Vec::new();
    for i in 0..600 {
        let queue = if i % 3 == 0 { "high" } else { "default" };
        ids.push(enqueue(&q, "long_task", json!({"duration": 0, "payload": i}), queue).await);
    }
    let w = InProcess::start(cfg).await;
    testkit::wait_for("every job to finish", LONG, || async {
        let c = q.counts().await.unwrap();
        c[0].states["finished"] + c[1].states["finished"] == 600
    })
    .await;
    for id in &ids {
        assert_eq!(get(&q, id).await.attempts, 1);
    }
    let finished: u64 = q.throughput(5).await.unwrap().iter().map(|m| m.finished).sum();
    assert_eq!(finished, 600, "a job was counted twice or not at all");
    w.stop().await;
}

#[tokio::test]
async fn requeue_failed_requeues_what_had_failed_and_returns_while_jobs_fail_again() {
    let (_server, q, w) = start_worker(|_| {}).await;
    let jobs: Vec<NewJob> = (0..200).map(|n| NewJob::new("fail", json!({ "n": n }), "default")).collect();
    let ids: Vec<String> = futures_util::future::join_all(jobs.iter().map(|j| q.enqueue(j)))
        .await
        .into_iter()
        .map(|r| r.unwrap().job_id().to_owned())
        .collect();
    testkit::wait_for("200 failures", LONG, || async {
        q.get_many(&ids).await.unwrap().iter().filter(|j| j.status == Status::Failed).count() == ids.len()
    })
    .await;
    // The worker keeps running: each requeued job fails again at once.
    let n = tokio::time::timeout(LONG, q.requeue_failed(Some("default")))
        .await
        .expect("requeue_failed returns while requeued jobs fail again")
        .unwrap();
    assert_eq!(n, 200, "each job that had failed is requeued once");
    w.stop().await;
}

#[tokio::test]
async fn a_job_whose_stored_timeout_is_unreadable_fails_saying_why() {
    let server = RedisServer::start();
    let cfg = server.config();
    let q = queue(&cfg).await;
    let mut c = redis_conn(&server).await;
    let [bad_timeout, good] = <[String; 2]>::try_from(enqueue_many(&q, 2).await).unwrap();
    let _: () = c.hset(q.keys().job(&bad_timeout), "timeout", "ten").await.unwrap();

    // The worker fails the job with the timeout it cannot read, saying why,
    // instead of timing it out at once.
    let w = InProcess::start(cfg).await;
    wait_status(&q, &good, Status::Finished).await;
    testkit::wait_for("the damaged job ends", LONG, || async {
        let s: Option<String> = redis_conn(&server).await.hget(q.keys().job(&bad_timeout), "status").await.unwrap();
        s.as_deref() == Some("failed")
    })
    .await;
    let error: String = c.hget(q.keys().job(&bad_timeout), "error").await.unwrap();
    let error: serde_json::Value = serde_json::from_str(&error).unwrap();
    assert_eq!(error["type"], "invalid_job", "{error}");
    assert!(
        error["message"].as_str().unwrap().contains(&format!("job {bad_timeout}: stored timeout \"ten\"")),
        "{error}"
    );
    w.stop().await;
}
