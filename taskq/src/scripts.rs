//! The Lua scripts, one per change of a job's state. Each `.lua` file under
//! `scripts/` documents its KEYS, ARGV and return value. Steps several
//! scripts take are local functions in `scripts/includes/`, put before the
//! scripts that call them: claiming a job (`take.lua`), leaving a wake
//! marker (`wake.lua`), enqueueing a job (`enqueue_job.lua`), releasing an
//! idempotency key that still names the job (`release_key.lua`), counting
//! outcomes per minute (`stats.lua`).
//!
//! Keys: a script is given in KEYS every key it touches or the prefix it
//! builds that key from (prefix plus a job id or a queue name), except the
//! idempotency key named by a job hash's `idem` field, which enqueue wrote
//! from its KEYS. All of them lie under `KEY_PREFIX`, which holds one hash
//! tag, so a script's keys are all in one slot on Redis Cluster.

use std::sync::LazyLock;

use redis::{FromRedisValue, ParsingError, Script, Value};

use crate::job::RetryPolicy;

/// A script: its file under `scripts/`, after the named files of
/// `scripts/includes/` (the local functions it calls), in that order.
macro_rules! script {
    ($name:ident, $file:literal $(, $include:literal)*) => {
        #[doc = concat!("`scripts/", $file, "`" $(, " with `includes/", $include, "`")*)]
        pub static $name: LazyLock<Script> = LazyLock::new(|| {
            Script::new(concat!(
                $(include_str!(concat!("scripts/includes/", $include)),)*
                include_str!(concat!("scripts/", $file))
            ))
        });
    };
}

script!(ENQUEUE, "enqueue.lua", "wake.lua", "enqueue_job.lua");
script!(FETCH, "fetch.lua", "take.lua", "wake.lua");
script!(FINISH, "finish.lua", "take.lua", "release_key.lua", "stats.lua");
script!(PROGRESS, "progress.lua");
script!(CANCEL, "cancel.lua", "release_key.lua");
script!(PURGE, "purge.lua", "release_key.lua");
script!(REQUEUE, "requeue.lua", "wake.lua");
script!(RELEASE, "release.lua", "wake.lua");
script!(HEARTBEAT, "heartbeat.lua");
script!(RECOVER, "recover.lua", "wake.lua", "release_key.lua", "stats.lua");
script!(LIST_QUEUED, "list_queued.lua");
script!(PROMOTE, "promote.lua", "wake.lua");
script!(RESCHEDULE, "reschedule.lua", "wake.lua");
script!(TICK, "tick.lua", "wake.lua", "enqueue_job.lua");
script!(SCHEDULE_PUT, "schedule_put.lua");
script!(SCHEDULE_PAUSE, "schedule_pause.lua");

/// A job a worker has just claimed: what `includes/take.lua` returns.
#[derive(Debug, Clone, PartialEq)]
pub struct Claimed {
    /// Job id.
    pub id: String,
    /// Task name.
    pub task: String,
    /// Arguments, as stored JSON text.
    pub args: String,
    /// Run-time limit, seconds; the stored text when it is not a number of
    /// seconds above 0 (the worker fails such a job, naming the field).
    pub timeout: Result<f64, String>,
    /// Idempotency key name, or empty.
    pub idempotency_key: String,
    /// Queue it came from.
    pub queue: String,
    /// Runs started, this one included.
    pub attempts: u32,
    /// Its retry policy; `None` when it is never retried (also when the
    /// stored value is not a policy taskq writes: such a job is not retried).
    pub retry: Option<RetryPolicy>,
}

impl FromRedisValue for Claimed {
    fn from_redis_value(v: Value) -> Result<Self, ParsingError> {
        let (id, task, args, timeout, idempotency_key, queue, attempts, retry): (
            String,
            String,
            String,
            String,
            String,
            String,
            u32,
            String,
        ) = FromRedisValue::from_redis_value(v)?;
        Ok(Claimed {
            id,
            task,
            args,
            timeout: crate::job::parse_timeout(Some(&timeout)).ok_or(timeout),
            idempotency_key,
            queue,
            attempts,
            retry: serde_json::from_str(&retry).ok(),
        })
    }
}
