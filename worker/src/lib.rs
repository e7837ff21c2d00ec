//! The taskq worker: takes jobs from the configured queues in priority
//! order and runs WORKER_CONCURRENCY of them at once.
//!
//! - [`launcher`]: lifecycle: register, start the parts, stop them in order;
//! - [`state`]: what the parts of one worker share;
//! - [`heartbeat`]: registration and the repairs made on every beat;
//! - [`recovery`]: dead workers' jobs, orphaned claims, pruning;
//! - [`processor`]: one slot: run a job, end it, take the next;
//! - [`metrics`]: queue depth for CloudWatch (Embedded Metric Format);
//! - [`protection`]: ECS scale-in protection while jobs run;
//! - [`fetch`]: claims jobs for idle slots;
//! - [`finisher`]: ends jobs in batches and claims the next ones;
//! - [`timers`]: moves due scheduled and retrying jobs, makes schedules' jobs;
//! - [`running`]: the jobs running here and every decision to stop one early;
//! - [`backoff`]: the waits between retries of failed Redis calls;
//! - [`signals`]: graceful stop on SIGTERM/SIGINT (also used by the local server);
//! - [`context`]: what a task sees of its job;
//! - [`task`] and [`tasks`]: the task trait, the registry, the demo tasks;
//! - `aws` (feature `aws`): AWS credentials for IAM authentication to ElastiCache.

#[cfg(feature = "aws")]
pub mod aws;
pub mod backoff;
pub mod context;
pub mod fetch;
pub mod finisher;
pub mod heartbeat;
pub mod launcher;
pub mod metrics;
pub mod processor;
pub mod protection;
pub mod recovery;
pub mod running;
pub mod signals;
pub mod state;
pub mod task;
pub mod tasks;
pub mod timers;

pub use context::JobContext;
pub use launcher::Worker;
pub use task::{Registry, Task, TaskError, TaskResult};
