//! `task_a`: processes a user (the starter's demo): load, process, save.

use serde_json::json;
use taskq::catalogue::TaskAArgs;

use crate::context::JobContext;
use crate::task::{Task, TaskResult};

pub struct TaskA;

impl Task for TaskA {
    type Args = TaskAArgs;

    async fn run(&self, ctx: JobContext, TaskAArgs(args): TaskAArgs) -> TaskResult {
        ctx.set_meta("user_id", args.user_id).await;
        super::stepped(&ctx, args.duration, &["loading user", "processing user", "saving user"]).await?;
        Ok(json!({"user_id": args.user_id, "message": format!("user {} processed", args.user_id)}))
    }
}
