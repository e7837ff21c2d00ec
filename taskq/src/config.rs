//! Configuration read from the environment.
//!
//! Every variable of the starter is kept (REDIS_URL, RESULT_TTL, FAILURE_TTL,
//! TASK_TIMEOUT, IDEMP_MARGIN, API_HOST, API_PORT) and ours are added. Each is
//! parsed once at start-up; a bad value is a [`ConfigError`] that names the
//! variable and what it accepts, so a program can stop with a useful message.

use std::time::Duration;

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
    fn default() -> Self {
        Self {
            redis_url: "redis://127.0.0.1:6379/0".into(),
            redis_cluster: ClusterMode::Auto,
            redis_tls_ca_file: None,
            redis_timeout: Duration::from_secs(2),
            redis_iam_user: None,
            redis_iam_cache: None,
            aws_region: None,
            result_ttl: Duration::from_secs(3600),
            failure_ttl: Duration::from_secs(86400),
            task_timeout: Duration::from_secs(600),
            idemp_margin: Duration::from_secs(300),
            api_host: "0.0.0.0".into(),
            api_port: 8000,
            key_prefix: "{taskq}".into(),
            queues: vec!["high".into(), "default".into()],
            worker_concurrency: 8,
            shutdown_grace: Duration::from_secs(30),
            worker_heartbeat: Duration::from_secs(5),
            worker_health_file: None,
            ecs_agent_uri: None,
            max_attempts: 3,
            max_body: 1024 * 1024,
            max_queued: 100_000,
            api_token: None,
            log_format: LogFormat::Text,
        }
    }
}

