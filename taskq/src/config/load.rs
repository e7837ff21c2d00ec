//! Loading a [`Config`] from variables: each value is checked against its
//! row of [`VARIABLES`] (default, kind, bounds, error text), then the rules
//! that span variables (IAM authentication needs TLS) are applied.

use std::time::Duration;

use super::variables::{Kind, Spec, WHOLE_SECONDS};

/// A variable's [`Spec`], made at compile time.
macro_rules! spec {
    ($name:literal) => {
        const { Spec::of($name) }
    };
}
use super::{ClusterMode, Config, ConfigError, LogFormat, redact_url};

impl Config {
    /// Reads settings through `get`, which returns a variable's value if set.
    /// Empty values count as unset, but for API_TOKEN: an empty token is an
    /// error, never an open API.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let api_token = match get("API_TOKEN").map(|v| v.trim().to_owned()) {
            None => None,
            Some(v) if v.is_empty() => return Err(bad(spec!("API_TOKEN"), String::new())),
            Some(v) => Some(v),
        };
        let env = Values(get);

        let redis_url = env.text(spec!("REDIS_URL"));
        if !(redis_url.starts_with("redis://") || redis_url.starts_with("rediss://"))
            || redis::IntoConnectionInfo::into_connection_info(redis_url.as_str()).is_err()
        {
            return Err(bad(spec!("REDIS_URL"), redact_url(&redis_url)));
        }
        let redis_cluster = match env.text(spec!("REDIS_CLUSTER")).to_ascii_lowercase().as_str() {
            "auto" => ClusterMode::Auto,
            "yes" | "true" | "1" => ClusterMode::Yes,
            "no" | "false" | "0" => ClusterMode::No,
            other => return Err(bad(spec!("REDIS_CLUSTER"), other.into())),
        };
        let key_prefix = env.text(spec!("KEY_PREFIX"));
        if !has_hash_tag(&key_prefix) {
            return Err(bad(spec!("KEY_PREFIX"), key_prefix));
        }
        let queues = parse_queues(&env.text(spec!("QUEUES")))?;
        let (redis_iam_user, redis_iam_cache, aws_region) = iam_settings(&env, &redis_url)?;
        let log_format = match env.text(spec!("LOG_FORMAT")).to_ascii_lowercase().as_str() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => return Err(bad(spec!("LOG_FORMAT"), other.into())),
        };

        let (retry_backoff, retry_backoff_max) = retry_backoffs(&env)?;

        Ok(Self {
            redis_url,
            redis_cluster,
            redis_tls_ca_file: env.set("REDIS_TLS_CA_FILE"),
            redis_iam_user,
            redis_iam_cache,
            aws_region,
            redis_timeout: env.seconds(spec!("REDIS_TIMEOUT"))?,
            result_ttl: env.seconds(spec!("RESULT_TTL"))?,
            failure_ttl: env.seconds(spec!("FAILURE_TTL"))?,
            task_timeout: env.seconds(spec!("TASK_TIMEOUT"))?,
            idemp_margin: env.seconds(spec!("IDEMP_MARGIN"))?,
            api_host: env.text(spec!("API_HOST")),
            api_port: env.number(spec!("API_PORT"))? as u16,
            key_prefix,
            queues,
            worker_concurrency: env.number(spec!("WORKER_CONCURRENCY"))? as usize,
            shutdown_grace: env.seconds(spec!("SHUTDOWN_GRACE"))?,
            worker_heartbeat: env.seconds(spec!("WORKER_HEARTBEAT"))?,
            worker_health_file: env.set("WORKER_HEALTH_FILE"),
            ecs_agent_uri: env.set("ECS_AGENT_URI"),
            max_attempts: env.number(spec!("MAX_ATTEMPTS"))? as u32,
            retry_max: env.number(spec!("RETRY_MAX"))? as u32,
            retry_backoff,
            retry_backoff_max,
            max_body: env.number(spec!("MAX_BODY"))? as usize,
            max_queued: env.number(spec!("MAX_QUEUED"))?,
            api_token,
            log_format,
        })
    }
}

/// The error for a bad `value` of a variable, with its table's text.
fn bad(v: Spec, value: String) -> ConfigError {
    ConfigError { var: v.name, value, accepts: v.accepts }
}

/// The variables as a lookup returns them: trimmed, empty as unset.
struct Values<G>(G);

