//! Repairs the heartbeat makes: recovers the jobs of workers whose heartbeat
//! lapsed (River's rescuer), gives back jobs claimed by a lost reply that no
//! slot runs, and drops expired ids from the registries of ended jobs
//! (River's cleaner).

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::json;
use taskq::job::{now_ms, now_rfc3339};
use taskq::queue::stats_minute;
use taskq::{Status, scripts};

use crate::processor;
use crate::state::Shared;

/// Dead workers' jobs recovered per script call.
const RECOVER_BATCH: usize = 100;

/// Recovers every job of dead worker `name`, in batches.
pub async fn recover(s: &Shared, name: &str) -> redis::RedisResult<()> {
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
            .arg(s.lapse_ms())
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

/// Gives back the claimed jobs in `orphans` (claimed here, run by no slot)
/// that were already `suspects` at the last beat and still run nowhere here.
/// A slot holds its job from its start until its end is written, so a job
/// whose end is being retried is never given back.
pub async fn give_back_orphans(
    s: &Arc<Shared>,
    orphans: &HashSet<String>,
    suspects: &HashSet<String>,
) -> redis::RedisResult<()> {
    let mut conn = s.conn.clone();
    let running = s.running.ids();
    let confirmed: Vec<&String> = orphans.iter().filter(|id| suspects.contains(*id) && !running.contains(id)).collect();
    for id in confirmed {
        let queue: Option<String> = redis::AsyncCommands::hget(&mut conn, s.keys.job(id), "queue").await?;
        tracing::warn!(job_id = %id, "claimed job not running here; returning it to its queue");
        match queue {
            Some(q) => processor::give_back(s, id, &q).await,
            None => {
                let _: () = redis::AsyncCommands::lrem(&mut conn, &s.inflight_key, 0, id).await?;
            }
        }
    }
    Ok(())
}

/// Drops expired ids from the registries of ended jobs.
pub async fn prune(s: &Shared) -> redis::RedisResult<()> {
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
