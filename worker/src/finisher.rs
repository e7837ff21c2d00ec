//! Ends jobs in batches. Slots hand their job's end to the finisher, which
//! sends every end waiting at that moment in one call of the finish script,
//! claiming the next jobs of those slots in the same call. Under load the
//! fixed cost of a script call is shared by many jobs; an idle worker sends
//! batches of one, with no added wait. Up to [`IN_FLIGHT`] calls are under
//! way at once, so that Redis runs one batch while the slots of the other run
//! their jobs.

use std::sync::Arc;

use redis::{FromRedisValue, RedisError, RedisResult, Value};
use taskq::job::{now_ms, now_rfc3339};
use taskq::queue::stats_minute;
use taskq::scripts::{self, Claimed};
use taskq::{Config, Connection, Keys, Status};
use tokio::sync::{Semaphore, mpsc, oneshot};

/// Most ends sent in one script call: bounds how long one call holds Redis.
const MAX_BATCH: usize = 64;

/// Script calls under way at once.
const IN_FLIGHT: usize = 2;

/// The end of one run, as written by the finish script. Cheap to clone: a
/// slot resends it when a call fails.
#[derive(Clone)]
pub struct Ending {
    /// The job.
    pub job: Arc<Claimed>,
    /// Finished, failed, canceled, or retrying (an attempt failed and the
    /// job waits for its next one).
    pub status: Status,
    /// The result's JSON, or the error's when the job failed or is retried.
    pub value: Arc<str>,
    /// Last progress and meta JSON ('' when never set).
    pub report: Arc<(String, String)>,
    /// Whether to claim the slot's next job.
    pub claim: bool,
    /// For a retried job: when its next attempt is due, in ms since the
    /// epoch and in RFC 3339.
    pub retry_at: Option<(i64, Arc<str>)>,
}

/// What the finish script did for one end: whether it was written (false
/// when the job was no longer this worker's), and the slot's next job.
pub type Ended = (bool, Option<Claimed>);

type Request = (Ending, oneshot::Sender<RedisResult<Ended>>);

/// Handle the slots send ends to.
pub struct Finisher {
    tx: mpsc::UnboundedSender<Request>,
}

/// What the batching task needs to build script calls.
struct Writer {
    conn: Connection,
    keys: Keys,
    cfg: Arc<Config>,
    worker: Arc<str>,
    inflight_key: String,
    queue_keys: Vec<String>,
}

impl Finisher {
    /// Starts the batching task; it stops when the last handle is dropped.
    pub fn start(conn: Connection, keys: Keys, cfg: Arc<Config>, worker: Arc<str>) -> Finisher {
        let (tx, rx) = mpsc::unbounded_channel();
        let writer = Writer {
            inflight_key: keys.inflight(&worker),
            queue_keys: cfg.queues.iter().map(|q| keys.queue(q)).collect(),
            conn,
            keys,
            cfg,
            worker,
        };
        tokio::spawn(Arc::new(writer).run(rx));
        Finisher { tx }
    }

    /// Writes one end (with others waiting, in one call).
    pub async fn end(&self, ending: Ending) -> RedisResult<Ended> {
        let (tx, rx) = oneshot::channel();
        let closed = || RedisError::from((redis::ErrorKind::Io, "the finisher has stopped"));
        self.tx.send((ending, tx)).map_err(|_| closed())?;
        rx.await.map_err(|_| closed())?
    }
}

impl Writer {
    async fn run(self: Arc<Self>, mut rx: mpsc::UnboundedReceiver<Request>) {
        let calls = Arc::new(Semaphore::new(IN_FLIGHT));
        while let Some(first) = rx.recv().await {
            // Ends that arrive while every call is under way join this batch.
            let Ok(permit) = calls.clone().acquire_owned().await else { return };
            let mut batch = vec![first];
            // Take what is waiting; then let the slots that are about to end
            // their jobs (woken by the previous reply) run once, and take theirs.
            for round in 0..2 {
                while batch.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(r) => batch.push(r),
                        Err(_) => break,
                    }
                }
                if round == 0 && batch.len() < MAX_BATCH {
                    tokio::task::yield_now().await;
                }
            }
            let writer = self.clone();
            tokio::spawn(async move {
                writer.send(batch).await;
                drop(permit);
            });
        }
    }

    /// Writes one batch and answers each of its slots.
    async fn send(&self, batch: Vec<Request>) {
        match self.write(&batch).await {
            Ok(results) => {
                for ((_, reply), result) in batch.into_iter().zip(results) {
                    let _ = reply.send(Ok(result));
                }
            }
            Err(e) => {
                let msg = e.to_string();
                for (_, reply) in batch {
                    let _ =
                        reply.send(Err(RedisError::from((redis::ErrorKind::Io, "ending jobs failed", msg.clone()))));
                }
            }
        }
    }

    async fn write(&self, batch: &[Request]) -> RedisResult<Vec<Ended>> {
        let want = batch.iter().filter(|(e, _)| e.claim).count();
        let mut inv = scripts::FINISH.prepare_invoke();
        inv.key(&self.inflight_key)
            .key(self.keys.job_prefix())
            .key(self.keys.tombstones_prefix())
            .key(self.keys.stats(&stats_minute(&chrono::Utc::now())))
            .key(self.keys.ended_prefix());
        for q in &self.queue_keys {
            inv.key(q);
        }
        inv.arg(self.queue_keys.len()).arg(batch.len()).arg(want).arg(&*self.worker).arg(now_rfc3339()).arg(now_ms());
        for q in &self.cfg.queues {
            inv.arg(q);
        }
        for (e, _) in batch {
            let job_key = self.keys.job(&e.job.id);
            let idem = if e.job.idempotency_key.is_empty() { job_key.clone() } else { e.job.idempotency_key.clone() };
            // A retried job waits in its queue's retrying set; should its
            // cancellation have been requested, it ends canceled instead.
            let (set, ttl, field) = match e.status {
                Status::Retrying => (self.keys.waiting(&e.job.queue, Status::Retrying), self.cfg.result_ttl, "error"),
                Status::Failed => (self.keys.ended(&e.job.queue, e.status), self.cfg.failure_ttl, "error"),
                s => (self.keys.ended(&e.job.queue, s), self.cfg.retention(s), "result"),
            };
            inv.key(job_key).key(set).key(idem);
            let (due_ms, run_at) = match &e.retry_at {
                Some((ms, t)) => (*ms, &**t),
                // Whether an earlier attempt ran, whose error the end clears.
                None => (i64::from(e.job.attempts > 1), ""),
            };
            inv.arg(&e.job.id)
                .arg(e.status.as_str())
                .arg(field)
                .arg(&*e.value)
                .arg(ttl.as_secs())
                .arg(&e.report.0)
                .arg(&e.report.1)
                .arg(due_ms)
                .arg(run_at);
        }
        let mut conn = self.conn.clone();
        let raw: Vec<Value> = inv.invoke_async(&mut conn).await?;
        let mut raw = raw.into_iter();
        let ended: Vec<bool> = raw
            .by_ref()
            .take(batch.len())
            .map(|v| i64::from_redis_value(v).map(|n| n == 1))
            .collect::<Result<_, _>>()
            .map_err(RedisError::from)?;
        let mut claimed =
            raw.map(Claimed::from_redis_value).collect::<Result<Vec<_>, _>>().map_err(RedisError::from)?.into_iter();
        Ok(batch
            .iter()
            .zip(ended)
            .map(|((e, _), written)| (written, if e.claim { claimed.next() } else { None }))
            .collect())
    }
}
