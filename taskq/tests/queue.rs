//! Changes of state through the `Queue` client, against a real redis-server
//! and no worker: idempotent enqueue and the wake marker, purge, and stored
//! values taskq never writes.

use redis::AsyncCommands;
use serde_json::json;
use taskq::{Enqueued, NewJob, RequeueOutcome, Status};
use testkit::client::*;

#[tokio::test]
async fn fifty_concurrent_identical_enqueues_make_one_job() {
    let (server, q) = start().await;
    let job =
        NewJob::from_catalogue("long_task", json!({"duration": 5, "payload": {"usuario_id": 123}}), "default").unwrap();
    let results = futures_util::future::join_all((0..50).map(|_| q.enqueue(&job))).await;
    let results: Vec<Enqueued> = results.into_iter().map(Result::unwrap).collect();
    let created: Vec<_> = results.iter().filter(|r| matches!(r, Enqueued::Created { .. })).collect();
    assert_eq!(created.len(), 1, "{results:?}");
    let id = created[0].job_id();
    assert!(results.iter().all(|r| r.job_id() == id));
    assert_eq!(server.cli(&["llen", "{taskq}:queue:default"]).trim(), "1");
    // Small jobs stay compact hashes (listpack): no stored value, the
    // idempotency key's name included, exceeds hash-max-listpack-value.
    assert_eq!(server.cli(&["object", "encoding", &format!("{{taskq}}:job:{id}")]).trim(), "listpack");

    // Key order does not matter; different arguments make a different job.
    let reordered: serde_json::Value =
        serde_json::from_str(r#"{"payload": {"usuario_id": 123}, "duration": 5}"#).unwrap();
    let again = q.enqueue(&NewJob::from_catalogue("long_task", reordered, "default").unwrap()).await.unwrap();
    assert_eq!(again, Enqueued::Duplicate { duplicate: true, job_id: id.to_owned() });
    let other = enqueue(&q, "long_task", json!({"duration": 5, "payload": {"usuario_id": 124}}), "default").await;
    assert_ne!(other, id);
    // One wake marker for idle workers: pushed when the queue was empty, not
    // again for a push onto a non-empty queue.
    assert_eq!(server.cli(&["llen", "{taskq}:wake"]).trim(), "1");
    server.cli(&["del", "{taskq}:wake"]);
    enqueue(&q, "long_task", json!({"duration": 5, "payload": {"usuario_id": 125}}), "default").await;
    assert_eq!(server.cli(&["llen", "{taskq}:wake"]).trim(), "0", "a push onto a non-empty queue wakes nobody");
    enqueue(&q, "long_task", json!({"duration": 5, "payload": {"usuario_id": 126}}), "high").await;
    assert_eq!(server.cli(&["llen", "{taskq}:wake"]).trim(), "1", "a push onto an empty queue leaves a marker");
    // A client key names the request instead of the arguments.
    let mut keyed = NewJob::from_catalogue("task_a", json!({"user_id": 1, "duration": 1}), "high").unwrap();
    keyed.idempotency_key = Some("order-7".into());
    let first = q.enqueue(&keyed).await.unwrap();
    keyed.args = json!({"user_id": 2, "duration": 1});
    assert_eq!(q.enqueue(&keyed).await.unwrap().job_id(), first.job_id());
}

#[tokio::test]
async fn purge_cancels_queued_jobs_and_releases_their_keys() {
    let (server, q) = start().await;
    let ids = enqueue_many(&q, 1200).await;
    q.cancel(&ids[0]).await.unwrap();
    let kept = enqueue(&q, "long_task", json!({"duration": 1, "payload": "high"}), "high").await;
    assert_eq!(q.purge("default").await.unwrap(), 1199);
    assert_eq!(server.cli(&["llen", "{taskq}:queue:default"]).trim(), "0");
    let counts = q.counts().await.unwrap();
    assert_eq!((counts[0].count, counts[1].count, counts[1].states["canceled"]), (1, 0, 1200));
    assert_eq!(status(&q, &ids[700]).await, Status::Canceled);
    assert_eq!(status(&q, &kept).await, Status::Queued);
    // A queued job is not requeued a second time.
    assert_eq!(q.requeue(&kept).await.unwrap(), RequeueOutcome::NotRequeueable(Status::Queued));
    // Keys released: the same requests are accepted again.
    enqueue(&q, "long_task", json!({"duration": 1, "payload": 5}), "default").await;
    assert!(matches!(q.purge("nope").await, Err(taskq::Error::UnknownQueue(_))));
}

#[tokio::test]
async fn a_stored_value_taskq_never_writes_is_an_error_naming_the_job_and_the_field() {
    let (server, q) = start().await;
    let mut c = redis_conn(&server).await;
    let [bad_timeout, bad_status] = <[String; 2]>::try_from(enqueue_many(&q, 2).await).unwrap();
    let _: () = c.hset(q.keys().job(&bad_timeout), "timeout", "ten").await.unwrap();
    let _: () = c.hset(q.keys().job(&bad_status), "status", "paused").await.unwrap();

    let named = |r: Result<_, taskq::Error>, id: &str, field: &str| match r {
        Err(taskq::Error::Damaged(d)) => {
            assert_eq!((d.id.as_str(), d.field), (id, field));
            assert!(d.to_string().contains(id) && d.to_string().contains(field), "{d}");
        }
        other => panic!("expected a damaged {field} of {id}, got {:?}", other.map(|_| ())),
    };
    named(q.get(&bad_timeout).await.map(|_| ()), &bad_timeout, "timeout");
    named(q.get(&bad_status).await.map(|_| ()), &bad_status, "status");
    named(q.cancel(&bad_status).await.map(|_| ()), &bad_status, "status");
    named(q.requeue(&bad_status).await.map(|_| ()), &bad_status, "status");
    named(q.list("default", Status::Queued, None, 10).await.map(|_| ()), &bad_timeout, "timeout");
}
