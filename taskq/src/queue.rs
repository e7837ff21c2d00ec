//! The `Queue` client: everything the functions and the operator tools do to
//! jobs (enqueue, get, cancel, list, counts, purge, requeue, workers).
//! Every change of state is one script call; reads are pipelined.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use redis::AsyncCommands;
use serde::Serialize;
use serde_json::Value;

use crate::catalogue::{self, ArgsError};
use crate::config::Config;
use crate::connection::{Connection, Redis};
use crate::idempotency;
use crate::job::{DamagedJob, Job, Status, now_ms, now_rfc3339};
use crate::keys::Keys;
use crate::scripts;

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
    /// A page cursor made for a list of another state.
    #[error("the cursor is for a list of jobs in another state")]
    CursorMismatch,
}

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// Task name from the catalogue.
    pub task: String,
    /// Its arguments.
    pub args: Value,
    /// Queue to put it on.
    pub queue: String,
    /// A client-chosen idempotency key; by default the key is derived from
    /// the task and its arguments.
    pub idempotency_key: Option<String>,
    /// Run-time limit in seconds; TASK_TIMEOUT by default.
    pub timeout: Option<f64>,
    /// Seconds the task expects to run (TASK_TIMEOUT when unknown); plus
    /// IDEMP_MARGIN, recorded with the job. The idempotency key has no TTL:
    /// it lives as long as the job.
    pub duration: Option<f64>,
}

impl NewJob {
    /// A job of any `task` with `args` on `queue`, unchecked: for tasks of
    /// your own that are not in the catalogue.
    pub fn new(task: impl Into<String>, args: Value, queue: impl Into<String>) -> Self {
        Self { task: task.into(), args, queue: queue.into(), idempotency_key: None, timeout: None, duration: None }
    }

    /// A job of a catalogue task, its arguments checked and its duration read
    /// from them: what the HTTP API enqueues.
    pub fn from_catalogue(task: &str, args: Value, queue: impl Into<String>) -> Result<Self, Error> {
        let spec = catalogue::find(task).ok_or_else(|| Error::UnknownTask(task.to_owned()))?;
        let duration = (spec.validate)(&args).map_err(Error::InvalidArgs)?;
        Ok(Self { duration, ..Self::new(task, args, queue) })
    }

    /// [`NewJob::from_catalogue`] for a worker whose TASK_TIMEOUT is
    /// `task_timeout`: a task that declares a `duration` of that or more
    /// could only time out, so it is refused, naming the limit.
    pub fn from_catalogue_within(
        task: &str,
        args: Value,
        queue: impl Into<String>,
        task_timeout: std::time::Duration,
    ) -> Result<Self, Error> {
        let job = Self::from_catalogue(task, args, queue)?;
        if let Some(d) = job.duration {
            catalogue::check_timeout(d, task_timeout).map_err(Error::InvalidArgs)?;
        }
        Ok(job)
    }
}

/// What enqueue did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Enqueued {
    /// A new job.
    Created {
        /// Its id.
        job_id: String,
        /// Its queue.
        queue: String,
    },
    /// The idempotency key is held by an existing job.
    Duplicate {
        /// Always true.
        duplicate: bool,
        /// The existing job.
        job_id: String,
    },
}

impl Enqueued {
    /// The id of the new or existing job.
    pub fn job_id(&self) -> &str {
        match self {
            Enqueued::Created { job_id, .. } | Enqueued::Duplicate { job_id, .. } => job_id,
        }
    }
}

/// What cancel did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// It was queued; it is canceled and will never run.
    Canceled,
    /// It is running; its worker was asked to stop it.
    CancelRequested,
    /// It had already ended in this state.
    AlreadyEnded(Status),
    /// No such job.
    NotFound,
}

/// What requeue did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequeueOutcome {
    /// Back on its queue.
    Requeued,
    /// Only failed and canceled jobs are requeued; it is in this state.
    NotRequeueable(Status),
    /// No such job.
    NotFound,
}

/// Counts of one queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueCounts {
    /// Queue name.
    pub name: String,
    /// Jobs waiting (the starter's `count`).
    pub count: u64,
    /// Jobs per state.
    pub states: BTreeMap<&'static str, u64>,
}