/// Every variable read, with its default and what it accepts, for `--help` texts and the README.
pub const VARIABLES: &[(&str, &str, &str)] = &[
    ("REDIS_URL", "redis://127.0.0.1:6379/0", "redis:// or rediss:// URL, with user:password@ if needed"),
    ("REDIS_CLUSTER", "auto", "auto, yes or no"),
    ("REDIS_TLS_CA_FILE", "", "PEM file of a private CA for rediss:// (default: the public roots)"),
    ("REDIS_TIMEOUT", "2", "seconds any Redis call may take"),
    ("REDIS_IAM_USER", "", "ElastiCache user id for IAM authentication (token as password)"),
    ("REDIS_IAM_CACHE", "", "ElastiCache cache name the IAM token is for"),
    ("AWS_REGION", "", "AWS region of the cache, for IAM authentication"),
    ("RESULT_TTL", "3600", "seconds finished and canceled jobs are kept"),
    ("FAILURE_TTL", "86400", "seconds failed jobs are kept"),
    ("TASK_TIMEOUT", "600", "default seconds a job may run"),
    ("IDEMP_MARGIN", "300", "seconds added to a job's duration, recorded with the job"),
    ("API_HOST", "0.0.0.0", "address of the local API server"),
    ("API_PORT", "8000", "port of the local API server"),
    ("KEY_PREFIX", "{taskq}", "prefix of every Redis key, with a {hash tag}"),
    ("QUEUES", "high,default", "queue names in priority order"),
    ("WORKER_CONCURRENCY", "8", "jobs one worker runs at once"),
    ("SHUTDOWN_GRACE", "30", "seconds a stopping worker lets jobs finish"),
    ("WORKER_HEARTBEAT", "5", "seconds between worker heartbeats (dead after 3 missed)"),
    ("WORKER_HEALTH_FILE", "", "file the worker rewrites on every heartbeat, for container health checks"),
    ("ECS_AGENT_URI", "", "set by ECS: the worker asks its agent for scale-in protection while running jobs"),
    ("TASKQ_EMF", "", "when set (to anything), the worker logs queue depth as CloudWatch EMF lines off ECS too"),
    ("MAX_ATTEMPTS", "3", "runs before a crash-recovered job fails as abandoned"),
    ("MAX_BODY", "1048576", "largest request body in bytes"),
    ("MAX_QUEUED", "100000", "most jobs one queue may hold waiting (0: no bound); enqueues beyond it get 429"),
    ("API_TOKEN", "", "bearer token required by every route but /health; unset: open; set but empty: an error"),
    ("LOG_FORMAT", "text", "json or text"),
    ("RUST_LOG", "info", "log levels, overall and per target, e.g. warn,taskq=debug"),
];

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

    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `get`, which returns a variable's value if set.
    /// Empty values count as unset, but for API_TOKEN: an empty token is an
    /// error, never an open API.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let api_token = match get("API_TOKEN").map(|v| v.trim().to_owned()) {
            None => None,
            Some(v) if v.is_empty() => {
                return Err(ConfigError {
                    var: "API_TOKEN",
                    value: String::new(),
                    accepts: "a non-empty bearer token; unset the variable to run the API without one",
                });
            }
            Some(v) => Some(v),
        };
        let get = |name: &str| get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let d = Self::default();
        let secs = |var: &'static str, default: Duration| match get(var) {
            None => Ok(default),
            Some(v) => parse_seconds(&v).ok_or(ConfigError {
                var,
                value: v,
                accepts: "a number of seconds greater than 0, such as 30 or 0.5",
            }),
        };
        let int = |var: &'static str, default: u64, min: u64, max: u64, accepts: &'static str| match get(var) {
            None => Ok(default),
            Some(v) => match v.parse::<u64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(n),
                _ => Err(ConfigError { var, value: v, accepts }),
            },
        };

        let redis_url = get("REDIS_URL").unwrap_or(d.redis_url);
        if !(redis_url.starts_with("redis://") || redis_url.starts_with("rediss://"))
            || redis::IntoConnectionInfo::into_connection_info(redis_url.as_str()).is_err()
        {
            return Err(ConfigError {
                var: "REDIS_URL",
                value: redact_url(&redis_url),
                accepts: "a redis:// or rediss:// URL such as redis://user:password@host:6379/0",
            });
        }
        let redis_cluster = match get("REDIS_CLUSTER").as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("auto") => ClusterMode::Auto,
            Some("yes" | "true" | "1") => ClusterMode::Yes,
            Some("no" | "false" | "0") => ClusterMode::No,
            Some(other) => {
                return Err(ConfigError { var: "REDIS_CLUSTER", value: other.into(), accepts: "auto, yes or no" });
            }
        };
        let key_prefix = get("KEY_PREFIX").unwrap_or(d.key_prefix);
        if !has_hash_tag(&key_prefix) {
            return Err(ConfigError {
                var: "KEY_PREFIX",
                value: key_prefix,
                accepts: "a prefix containing a non-empty {hash tag}, such as {taskq} or {myapp}",
            });
        }
        let queues = match get("QUEUES") {
            None => d.queues,
            Some(v) => {
                let names: Vec<String> = v.split(',').map(|q| q.trim().to_owned()).collect();
                let valid = |q: &String| {
                    !q.is_empty()
                        && q.len() <= 64
                        && q.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                };
                let unique = names.iter().enumerate().all(|(i, q)| !names[..i].contains(q));
                if !names.iter().all(valid) || !unique {
                    return Err(ConfigError {
                        var: "QUEUES",
                        value: v,
                        accepts: "comma-separated distinct queue names (letters, digits, _ and -) in priority order",
                    });
                }
                names
            }
        };
        let (redis_iam_user, redis_iam_cache, aws_region) = iam_settings(get, &redis_url)?;
        let api_port = int("API_PORT", d.api_port.into(), 1, 65535, "a TCP port from 1 to 65535")? as u16;
        let log_format = match get("LOG_FORMAT").as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => return Err(ConfigError { var: "LOG_FORMAT", value: other.into(), accepts: "json or text" }),
        };

        Ok(Self {
            redis_url,
            redis_cluster,
            redis_tls_ca_file: get("REDIS_TLS_CA_FILE"),
            redis_iam_user,
            redis_iam_cache,
            aws_region,
            redis_timeout: secs("REDIS_TIMEOUT", d.redis_timeout)?,
            result_ttl: whole_secs("RESULT_TTL", secs("RESULT_TTL", d.result_ttl)?)?,
            failure_ttl: whole_secs("FAILURE_TTL", secs("FAILURE_TTL", d.failure_ttl)?)?,
            task_timeout: secs("TASK_TIMEOUT", d.task_timeout)?,
            idemp_margin: whole_secs("IDEMP_MARGIN", secs("IDEMP_MARGIN", d.idemp_margin)?)?,
            api_host: get("API_HOST").unwrap_or(d.api_host),
            api_port,
            key_prefix,
            queues,
            worker_concurrency: int(
                "WORKER_CONCURRENCY",
                d.worker_concurrency as u64,
                1,
                1024,
                "a whole number from 1 to 1024",
            )? as usize,
            shutdown_grace: secs("SHUTDOWN_GRACE", d.shutdown_grace)?,
            worker_heartbeat: secs("WORKER_HEARTBEAT", d.worker_heartbeat)?,
            worker_health_file: get("WORKER_HEALTH_FILE"),
            ecs_agent_uri: get("ECS_AGENT_URI"),
            max_attempts: int("MAX_ATTEMPTS", d.max_attempts.into(), 1, 1000, "a whole number from 1 to 1000")? as u32,
            max_body: int("MAX_BODY", d.max_body as u64, 64, 64 * 1024 * 1024, "a number of bytes from 64 to 67108864")?
                as usize,
            max_queued: int("MAX_QUEUED", d.max_queued, 0, 1 << 40, "a whole number of jobs, 0 for no bound")?,
            api_token,
            log_format,
        })
    }

    /// REDIS_URL with any password replaced, for logs and messages.
    pub fn redis_url_redacted(&self) -> String {
        redact_url(&self.redis_url)
    }
}

