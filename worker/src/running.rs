//! The jobs this worker is running, each with its stop handle, and every
//! decision to stop one before it ends by itself:
//!
//! - a client cancels it: the cancel subscriber hears it at once
//!   ([`subscribe`]), even just before the job registers here;
//! - the heartbeat's [`check`] finds its cancel flag set (a publish missed
//!   while the subscriber was down), or finds it taken from this worker;
//! - the worker shuts down ([`Running::stop_all`]), or the job times out
//!   (the processor fires its handle).

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use taskq::{Connection, Keys, Redis};
use tokio_util::sync::CancellationToken;

use crate::backoff::Backoff;
use crate::context::{Stop, StopReason};

/// How long a cancellation for a job not (yet) running here is remembered:
/// the request can arrive between the claim and the job's registration.
const EARLY_CANCEL_MEMORY: Duration = Duration::from_secs(10);

/// Running jobs by id.
#[derive(Default)]
pub struct Running {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    jobs: HashMap<String, Stop>,
    /// Cancellations heard for ids not running here, by arrival time.
    early: HashMap<String, Instant>,
}

impl Running {
    /// Registers a job that starts now; returns its stop handle, already
    /// fired if its cancellation arrived first.
    pub fn add(&self, id: &str) -> Stop {
        let stop = Stop::default();
        let mut inner = self.inner.lock().expect("running lock");
        if inner.early.remove(id).is_some() {
            stop.fire(StopReason::Canceled);
        }
        inner.jobs.insert(id.to_owned(), stop.clone());
        stop
    }

    /// Forgets a job that ended.
    pub fn remove(&self, id: &str) {
        self.inner.lock().expect("running lock").jobs.remove(id);
    }

    /// Fires a job's stop handle, if it runs here; returns whether that
    /// stopped it (false when it is not here, or was stopped or over already).
    pub fn stop(&self, id: &str, reason: StopReason) -> bool {
        self.inner.lock().expect("running lock").jobs.get(id).is_some_and(|s| s.fire(reason))
    }

    /// A client canceled `id`: fires its handle if it runs here, else
    /// remembers it for a while in case this worker has just claimed it.
    pub fn cancel_requested(&self, id: &str) -> bool {
        let mut inner = self.inner.lock().expect("running lock");
        if let Some(s) = inner.jobs.get(id) {
            s.fire(StopReason::Canceled);
            return true;
        }
        let now = Instant::now();
        inner.early.retain(|_, at| now.duration_since(*at) < EARLY_CANCEL_MEMORY);
        inner.early.insert(id.to_owned(), now);
        false
    }

    /// Fires every job's stop handle.
    pub fn stop_all(&self, reason: StopReason) {
        for s in self.inner.lock().expect("running lock").jobs.values() {
            s.fire(reason);
        }
    }

    /// Ids of the running jobs.
    pub fn ids(&self) -> Vec<String> {
        self.inner.lock().expect("running lock").jobs.keys().cloned().collect()
    }

    /// How many run.
    pub fn len(&self) -> usize {
        self.inner.lock().expect("running lock").jobs.len()
    }

    /// Whether none runs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Compares the running jobs with Redis, once per heartbeat: fires the handle
/// of running jobs whose cancel flag is set (in case a publish was missed) and
/// of runs whose id left `inflight_key` (recovered by another worker: their
/// end would not be written). Returns the claimed ids that no slot runs.
pub async fn check(
    running: &Running,
    mut conn: Connection,
    keys: &Keys,
    inflight_key: &str,
) -> redis::RedisResult<HashSet<String>> {
    let ids = running.ids();
    let mut p = redis::pipe();
    p.lrange(inflight_key, 0, -1);
    for id in &ids {
        p.hget(keys.job(id), "status");
    }
    let (claimed, statuses): (Vec<String>, Vec<Option<String>>) = {
        let mut raw: Vec<redis::Value> = p.query_async(&mut conn).await?;
        let rest = raw.split_off(1);
        let claimed: Vec<String> = redis::from_redis_value(raw.remove(0)).map_err(redis::RedisError::from)?;
        let statuses = rest.into_iter().map(|v| redis::from_redis_value(v).ok().flatten()).collect();
        (claimed, statuses)
    };
    for (id, st) in ids.iter().zip(statuses) {
        if st.as_deref() == Some("cancel_requested") && running.stop(id, StopReason::Canceled) {
            tracing::info!(job_id = %id, "cancellation found by flag check");
        }
    }
    for id in ids.iter().filter(|id| !claimed.contains(id)) {
        if running.stop(id, StopReason::Lost) {
            tracing::warn!(job_id = %id, "job was taken from this worker; stopping its run");
        }
    }
    Ok(claimed.into_iter().filter(|id| !ids.contains(id)).collect())
}

/// Listens on the cancel channel and fires the handles of local jobs, until
/// `done`. Reconnects with backoff; the heartbeat's flag check covers what is
/// published while it is down.
pub async fn subscribe(redis: Redis, channel: String, running: &Running, done: CancellationToken) {
    let mut backoff = Backoff::SUBSCRIPTION;
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
                    if !backoff.sleep(&done).await {
                        return;
                    }
                    continue;
                }
            },
            _ = done.cancelled() => return,
        };
        backoff.reset();
        let mut messages = ps.on_message();
        loop {
            let msg = tokio::select! { m = messages.next() => m, _ = done.cancelled() => return };
            let Some(msg) = msg else { break };
            if let Ok(id) = msg.get_payload::<String>()
                && running.cancel_requested(&id)
            {
                tracing::info!(job_id = %id, "cancellation requested");
            }
        }
        tracing::warn!("cancel subscription lost; reconnecting");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancellation_heard_before_the_job_registers_still_stops_it() {
        let running = Running::default();
        assert!(!running.cancel_requested("a"));
        let stop = running.add("a");
        assert_eq!(stop.reason(), StopReason::Canceled);
        assert!(stop.token().is_cancelled());
        // Remembered once only: a later run of the same id starts clean.
        running.remove("a");
        assert_eq!(running.add("a").reason(), StopReason::None);
        assert!(running.cancel_requested("a"));
    }
}
