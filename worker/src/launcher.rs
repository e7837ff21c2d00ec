//! The launcher owns a worker's life: it registers the worker, starts the
//! processors (one per slot), the cancel subscriber and the heartbeat, and
//! stops them in order.
//!
//! The heartbeat, every WORKER_HEARTBEAT, also: recovers the jobs of workers
//! whose heartbeat lapsed (three beats on a clock that stands still while
//! Redis is unreachable, so an outage kills no live worker); stops runs whose
//! job was taken from this worker; gives back jobs claimed by a lost reply that no
//! slot runs; checks the cancel flag of running jobs (in case a publish was
//! missed); prunes the registries of expired ids; and publishes counters.
//!
//! On ECS it also asks for scale-in protection while jobs run (`protection`).
//!
//! Shutdown: stop fetching; let running jobs finish within SHUTDOWN_GRACE;
//! then stop the rest, which go back to their queue; deregister.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::json;
use taskq::job::{now_ms, now_rfc3339};
use taskq::queue::stats_minute;
use taskq::{Config, Connection, Keys, Redis, Status, scripts};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::context::StopReason;
use crate::fetch::Fetcher;
use crate::finisher::Finisher;
use crate::metrics;
use crate::processor;
use crate::protection;
use crate::running::{self, Running};
use crate::task::Registry;

/// Dead workers' jobs recovered per script call.
const RECOVER_BATCH: usize = 100;

/// State shared by the parts of one worker.
pub struct Shared {
    /// Settings.
    pub cfg: Arc<Config>,
    /// Key names.
    pub keys: Keys,
    /// Command connection (multiplexed, shared by every slot).
    pub conn: Connection,
    /// This worker's unique name.
    pub name: Arc<str>,
    /// Tasks it can run.
    pub registry: Registry,
    /// Jobs running now.
    pub running: Running,
    /// Fires when the worker stops taking jobs.
    pub stopping: CancellationToken,
    /// Claims jobs for idle slots.
    pub fetcher: Fetcher,
    /// Ends jobs in batches, claiming the next ones.
    pub finisher: Finisher,
    /// Queue list keys, in priority order.
    pub queue_keys: Vec<String>,
    /// This worker's in-flight list.
    pub inflight_key: String,
    /// Jobs ended here other than failed.
    pub processed: AtomicU64,
    /// Jobs failed here.
    pub failed: AtomicU64,
}

/// A worker process's jobs engine.
pub struct Worker {
    shared: Arc<Shared>,
    redis: Redis,
    started_at: String,
}

