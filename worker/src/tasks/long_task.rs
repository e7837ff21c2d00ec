//! `long_task`: the starter's demo. Works `duration` seconds in one-second
//! steps (the last may be shorter), reporting progress from its start
//! (`done: 0`) and after each step, and returns its payload.

use std::time::Duration;

use serde_json::json;
use taskq::catalogue::LongTaskArgs;

use crate::context::JobContext;
use crate::task::{Task, TaskResult};

pub struct LongTask;

impl Task for LongTask {
    type Args = LongTaskArgs;

    async fn run(&self, ctx: JobContext, args: LongTaskArgs) -> TaskResult {
        let total = args.duration.ceil() as u64;
        let mut left = args.duration;
        if total > 0 {
            ctx.progress(0, total, None).await;
        }
        for done in 1..=total {
            ctx.sleep(Duration::from_secs_f64(left.min(1.0))).await?;
            left -= 1.0;
            ctx.progress(done, total, Some(format!("step {done} of {total}"))).await;
        }
        Ok(json!({"status": "completed", "duration": args.duration, "payload": args.payload}))
    }
}
