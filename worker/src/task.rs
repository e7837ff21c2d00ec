//! What a task is, and the registry the worker looks tasks up in.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use taskq::catalogue::TaskArgs;

use crate::context::JobContext;

/// Why a task did not return a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskError {
    /// It saw its cancellation (or timeout, or shutdown) and stopped.
    Canceled,
    /// It failed; the message is stored as the job's error (type `error`).
    /// The job is retried if its retry policy allows another attempt.
    Failed(String),
    /// It failed in a way another attempt cannot mend (bad input, a
    /// refusal): the job fails at once with error type `permanent`, whatever
    /// its retry policy.
    Permanent(String),
}

impl<E: std::error::Error> From<E> for TaskError {
    fn from(e: E) -> Self {
        TaskError::Failed(e.to_string())
    }
}

/// A task's outcome.
pub type TaskResult = Result<Value, TaskError>;

/// A kind of job. Implement it in one file under `tasks/` and add one line to
/// [`crate::tasks::registry`].
pub trait Task: Send + Sync + 'static {
    /// The arguments, declared in the catalogue (`taskq::catalogue`); their
    /// `NAME` is the task's name.
    type Args: TaskArgs;

    /// Overrides TASK_TIMEOUT for this task.
    fn timeout(&self) -> Option<Duration> {
        None
    }

    /// Runs one job. Long work should watch `ctx.cancelled()` (or call
    /// `ctx.sleep`) so that cancel, timeout and shutdown stop it promptly.
    fn run(&self, ctx: JobContext, args: Self::Args) -> impl Future<Output = TaskResult> + Send;
}

/// A task's run as a boxed future.
pub type BoxRun = Pin<Box<dyn Future<Output = TaskResult> + Send>>;

/// A task with its argument type erased, as the registry holds it.
trait ErasedTask: Send + Sync {
    fn call(self: Arc<Self>, ctx: JobContext, args: &str) -> Result<BoxRun, String>;
    fn timeout(&self) -> Option<Duration>;
}

impl<T: Task> ErasedTask for T {
    fn call(self: Arc<Self>, ctx: JobContext, args: &str) -> Result<BoxRun, String> {
        let args: T::Args = serde_json::from_str(args).map_err(|e| e.to_string())?;
        Ok(Box::pin(async move { self.run(ctx, args).await }))
    }
    fn timeout(&self) -> Option<Duration> {
        Task::timeout(self)
    }
}

/// The tasks a worker can run, by name.
#[derive(Clone, Default)]
pub struct Registry {
    tasks: HashMap<&'static str, Arc<dyn ErasedTask>>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `task` under its arguments' name.
    pub fn register<T: Task>(mut self, task: T) -> Self {
        self.tasks.insert(T::Args::NAME, Arc::new(task));
        self
    }

    /// Names of the registered tasks.
    pub fn names(&self) -> Vec<&'static str> {
        let mut v: Vec<_> = self.tasks.keys().copied().collect();
        v.sort_unstable();
        v
    }

    /// Starts `task` with JSON `args`: `None` for an unknown task, `Err` for
    /// arguments that do not decode. Also returns the task's own timeout.
    pub(crate) fn start(
        &self,
        task: &str,
        ctx: JobContext,
        args: &str,
    ) -> Option<(Result<BoxRun, String>, Option<Duration>)> {
        let t = self.tasks.get(task)?;
        Some((t.clone().call(ctx, args), t.timeout()))
    }
}