impl Worker {
    /// Connects to Redis; the worker starts taking jobs in [`Worker::run`].
    pub async fn connect(cfg: Config, registry: Registry) -> anyhow::Result<Worker> {
        let redis = Redis::open(&cfg).await?;
        let conn = redis.connect().await?;
        let blocking = redis.connect_with_timeout(cfg.redis_timeout + Duration::from_secs(2)).await?;
        let keys = Keys::new(&cfg.key_prefix);
        let name: Arc<str> = worker_name().into();
        let cfg = Arc::new(cfg);
        let finisher = Finisher::start(conn.clone(), keys.clone(), cfg.clone(), name.clone());
        let shared = Shared {
            queue_keys: cfg.queues.iter().map(|q| keys.queue(q)).collect(),
            inflight_key: keys.inflight(&name),
            cfg,
            keys,
            conn,
            name,
            registry,
            running: Running::default(),
            stopping: CancellationToken::new(),
            fetcher: Fetcher::new(blocking),
            finisher,
            processed: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        };
        Ok(Worker { shared: Arc::new(shared), redis, started_at: now_rfc3339() })
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
        let mut hb = Heartbeat {
            shared: shared.clone(),
            started_at: self.started_at.clone(),
            beats: 0,
            suspects: HashSet::new(),
            depth_published: None,
        };
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
        if let Some(agent) = cfg.ecs_agent_uri.clone() {
            let (shared, done) = (shared.clone(), background.clone());
            helpers.spawn(async move { protection::run(agent, shared, done).await });
        }
        let mut slots = JoinSet::new();
        for _ in 0..cfg.worker_concurrency {
            slots.spawn(processor::run(shared.clone()));
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

struct Heartbeat {
    shared: Arc<Shared>,
    started_at: String,
    beats: u64,
    /// Claimed ids no slot ran at the last beat: given back if still so.
    suspects: HashSet<String>,
    /// When queue depth was last published (EMF), if it is.
    depth_published: Option<std::time::Instant>,
}

impl Heartbeat {
    async fn run(&mut self, done: CancellationToken) {
        let mut tick = tokio::time::interval(self.shared.cfg.worker_heartbeat);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tokio::select! { _ = tick.tick() => {}, _ = done.cancelled() => return }
            self.beat().await;
        }
    }

    async fn beat(&mut self) {
        let s = self.shared.clone();
        // Liveness for the container's health check: this loop still turns.
        if let Some(path) = &s.cfg.worker_health_file
            && let Err(e) = std::fs::write(path, now_rfc3339())
        {
            tracing::warn!(error = %e, "cannot write WORKER_HEALTH_FILE");
        }
        let lapse_ms = lapse_ms(&s);
        let mut conn = s.conn.clone();
        let r: redis::RedisResult<(i64, Vec<String>)> = scripts::HEARTBEAT
            .key(s.keys.workers())
            .key(s.keys.worker(&s.name))
            .key(s.keys.clock())
            .arg(&*s.name)
            .arg(lapse_ms)
            .arg(s.cfg.worker_heartbeat.as_millis() as u64)
            .arg("queues")
            .arg(s.cfg.queues.join(","))
            .arg("concurrency")
            .arg(s.cfg.worker_concurrency)
            .arg("started_at")
            .arg(&self.started_at)
            .arg("pid")
            .arg(std::process::id())
            .arg("processed")
            .arg(s.processed.load(Ordering::Relaxed))
            .arg("failed")
            .arg(s.failed.load(Ordering::Relaxed))
            .invoke_async(&mut conn)
            .await;
        let (registered, dead) = match r {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(error = %e, "heartbeat failed");
                return;
            }
        };
        self.beats += 1;
        if registered == 0 && self.beats > 1 {
            // Only the runs whose ids left our in-flight list are stopped (by
            // `reconcile`): a run this worker still holds goes on.
            tracing::error!(worker = %s.name, "this worker was declared dead; jobs taken from it stop");
        }
        for name in dead.iter().filter(|n| **n != *s.name) {
            if let Err(e) = recover(&s, name).await {
                tracing::warn!(dead = %name, error = %e, "recovery failed; will retry");
            }
        }
        if let Err(e) = self.reconcile().await {
            tracing::warn!(error = %e, "checking running jobs failed");
        }
        if let Err(e) = prune(&s).await {
            tracing::warn!(error = %e, "pruning registries failed");
        }
        if metrics::enabled() && self.depth_published.is_none_or(|t| t.elapsed() >= metrics::INTERVAL) {
            self.depth_published = Some(std::time::Instant::now());
            match taskq::Queue::new(s.conn.clone(), s.cfg.clone()).counts().await {
                // Straight to stdout: CloudWatch Logs reads EMF from the raw line.
                Ok(counts) => {
                    let depths: Vec<(String, u64)> = counts.into_iter().map(|c| (c.name, c.count)).collect();
                    metrics::emf_lines(&depths, now_ms()).iter().for_each(|l| println!("{l}"));
                }
                Err(e) => tracing::warn!(error = %e, "reading queue depth failed"),
            }
        }
    }

    /// Fires the token of running jobs whose cancel flag is set, stops runs
    /// whose id left this worker's in-flight list (recovered by another
    /// worker: their end would not be written), and gives back claimed jobs
    /// that no slot has held for a whole beat. A slot holds its job from its
    /// start until its end is written, so a job whose end is being retried
    /// is never given back.
    async fn reconcile(&mut self) -> redis::RedisResult<()> {
        let s = &self.shared;
        let mut conn = s.conn.clone();
        let running = s.running.ids();
        let mut p = redis::pipe();
        p.lrange(&s.inflight_key, 0, -1);
        for id in &running {
            p.hget(s.keys.job(id), "status");
        }
        let (claimed, statuses): (Vec<String>, Vec<Option<String>>) = {
            let mut raw: Vec<redis::Value> = p.query_async(&mut conn).await?;
            let rest = raw.split_off(1);
            let claimed: Vec<String> = redis::from_redis_value(raw.remove(0)).map_err(redis::RedisError::from)?;
            let statuses = rest.into_iter().map(|v| redis::from_redis_value(v).ok().flatten()).collect();
            (claimed, statuses)
        };
        for (id, st) in running.iter().zip(statuses) {
            if st.as_deref() == Some("cancel_requested") && s.running.stop(id, StopReason::Canceled) {
                tracing::info!(job_id = %id, "cancellation found by flag check");
            }
        }
        for id in running.iter().filter(|id| !claimed.contains(id)) {
            if s.running.stop(id, StopReason::Lost) {
                tracing::warn!(job_id = %id, "job was taken from this worker; stopping its run");
            }
        }
        let orphans: HashSet<String> = claimed.into_iter().filter(|id| !running.contains(id)).collect();
        let confirmed: Vec<String> =
            orphans.iter().filter(|id| self.suspects.contains(*id) && !s.running.ids().contains(id)).cloned().collect();
        for id in &confirmed {
            let queue: Option<String> = redis::AsyncCommands::hget(&mut conn, s.keys.job(id), "queue").await?;
            tracing::warn!(job_id = %id, "claimed job not running here; returning it to its queue");
            match queue {
                Some(q) => processor::give_back(s, id, &q).await,
                None => {
                    let _: () = redis::AsyncCommands::lrem(&mut conn, &s.inflight_key, 0, id).await?;
                }
            }
        }
        self.suspects = orphans;
        Ok(())
    }
}

/// Recovers every job of dead worker `name`, in batches.
async fn recover(s: &Shared, name: &str) -> redis::RedisResult<()> {
    let abandoned =
        json!({"type": "abandoned", "message": format!("worker {name} died while running the job too many times")})
            .to_string();
    let mut conn = s.conn.clone();
    loop {
        let (requeued, failed, canceled, done): (u64, u64, u64, i64) = scripts::RECOVER
            .key(s.keys.inflight(name))
            .key(s.keys.workers())
            .key(s.keys.worker(name))
            .key(s.keys.job_prefix())
            .key(s.keys.queue_prefix())
            .key(s.keys.ended_prefix())
            .key(s.keys.wake())
            .key(s.keys.stats(&stats_minute(&chrono::Utc::now())))
            .key(s.keys.clock())
            .key(s.keys.pushed_prefix())
            .arg(name)
            .arg(now_rfc3339())
            .arg(now_ms())
            .arg(s.cfg.max_attempts)
            .arg(s.cfg.failure_ttl.as_secs())
            .arg(s.cfg.result_ttl.as_secs())
            .arg(RECOVER_BATCH)
            .arg(&abandoned)
            .arg(lapse_ms(s))
            .invoke_async(&mut conn)
            .await?;
        if requeued + failed + canceled > 0 {
            tracing::warn!(dead = %name, requeued, failed, canceled, "recovered jobs of a dead worker");
        }
        match done {
            1 => {
                tracing::info!(dead = %name, "dead worker removed");
                return Ok(());
            }
            2 => {
                tracing::info!(worker = %name, "worker beat again; it keeps its jobs");
                return Ok(());
            }
            _ => {}
        }
    }
}

/// Silence after which a worker counts as dead: three beats, on the
/// liveness clock (which stands still while Redis does not serve beats).
fn lapse_ms(s: &Shared) -> u64 {
    (s.cfg.worker_heartbeat * 3).as_millis() as u64
}

/// Drops expired ids from the registries of ended jobs.
async fn prune(s: &Shared) -> redis::RedisResult<()> {
    let now = now_ms();
    let mut p = redis::pipe();
    for q in &s.cfg.queues {
        for st in Status::ENDED {
            let cutoff = now - s.cfg.retention(st).as_millis() as i64;
            p.zrembyscore(s.keys.ended(q, st), "-inf", format!("({cutoff}")).ignore();
        }
    }
    let mut conn = s.conn.clone();
    p.query_async(&mut conn).await
}

/// `host-pid-xxxx`: unique across restarts and machines.
fn worker_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".into());
    let suffix = &uuid_like()[..6];
    format!("{host}-{}-{suffix}", std::process::id())
}

fn uuid_like() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
    format!("{:016x}", h.finish())
}
