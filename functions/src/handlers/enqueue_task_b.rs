//! POST /tasks/b: enqueue `task_b` (send a user notifications) with the starter's body.

use crate::Reply;
use crate::error::{ErrorBody, ValidationBody};
use crate::input::Call;
use crate::views::{EnqueueReply, UserTaskRequest};

/// Enqueues task_b with `{"user_id", "duration"}`.
#[utoipa::path(post, path = "/tasks/b", tag = "tasks",
    request_body = UserTaskRequest,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[ -~]+$",
        description = "Names the request: while its job has not ended, the same key returns that job. \
            1 to 255 visible ASCII characters or spaces; spaces at either end are ignored")),
    responses(
        (status = 200, description = "A new job, or the existing one (`duplicate`)", body = EnqueueReply),
        (status = 413, description = "Body larger than MAX_BODY", body = ErrorBody),
        (status = 415, description = "A body whose Content-Type is not JSON", body = ErrorBody),
        (status = 422, description = "Missing or mistyped field", body = ValidationBody),
        (status = 429, description = "The queue holds MAX_QUEUED waiting jobs: nothing was written", body = ErrorBody),
        (status = 503, description = "Redis is unreachable", body = ErrorBody),
    ))]
pub async fn handle(call: Call) -> Reply {
    super::enqueue_user_task(call, "task_b").await
}
