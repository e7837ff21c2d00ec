//! Pages of queued jobs through `Queue::list`, against a real redis-server
//! and no worker: each live job listed once, past tombstones and requeues,
//! and a cursor that holds its place while jobs come, go and come back.

use redis::AsyncCommands;
use serde_json::json;
use taskq::{CancelOutcome, Cursor, RequeueOutcome, Status};
use testkit::client::*;

/// The ids at `places` of `ids`, in that order.
fn at(ids: &[String], places: &[usize]) -> Vec<String> {
    places.iter().map(|&i| ids[i].clone()).collect()
}

#[tokio::test]
async fn queued_pages_list_every_live_job_once_past_tombstones() {
    let (_server, q) = start().await;
    let ids = enqueue_many(&q, 9).await;
    // Tombstones at both ends and in the middle of the first pages.
    for i in [0, 3, 4, 8] {
        assert_eq!(q.cancel(&ids[i]).await.unwrap(), CancelOutcome::Canceled);
    }
    let pages = pages(&q, "default", Status::Queued, None, 2).await;
    assert!(pages.iter().all(|p| p.len() <= 2), "pages of 2: {pages:?}");
    let seen: Vec<String> = pages.concat();
    assert_eq!(seen, at(&ids, &[7, 6, 5, 2, 1]), "newest first, each live job once");
}

#[tokio::test]
async fn a_job_canceled_then_requeued_is_listed_once_where_it_was_requeued() {
    let (server, q) = start().await;
    let ids = enqueue_many(&q, 4).await;
    assert_eq!(q.cancel(&ids[1]).await.unwrap(), CancelOutcome::Canceled);
    assert_eq!(q.requeue(&ids[1]).await.unwrap(), RequeueOutcome::Requeued);
    // Its tombstone is still in the list, and its requeued id on the left.
    assert_eq!(server.cli(&["llen", "{taskq}:queue:default"]).trim(), "5");
    let expected = at(&ids, &[1, 3, 2, 0]);
    for limit in [1, 2, 10] {
        let seen = pages(&q, "default", Status::Queued, None, limit).await.concat();
        assert_eq!(seen, expected, "pages of {limit}: newest first, each job once");
    }
    let counts = q.counts().await.unwrap();
    assert_eq!(counts.iter().find(|c| c.name == "default").unwrap().count, 4);
}

#[tokio::test]
async fn queued_pages_start_at_their_place_after_jobs_are_taken_and_given_back() {
    let (server, q) = start().await;
    let ids = enqueue_many(&q, 6).await;
    let first = q.list("default", Status::Queued, None, 2).await.unwrap();
    let cursor = Cursor::parse(&first.next_cursor.expect("more pages")).unwrap();
    // The two oldest are taken from the right, as a worker's fetch does, and
    // one is given back there, as a stopping worker does.
    let mut c = redis_conn(&server).await;
    let keys = q.keys().clone();
    for id in &ids[..2] {
        let _: String =
            c.lmove(keys.queue("default"), "inflight", redis::Direction::Right, redis::Direction::Left).await.unwrap();
        let _: () = c.hset_multiple(keys.job(id), &[("status", "started"), ("attempts", "1")]).await.unwrap();
    }
    let released: i64 = taskq::scripts::RELEASE
        .key(keys.job(&ids[0]))
        .key("inflight")
        .key(keys.queue("default"))
        .key(keys.wake())
        .key(keys.pushed("default"))
        .arg(&ids[0])
        .invoke_async(&mut c)
        .await
        .unwrap();
    assert_eq!(released, 1);
    let rest = pages(&q, "default", Status::Queued, Some(cursor), 2).await.concat();
    assert_eq!(rest, at(&ids, &[3, 2, 0]));
}

#[tokio::test]
async fn queued_pages_hold_their_place_while_jobs_come_and_go() {
    let (_server, q) = start().await;
    let ids = enqueue_many(&q, 6).await;
    let first = q.list("default", Status::Queued, None, 2).await.unwrap();
    assert_eq!(first.jobs.iter().map(|j| &j.id).collect::<Vec<_>>(), [&ids[5], &ids[4]]);
    let cursor = Cursor::parse(&first.next_cursor.expect("more pages")).unwrap();
    // Newer jobs arrive before the next page is read: it goes on where the first stopped.
    for i in 6..9 {
        enqueue(&q, "long_task", json!({"duration": 1, "payload": i}), "default").await;
    }
    let rest = pages(&q, "default", Status::Queued, Some(cursor.clone()), 2).await;
    assert_eq!(rest, vec![at(&ids, &[3, 2]), at(&ids, &[1, 0])]);
    // The job the cursor names left the queue, and every older one with it: nothing more.
    q.purge("default").await.unwrap();
    let after = q.list("default", Status::Queued, Some(&cursor), 2).await.unwrap();
    assert!(after.jobs.is_empty() && after.next_cursor.is_none());
    // A cursor of another list is refused.
    let wrong = q.list("default", Status::Finished, Some(&cursor), 2).await;
    assert!(matches!(wrong, Err(taskq::Error::CursorMismatch)), "{wrong:?}");
}
