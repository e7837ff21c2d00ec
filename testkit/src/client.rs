//! Short-hands for the queue client in tests against a real redis-server:
//! connecting, enqueueing, reading jobs back and walking every page of a
//! listing. taskq's and the worker's tests use them.

use crate::RedisServer;
use serde_json::{Value, json};
use taskq::{Config, Cursor, Enqueued, Job, NewJob, Queue, Status};

/// A fresh redis-server and a client of it with the test configuration.
pub async fn start() -> (RedisServer, Queue) {
    let server = RedisServer::start();
    let q = queue(&server.config()).await;
    (server, q)
}

pub async fn queue(cfg: &Config) -> Queue {
    Queue::connect(cfg.clone()).await.expect("queue connects")
}

/// A plain connection to `server`, to read and write keys behind the client.
pub async fn redis_conn(server: &RedisServer) -> redis::aio::MultiplexedConnection {
    redis::Client::open(server.url()).unwrap().get_multiplexed_async_connection().await.unwrap()
}

/// Enqueues a catalogue task and returns its id (panics on a duplicate).
pub async fn enqueue(q: &Queue, task: &str, args: Value, queue: &str) -> String {
    let job = NewJob::from_catalogue(task, args, queue).expect("valid job");
    match q.enqueue(&job).await.expect("enqueue") {
        Enqueued::Created { job_id, .. } => job_id,
        dup => panic!("unexpected duplicate: {dup:?}"),
    }
}

/// Enqueues `n` distinct one-second `long_task` jobs on `default`, oldest first.
pub async fn enqueue_many(q: &Queue, n: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        ids.push(enqueue(q, "long_task", json!({"duration": 1, "payload": i}), "default").await);
    }
    ids
}

pub async fn get(q: &Queue, id: &str) -> Job {
    q.get(id).await.expect("get").expect("job exists")
}

pub async fn status(q: &Queue, id: &str) -> Status {
    get(q, id).await.status
}

/// Any well-formed id no job has.
pub fn unknown_id() -> String {
    "0b7a2f44-3c1e-4e6f-9d3a-2a4b5c6d7e8f".into()
}

/// Every page of a list, from `from` (the first page when `None`),
/// following `next_cursor`: the ids of each page.
pub async fn pages(q: &Queue, queue: &str, state: Status, from: Option<Cursor>, limit: usize) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut cursor = from;
    loop {
        let page = q.list(queue, state, cursor.as_ref(), limit).await.unwrap();
        out.push(page.jobs.into_iter().map(|j| j.id).collect());
        match page.next_cursor {
            Some(c) => cursor = Some(Cursor::parse(&c).expect("a cursor of ours")),
            None => return out,
        }
    }
}