/// REDIS_IAM_USER, REDIS_IAM_CACHE and the AWS region.
type IamSettings = (Option<String>, Option<String>, Option<String>);

/// REDIS_IAM_USER, REDIS_IAM_CACHE and the region: all or none, and only over TLS.
fn iam_settings(get: impl Fn(&str) -> Option<String>, redis_url: &str) -> Result<IamSettings, ConfigError> {
    let (user, cache) = (get("REDIS_IAM_USER"), get("REDIS_IAM_CACHE"));
    let region = get("AWS_REGION").or_else(|| get("AWS_DEFAULT_REGION"));
    if user.is_none() && cache.is_none() {
        return Ok((None, None, region));
    }
    let missing = |var, accepts| ConfigError { var, value: String::new(), accepts };
    if user.is_none() {
        return Err(missing("REDIS_IAM_USER", "the ElastiCache user id to authenticate as, set with REDIS_IAM_CACHE"));
    }
    if cache.is_none() {
        return Err(missing("REDIS_IAM_CACHE", "the ElastiCache cache name, set with REDIS_IAM_USER"));
    }
    if region.is_none() {
        return Err(missing("AWS_REGION", "the cache's AWS region, such as us-east-1, with REDIS_IAM_USER"));
    }
    if !redis_url.starts_with("rediss://") {
        return Err(ConfigError {
            var: "REDIS_URL",
            value: redact_url(redis_url),
            accepts: "a rediss:// URL: IAM authentication (REDIS_IAM_USER) needs TLS",
        });
    }
    Ok((user, cache, region))
}

/// Parses "30", "0.5": a finite number of seconds greater than zero.
fn parse_seconds(v: &str) -> Option<Duration> {
    let n: f64 = v.parse().ok()?;
    (n.is_finite() && n > 0.0 && n < 1e9).then(|| Duration::from_secs_f64(n))
}

/// Redis TTLs are whole seconds: refuse fractions where they would be rounded away.
fn whole_secs(var: &'static str, d: Duration) -> Result<Duration, ConfigError> {
    if d.subsec_nanos() == 0 {
        Ok(d)
    } else {
        Err(ConfigError {
            var,
            value: format!("{}", d.as_secs_f64()),
            accepts: "a whole number of seconds greater than 0",
        })
    }
}

