//! DELETE /queues/{queue_name}/purge: cancel every job waiting in a queue.
//!
//! Purged jobs end `canceled` (their idempotency keys are released); running
//! jobs are not touched. A large queue is purged in bounded batches, so the
//! whole may take longer than REDIS_TIMEOUT while each Redis call may not.

use lambda_http::http::StatusCode;

use crate::error::ErrorBody;
use crate::reply::{Reply, json};
use crate::request::Call;
use crate::views::PurgeReply;

/// Purges the queue; unknown queues are 404.
#[utoipa::path(delete, path = "/queues/{queue_name}/purge", tag = "queues",
    params(("queue_name" = String, Path, description = "A queue of QUEUES, such as `default` or `high`")),
    responses(
        (status = 200, description = "How many jobs were taken off", body = PurgeReply),
        (status = 404, description = "No such queue", body = ErrorBody),
        (status = 503, description = "Redis is unreachable", body = ErrorBody),
    ))]
pub async fn handle(call: Call) -> Reply {
    let queue = call.known_queue(call.param("queue_name").to_owned())?;
    let name = queue.clone();
    let purged = call.state.run_long(move |q| async move { q.purge(&name).await }).await?;
    Ok(json(StatusCode::OK, &PurgeReply { queue, purged }))
}
