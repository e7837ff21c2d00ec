//! The task catalogue: every task a client may enqueue, with the type of its
//! arguments. The functions check arguments against it before anything is
//! written; the worker decodes them with the same types.
//!
//! To add a task: declare its arguments here, implement [`TaskArgs`], and add
//! one line to [`TASKS`]; then write its body in `worker/src/tasks/`.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::job::RetryPolicy;

/// Longest `duration` a demo task accepts, in seconds (one day).
pub const MAX_DURATION: f64 = 86_400.0;

/// Arguments of a task in the catalogue.
pub trait TaskArgs: Serialize + DeserializeOwned + Send + 'static {
    /// The task's name, as clients send it.
    const NAME: &'static str;

    /// The task's retry policy; `None` (the default) takes RETRY_MAX,
    /// RETRY_BACKOFF and RETRY_BACKOFF_MAX. A request may still give its own.
    const RETRY: Option<RetryPolicy> = None;

    /// How long the task expects to run, if it says.
    fn duration(&self) -> Option<f64> {
        None
    }

    /// Checks values serde cannot: returns the offending field and why.
    fn check(&self) -> Result<(), (&'static str, String)> {
        Ok(())
    }
}

/// `long_task`: works `duration` seconds in one-second steps and echoes `payload`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LongTaskArgs {
    /// Seconds of work.
    pub duration: f64,
    /// Anything; returned as the result.
    #[serde(default)]
    pub payload: Value,
}

impl TaskArgs for LongTaskArgs {
    const NAME: &'static str = "long_task";
    fn duration(&self) -> Option<f64> {
        Some(self.duration)
    }
    fn check(&self) -> Result<(), (&'static str, String)> {
        check_duration(self.duration)
    }
}

/// `task_a` (process a user) and `task_b` (send a user notifications).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserTaskArgs {
    /// The user concerned.
    pub user_id: i64,
    /// Seconds of work.
    pub duration: f64,
}

/// Arguments of `task_a`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TaskAArgs(pub UserTaskArgs);

/// Arguments of `task_b`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TaskBArgs(pub UserTaskArgs);

impl TaskArgs for TaskAArgs {
    const NAME: &'static str = "task_a";
    fn duration(&self) -> Option<f64> {
        Some(self.0.duration)
    }
    fn check(&self) -> Result<(), (&'static str, String)> {
        check_duration(self.0.duration)
    }
}

impl TaskArgs for TaskBArgs {
    const NAME: &'static str = "task_b";
    /// Notifications go to outside services, which fail now and then: up
    /// to 3 retries, after 1-2, 2-4 and 4-8 seconds.
    const RETRY: Option<RetryPolicy> = Some(RetryPolicy { max: 3, backoff: 2.0, backoff_max: 60.0 });
    fn duration(&self) -> Option<f64> {
        Some(self.0.duration)
    }
    fn check(&self) -> Result<(), (&'static str, String)> {
        check_duration(self.0.duration)
    }
}

fn check_duration(d: f64) -> Result<(), (&'static str, String)> {
    if d.is_finite() && (0.0..=MAX_DURATION).contains(&d) {
        Ok(())
    } else {
        Err(("duration", format!("must be a number of seconds from 0 to {MAX_DURATION}")))
    }
}

/// Refuses a declared `duration` that TASK_TIMEOUT (`task_timeout`) would
/// cut short: such a job could only fail with `timeout`.
pub fn check_timeout(duration: f64, task_timeout: std::time::Duration) -> Result<(), ArgsError> {
    let limit = task_timeout.as_secs_f64();
    if duration < limit {
        Ok(())
    } else {
        Err(ArgsError {
            field: "duration".into(),
            message: format!("must be less than TASK_TIMEOUT ({limit} s): a longer task would time out"),
        })
    }
}

/// One entry of the catalogue.
pub struct TaskSpec {
    /// The task's name.
    pub name: &'static str,
    /// Decodes and checks arguments; returns the declared duration.
    pub validate: fn(&Value) -> Result<Option<f64>, ArgsError>,
    /// Its retry policy ([`TaskArgs::RETRY`]); `None` for the configured one.
    pub retry: Option<RetryPolicy>,
}

/// Arguments that do not fit a task.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ArgsError {
    /// Field at fault (empty for the whole object).
    pub field: String,
    /// Why.
    pub message: String,
}

/// Every task clients may enqueue.
pub const TASKS: &[TaskSpec] = &[spec::<LongTaskArgs>(), spec::<TaskAArgs>(), spec::<TaskBArgs>()];

/// The catalogue entry of `name`.
pub fn find(name: &str) -> Option<&'static TaskSpec> {
    TASKS.iter().find(|t| t.name == name)
}

const fn spec<A: TaskArgs>() -> TaskSpec {
    TaskSpec { name: A::NAME, validate: validate::<A>, retry: A::RETRY }
}

fn validate<A: TaskArgs>(args: &Value) -> Result<Option<f64>, ArgsError> {
    // serde's own errors do not say which field holds a mistyped value; the path does.
    let decoded: A = serde_path_to_error::deserialize(args).map_err(|e| {
        let message = e.inner().to_string();
        let path = e.path().to_string();
        let field = if path.is_empty() || path == "." { field_of(&message) } else { path };
        ArgsError { field, message }
    })?;
    decoded.check().map_err(|(field, message)| ArgsError { field: field.into(), message })?;
    Ok(decoded.duration())
}

/// Pulls the field name out of serde's "missing field `x`" / "unknown field `x`".
fn field_of(msg: &str) -> String {
    msg.split('`').nth(1).unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn known_tasks_validate_their_args() {
        assert_eq!((find("long_task").unwrap().validate)(&json!({"duration": 3, "payload": {"a": 1}})), Ok(Some(3.0)));
        assert_eq!((find("task_a").unwrap().validate)(&json!({"user_id": 1, "duration": 0.5})), Ok(Some(0.5)));
        assert!(find("nope").is_none());
    }

    #[test]
    fn task_b_has_its_own_retry_policy_the_others_the_configured_one() {
        let b = find("task_b").unwrap().retry;
        assert_eq!(b, Some(RetryPolicy { max: 3, backoff: 2.0, backoff_max: 60.0 }));
        assert_eq!((find("task_a").unwrap().retry, find("long_task").unwrap().retry), (None, None));
    }

    #[test]
    fn durations_must_fit_the_timeout() {
        let t = std::time::Duration::from_secs(2);
        assert_eq!(check_timeout(1.5, t), Ok(()));
        for d in [2.0, 4.0] {
            let e = check_timeout(d, t).unwrap_err();
            assert_eq!(e.field, "duration");
            assert!(e.message.contains("TASK_TIMEOUT (2 s)"), "{}", e.message);
        }
    }

    #[test]
    fn bad_args_name_the_field() {
        let v = find("task_b").unwrap().validate;
        assert_eq!(v(&json!({"duration": 1})).unwrap_err().field, "user_id");
        assert_eq!(v(&json!({"user_id": 1, "duration": -1})).unwrap_err().field, "duration");
        assert_eq!(v(&json!({"user_id": 1, "duration": 1, "extra": 1})).unwrap_err().field, "extra");
        assert_eq!(v(&json!({"user_id": "x", "duration": 1})).unwrap_err().field, "user_id");
        assert_eq!(v(&json!({"user_id": 1, "duration": "1"})).unwrap_err().field, "duration");
    }
}
