//! The tasks this worker runs. To add one: declare its arguments in
//! `taskq::catalogue`, write it in a file here, and add one line below.

mod long_task;
mod task_a;
mod task_b;

use std::time::Duration;

use crate::context::JobContext;
use crate::task::{Registry, TaskError};

/// Every task of this worker.
pub fn registry() -> Registry {
    Registry::new().register(long_task::LongTask).register(task_a::TaskA).register(task_b::TaskB)
}

/// Runs `steps` named steps spread evenly over `duration` seconds, reporting
/// progress after each; stops at once when the job is cancelled.
pub(crate) async fn stepped(ctx: &JobContext, duration: f64, steps: &[&str]) -> Result<(), TaskError> {
    let total = steps.len() as u64;
    let step = Duration::from_secs_f64(duration.max(0.0) / total.max(1) as f64);
    ctx.progress(0, total, None).await;
    for (i, name) in steps.iter().enumerate() {
        ctx.sleep(step).await?;
        ctx.progress(i as u64 + 1, total, Some(name.to_string())).await;
    }
    Ok(())
}
