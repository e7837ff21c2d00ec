//! Read-only views: counts per queue and state, live workers, and the
//! finished and failed counts per minute. Nothing here changes Redis.

use std::collections::{BTreeMap, HashMap};

use redis::AsyncCommands;
use serde::Serialize;

use super::{Error, Queue};
use crate::job::{Status, now_ms};

/// Counts of one queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueCounts {
    /// Queue name.
    pub name: String,
    /// Jobs waiting in the queue list (the starter's `count`); scheduled and
    /// retrying jobs are not in it yet.
    pub count: u64,
    /// Jobs per state.
    pub states: BTreeMap<&'static str, u64>,
}

/// A worker as it describes itself in its heartbeats.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkerInfo {
    /// Unique name (host, pid, random suffix).
    pub name: String,
    /// Queues it takes from, in priority order.
    pub queues: Vec<String>,
    /// Jobs it runs at once.
    pub concurrency: u64,
    /// `busy` when it runs a job, `idle` otherwise.
    pub state: &'static str,
    /// Ids of the jobs it runs now.
    pub current_jobs: Vec<String>,
    /// Milliseconds since its last heartbeat.
    pub heartbeat_age_ms: i64,
    /// Jobs it finished.
    pub processed: u64,
    /// Jobs that failed on it.
    pub failed: u64,
    /// When it started (RFC 3339).
    pub started_at: String,
}

/// Finished and failed counts of one minute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MinuteStats {
    /// `YYYY-MM-DDTHH:MMZ`.
    pub minute: String,
    /// Jobs finished in that minute.
    pub finished: u64,
    /// Jobs failed in that minute.
    pub failed: u64,
}

/// Values `counts` reads per queue: length, tombstones, the ended
/// registries, the waiting sets.
const PER_QUEUE: usize = 2 + Status::ENDED.len() + Status::WAITING.len();

impl Queue {
    /// Counts of every configured queue, in priority order: `count` and
    /// `queued` are the jobs in its list; `scheduled` and `retrying` those
    /// waiting for a time (not in the list yet), each count O(1).
    pub async fn counts(&self) -> Result<Vec<QueueCounts>, Error> {
        let running = self.running_ids().await?;
        let running_jobs = self.get_many(&running).await?;
        let mut p = redis::pipe();
        let now = now_ms();
        for q in &self.cfg.queues {
            p.llen(self.keys.queue(q)).get(self.keys.tombstones(q));
            for st in Status::ENDED {
                p.zcount(self.keys.ended(q, st), now - self.ttl_ms(st), "+inf");
            }
            for st in Status::WAITING {
                p.zcard(self.keys.waiting(q, st));
            }
        }
        let mut c = self.conn.clone();
        let raw: Vec<Option<i64>> = p.query_async(&mut c).await?;
        let mut out = Vec::new();
        for (i, q) in self.cfg.queues.iter().enumerate() {
            let v = |k: usize| raw[i * PER_QUEUE + k].unwrap_or(0).max(0) as u64;
            let queued = v(0).saturating_sub(v(1));
            let count_of = |st: Status| running_jobs.iter().filter(|j| &j.queue == q && j.status == st).count() as u64;
            let mut states = BTreeMap::new();
            states.insert(Status::Queued.as_str(), queued);
            states.insert(Status::Started.as_str(), count_of(Status::Started));
            states.insert(Status::CancelRequested.as_str(), count_of(Status::CancelRequested));
            for (k, st) in Status::ENDED.into_iter().enumerate() {
                states.insert(st.as_str(), v(2 + k));
            }
            for (k, st) in Status::WAITING.into_iter().enumerate() {
                states.insert(st.as_str(), v(2 + Status::ENDED.len() + k));
            }
            out.push(QueueCounts { name: q.clone(), count: queued, states });
        }
        Ok(out)
    }

    /// Live workers, as described by their heartbeats.
    pub async fn workers(&self) -> Result<Vec<WorkerInfo>, Error> {
        let mut c = self.conn.clone();
        let names: Vec<(String, i64)> = c.zrange_withscores(self.keys.workers(), 0, -1).await?;
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let mut p = redis::pipe();
        for (name, _) in &names {
            p.hgetall(self.keys.worker(name)).lrange(self.keys.inflight(name), 0, -1);
        }
        p.cmd("TIME");
        let raw: Vec<redis::Value> = p.query_async(&mut c).await?;
        let (time, rest) = raw.split_last().expect("TIME was queued");
        let (secs, micros): (i64, i64) = redis::from_redis_value_ref(time).map_err(redis::RedisError::from)?;
        let now = secs * 1000 + micros / 1000;
        let mut out = Vec::new();
        for ((name, _), pair) in names.into_iter().zip(rest.chunks(2)) {
            let h: HashMap<String, String> = redis::from_redis_value_ref(&pair[0]).map_err(redis::RedisError::from)?;
            let current_jobs: Vec<String> = redis::from_redis_value_ref(&pair[1]).map_err(redis::RedisError::from)?;
            let num = |k: &str| h.get(k).and_then(|v| v.parse().ok()).unwrap_or(0);
            out.push(WorkerInfo {
                queues: h.get("queues").map(|q| q.split(',').map(str::to_owned).collect()).unwrap_or_default(),
                concurrency: num("concurrency"),
                state: if current_jobs.is_empty() { "idle" } else { "busy" },
                current_jobs,
                // Scores are on the liveness clock; the description has wall time.
                heartbeat_age_ms: (now - h.get("heartbeat_ms").and_then(|v| v.parse::<i64>().ok()).unwrap_or(now))
                    .max(0),
                processed: num("processed"),
                failed: num("failed"),
                started_at: h.get("started_at").cloned().unwrap_or_default(),
                name,
            });
        }
        Ok(out)
    }

    /// Finished and failed counts of the last `minutes` minutes, oldest first.
    pub async fn throughput(&self, minutes: u32) -> Result<Vec<MinuteStats>, Error> {
        let now = chrono::Utc::now();
        let stamps: Vec<chrono::DateTime<chrono::Utc>> =
            (0..minutes as i64).rev().map(|m| now - chrono::Duration::minutes(m)).collect();
        let mut p = redis::pipe();
        for t in &stamps {
            p.cmd("HMGET").arg(self.keys.stats(&stats_minute(t))).arg("finished").arg("failed");
        }
        let mut c = self.conn.clone();
        let raw: Vec<(Option<u64>, Option<u64>)> = p.query_async(&mut c).await?;
        Ok(stamps
            .iter()
            .zip(raw)
            .map(|(t, (finished, failed))| MinuteStats {
                minute: t.format("%Y-%m-%dT%H:%MZ").to_string(),
                finished: finished.unwrap_or(0),
                failed: failed.unwrap_or(0),
            })
            .collect())
    }
}

/// The counters' key part for the minute of `t`: `YYYYMMDDHHMM`.
pub fn stats_minute(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y%m%d%H%M").to_string()
}
