//! The jobs this worker is running, each with its stop handle, and the
//! subscriber that fires a job's handle when a client cancels it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use futures_util::StreamExt;
use taskq::Redis;
use tokio_util::sync::CancellationToken;

use crate::context::{Stop, StopReason};

/// Running jobs by id.
#[derive(Default)]
pub struct Running {
    jobs: Mutex<HashMap<String, Stop>>,
}

impl Running {
    /// Registers a job that starts now; returns its stop handle.
    pub fn add(&self, id: &str) -> Stop {
        let stop = Stop::default();
        self.jobs.lock().expect("running lock").insert(id.to_owned(), stop.clone());
        stop
    }

    /// Forgets a job that ended.
    pub fn remove(&self, id: &str) {
        self.jobs.lock().expect("running lock").remove(id);
    }

    /// Fires a job's stop handle, if it runs here.
    pub fn stop(&self, id: &str, reason: StopReason) -> bool {
        match self.jobs.lock().expect("running lock").get(id) {
            Some(s) => {
                s.fire(reason);
                true
            }
            None => false,
        }
    }

    /// Fires every job's stop handle.
    pub fn stop_all(&self, reason: StopReason) {
        for s in self.jobs.lock().expect("running lock").values() {
            s.fire(reason);
        }
    }

    /// Ids of the running jobs.
    pub fn ids(&self) -> Vec<String> {
        self.jobs.lock().expect("running lock").keys().cloned().collect()
    }

    /// How many run.
    pub fn len(&self) -> usize {
        self.jobs.lock().expect("running lock").len()
    }

    /// Whether none runs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Listens on the cancel channel and fires the handles of local jobs, until
/// `done`. Reconnects with backoff; the heartbeat's flag check covers what is
/// published while it is down.
pub async fn subscribe(redis: Redis, channel: String, running: &Running, done: CancellationToken) {
    let mut backoff = Duration::from_millis(100);
    while !done.is_cancelled() {
        let sub = async {
            let mut ps = redis.pubsub().await?;
            ps.subscribe(&channel).await?;
            Ok::<_, redis::RedisError>(ps)
        };
        let mut ps = tokio::select! {
            r = sub => match r {
                Ok(ps) => ps,
                Err(e) => {
                    tracing::warn!(error = %e, "cancel subscription failed; retrying");
                    tokio::select! { _ = tokio::time::sleep(backoff) => {}, _ = done.cancelled() => return }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    continue;
                }
            },
            _ = done.cancelled() => return,
        };
        backoff = Duration::from_millis(100);
        let mut messages = ps.on_message();
        loop {
            let msg = tokio::select! { m = messages.next() => m, _ = done.cancelled() => return };
            let Some(msg) = msg else { break };
            if let Ok(id) = msg.get_payload::<String>()
                && running.stop(&id, StopReason::Canceled)
            {
                tracing::info!(job_id = %id, "cancellation requested");
            }
        }
        tracing::warn!("cancel subscription lost; reconnecting");
    }
}
