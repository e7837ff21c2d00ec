//! taskq: background jobs on Redis.
//!
//! The queue library shared by the Lambda functions and the worker: the
//! configuration, the key layout, the job model, the Lua scripts that change
//! a job's state atomically, the task catalogue, and the [`Queue`] client.
//! It knows nothing of HTTP or Lambda. Feature `redis-server` adds
//! [`redis_server`], the private redis-server launcher of `local` and `testkit`.

pub mod catalogue;
pub mod cluster;
pub mod config;
pub mod connection;
mod dial;
pub mod iam;
pub mod idempotency;
pub mod job;
pub mod keys;
pub mod logging;
pub mod queue;
#[cfg(feature = "redis-server")]
pub mod redis_server;
pub mod schedule;
pub mod scripts;

pub use config::{Config, ConfigError};
pub use connection::{Connection, Redis};
pub use job::{AttemptError, DamagedJob, Job, JobError, Progress, RetryPolicy, Status};
pub use keys::Keys;
pub use queue::{
    CancelOutcome, Cursor, Enqueued, Error, JobPage, NewJob, Queue, QueueCounts, RequeueOutcome, RescheduleOutcome,
    WorkerInfo,
};
