//! `task_b`: sends a user's notifications (the starter's demo), one channel a step.

use serde_json::json;
use taskq::catalogue::TaskBArgs;

use crate::context::JobContext;
use crate::task::{Task, TaskResult};

const CHANNELS: [&str; 3] = ["email", "sms", "push"];

pub struct TaskB;

impl Task for TaskB {
    type Args = TaskBArgs;

    async fn run(&self, ctx: JobContext, TaskBArgs(args): TaskBArgs) -> TaskResult {
        ctx.set_meta("user_id", args.user_id).await;
        super::stepped(&ctx, args.duration, &CHANNELS).await?;
        Ok(json!({"user_id": args.user_id, "notified": CHANNELS, "message": format!("user {} notified", args.user_id)}))
    }
}
