//! POST /tasks/a: enqueue `task_a` (process a user) with the starter's body.

use crate::views::UserTaskRequest;

super::enqueue::enqueue_handler!(
    /// Enqueues task_a with `{"user_id", "duration"}`.
    "/tasks/a", UserTaskRequest, "Missing or mistyped field",
    |call| super::enqueue::enqueue_user_task(call, "task_a").await
);
