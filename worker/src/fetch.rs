//! Fetching jobs for idle slots. One idle slot at a time holds the fetcher:
//! it claims a job with the fetch script (queues in priority order), and when
//! every queue is empty blocks on the wake list on a connection of its own
//! (a blocking command would stall the shared one). Busy slots never come
//! here: the finish script hands them their next job.

use std::sync::Arc;

use taskq::scripts::{self, Claimed};
use taskq::{Connection, job::now_rfc3339};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use crate::backoff::Backoff;
use crate::state::Shared;

/// Seconds an idle fetcher blocks before looking again.
const BLOCK_SECS: f64 = 1.0;

/// Hands claimed jobs to idle slots.
pub struct Fetcher {
    /// The wait connection, held by the slot that fetches now.
    blocking: Mutex<Connection>,
}

impl Fetcher {
    /// A fetcher using `blocking` for its waits.
    pub fn new(blocking: Connection) -> Self {
        Self { blocking: Mutex::new(blocking) }
    }

    /// The next job for an idle slot; `None` once `stop` fires.
    pub async fn next(&self, shared: &Arc<Shared>, stop: &CancellationToken) -> Option<Claimed> {
        let mut blocking = tokio::select! { g = self.blocking.lock() => g, _ = stop.cancelled() => return None };
        let mut backoff = Backoff::COMMAND;
        loop {
            if stop.is_cancelled() {
                return None;
            }
            match self.claim(shared).await {
                Ok(Some(job)) => return Some(job),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "fetch failed; retrying");
                    if !backoff.sleep(stop).await {
                        return None;
                    }
                    continue;
                }
            }
            let mut blpop = redis::cmd("BLPOP");
            blpop.arg(shared.keys.wake()).arg(BLOCK_SECS);
            let wait = blpop.query_async::<redis::Value>(&mut *blocking);
            let woke = tokio::select! { r = wait => r, _ = stop.cancelled() => return None };
            if let Err(e) = woke {
                tracing::warn!(error = %e, "waiting for jobs failed; retrying");
                if !backoff.sleep(stop).await {
                    return None;
                }
            } else {
                backoff.reset();
            }
        }
    }

    async fn claim(&self, shared: &Arc<Shared>) -> redis::RedisResult<Option<Claimed>> {
        let mut inv = scripts::FETCH.prepare_invoke();
        inv.key(&shared.inflight_key)
            .key(shared.keys.job_prefix())
            .key(shared.keys.tombstones_prefix())
            .key(shared.keys.wake());
        for q in &shared.queue_keys {
            inv.key(q);
        }
        inv.arg(&*shared.name).arg(now_rfc3339());
        for q in &shared.cfg.queues {
            inv.arg(q);
        }
        let mut conn = shared.conn.clone();
        inv.invoke_async(&mut conn).await
    }
}
