//! Every Redis key name, built in one place.
//!
//! All keys start with the configured prefix, which holds a `{hash tag}`: on
//! Redis Cluster they all live in one slot, so every multi-key script is legal.
//!
//! | key | type | holds |
//! |---|---|---|
//! | `P:queue:<q>` | list | queued job ids; pushed left, taken right |
//! | `P:tombstones:<q>` | string | ids of canceled jobs still in that list |
//! | `P:pushed:<q>` | string | ids ever pushed on the left of that list: places a job's `seq` in it |
//! | `P:waiting:<q>:<state>` | sorted set | ids of `scheduled` or `retrying` jobs of that queue by due time (ms) |
//! | `P:job:<id>` | hash | the job |
//! | `P:schedules` | sorted set | schedule names by their next tick (ms); `+inf` while paused |
//! | `P:schedule:<name>` | hash | a schedule: its definition, next and last tick, last job |
//! | `P:idem:<digest>` | string | id of the job holding an idempotency key |
//! | `P:wake` | list | a marker that wakes an idle worker |
//! | `P:inflight:<worker>` | list | ids a worker is running |
//! | `P:workers` | sorted set | worker name by last heartbeat (ms) |
//! | `P:worker:<name>` | hash | worker description and counters |
//! | `P:ended:<q>:<state>` | sorted set | ended ids by end time (ms) |
//! | `P:stats:<minute>` | hash | finished and failed counts of one minute; expires after 25 h, longer than `/stats` looks back (24 h) |
//! | `P:cancel` | pub/sub channel | ids whose cancellation was requested |

use crate::job::Status;

/// Key names under one prefix.
#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    /// `prefix` must contain a hash tag (checked by the configuration).
    pub fn new(prefix: &str) -> Self {
        Self { prefix: prefix.to_owned() }
    }

    /// The prefix itself.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// List of queued job ids.
    pub fn queue(&self, queue: &str) -> String {
        format!("{}:queue:{queue}", self.prefix)
    }

    /// Prefix of the queue lists; scripts append a queue name read from a job.
    pub fn queue_prefix(&self) -> String {
        format!("{}:queue:", self.prefix)
    }

    /// Count of canceled ids still sitting in a queue's list.
    pub fn tombstones(&self, queue: &str) -> String {
        format!("{}:tombstones:{queue}", self.prefix)
    }

    /// Prefix of the tombstone counters.
    pub fn tombstones_prefix(&self) -> String {
        format!("{}:tombstones:", self.prefix)
    }

    /// Count of ids ever pushed on the left of a queue's list. A job's `seq`
    /// field is this count minus its index from the left, which no take,
    /// push or purge changes: a page of queued jobs starts at a computed index.
    pub fn pushed(&self, queue: &str) -> String {
        format!("{}:pushed:{queue}", self.prefix)
    }

    /// Prefix of the push counters.
    pub fn pushed_prefix(&self) -> String {
        format!("{}:pushed:", self.prefix)
    }

    /// Sorted set of a queue's jobs waiting in `status` (scheduled or
    /// retrying), by due time in ms.
    pub fn waiting(&self, queue: &str, status: Status) -> String {
        format!("{}:waiting:{queue}:{}", self.prefix, status.as_str())
    }

    /// Prefix of the waiting sets; scripts append `<queue>:<state>`.
    pub fn waiting_prefix(&self) -> String {
        format!("{}:waiting:", self.prefix)
    }

    /// Sorted set of schedule names by next tick (ms).
    pub fn schedules(&self) -> String {
        format!("{}:schedules", self.prefix)
    }

    /// Hash of one schedule.
    pub fn schedule(&self, name: &str) -> String {
        format!("{}:schedule:{name}", self.prefix)
    }

    /// Prefix of schedule hashes.
    pub fn schedule_prefix(&self) -> String {
        format!("{}:schedule:", self.prefix)
    }

    /// Hash of one job.
    pub fn job(&self, id: &str) -> String {
        format!("{}:job:{id}", self.prefix)
    }

    /// Prefix of job hashes; scripts append an id they popped.
    pub fn job_prefix(&self) -> String {
        format!("{}:job:", self.prefix)
    }

    /// Idempotency key of a digest.
    pub fn idempotency(&self, digest: &str) -> String {
        format!("{}:idem:{digest}", self.prefix)
    }

    /// Marker list idle workers block on.
    pub fn wake(&self) -> String {
        format!("{}:wake", self.prefix)
    }

    /// A worker's in-flight list.
    pub fn inflight(&self, worker: &str) -> String {
        format!("{}:inflight:{worker}", self.prefix)
    }

    /// Sorted set of workers by last heartbeat, on the liveness clock.
    pub fn workers(&self) -> String {
        format!("{}:workers", self.prefix)
    }

    /// The liveness clock: a hash whose `up` field advances only while Redis
    /// serves heartbeats (see heartbeat.lua). Worker scores are on this clock.
    pub fn clock(&self) -> String {
        format!("{}:clock", self.prefix)
    }

    /// A worker's description.
    pub fn worker(&self, name: &str) -> String {
        format!("{}:worker:{name}", self.prefix)
    }

    /// Registry of a queue's jobs that ended in `status`.
    pub fn ended(&self, queue: &str, status: Status) -> String {
        format!("{}:ended:{queue}:{}", self.prefix, status.as_str())
    }

    /// Prefix of the ended registries; scripts append `<queue>:<state>`.
    pub fn ended_prefix(&self) -> String {
        format!("{}:ended:", self.prefix)
    }

    /// Per-minute counters; `minute` is `YYYYMMDDHHMM` in UTC.
    pub fn stats(&self, minute: &str) -> String {
        format!("{}:stats:{minute}", self.prefix)
    }

    /// Pub/sub channel of cancellation requests.
    pub fn cancel_channel(&self) -> String {
        format!("{}:cancel", self.prefix)
    }
}