/// One page of a job listing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobPage {
    /// Jobs, newest first.
    pub jobs: Vec<Job>,
    /// Cursor of the next page, if there is one.
    pub next_cursor: Option<String>,
}

/// Where a page of [`Queue::list`] starts: right after the last job the page
/// before looked at, found again by what it is rather than by a count, so
/// that jobs added or removed meanwhile neither repeat nor get skipped.
/// Travels as text in `next_cursor` ([`Cursor::parse`], `to_string`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// Queued jobs: after this place in the queue (`q:<seq>`), the `seq` of
    /// the last id the page looked at (see `scripts/list_queued.lua`). Once
    /// that place has left the queue, every older one has too: the list is done.
    Queued(i64),
    /// Running jobs, newest start first: after this start and id
    /// (`r:<id>:<started_at>`).
    Running { id: String, started_at: String },
    /// Ended jobs, newest end first: at this end time (ms since the epoch),
    /// past the first `skip` jobs that ended in that millisecond
    /// (`e:<ms>:<skip>`).
    Ended { at: i64, skip: usize },
}

impl Cursor {
    /// Longest cursor [`Cursor::to_string`] writes, in bytes.
    pub const MAX_LEN: usize = 80;
    /// Largest end time an `e:` cursor may name: the last millisecond of year 9999.
    pub const MAX_ENDED_AT: i64 = 253_402_300_799_999;
    /// Largest skip an `e:` cursor may carry: far more jobs than can end in
    /// one millisecond, and well inside what Redis accepts as a `LIMIT` offset.
    pub const MAX_SKIP: usize = u32::MAX as usize;

    /// Reads a cursor written by [`Cursor::to_string`]; `None` for anything
    /// else, including numbers out of the ranges a real cursor can hold.
    pub fn parse(s: &str) -> Option<Cursor> {
        if s.len() > Self::MAX_LEN {
            return None;
        }
        let (kind, rest) = s.split_once(':')?;
        match kind {
            "q" => rest.parse().ok().map(Cursor::Queued),
            "r" => {
                let (id, started_at) = rest.split_once(':')?;
                let fits =
                    is_job_id(id) && started_at.len() <= 40 && chrono::DateTime::parse_from_rfc3339(started_at).is_ok();
                fits.then(|| Cursor::Running { id: id.to_owned(), started_at: started_at.to_owned() })
            }
            "e" => {
                let (at, skip) = rest.split_once(':')?;
                let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
                if !digits(at) || !digits(skip) {
                    return None;
                }
                let at = at.parse().ok().filter(|t: &i64| (0..=Self::MAX_ENDED_AT).contains(t))?;
                let skip = skip.parse().ok().filter(|&n: &usize| n <= Self::MAX_SKIP)?;
                Some(Cursor::Ended { at, skip })
            }
            _ => None,
        }
    }

    fn fits(&self, status: Status) -> bool {
        match self {
            Cursor::Queued(_) => status == Status::Queued,
            Cursor::Running { .. } => matches!(status, Status::Started | Status::CancelRequested),
            Cursor::Ended { .. } => status.is_ended(),
        }
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cursor::Queued(seq) => write!(f, "q:{seq}"),
            Cursor::Running { id, started_at } => write!(f, "r:{id}:{started_at}"),
            Cursor::Ended { at, skip } => write!(f, "e:{at}:{skip}"),
        }
    }
}

/// A worker as it describes itself in its heartbeats.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkerInfo {
    /// Unique name (host, pid, random suffix).
    pub name: String,
    /// Queues it takes from, in priority order.
    pub queues: Vec<String>,
    /// Jobs it runs at once.
    pub concurrency: u64,
    /// `busy` when it runs a job, `idle` otherwise.
    pub state: &'static str,
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

/// Finished and failed counts of one minute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MinuteStats {
    /// `YYYY-MM-DDTHH:MMZ`.
    pub minute: String,
    /// Jobs finished in that minute.
    pub finished: u64,
    /// Jobs failed in that minute.
    pub failed: u64,
}

/// The client shared by the functions and the worker. Cheap to clone.
#[derive(Clone)]
pub struct Queue {
    conn: Connection,
    keys: Keys,
    cfg: Arc<Config>,
}

/// Ids popped per purge call: bounds the time one script holds Redis.
const PURGE_BATCH: usize = 500;

