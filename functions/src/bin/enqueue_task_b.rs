//! The `enqueue_task_b` function: POST /tasks/b.

use functions::{State, invoke, routes};
use lambda_http::{Error, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let state = State::from_env()?;
    lambda_http::run(service_fn(|req| invoke(state.clone(), &routes::ENQUEUE_TASK_B, req))).await
}
