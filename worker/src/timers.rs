//! The timers: every [`TICK`] each worker moves due scheduled and retrying
//! jobs onto their queues and makes the jobs of due schedule ticks. Every
//! worker runs them; the scripts make each move and each tick's job happen
//! once, whichever worker comes first, so no leader is needed and a worker's
//! death stops nothing. Each call handles a bounded batch; a full batch is
//! followed at once by the next.

use std::sync::Arc;
use std::time::Duration;

use taskq::Queue;
use tokio_util::sync::CancellationToken;

use crate::backoff::Backoff;
use crate::state::Shared;

/// How often a worker looks for due jobs and ticks: a due job enters its
/// queue within this (plus the call) of its time.
pub const TICK: Duration = Duration::from_millis(200);

/// Jobs moved, or ticks handled, per script call.
pub const BATCH: usize = 200;

/// Runs the timers until `done`.
pub async fn run(shared: Arc<Shared>, done: CancellationToken) {
    let queue = Queue::new(shared.conn.clone(), shared.cfg.clone());
    let mut backoff = Backoff::COMMAND;
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! { _ = tick.tick() => {}, _ = done.cancelled() => return }
        match turn(&queue).await {
            Ok(()) => backoff.reset(),
            Err(e) => {
                tracing::warn!(error = %e, "moving due jobs failed; will retry");
                if !backoff.sleep(&done).await {
                    return;
                }
            }
        }
    }
}

/// One turn: due jobs, then due ticks, each until a batch is not full.
async fn turn(queue: &Queue) -> Result<(), taskq::Error> {
    while queue.promote_due(BATCH).await? as usize >= BATCH {}
    while queue.tick_schedules(BATCH).await? as usize >= BATCH {}
    Ok(())
}