/// Most ids one page of queued jobs looks at: tombstones take places in the
/// list, so a page may hold fewer jobs than asked, never cost more than this.
const QUEUED_PAGE_BUDGET: usize = 1000;

/// Failed ids read per round of `requeue_failed`.
const REQUEUE_BATCH: usize = 500;

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

    /// Enqueues a job unless an identical one holds the idempotency key (the
    /// answer is then that job), or its queue already holds MAX_QUEUED waiting
    /// jobs ([`Error::QueueFull`], nothing written).
    pub async fn enqueue(&self, job: &NewJob) -> Result<Enqueued, Error> {
        if !self.has_queue(&job.queue) {
            return Err(Error::UnknownQueue(job.queue.clone()));
        }
        let timeout = job.timeout.unwrap_or(self.cfg.task_timeout.as_secs_f64());
        let ttl =
            job.duration.unwrap_or(self.cfg.task_timeout.as_secs_f64()).ceil() as u64 + self.cfg.idemp_margin.as_secs();
        let digest = idempotency::digest(&job.task, &job.args, job.idempotency_key.as_deref());
        let id = uuid::Uuid::new_v4().to_string();
        let mut c = self.conn.clone();
        let answer: redis::Value = scripts::ENQUEUE
            .key(self.keys.job(&id))
            .key(self.keys.queue(&job.queue))
            .key(self.keys.idempotency(&digest))
            .key(self.keys.wake())
            .key(self.keys.tombstones(&job.queue))
            .key(self.keys.pushed(&job.queue))
            .arg(&id)
            .arg(ttl.max(1))
            .arg(&job.task)
            .arg(job.args.to_string())
            .arg(&job.queue)
            .arg(now_rfc3339())
            .arg(timeout)
            .arg(self.cfg.max_queued)
            .invoke_async(&mut c)
            .await?;
        if let redis::Value::Int(waiting) = answer {
            let (queue, limit) = (job.queue.clone(), self.cfg.max_queued);
            return Err(Error::QueueFull { queue, waiting: waiting.max(0) as u64, limit });
        }
        let holder: Option<String> = redis::from_redis_value(answer).map_err(redis::RedisError::from)?;
        Ok(match holder {
            Some(existing) => Enqueued::Duplicate { duplicate: true, job_id: existing },
            None => Enqueued::Created { job_id: id, queue: job.queue.clone() },
        })
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

    /// Cancels a job: at once if queued, cooperatively if running.
    pub async fn cancel(&self, id: &str) -> Result<CancelOutcome, Error> {
        if !is_job_id(id) {
            return Ok(CancelOutcome::NotFound);
        }
        let mut c = self.conn.clone();
        let r: Option<(i64, String)> = scripts::CANCEL
            .key(self.keys.job(id))
            .key(self.keys.ended_prefix())
            .key(self.keys.tombstones_prefix())
            .arg(id)
            .arg(now_rfc3339())
            .arg(now_ms())
            .arg(self.cfg.result_ttl.as_secs())
            .arg(self.keys.cancel_channel())
            .invoke_async(&mut c)
            .await?;
        Ok(match r {
            None => CancelOutcome::NotFound,
            Some((1, s)) if s == "canceled" => CancelOutcome::Canceled,
            Some((1, _)) => CancelOutcome::CancelRequested,
            Some((_, s)) => CancelOutcome::AlreadyEnded(stored_status(id, &s)?),
        })
    }

    /// Cancels every job waiting in `queue`; returns how many.
    pub async fn purge(&self, queue: &str) -> Result<u64, Error> {
        if !self.has_queue(queue) {
            return Err(Error::UnknownQueue(queue.to_owned()));
        }
        let mut c = self.conn.clone();
        let qkey = self.keys.queue(queue);
        // Only what was queued when the purge began: jobs enqueued meanwhile stay.
        let mut left: usize = c.llen(&qkey).await?;
        let mut purged = 0;
        while left > 0 {
            let (popped, n): (usize, u64) = scripts::PURGE
                .key(&qkey)
                .key(self.keys.tombstones(queue))
                .key(self.keys.job_prefix())
                .key(self.keys.ended(queue, Status::Canceled))
                .arg(now_rfc3339())
                .arg(now_ms())
                .arg(self.cfg.result_ttl.as_secs())
                .arg(left.min(PURGE_BATCH))
                .invoke_async(&mut c)
                .await?;
            purged += n;
            if popped == 0 {
                break;
            }
            left = left.saturating_sub(popped);
        }
        Ok(purged)
    }

    /// Puts a failed or canceled job back on its queue.
    pub async fn requeue(&self, id: &str) -> Result<RequeueOutcome, Error> {
        if !is_job_id(id) {
            return Ok(RequeueOutcome::NotFound);
        }
        let mut c = self.conn.clone();
        let r: Option<(i64, String)> = scripts::REQUEUE
            .key(self.keys.job(id))
            .key(self.keys.ended_prefix())
            .key(self.keys.queue_prefix())
            .key(self.keys.wake())
            .key(self.keys.pushed_prefix())
            .arg(id)
            .arg(now_rfc3339())
            .invoke_async(&mut c)
            .await?;
        Ok(match r {
            None => RequeueOutcome::NotFound,
            Some((1, _)) => RequeueOutcome::Requeued,
            Some((_, s)) => RequeueOutcome::NotRequeueable(stored_status(id, &s)?),
        })
    }

    /// Requeues every failed job of `queue` (all queues when `None`) that had
    /// failed when the call began; returns how many. Jobs that fail again
    /// meanwhile (their end time is later) stay failed: the call always ends.
    pub async fn requeue_failed(&self, queue: Option<&str>) -> Result<u64, Error> {
        let began = now_ms();
        let mut n = 0;
        for q in self.queues_or(queue)? {
            let key = self.keys.ended(&q, Status::Failed);
            let mut c = self.conn.clone();
            // At most what was there at the start, even if an end time comes
            // from a clock behind this one.
            let mut left: usize = c.zcount(&key, "-inf", began).await?;
            while left > 0 {
                let ids: Vec<String> = redis::cmd("ZRANGE")
                    .arg(&key)
                    .arg("-inf")
                    .arg(began)
                    .arg("BYSCORE")
                    .arg("LIMIT")
                    .arg(0)
                    .arg(left.min(REQUEUE_BATCH))
                    .query_async(&mut c)
                    .await?;
                if ids.is_empty() {
                    break;
                }
                left = left.saturating_sub(ids.len());
                for id in &ids {
                    if self.requeue(id).await? == RequeueOutcome::Requeued {
                        n += 1;
                    } else {
                        // Expired or changed meanwhile: drop it from the registry.
                        let _: () = c.zrem(&key, id).await?;
                    }
                }
            }
        }
        Ok(n)
    }

    /// Counts of every configured queue, in priority order.
    pub async fn counts(&self) -> Result<Vec<QueueCounts>, Error> {
        let running = self.running_ids().await?;
        let running_jobs = self.get_many(&running).await?;
        let mut p = redis::pipe();
        let now = now_ms();
        for q in &self.cfg.queues {
            p.llen(self.keys.queue(q)).get(self.keys.tombstones(q));
            for st in Status::ENDED {
                p.zcount(self.keys.ended(q, st), now - self.ttl_ms(st), "+inf");
            }
        }
        let mut c = self.conn.clone();
        let raw: Vec<Option<i64>> = p.query_async(&mut c).await?;
        let mut out = Vec::new();
        for (i, q) in self.cfg.queues.iter().enumerate() {
            let v = |k: usize| raw[i * 5 + k].unwrap_or(0).max(0) as u64;
            let queued = v(0).saturating_sub(v(1));
            let count_of = |st: Status| running_jobs.iter().filter(|j| &j.queue == q && j.status == st).count() as u64;
            let mut states = BTreeMap::new();
            states.insert(Status::Queued.as_str(), queued);
            states.insert(Status::Started.as_str(), count_of(Status::Started));
            states.insert(Status::CancelRequested.as_str(), count_of(Status::CancelRequested));
            for (k, st) in Status::ENDED.into_iter().enumerate() {
                states.insert(st.as_str(), v(2 + k));
            }
            out.push(QueueCounts { name: q.clone(), count: queued, states });
        }
        Ok(out)
    }

    /// A page of `queue`'s jobs in `status`, newest first. `cursor` is the
    /// `next_cursor` of the previous page (or `None` for the first). Every
    /// page costs the same whatever the backlog; a page of queued jobs looks
    /// at most at `QUEUED_PAGE_BUDGET` ids, so where tombstones crowd the
    /// list it may hold fewer than `limit` jobs and still have a `next_cursor`.
    pub async fn list(
        &self,
        queue: &str,
        status: Status,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<JobPage, Error> {
        if !self.has_queue(queue) {
            return Err(Error::UnknownQueue(queue.to_owned()));
        }
        if cursor.is_some_and(|c| !c.fits(status)) {
            return Err(Error::CursorMismatch);
        }
        let limit = limit.clamp(1, 500);
        let mut c = self.conn.clone();
        match status {
            Status::Queued => {
                let after = match cursor {
                    Some(Cursor::Queued(seq)) => seq.to_string(),
                    _ => String::new(),
                };
                let (ids, last, more): (Vec<String>, Option<i64>, i64) = scripts::LIST_QUEUED
                    .key(self.keys.queue(queue))
                    .key(self.keys.pushed(queue))
                    .key(self.keys.job_prefix())
                    .arg(after)
                    .arg(limit)
                    .arg(QUEUED_PAGE_BUDGET)
                    .invoke_async(&mut c)
                    .await?;
                // A job taken between the script and this read is no longer queued.
                let jobs = self.get_many(&ids).await?.into_iter().filter(|j| j.status == Status::Queued).collect();
                let next_cursor = last.filter(|_| more == 1).map(|seq| Cursor::Queued(seq).to_string());
                Ok(JobPage { jobs, next_cursor })
            }
            Status::Started | Status::CancelRequested => {
                let key = |j: &Job| (j.started_at.clone().unwrap_or_default(), j.id.clone());
                let mut jobs: Vec<Job> = self
                    .get_many(&self.running_ids().await?)
                    .await?
                    .into_iter()
                    .filter(|j| j.queue == queue && j.status == status)
                    .collect();
                if let Some(Cursor::Running { id, started_at }) = cursor {
                    let after = (started_at.clone(), id.clone());
                    jobs.retain(|j| key(j) < after);
                }
                jobs.sort_by_key(|j| std::cmp::Reverse(key(j)));
                let more = jobs.len() > limit;
                jobs.truncate(limit);
                let next_cursor = jobs.last().filter(|_| more).map(|j| {
                    let (started_at, id) = key(j);
                    Cursor::Running { id, started_at }.to_string()
                });
                Ok(JobPage { jobs, next_cursor })
            }
            ended => {
                let (max, skip) = match cursor {
                    Some(&Cursor::Ended { at, skip }) => (at.to_string(), skip),
                    _ => ("+inf".to_owned(), 0),
                };
                let min = now_ms() - self.ttl_ms(ended);
                let found: Vec<(String, f64)> = redis::cmd("ZRANGE")
                    .arg(self.keys.ended(queue, ended))
                    .arg(max)
                    .arg(min)
                    .arg("BYSCORE")
                    .arg("REV")
                    .arg("LIMIT")
                    .arg(skip)
                    .arg(limit + 1)
                    .arg("WITHSCORES")
                    .query_async(&mut c)
                    .await?;
                let more = found.len() > limit;
                let page: Vec<(String, i64)> = found.into_iter().take(limit).map(|(id, at)| (id, at as i64)).collect();
                let next_cursor = page.last().filter(|_| more).map(|&(_, at)| {
                    // Past every job of this page that ended in the same
                    // millisecond, and those the cursor itself skipped.
                    let same = page.iter().filter(|(_, t)| *t == at).count();
                    let before = match cursor {
                        Some(&Cursor::Ended { at: was, skip }) if was == at => skip,
                        _ => 0,
                    };
                    Cursor::Ended { at, skip: same + before }.to_string()
                });
                let ids: Vec<String> = page.into_iter().map(|(id, _)| id).collect();
                Ok(JobPage { jobs: self.get_many(&ids).await?, next_cursor })
            }
        }
    }

    /// Live workers, as described by their heartbeats.
    pub async fn workers(&self) -> Result<Vec<WorkerInfo>, Error> {
        let mut c = self.conn.clone();
        let names: Vec<(String, i64)> = c.zrange_withscores(self.keys.workers(), 0, -1).await?;
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let mut p = redis::pipe();
        for (name, _) in &names {
            p.hgetall(self.keys.worker(name)).lrange(self.keys.inflight(name), 0, -1);
        }
        p.cmd("TIME");
        let raw: Vec<redis::Value> = p.query_async(&mut c).await?;
        let (time, rest) = raw.split_last().expect("TIME was queued");
        let (secs, micros): (i64, i64) = redis::from_redis_value_ref(time).map_err(redis::RedisError::from)?;
        let now = secs * 1000 + micros / 1000;
        let mut out = Vec::new();
        for ((name, _), pair) in names.into_iter().zip(rest.chunks(2)) {
            let h: HashMap<String, String> = redis::from_redis_value_ref(&pair[0]).map_err(redis::RedisError::from)?;
            let current_jobs: Vec<String> = redis::from_redis_value_ref(&pair[1]).map_err(redis::RedisError::from)?;
            let num = |k: &str| h.get(k).and_then(|v| v.parse().ok()).unwrap_or(0);
            out.push(WorkerInfo {
                queues: h.get("queues").map(|q| q.split(',').map(str::to_owned).collect()).unwrap_or_default(),
                concurrency: num("concurrency"),
                state: if current_jobs.is_empty() { "idle" } else { "busy" },
                current_jobs,
                // Scores are on the liveness clock; the description has wall time.
                heartbeat_age_ms: (now - h.get("heartbeat_ms").and_then(|v| v.parse::<i64>().ok()).unwrap_or(now))
                    .max(0),
                processed: num("processed"),
                failed: num("failed"),
                started_at: h.get("started_at").cloned().unwrap_or_default(),
                name,
            });
        }
        Ok(out)
    }

    /// Finished and failed counts of the last `minutes` minutes, oldest first.
    pub async fn throughput(&self, minutes: u32) -> Result<Vec<MinuteStats>, Error> {
        let now = chrono::Utc::now();
        let stamps: Vec<chrono::DateTime<chrono::Utc>> =
            (0..minutes as i64).rev().map(|m| now - chrono::Duration::minutes(m)).collect();
        let mut p = redis::pipe();
        for t in &stamps {
            p.cmd("HMGET").arg(self.keys.stats(&stats_minute(t))).arg("finished").arg("failed");
        }
        let mut c = self.conn.clone();
        let raw: Vec<(Option<u64>, Option<u64>)> = p.query_async(&mut c).await?;
        Ok(stamps
            .iter()
            .zip(raw)
            .map(|(t, (finished, failed))| MinuteStats {
                minute: t.format("%Y-%m-%dT%H:%MZ").to_string(),
                finished: finished.unwrap_or(0),
                failed: failed.unwrap_or(0),
            })
            .collect())
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

/// The counters' key part for the minute of `t`: `YYYYMMDDHHMM`.
pub fn stats_minute(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y%m%d%H%M").to_string()
}

/// The status a script read from job `id`'s hash.
fn stored_status(id: &str, s: &str) -> Result<Status, DamagedJob> {
    Status::parse(s).ok_or_else(|| DamagedJob::new(id, "status", Some(s), "not a job status"))
}

/// Ids are UUIDs; anything else cannot name a job (and must not reach a key name).
fn is_job_id(id: &str) -> bool {
    uuid::Uuid::parse_str(id).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_read_back_what_they_write_and_nothing_else() {
        let id = "8f14e45f-ceea-467f-a8f9-5e3b5f3e0c1a".to_owned();
        for c in [
            Cursor::Queued(41),
            Cursor::Queued(-3),
            Cursor::Running { id: id.clone(), started_at: "2026-11-29T17:00:00.123456Z".into() },
            Cursor::Ended { at: 1_764_435_600_123, skip: 3 },
        ] {
            assert_eq!(Cursor::parse(&c.to_string()), Some(c));
        }
        for bad in [
            "",
            "12",
            "q:",
            "q:not-a-number",
            "q:1.5",
            "r:x:y",
            "e:1",
            "e:-5:0",
            "e:1:x",
            "x:1:2",
            &format!("r:{id}:yesterday"),
        ] {
            assert_eq!(Cursor::parse(bad), None, "{bad}");
        }
        assert!(Cursor::Queued(7).fits(Status::Queued) && !Cursor::Queued(7).fits(Status::Finished));
        assert!(Cursor::Ended { at: 0, skip: 0 }.fits(Status::Canceled));
    }
}
