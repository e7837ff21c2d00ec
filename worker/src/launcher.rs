//! The launcher owns a worker's life: it registers the worker (its first
//! heartbeat), starts the processors (one per slot), the cancel subscriber,
//! the heartbeat, the timers and, on ECS, scale-in protection (`protection`); then stops
//! them in order and deregisters.
//!
//! Shutdown: stop fetching; let running jobs finish within SHUTDOWN_GRACE;
//! then stop the rest, which go back to their queue; deregister.

use std::sync::Arc;
use std::time::Duration;

use taskq::job::now_rfc3339;
use taskq::{Config, Redis};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::context::StopReason;
use crate::fetch::Fetcher;
use crate::heartbeat::Heartbeat;
use crate::processor;
use crate::protection;
use crate::running;
use crate::state::Shared;
use crate::task::Registry;
use crate::timers;

/// A worker process's jobs engine.
pub struct Worker {
    /// What its parts share.
    shared: Arc<Shared>,
    /// Opens the cancel subscription.
    redis: Redis,
    /// Claims jobs for idle slots, on a connection of its own.
    fetcher: Arc<Fetcher>,
    /// When it connected, in its registration.
    started_at: String,
}

impl Worker {
    /// Connects to Redis; the worker starts taking jobs in [`Worker::run`].
    pub async fn connect(cfg: Config, registry: Registry) -> anyhow::Result<Worker> {
        let redis = Redis::open(&cfg).await?;
        let conn = redis.connect().await?;
        let blocking = redis.connect_with_timeout(cfg.redis_timeout + Duration::from_secs(2)).await?;
        let shared = Arc::new(Shared::new(cfg, registry, conn));
        Ok(Worker { shared, redis, fetcher: Arc::new(Fetcher::new(blocking)), started_at: now_rfc3339() })
    }

    /// This worker's name.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// Runs jobs until `shutdown` fires, then stops gracefully.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let shared = self.shared.clone();
        let cfg = shared.cfg.clone();
        tracing::info!(
            worker = %shared.name,
            queues = %cfg.queues.join(","),
            concurrency = cfg.worker_concurrency,
            redis = %cfg.redis_url_redacted(),
            cluster = self.redis.is_cluster(),
            tasks = %shared.registry.names().join(","),
            "worker started"
        );

        let background = CancellationToken::new();
        // Register before the first claim so that nobody takes us for dead.
        let mut hb = Heartbeat::new(shared.clone(), self.started_at.clone());
        hb.beat().await;

        let mut helpers = JoinSet::new();
        {
            let (redis, channel, shared, done) =
                (self.redis.clone(), shared.keys.cancel_channel(), shared.clone(), background.clone());
            helpers.spawn(async move { running::subscribe(redis, channel, &shared.running, done).await });
        }
        {
            let done = background.clone();
            helpers.spawn(async move { hb.run(done).await });
        }
        {
            let (shared, done) = (shared.clone(), background.clone());
            helpers.spawn(async move { timers::run(shared, done).await });
        }
        if let Some(agent) = cfg.ecs_agent_uri.clone() {
            let (shared, done) = (shared.clone(), background.clone());
            helpers.spawn(async move { protection::run(agent, shared, done).await });
        }
        let mut slots = JoinSet::new();
        for _ in 0..cfg.worker_concurrency {
            slots.spawn(processor::run(shared.clone(), self.fetcher.clone()));
        }

        shutdown.cancelled().await;
        tracing::info!(
            running = shared.running.len(),
            grace_s = cfg.shutdown_grace.as_secs_f64(),
            "stopping: no new jobs"
        );
        shared.stopping.cancel();
        let drained =
            tokio::time::timeout(cfg.shutdown_grace, async { while slots.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            tracing::warn!(running = shared.running.len(), "grace period over: returning running jobs to their queues");
            shared.running.stop_all(StopReason::Shutdown);
            let hard = processor::STOP_GRACE + cfg.redis_timeout * 4;
            if tokio::time::timeout(hard, async { while slots.join_next().await.is_some() {} }).await.is_err() {
                tracing::error!("jobs did not stop; leaving them to recovery");
                slots.abort_all();
            }
        }
        background.cancel();
        while helpers.join_next().await.is_some() {}
        deregister(&shared).await;
        tracing::info!(worker = %shared.name, "worker stopped");
        Ok(())
    }
}

/// Removes this worker's registration, unless jobs are still in its in-flight
/// list: then its heartbeat is left to lapse so another worker recovers them.
async fn deregister(shared: &Shared) {
    let mut conn = shared.conn.clone();
    let left: redis::RedisResult<usize> = redis::AsyncCommands::llen(&mut conn, &shared.inflight_key).await;
    match left {
        Ok(0) => {
            let r: redis::RedisResult<()> = redis::pipe()
                .zrem(shared.keys.workers(), &*shared.name)
                .del(shared.keys.worker(&shared.name))
                .query_async(&mut conn)
                .await;
            if let Err(e) = r {
                tracing::warn!(error = %e, "could not deregister; the registration will lapse");
            }
        }
        Ok(n) => tracing::warn!(jobs = n, "jobs left in flight; another worker will recover them"),
        Err(e) => tracing::warn!(error = %e, "could not check in-flight jobs; the registration will lapse"),
    }
}
