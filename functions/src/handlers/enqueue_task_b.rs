//! POST /tasks/b: enqueue `task_b` (send a user notifications) with the starter's body.

use crate::views::UserTaskRequest;

super::enqueue::enqueue_handler!(
    /// Enqueues task_b with `{"user_id", "duration"}`.
    "/tasks/b", UserTaskRequest, "Missing or mistyped field",
    |call| super::enqueue::enqueue_user_task(call, "task_b").await
);
