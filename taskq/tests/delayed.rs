//! Delayed jobs through the `Queue` client, against a real redis-server and
//! no worker (the tests call `promote_due` themselves): a scheduled job waits
//! for its time, then joins the back of its queue; cancel, reschedule and
//! run-now; duplicates and idempotency keys while waiting; counts and
//! listing; the one-year bound; the batch bound.

use std::time::Duration;

use chrono::{DateTime, Utc};
use redis::AsyncCommands;
use serde_json::{Value, json};
use taskq::{CancelOutcome, Cursor, Enqueued, NewJob, Queue, RescheduleOutcome, Status};
use testkit::client::*;

const LONG: Duration = Duration::from_secs(30);

/// A one-second `long_task` job with `payload` on `queue`, to run at `run_at`.
fn job_at(payload: Value, queue: &str, run_at: Option<DateTime<Utc>>) -> NewJob {
    let mut job = NewJob::from_catalogue("long_task", json!({"duration": 1, "payload": payload}), queue).unwrap();
    job.run_at = run_at;
    job
}

/// Enqueues a new job to run at `run_at`; returns its id.
async fn schedule(q: &Queue, payload: Value, queue: &str, run_at: DateTime<Utc>) -> String {
    match q.enqueue(&job_at(payload, queue, Some(run_at))).await.unwrap() {
        Enqueued::Created { job_id, .. } => job_id,
        dup => panic!("unexpected duplicate: {dup:?}"),
    }
}

fn in_ms(ms: i64) -> DateTime<Utc> {
    Utc::now() + chrono::Duration::milliseconds(ms)
}

/// A time on a whole millisecond (its score is exactly its ms).
fn whole_ms(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap()
}