fn has_hash_tag(prefix: &str) -> bool {
    match (prefix.find('{'), prefix.find('}')) {
        (Some(open), Some(close)) => close > open + 1,
        _ => false,
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
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_match_the_starter() {
        let c = load(&[]).unwrap();
        assert_eq!(c.result_ttl, Duration::from_secs(3600));
        assert_eq!(c.failure_ttl, Duration::from_secs(86400));
        assert_eq!(c.task_timeout, Duration::from_secs(600));
        assert_eq!(c.idemp_margin, Duration::from_secs(300));
        assert_eq!(c.api_port, 8000);
        assert_eq!(c.queues, ["high", "default"]);
        assert_eq!(c.key_prefix, "{taskq}");
        assert_eq!(c.max_queued, 100_000);
        assert_eq!(c.api_token, None, "unset: open");
    }

    #[test]
    fn bad_values_name_the_variable() {
        let cases = [
            ("TASK_TIMEOUT", "ten"),
            ("TASK_TIMEOUT", "-1"),
            ("RESULT_TTL", "1.5"),
            ("REDIS_URL", "http://localhost"),
            ("REDIS_CLUSTER", "maybe"),
            ("KEY_PREFIX", "taskq"),
            ("KEY_PREFIX", "{}"),
            ("QUEUES", "high,,default"),
            ("QUEUES", "high,high"),
            ("WORKER_CONCURRENCY", "0"),
            ("API_PORT", "70000"),
            ("MAX_ATTEMPTS", "x"),
            ("LOG_FORMAT", "xml"),
            ("REDIS_TIMEOUT", "inf"),
            ("MAX_QUEUED", "-1"),
            ("MAX_QUEUED", "many"),
            ("API_TOKEN", ""),
            ("API_TOKEN", "  "),
        ];
        for (var, value) in cases {
            let err = load(&[(var, value)]).expect_err(var);
            assert_eq!(err.var, var);
            let msg = err.to_string();
            assert!(msg.contains(var) && msg.contains("expected"), "{msg}");
        }
    }

    #[test]
    fn good_values_are_read() {
        let c = load(&[
            ("REDIS_URL", "rediss://u:secret@cache:6380/1"),
            ("QUEUES", "urgent, high ,default"),
            ("REDIS_TIMEOUT", "0.25"),
            ("LOG_FORMAT", "JSON"),
            ("KEY_PREFIX", "app:{jobs}"),
            ("WORKER_HEALTH_FILE", "/tmp/health"),
            ("ECS_AGENT_URI", "http://169.254.170.2/api/task-1"),
            ("MAX_QUEUED", "0"),
            ("API_TOKEN", " s3cret "),
        ])
        .unwrap();
        assert_eq!(c.max_queued, 0);
        assert_eq!(c.api_token.as_deref(), Some("s3cret"));
        assert_eq!(c.worker_health_file.as_deref(), Some("/tmp/health"));
        assert_eq!(c.ecs_agent_uri.as_deref(), Some("http://169.254.170.2/api/task-1"));
        assert_eq!(c.queues, ["urgent", "high", "default"]);
        assert_eq!(c.redis_timeout, Duration::from_millis(250));
        assert_eq!(c.log_format, LogFormat::Json);
        assert_eq!(c.redis_url_redacted(), "rediss://u:***@cache:6380/1");
    }

    #[test]
    fn iam_authentication_needs_user_cache_region_and_tls() {
        let url = ("REDIS_URL", "rediss://taskq-x.serverless.use1.cache.amazonaws.com:6379");
        let c =
            load(&[url, ("REDIS_IAM_USER", "taskq-app"), ("REDIS_IAM_CACHE", "taskq"), ("AWS_REGION", "us-east-1")])
                .unwrap();
        assert_eq!(c.redis_iam_user.as_deref(), Some("taskq-app"));
        assert_eq!(c.redis_iam_cache.as_deref(), Some("taskq"));
        assert_eq!(c.aws_region.as_deref(), Some("us-east-1"));
        let c = load(&[url, ("REDIS_IAM_USER", "u"), ("REDIS_IAM_CACHE", "c"), ("AWS_DEFAULT_REGION", "eu-west-1")])
            .unwrap();
        assert_eq!(c.aws_region.as_deref(), Some("eu-west-1"));
        assert_eq!(load(&[]).unwrap().redis_iam_user, None);

        let cases: [(&[(&str, &str)], &str); 4] = [
            (&[url, ("REDIS_IAM_USER", "u"), ("AWS_REGION", "us-east-1")], "REDIS_IAM_CACHE"),
            (&[url, ("REDIS_IAM_CACHE", "c"), ("AWS_REGION", "us-east-1")], "REDIS_IAM_USER"),
            (&[url, ("REDIS_IAM_USER", "u"), ("REDIS_IAM_CACHE", "c")], "AWS_REGION"),
            (
                &[
                    ("REDIS_URL", "redis://h:6379"),
                    ("REDIS_IAM_USER", "u"),
                    ("REDIS_IAM_CACHE", "c"),
                    ("AWS_REGION", "r"),
                ],
                "REDIS_URL",
            ),
        ];
        for (vars, var) in cases {
            let err = load(vars).expect_err(var);
            assert_eq!(err.var, var, "{err}");
        }
    }

    #[test]
    fn passwords_never_reach_the_message() {
        let err = load(&[("REDIS_URL", "http://u:hunter2@host")]).unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
    }
}
