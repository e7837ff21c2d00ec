//! The `Queue` client: everything the functions and the operator tools do to
//! jobs. Every change of state is one script call; reads are pipelined.
//!
//! Split by what a call does: `changes` changes jobs' state (enqueue,
//! cancel, purge, requeue), `listing` pages through a queue's jobs in one
//! state (with its four kinds of cursor), `views` reads counts, workers
//! and throughput. This module holds the client itself, the error type and
//! the reads of single jobs the others build on.

mod changes;
mod listing;
mod schedules;
mod views;

use std::collections::HashMap;
use std::sync::Arc;

use redis::AsyncCommands;

use crate::catalogue::ArgsError;
use crate::config::Config;
use crate::connection::{Connection, Redis};
use crate::job::{DamagedJob, Job, Status};
use crate::keys::Keys;

pub use changes::{
    CancelOutcome, Enqueued, MAX_DELAY, MAX_RETRIES, MAX_RETRY_BACKOFF, MAX_RETRY_BACKOFF_MAX, NewJob, RequeueOutcome,
    RescheduleOutcome, check_retry,
};
pub use listing::{Cursor, JobPage};
pub use views::{MinuteStats, QueueCounts, WorkerInfo, stats_minute};

/// Why a queue operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Redis could not be reached or answered an error.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// The queue is not in QUEUES.
    #[error("unknown queue {0:?}")]
    UnknownQueue(String),
    /// The task is not in the catalogue.
    #[error("unknown task {0:?}")]
    UnknownTask(String),
    /// The arguments do not fit the task.
    #[error("invalid arguments: {0}")]
    InvalidArgs(ArgsError),
    /// The queue holds MAX_QUEUED waiting jobs: nothing was written.
    #[error("queue {queue:?} is full: {waiting} jobs are waiting (MAX_QUEUED={limit})")]
    QueueFull {
        /// The queue.
        queue: String,
        /// Jobs waiting in it.
        waiting: u64,
        /// MAX_QUEUED.
        limit: u64,
    },
    /// A stored job holds a value taskq never writes.
    #[error(transparent)]
    Damaged(#[from] DamagedJob),
    /// A value of a request that cannot be used: the field and why (a delay
    /// beyond a year, an unparsable cron expression, an unknown time zone...).
    #[error("{field}: {message}")]
    Invalid {
        /// The field at fault.
        field: &'static str,
        /// Why.
        message: String,
    },
    /// A page cursor made for a list of another state.
    #[error("the cursor is for a list of jobs in another state")]
    CursorMismatch,
}

/// The client shared by the functions and the worker. Cheap to clone.
#[derive(Clone)]
pub struct Queue {
    conn: Connection,
    keys: Keys,
    cfg: Arc<Config>,
}

impl Queue {
    /// Connects with `cfg`.
    pub async fn connect(cfg: Config) -> Result<Queue, Error> {
        let redis = Redis::open(&cfg).await?;
        let conn = redis.connect().await?;
        Ok(Queue::new(conn, Arc::new(cfg)))
    }

    /// A client over an open connection.
    pub fn new(conn: Connection, cfg: Arc<Config>) -> Queue {
        Queue { keys: Keys::new(&cfg.key_prefix), conn, cfg }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The key names.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// A handle on the connection (cheap clone).
    pub fn connection(&self) -> Connection {
        self.conn.clone()
    }

    /// Whether `name` is one of the configured queues.
    pub fn has_queue(&self, name: &str) -> bool {
        self.cfg.queues.iter().any(|q| q == name)
    }

    /// Checks that Redis answers.
    pub async fn ping(&self) -> Result<(), Error> {
        let mut c = self.conn.clone();
        let _: String = redis::cmd("PING").query_async(&mut c).await?;
        Ok(())
    }

    /// Reads a job; `None` if unknown or expired.
    pub async fn get(&self, id: &str) -> Result<Option<Job>, Error> {
        if !is_job_id(id) {
            return Ok(None);
        }
        let mut c = self.conn.clone();
        let h: HashMap<String, String> = c.hgetall(self.keys.job(id)).await?;
        Ok(Job::from_hash(id, h)?)
    }

    /// Reads many jobs in one round trip, skipping unknown ones.
    pub async fn get_many(&self, ids: &[String]) -> Result<Vec<Job>, Error> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut p = redis::pipe();
        for id in ids {
            p.hgetall(self.keys.job(id));
        }
        let mut c = self.conn.clone();
        let hashes: Vec<HashMap<String, String>> = p.query_async(&mut c).await?;
        let mut jobs = Vec::with_capacity(ids.len());
        for (id, h) in ids.iter().zip(hashes) {
            jobs.extend(Job::from_hash(id, h)?);
        }
        Ok(jobs)
    }

    /// Ids in every live worker's in-flight list.
    async fn running_ids(&self) -> Result<Vec<String>, Error> {
        let mut c = self.conn.clone();
        let names: Vec<String> = c.zrange(self.keys.workers(), 0, -1).await?;
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let mut p = redis::pipe();
        for n in &names {
            p.lrange(self.keys.inflight(n), 0, -1);
        }
        let lists: Vec<Vec<String>> = p.query_async(&mut c).await?;
        Ok(lists.into_iter().flatten().collect())
    }

    fn queues_or(&self, queue: Option<&str>) -> Result<Vec<String>, Error> {
        match queue {
            Some(q) if self.has_queue(q) => Ok(vec![q.to_owned()]),
            Some(q) => Err(Error::UnknownQueue(q.to_owned())),
            None => Ok(self.cfg.queues.clone()),
        }
    }

    /// Retention of jobs that ended in `status`, in ms.
    fn ttl_ms(&self, status: Status) -> i64 {
        self.cfg.retention(status).as_millis() as i64
    }
}

/// The status a script read from job `id`'s hash.
fn stored_status(id: &str, s: &str) -> Result<Status, DamagedJob> {
    Status::parse(s).ok_or_else(|| DamagedJob::new(id, "status", Some(s), "not a job status"))
}

/// Ids are UUIDs; anything else cannot name a job (and must not reach a key name).
fn is_job_id(id: &str) -> bool {
    uuid::Uuid::parse_str(id).is_ok()
}
