//! Configuration read from the environment.
//!
//! Every variable of the starter is kept (REDIS_URL, RESULT_TTL, FAILURE_TTL,
//! TASK_TIMEOUT, IDEMP_MARGIN, API_HOST, API_PORT) and ours are added. Each is
//! parsed once at start-up; a bad value is a [`ConfigError`] that names the
//! variable and what it accepts, so a program can stop with a useful message.
//!
//! Names, defaults and accepted values are written once, in [`VARIABLES`]
//! (module `variables`); `load` reads the environment with them.

mod load;
mod variables;

use std::time::Duration;

use crate::job::RetryPolicy;

pub use variables::{Kind, VARIABLES, Variable, help_text, variable};

/// A variable whose value cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {var}={value:?}: expected {accepts}")]
pub struct ConfigError {
    /// The environment variable's name.
    pub var: &'static str,
    /// The value found (secrets are never put here).
    pub value: String,
    /// What the variable accepts, in words.
    pub accepts: &'static str,
}

/// Whether to talk to Redis as a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterMode {
    /// Ask the server (`INFO cluster`) at connect time.
    Auto,
    /// Always talk to Redis as a cluster.
    Yes,
    /// Always use a single-node connection.
    No,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line, for CloudWatch and other collectors.
    Json,
    /// Human-readable lines.
    Text,
}

/// Every setting of taskq, for the library, the worker and the functions.
#[derive(Debug, Clone)]
pub struct Config {
    /// `redis://` or `rediss://` URL, with optional user and password.
    pub redis_url: String,
    /// Cluster or single node; `Auto` asks the server.
    pub redis_cluster: ClusterMode,
    /// PEM file of the CA that signed the server's TLS certificate, when it is
    /// not in the public roots (self-managed Redis).
    pub redis_tls_ca_file: Option<String>,
    /// How long any Redis call may take before the caller gives up.
    pub redis_timeout: Duration,
    /// ElastiCache user to authenticate as with IAM (REDIS_IAM_USER): the
    /// password is then a short-lived token signed with AWS credentials
    /// (see [`crate::iam`]). Set together with `redis_iam_cache` and `aws_region`.
    pub redis_iam_user: Option<String>,
    /// The ElastiCache serverless cache (or replication group) the IAM token
    /// is for (REDIS_IAM_CACHE).
    pub redis_iam_cache: Option<String>,
    /// The AWS region of that cache (AWS_REGION, else AWS_DEFAULT_REGION).
    pub aws_region: Option<String>,
    /// Retention of finished and canceled jobs.
    pub result_ttl: Duration,
    /// Retention of failed jobs.
    pub failure_ttl: Duration,
    /// Default limit on a job's run time.
    pub task_timeout: Duration,
    /// Added to a task's duration (or the timeout), recorded with the job as
    /// `idem_ttl`; the idempotency key itself lives as long as its job.
    pub idemp_margin: Duration,
    /// Local API server address.
    pub api_host: String,
    /// Local API server port.
    pub api_port: u16,
    /// Prefix of every key; contains a `{hash tag}` so all keys share one cluster slot.
    pub key_prefix: String,
    /// Queues in priority order: a worker takes from the first non-empty one.
    pub queues: Vec<String>,
    /// Jobs one worker process runs at once.
    pub worker_concurrency: usize,
    /// How long a stopping worker lets running jobs finish before requeueing them.
    pub shutdown_grace: Duration,
    /// Interval of worker heartbeats; a worker silent for three intervals is dead.
    pub worker_heartbeat: Duration,
    /// File the worker rewrites on every heartbeat, for container health checks.
    pub worker_health_file: Option<String>,
    /// The ECS agent's endpoint (ECS_AGENT_URI, set by ECS): the worker asks
    /// it for scale-in protection while it runs jobs.
    pub ecs_agent_uri: Option<String>,
    /// Runs a job may start before a crash-recovered job fails as `abandoned`.
    pub max_attempts: u32,
    /// Retries after a failed attempt for jobs whose task has no policy of
    /// its own and whose request gives none (RETRY_MAX); 0: never retried.
    pub retry_max: u32,
    /// Wait before the first retry, doubled for each next one (RETRY_BACKOFF).
    pub retry_backoff: Duration,
    /// Longest wait between two attempts (RETRY_BACKOFF_MAX).
    pub retry_backoff_max: Duration,
    /// Largest accepted request body, in bytes.
    pub max_body: usize,
    /// Most jobs a queue may hold waiting (0: no bound); an enqueue beyond
    /// it is refused, so a flood cannot grow Redis without limit.
    pub max_queued: u64,
    /// When set, every route but /health needs `Authorization: Bearer <token>`.
    /// Unset means open; set but empty is a configuration error (a token
    /// that failed to arrive must not open the API).
    pub api_token: Option<String>,
    /// Log line format.
    pub log_format: LogFormat,
}

impl Default for Config {
    /// The defaults of [`VARIABLES`], which is where each is written.
    fn default() -> Self {
        Self::from_lookup(|_| None).expect("the defaults in config::VARIABLES are valid")
    }
}

impl Config {
    /// How long a job that ended in `status` is kept: FAILURE_TTL for failed
    /// jobs, RESULT_TTL for finished and canceled ones.
    pub fn retention(&self, status: crate::job::Status) -> Duration {
        if status == crate::job::Status::Failed { self.failure_ttl } else { self.result_ttl }
    }

    /// The queue of a request's `high` flag: the first queue of QUEUES (the
    /// highest priority) when true, the last one when false, so that with the
    /// default `high,default` it is `high` or `default`.
    pub fn queue_for(&self, high: bool) -> &str {
        let q = if high { self.queues.first() } else { self.queues.last() };
        q.expect("QUEUES holds at least one queue (checked when read)")
    }

    /// The retry policy of RETRY_MAX, RETRY_BACKOFF and RETRY_BACKOFF_MAX:
    /// `None` when RETRY_MAX is 0 (jobs are never retried by default).
    pub fn default_retry(&self) -> Option<RetryPolicy> {
        Some(self.retry_defaults()).filter(|p| p.max > 0)
    }

    /// The same policy even when RETRY_MAX is 0: the values a request that
    /// gives only some fields of its retry policy takes the others from.
    pub fn retry_defaults(&self) -> RetryPolicy {
        RetryPolicy {
            max: self.retry_max,
            backoff: self.retry_backoff.as_secs_f64(),
            backoff_max: self.retry_backoff_max.as_secs_f64(),
        }
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// REDIS_URL with any password replaced, for logs and messages.
    pub fn redis_url_redacted(&self) -> String {
        redact_url(&self.redis_url)
    }
}

/// Hides the password of a Redis URL: `redis://user:secret@h` -> `redis://user:***@h`.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else { return url.to_owned() };
    let rest = &url[scheme_end + 3..];
    let Some(at) = rest.rfind('@') else { return url.to_owned() };
    let userinfo = &rest[..at];
    let user = userinfo.split(':').next().unwrap_or("");
    format!("{}://{}:***@{}", &url[..scheme_end], user, &rest[at + 1..])
}

#[cfg(test)]
mod tests;
