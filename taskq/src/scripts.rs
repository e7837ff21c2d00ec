//! The Lua scripts, one per change of a job's state. Each `.lua` file under
//! `scripts/` documents its KEYS, ARGV and return value; scripts that claim
//! jobs share `includes/take.lua`.

use std::sync::LazyLock;

use redis::{FromRedisValue, ParsingError, Script, Value};

macro_rules! script {
    ($name:ident, $file:literal) => {
        #[doc = concat!("`scripts/", $file, "`")]
        pub static $name: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!(concat!("scripts/", $file))));
    };
    ($name:ident, $file:literal, take) => {
        #[doc = concat!("`scripts/", $file, "` (with `includes/take.lua`)")]
        pub static $name: LazyLock<Script> = LazyLock::new(|| {
            Script::new(concat!(include_str!("scripts/includes/take.lua"), include_str!(concat!("scripts/", $file))))
        });
    };
}

script!(ENQUEUE, "enqueue.lua");
script!(FETCH, "fetch.lua", take);
script!(FINISH, "finish.lua", take);
script!(PROGRESS, "progress.lua");
script!(CANCEL, "cancel.lua");
script!(PURGE, "purge.lua");
script!(REQUEUE, "requeue.lua");
script!(RELEASE, "release.lua");
script!(HEARTBEAT, "heartbeat.lua");
script!(RECOVER, "recover.lua");
script!(LIST_QUEUED, "list_queued.lua");

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
}

impl FromRedisValue for Claimed {
    fn from_redis_value(v: Value) -> Result<Self, ParsingError> {
        let (id, task, args, timeout, idempotency_key, queue, attempts): (
            String,
            String,
            String,
            String,
            String,
            String,
            u32,
        ) = FromRedisValue::from_redis_value(v)?;
        Ok(Claimed {
            id,
            task,
            args,
            timeout: crate::job::parse_timeout(Some(&timeout)).ok_or(timeout),
            idempotency_key,
            queue,
            attempts,
        })
    }
}
