//! The heartbeat: every WORKER_HEARTBEAT it registers this worker again (the
//! first beat registers it before its first claim), then makes the repairs
//! that need a regular turn: it recovers the jobs of workers whose heartbeat
//! lapsed, has `running` compare the running jobs with Redis (cancel flags,
//! jobs taken from this worker), gives back claimed jobs no slot runs, prunes
//! the registries of ended jobs and publishes queue depth.
//!
//! A worker is dead after three beats of silence, on a clock that stands
//! still while Redis is unreachable, so an outage kills no live worker.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use taskq::job::now_rfc3339;
use taskq::scripts;
use tokio_util::sync::CancellationToken;

use crate::metrics::DepthPublisher;
use crate::recovery;
use crate::running;
use crate::state::Shared;

/// One worker's heartbeat.
pub struct Heartbeat {
    /// The worker it beats for.
    shared: Arc<Shared>,
    /// When the worker started, in its registration.
    started_at: String,
    /// Beats that reached Redis: after the first, a missing registration
    /// means that another worker declared this one dead.
    beats: u64,
    /// Claimed ids no slot ran at the last beat: given back if still so.
    suspects: HashSet<String>,
    /// Queue depth for CloudWatch, at its own pace.
    depth: DepthPublisher,
}

impl Heartbeat {
    /// The heartbeat of the worker `shared`, started at `started_at`.
    pub fn new(shared: Arc<Shared>, started_at: String) -> Heartbeat {
        Heartbeat { shared, started_at, beats: 0, suspects: HashSet::new(), depth: DepthPublisher::default() }
    }

    /// Beats every WORKER_HEARTBEAT until `done`; the first beat is the
    /// caller's ([`Heartbeat::beat`]).
    pub async fn run(&mut self, done: CancellationToken) {
        let mut tick = tokio::time::interval(self.shared.cfg.worker_heartbeat);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tokio::select! { _ = tick.tick() => {}, _ = done.cancelled() => return }
            self.beat().await;
        }
    }

    /// One beat: registration, then the repairs.
    pub async fn beat(&mut self) {
        let s = self.shared.clone();
        // Liveness for the container's health check: this loop still turns.
        if let Some(path) = &s.cfg.worker_health_file
            && let Err(e) = std::fs::write(path, now_rfc3339())
        {
            tracing::warn!(error = %e, "cannot write WORKER_HEALTH_FILE");
        }
        let Some(dead) = self.register().await else { return };
        for name in dead.iter().filter(|n| **n != *s.name) {
            if let Err(e) = recovery::recover(&s, name).await {
                tracing::warn!(dead = %name, error = %e, "recovery failed; will retry");
            }
        }
        if let Err(e) = self.check_claims().await {
            tracing::warn!(error = %e, "checking running jobs failed");
        }
        if let Err(e) = recovery::prune(&s).await {
            tracing::warn!(error = %e, "pruning registries failed");
        }
        self.depth.beat(&s.conn, &s.cfg).await;
    }

    /// Renews this worker's registration; returns the workers whose
    /// heartbeat lapsed, or `None` when Redis could not be reached.
    async fn register(&mut self) -> Option<Vec<String>> {
        let s = &self.shared;
        let mut conn = s.conn.clone();
        let r: redis::RedisResult<(i64, Vec<String>)> = scripts::HEARTBEAT
            .key(s.keys.workers())
            .key(s.keys.worker(&s.name))
            .key(s.keys.clock())
            .arg(&*s.name)
            .arg(s.lapse_ms())
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
                return None;
            }
        };
        self.beats += 1;
        if registered == 0 && self.beats > 1 {
            // Only the runs whose ids left our in-flight list are stopped (by
            // `running::check`): a run this worker still holds goes on.
            tracing::error!(worker = %s.name, "this worker was declared dead; jobs taken from it stop");
        }
        Some(dead)
    }

    /// Stops the runs that must stop (`running::check`), and gives back the
    /// claimed jobs that no slot has held for a whole beat.
    async fn check_claims(&mut self) -> redis::RedisResult<()> {
        let s = &self.shared;
        let orphans = running::check(&s.running, s.conn.clone(), &s.keys, &s.inflight_key).await?;
        recovery::give_back_orphans(s, &orphans, &self.suspects).await?;
        self.suspects = orphans;
        Ok(())
    }
}
