//! POST /queues/{queue_name}/requeue: put every failed job of a queue (its
//! dead letters) back on it.
//!
//! Only the jobs that had failed when the call began are requeued, in
//! bounded batches: jobs failing again meanwhile stay failed, so the call
//! always ends.

use lambda_http::http::StatusCode;

use crate::error::ErrorBody;
use crate::reply::{Reply, json};
use crate::request::Call;
use crate::views::RequeueFailedReply;

/// Requeues the queue's failed jobs; unknown queues are 404.
#[utoipa::path(post, path = "/queues/{queue_name}/requeue", tag = "queues",
    params(("queue_name" = String, Path, description = "A queue of QUEUES, such as `default` or `high`")),
    responses(
        (status = 200, description = "How many failed jobs were put back", body = RequeueFailedReply),
        (status = 404, description = "No such queue", body = ErrorBody),
        (status = 503, description = "Redis is unreachable", body = ErrorBody),
    ))]
pub async fn handle(call: Call) -> Reply {
    let queue = call.known_queue(call.param("queue_name").to_owned())?;
    let name = queue.clone();
    let requeued = call.state.run_long(move |q| async move { q.requeue_failed(Some(&name)).await }).await?;
    Ok(json(StatusCode::OK, &RequeueFailedReply { queue, requeued }))
}