fn stored(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Waits until the clock has passed `t`.
async fn wait_past(t: DateTime<Utc>) {
    testkit::wait_for("the due time to pass", LONG, || async { Utc::now() > t }).await;
}

/// Turns scheduled job `id` of `queue` into a retrying one due at `due_ms`,
/// as a failed attempt leaves it.
async fn make_retrying(q: &Queue, c: &mut redis::aio::MultiplexedConnection, id: &str, queue: &str, due_ms: i64) {
    let keys = q.keys();
    let due = DateTime::from_timestamp_millis(due_ms).unwrap();
    let run_at = stored(due);
    let _: () = c.hset_multiple(keys.job(id), &[("status", "retrying"), ("run_at", run_at.as_str())]).await.unwrap();
    let _: () = c.zrem(keys.waiting(queue, Status::Scheduled), id).await.unwrap();
    let _: () = c.zadd(keys.waiting(queue, Status::Retrying), id, due_ms).await.unwrap();
}

fn num(s: String) -> i64 {
    s.trim().parse().unwrap_or(0)
}

#[tokio::test]
async fn a_scheduled_job_never_moves_before_its_time_and_then_joins_the_back_of_its_queue() {
    let (server, q) = start().await;
    let first = enqueue(&q, "long_task", json!({"duration": 1, "payload": "first"}), "default").await;
    let run_at = whole_ms(in_ms(1200)) + chrono::Duration::microseconds(500);
    let id = schedule(&q, json!("later"), "default", run_at).await;
    let j = get(&q, &id).await;
    assert_eq!((j.status, j.run_at.as_deref()), (Status::Scheduled, Some(stored(run_at).as_str())));
    // In its set by due time (rounded up to the ms), not in the queue list, no place there yet.
    let score = num(server.cli(&["zscore", "{taskq}:waiting:default:scheduled", &id]));
    // Rounded up: a due time in ms never comes before the job's time.
    assert!(DateTime::from_timestamp_millis(score).unwrap() >= run_at, "{score} is before {run_at}");
    assert!(score <= run_at.timestamp_millis() + 1, "{score}");
    assert_eq!(server.cli(&["lrange", "{taskq}:queue:default", "0", "-1"]).trim(), first);
    assert_eq!(server.cli(&["hget", &format!("{{taskq}}:job:{id}"), "seq"]).trim(), "");
    let counts = q.counts().await.unwrap();
    let default = counts.iter().find(|c| c.name == "default").unwrap();
    assert_eq!((default.count, default.states["queued"], default.states["scheduled"]), (1, 1, 1));

    server.cli(&["del", "{taskq}:wake"]);
    // Called over and over, as workers do: it moves the job once its time has come, never before.
    let deadline = Utc::now() + chrono::Duration::from_std(LONG).unwrap();
    let moved_at = loop {
        let before = Utc::now();
        let moved = q.promote_due(100).await.unwrap();
        let after = Utc::now();
        if moved > 0 {
            assert_eq!(moved, 1);
            assert!(after >= run_at, "moved before its time: call began {before}, run_at {run_at}");
            break after;
        }
        assert_eq!(status(&q, &id).await, Status::Scheduled);
        assert!(after < deadline, "not moved long after its time");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(moved_at - run_at < chrono::Duration::seconds(2), "moved at {moved_at}, due {run_at}");
    let j = get(&q, &id).await;
    assert_eq!((j.status, j.run_at.as_deref()), (Status::Queued, None));
    assert!(DateTime::parse_from_rfc3339(&j.enqueued_at).unwrap() >= run_at, "{j:?}");
    // The back of the queue: pushed on the left, behind the job already there.
    let list = server.cli(&["lrange", "{taskq}:queue:default", "0", "-1"]);
    assert_eq!(list.lines().collect::<Vec<_>>(), [id.as_str(), first.as_str()]);
    assert_eq!(server.cli(&["hget", &format!("{{taskq}}:job:{id}"), "seq"]).trim(), "2");
    assert_eq!(server.cli(&["llen", "{taskq}:wake"]).trim(), "1", "idle workers are woken");
    assert_eq!(server.cli(&["zcard", "{taskq}:waiting:default:scheduled"]).trim(), "0");
    assert_eq!(q.promote_due(100).await.unwrap(), 0, "moved once");
    let seen = pages(&q, "default", Status::Queued, None, 10).await.concat();
    assert_eq!(seen, [id, first], "listed where it joined the queue");
}

#[tokio::test]
async fn scheduled_and_retrying_jobs_are_canceled_rescheduled_and_run_now() {
    let (server, q) = start().await;
    let mut c = redis_conn(&server).await;
    let hour = chrono::Duration::hours(1);

    // Later: a new score and run_at, same state.
    let id = schedule(&q, json!(1), "default", Utc::now() + hour).await;
    let later = whole_ms(Utc::now() + hour * 2);
    assert_eq!(
        q.reschedule(&id, Some(later)).await.unwrap(),
        RescheduleOutcome::Waiting(Status::Scheduled, stored(later))
    );
    assert_eq!(num(server.cli(&["zscore", "{taskq}:waiting:default:scheduled", &id])), later.timestamp_millis());
    assert_eq!(get(&q, &id).await.run_at, Some(stored(later)));
    // Beyond a year: refused, nothing changed.
    let too_far = Utc::now() + chrono::Duration::days(367);
    match q.reschedule(&id, Some(too_far)).await {
        Err(taskq::Error::Invalid { field: "run_at", .. }) => {}
        other => panic!("expected invalid run_at, got {other:?}"),
    }
    assert_eq!(num(server.cli(&["zscore", "{taskq}:waiting:default:scheduled", &id])), later.timestamp_millis());
    // Now: onto its queue, as a promotion does.
    assert_eq!(q.reschedule(&id, None).await.unwrap(), RescheduleOutcome::Queued);
    let j = get(&q, &id).await;
    assert_eq!((j.status, j.run_at), (Status::Queued, None));
    assert_eq!(server.cli(&["lrange", "{taskq}:queue:default", "0", "-1"]).trim(), id);
    assert_eq!(server.cli(&["zcard", "{taskq}:waiting:default:scheduled"]).trim(), "0");
    assert_eq!(q.reschedule(&id, None).await.unwrap(), RescheduleOutcome::NotWaiting(Status::Queued));
    // A time already past is now too.
    let past = schedule(&q, json!(2), "default", Utc::now() + hour).await;
    let yesterday = Utc::now() - chrono::Duration::days(1);
    assert_eq!(q.reschedule(&past, Some(yesterday)).await.unwrap(), RescheduleOutcome::Queued);
    assert_eq!(status(&q, &past).await, Status::Queued);
    assert_eq!(q.reschedule(&unknown_id(), None).await.unwrap(), RescheduleOutcome::NotFound);
    assert_eq!(q.reschedule("not-an-id", None).await.unwrap(), RescheduleOutcome::NotFound);

    // Cancel: at once, out of its set, no tombstone, its key released.
    let mut keyed = job_at(json!(3), "default", Some(Utc::now() + hour));
    keyed.idempotency_key = Some("order-9".into());
    let canceled = q.enqueue(&keyed).await.unwrap().job_id().to_owned();
    assert_eq!(q.cancel(&canceled).await.unwrap(), CancelOutcome::Canceled);
    let j = get(&q, &canceled).await;
    assert_eq!((j.status, j.run_at.is_none(), j.ended_at.is_some()), (Status::Canceled, true, true));
    assert_eq!(server.cli(&["zcard", "{taskq}:waiting:default:scheduled"]).trim(), "0");
    assert!(!server.cli(&["zscore", "{taskq}:ended:default:canceled", &canceled]).trim().is_empty(), "registered");
    assert_eq!(server.cli(&["get", "{taskq}:tombstones:default"]).trim(), "", "not in the list: no tombstone");
    assert!(num(server.cli(&["ttl", &format!("{{taskq}}:job:{canceled}")])) > 0, "kept for the retention TTL");
    assert_eq!(q.cancel(&canceled).await.unwrap(), CancelOutcome::AlreadyEnded(Status::Canceled));
    assert_eq!(q.reschedule(&canceled, None).await.unwrap(), RescheduleOutcome::NotWaiting(Status::Canceled));
    assert!(matches!(q.enqueue(&keyed).await.unwrap(), Enqueued::Created { .. }), "key released");
    let counts = q.counts().await.unwrap();
    let default = counts.iter().find(|c| c.name == "default").unwrap();
    assert_eq!((default.count, default.states["scheduled"], default.states["canceled"]), (2, 1, 1));

    // Retrying jobs: rescheduled within their own set, run now, canceled.
    let r1 = schedule(&q, json!(4), "high", Utc::now() + hour).await;
    let r2 = schedule(&q, json!(5), "high", Utc::now() + hour).await;
    for r in [&r1, &r2] {
        make_retrying(&q, &mut c, r, "high", (Utc::now() + hour).timestamp_millis()).await;
    }
    let soon = whole_ms(Utc::now() + chrono::Duration::minutes(5));
    assert_eq!(
        q.reschedule(&r1, Some(soon)).await.unwrap(),
        RescheduleOutcome::Waiting(Status::Retrying, stored(soon))
    );
    assert_eq!(num(server.cli(&["zscore", "{taskq}:waiting:high:retrying", &r1])), soon.timestamp_millis());
    assert_eq!(q.cancel(&r2).await.unwrap(), CancelOutcome::Canceled);
    assert_eq!(server.cli(&["zrange", "{taskq}:waiting:high:retrying", "0", "-1"]).trim(), r1);
    assert_eq!(q.reschedule(&r1, None).await.unwrap(), RescheduleOutcome::Queued);
    assert_eq!(status(&q, &r1).await, Status::Queued);
    assert_eq!(server.cli(&["zcard", "{taskq}:waiting:high:retrying"]).trim(), "0");
    assert_eq!(server.cli(&["lrange", "{taskq}:queue:high", "0", "-1"]).trim(), r1);
}

#[tokio::test]
async fn a_duplicate_of_a_scheduled_job_answers_it_and_its_key_is_held_until_it_ends() {
    let (server, q) = start().await;
    let id = schedule(&q, json!("once"), "default", Utc::now() + chrono::Duration::hours(1)).await;
    let idem = get(&q, &id).await.idempotency_key.expect("an idempotency key");
    assert_eq!(server.cli(&["get", &idem]).trim(), id);
    assert_eq!(server.cli(&["ttl", &idem]).trim(), "-1", "no TTL: held as long as the job waits");
    let dup = Enqueued::Duplicate { duplicate: true, job_id: id.clone() };
    // Whenever the duplicate asks to run: the waiting job answers.
    for run_at in [None, Some(Utc::now() + chrono::Duration::minutes(1)), Some(Utc::now() + chrono::Duration::days(2))]
    {
        assert_eq!(q.enqueue(&job_at(json!("once"), "default", run_at)).await.unwrap(), dup);
    }
    assert_eq!(server.cli(&["zcard", "{taskq}:waiting:default:scheduled"]).trim(), "1");
    assert_eq!(server.cli(&["llen", "{taskq}:queue:default"]).trim(), "0");
    // Moved onto its queue, it still holds the key; ended, it lets it go.
    assert_eq!(q.reschedule(&id, None).await.unwrap(), RescheduleOutcome::Queued);
    assert_eq!(q.enqueue(&job_at(json!("once"), "default", None)).await.unwrap(), dup);
    assert_eq!(q.cancel(&id).await.unwrap(), CancelOutcome::Canceled);
    assert_eq!(server.cli(&["exists", &idem]).trim(), "0");
    let again = q.enqueue(&job_at(json!("once"), "default", Some(in_ms(60_000)))).await.unwrap();
    assert!(matches!(again, Enqueued::Created { .. }), "{again:?}");
}

#[tokio::test]
async fn counts_and_pages_of_waiting_jobs_soonest_due_first() {
    let (server, q) = start().await;
    let mut c = redis_conn(&server).await;
    let t0 = whole_ms(Utc::now() + chrono::Duration::hours(1));
    // Due times out of enqueue order, three of them in one millisecond.
    let offsets_s = [5, 1, 7, 3, 3, 3, 0, 6, 2, 4];
    let mut expected = Vec::new();
    for (i, s) in offsets_s.iter().enumerate() {
        let due = t0 + chrono::Duration::seconds(*s);
        expected.push((due.timestamp_millis(), schedule(&q, json!(i), "default", due).await));
    }
    // Same score: Redis orders by member.
    expected.sort();
    let expected: Vec<String> = expected.into_iter().map(|(_, id)| id).collect();
    enqueue(&q, "long_task", json!({"duration": 1, "payload": "queued"}), "default").await;
    let mut retrying = Vec::new();
    for i in 0..2 {
        let id = schedule(&q, json!(format!("r{i}")), "high", t0).await;
        make_retrying(&q, &mut c, &id, "high", t0.timestamp_millis() + 10 - i).await;
        retrying.push(id);
    }
    retrying.reverse();

    let counts = q.counts().await.unwrap();
    let of = |name: &str| counts.iter().find(|c| c.name == name).unwrap().clone();
    let (default, high) = (of("default"), of("high"));
    assert_eq!((default.count, default.states["queued"]), (1, 1), "waiting jobs are not in the queue's count");
    assert_eq!((default.states["scheduled"], default.states["retrying"]), (10, 0));
    assert_eq!((high.count, high.states["scheduled"], high.states["retrying"]), (0, 0, 2));

    for limit in [1, 2, 3, 4, 10, 11] {
        let pages = pages(&q, "default", Status::Scheduled, None, limit).await;
        assert!(pages.iter().all(|p| p.len() <= limit), "pages of {limit}: {pages:?}");
        assert_eq!(pages.concat(), expected, "pages of {limit}: soonest first, each job once");
    }
    assert_eq!(pages(&q, "high", Status::Retrying, None, 1).await.concat(), retrying);
    assert_eq!(pages(&q, "high", Status::Scheduled, None, 10).await.concat(), Vec::<String>::new());
    let page = q.list("default", Status::Scheduled, None, 4).await.unwrap();
    let cursor = page.next_cursor.expect("more pages");
    assert!(cursor.starts_with("w:"), "{cursor}");
    assert!(page.jobs.iter().all(|j| j.status == Status::Scheduled && j.run_at.is_some()));
    // A job moved onto its queue meanwhile is not listed as waiting.
    let cursor = Cursor::parse(&cursor).unwrap();
    assert_eq!(q.reschedule(&expected[4], None).await.unwrap(), RescheduleOutcome::Queued);
    let rest = pages(&q, "default", Status::Scheduled, Some(cursor.clone()), 2).await.concat();
    assert_eq!(rest, expected[5..]);

    // Cursors of one kind of list fit no other.
    for (state, cursor) in [
        (Status::Finished, cursor.clone()),
        (Status::Queued, cursor.clone()),
        (Status::Scheduled, Cursor::Ended { at: 0, skip: 0 }),
        (Status::Retrying, Cursor::Queued(1)),
    ] {
        assert!(
            matches!(q.list("default", state, Some(&cursor), 5).await, Err(taskq::Error::CursorMismatch)),
            "{state} with {cursor}"
        );
    }
    assert!(matches!(q.list("nope", Status::Scheduled, None, 5).await, Err(taskq::Error::UnknownQueue(_))));
}

#[tokio::test]
async fn a_run_at_beyond_a_year_is_refused_writing_nothing_and_one_not_ahead_runs_at_once() {
    let (server, q) = start().await;
    let too_far =
        Utc::now() + chrono::Duration::from_std(taskq::queue::MAX_DELAY).unwrap() + chrono::Duration::minutes(1);
    match q.enqueue(&job_at(json!(1), "default", Some(too_far))).await {
        Err(taskq::Error::Invalid { field: "run_at", message }) => assert!(message.contains("366"), "{message}"),
        other => panic!("expected invalid run_at, got {other:?}"),
    }
    assert_eq!(server.cli(&["dbsize"]).trim(), "0", "nothing written");
    // Within a year: scheduled.
    let far = schedule(&q, json!(2), "default", Utc::now() + chrono::Duration::days(365)).await;
    assert_eq!(status(&q, &far).await, Status::Scheduled);
    // Not after now: queued at once, no run_at.
    for (i, t) in [Utc::now() - chrono::Duration::seconds(10), Utc::now()].into_iter().enumerate() {
        let id = q.enqueue(&job_at(json!(format!("now {i}")), "default", Some(t))).await.unwrap();
        let j = get(&q, id.job_id()).await;
        assert_eq!((j.status, j.run_at), (Status::Queued, None));
    }
    assert_eq!(server.cli(&["llen", "{taskq}:queue:default"]).trim(), "2");
    assert_eq!(server.cli(&["zcard", "{taskq}:waiting:default:scheduled"]).trim(), "1");
}

#[tokio::test]
async fn one_call_moves_at_most_its_batch_in_priority_then_due_order() {
    let (server, q) = start().await;
    let mut c = redis_conn(&server).await;
    let t0 = whole_ms(in_ms(2000));
    let mut default = Vec::new();
    for i in 0..15 {
        default.push(schedule(&q, json!(i), "default", t0 + chrono::Duration::milliseconds(14 - i)).await);
    }
    default.reverse(); // soonest due first
    let mut high = Vec::new();
    for i in 0..10 {
        high.push(schedule(&q, json!(format!("h{i}")), "high", t0 + chrono::Duration::milliseconds(i)).await);
    }
    for i in 0..5 {
        schedule(&q, json!(format!("later {i}")), "default", t0 + chrono::Duration::hours(1)).await;
    }
    // Ids whose job is gone, or queued already, are dropped, never pushed.
    let queued = enqueue(&q, "long_task", json!({"duration": 1, "payload": "queued"}), "default").await;
    let keys = q.keys().clone();
    let _: () = c.zadd(keys.waiting("default", Status::Scheduled), unknown_id(), 0).await.unwrap();
    let _: () = c.zadd(keys.waiting("default", Status::Retrying), &queued, 0).await.unwrap();
    assert_eq!(q.promote_due(10).await.unwrap(), 0, "nothing due yet but the stale ids");
    assert_eq!(server.cli(&["zcard", "{taskq}:waiting:default:retrying"]).trim(), "0");
    assert_eq!(server.cli(&["zcard", "{taskq}:waiting:default:scheduled"]).trim(), "20");
    assert_eq!(server.cli(&["lrange", "{taskq}:queue:default", "0", "-1"]).trim(), queued);

    wait_past(t0 + chrono::Duration::milliseconds(20)).await;
    assert_eq!(q.promote_due(0).await.unwrap(), 0);
    // The highest priority queue first; then the next, where the first call stopped.
    assert_eq!(q.promote_due(10).await.unwrap(), 10);
    let list = |name: &str| {
        let mut ids: Vec<String> =
            server.cli(&["lrange", &format!("{{taskq}}:queue:{name}"), "0", "-1"]).lines().map(str::to_owned).collect();
        ids.reverse(); // taken from the right: first in line first
        ids
    };
    assert_eq!(list("high"), high, "soonest due first in line");
    assert_eq!(list("default"), std::slice::from_ref(&queued));
    assert_eq!(q.promote_due(10).await.unwrap(), 10);
    assert_eq!(q.promote_due(10).await.unwrap(), 5);
    assert_eq!(q.promote_due(10).await.unwrap(), 0);
    let mut in_line = vec![queued];
    in_line.extend(default);
    assert_eq!(list("default"), in_line, "behind what was queued, soonest due first");
    assert_eq!(server.cli(&["zcard", "{taskq}:waiting:default:scheduled"]).trim(), "5", "the later ones wait");
    for id in &in_line {
        assert_eq!(status(&q, id).await, Status::Queued);
    }
}

#[tokio::test]
async fn on_a_cluster_waiting_jobs_move_reschedule_and_cancel() {
    // Every script's keys, prefixes included, are in the one slot of the hash tag.
    let server = testkit::RedisServer::start_mode(testkit::Mode::Cluster);
    let q = queue(&server.config()).await;
    let hour = chrono::Duration::hours(1);
    let soon = schedule(&q, json!("soon"), "default", in_ms(300)).await;
    let later = schedule(&q, json!("later"), "high", Utc::now() + hour).await;
    let gone = schedule(&q, json!("gone"), "default", Utc::now() + hour).await;
    let counts = q.counts().await.unwrap();
    assert_eq!(counts.iter().map(|c| c.states["scheduled"]).sum::<u64>(), 3);
    assert_eq!(pages(&q, "default", Status::Scheduled, None, 1).await.concat(), [soon.clone(), gone.clone()]);
    testkit::wait_for("the due job to move", LONG, || async { q.promote_due(10).await.unwrap() == 1 }).await;
    assert_eq!(status(&q, &soon).await, Status::Queued);
    assert_eq!(q.reschedule(&later, None).await.unwrap(), RescheduleOutcome::Queued);
    assert_eq!(q.cancel(&gone).await.unwrap(), CancelOutcome::Canceled);
    let counts = q.counts().await.unwrap();
    let sum = |st: &str| counts.iter().map(|c| c.states[st]).sum::<u64>();
    assert_eq!((sum("queued"), sum("scheduled"), sum("canceled")), (2, 0, 1));
}