impl<G: Fn(&str) -> Option<String>> Values<G> {
    /// The value set for `name`, if any.
    fn set(&self, name: &str) -> Option<String> {
        (self.0)(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    /// The value set for `v`, else its default.
    fn text(&self, v: Spec) -> String {
        self.set(v.name).unwrap_or_else(|| v.default.to_owned())
    }

    /// A [`Kind::Seconds`] or [`Kind::WholeSeconds`] variable.
    fn seconds(&self, v: Spec) -> Result<Duration, ConfigError> {
        let value = self.text(v);
        let d = parse_seconds(&value).ok_or_else(|| bad(v, value))?;
        if v.kind == Kind::WholeSeconds && d.subsec_nanos() != 0 {
            let value = format!("{}", d.as_secs_f64());
            return Err(ConfigError { var: v.name, value, accepts: WHOLE_SECONDS });
        }
        Ok(d)
    }

    /// A [`Kind::Number`] variable, within its bounds.
    fn number(&self, v: Spec) -> Result<u64, ConfigError> {
        let Kind::Number { min, max } = v.kind else { panic!("{} is not a number in VARIABLES", v.name) };
        let value = self.text(v);
        match value.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(bad(v, value)),
        }
    }
}

/// QUEUES: distinct names of letters, digits, `_` and `-`, at most 64 bytes each.
fn parse_queues(v: &str) -> Result<Vec<String>, ConfigError> {
    let names: Vec<String> = v.split(',').map(|q| q.trim().to_owned()).collect();
    let valid = |q: &String| {
        !q.is_empty() && q.len() <= 64 && q.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    let unique = names.iter().enumerate().all(|(i, q)| !names[..i].contains(q));
    if !names.iter().all(valid) || !unique {
        return Err(bad(spec!("QUEUES"), v.to_owned()));
    }
    Ok(names)
}

/// REDIS_IAM_USER, REDIS_IAM_CACHE and the AWS region.
type IamSettings = (Option<String>, Option<String>, Option<String>);

/// REDIS_IAM_USER, REDIS_IAM_CACHE and the region (AWS_REGION, else
/// AWS_DEFAULT_REGION): all or none, and only over TLS.
fn iam_settings<G: Fn(&str) -> Option<String>>(env: &Values<G>, redis_url: &str) -> Result<IamSettings, ConfigError> {
    let (user, cache) = (env.set("REDIS_IAM_USER"), env.set("REDIS_IAM_CACHE"));
    let region = env.set("AWS_REGION").or_else(|| env.set("AWS_DEFAULT_REGION"));
    if user.is_none() && cache.is_none() {
        return Ok((None, None, region));
    }
    for (v, value) in
        [(spec!("REDIS_IAM_USER"), &user), (spec!("REDIS_IAM_CACHE"), &cache), (spec!("AWS_REGION"), &region)]
    {
        if value.is_none() {
            return Err(bad(v, String::new()));
        }
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

/// Longest RETRY_BACKOFF: one day.
const MAX_RETRY_BACKOFF: Duration = Duration::from_secs(86_400);
/// Longest RETRY_BACKOFF_MAX: one week.
const MAX_RETRY_BACKOFF_MAX: Duration = Duration::from_secs(604_800);

/// RETRY_BACKOFF (at most a day) and RETRY_BACKOFF_MAX (from RETRY_BACKOFF
/// to a week).
fn retry_backoffs<G: Fn(&str) -> Option<String>>(env: &Values<G>) -> Result<(Duration, Duration), ConfigError> {
    let (b, bmax) = (spec!("RETRY_BACKOFF"), spec!("RETRY_BACKOFF_MAX"));
    let backoff = env.seconds(b)?;
    if backoff > MAX_RETRY_BACKOFF {
        return Err(bad(b, env.text(b)));
    }
    let backoff_max = env.seconds(bmax)?;
    if backoff_max < backoff || backoff_max > MAX_RETRY_BACKOFF_MAX {
        return Err(bad(bmax, env.text(bmax)));
    }
    Ok((backoff, backoff_max))
}

/// Parses "30", "0.5": a finite number of seconds greater than zero.
fn parse_seconds(v: &str) -> Option<Duration> {
    let n: f64 = v.parse().ok()?;
    (n.is_finite() && n > 0.0 && n < 1e9).then(|| Duration::from_secs_f64(n))
}

fn has_hash_tag(prefix: &str) -> bool {
    match (prefix.find('{'), prefix.find('}')) {
        (Some(open), Some(close)) => close > open + 1,
        _ => false,
    }
}
