//! Tests of loading: defaults, bad values named, good values read, IAM rules.

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
        ("RETRY_MAX", "101"),
        ("RETRY_MAX", "-1"),
        ("RETRY_BACKOFF", "0"),
        ("RETRY_BACKOFF", "86401"),
        ("RETRY_BACKOFF_MAX", "604801"),
        ("RETRY_BACKOFF_MAX", "0.5"),
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
    let c = load(&[url, ("REDIS_IAM_USER", "taskq-app"), ("REDIS_IAM_CACHE", "taskq"), ("AWS_REGION", "us-east-1")])
        .unwrap();
    assert_eq!(c.redis_iam_user.as_deref(), Some("taskq-app"));
    assert_eq!(c.redis_iam_cache.as_deref(), Some("taskq"));
    assert_eq!(c.aws_region.as_deref(), Some("us-east-1"));
    let c =
        load(&[url, ("REDIS_IAM_USER", "u"), ("REDIS_IAM_CACHE", "c"), ("AWS_DEFAULT_REGION", "eu-west-1")]).unwrap();
    assert_eq!(c.aws_region.as_deref(), Some("eu-west-1"));
    assert_eq!(load(&[]).unwrap().redis_iam_user, None);

    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[url, ("REDIS_IAM_USER", "u"), ("AWS_REGION", "us-east-1")], "REDIS_IAM_CACHE"),
        (&[url, ("REDIS_IAM_CACHE", "c"), ("AWS_REGION", "us-east-1")], "REDIS_IAM_USER"),
        (&[url, ("REDIS_IAM_USER", "u"), ("REDIS_IAM_CACHE", "c")], "AWS_REGION"),
        (
            &[("REDIS_URL", "redis://h:6379"), ("REDIS_IAM_USER", "u"), ("REDIS_IAM_CACHE", "c"), ("AWS_REGION", "r")],
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

#[test]
fn every_checked_variable_refuses_values_outside_its_kind() {
    for v in VARIABLES {
        let bad = match v.kind {
            Kind::Text => continue,
            Kind::Seconds | Kind::WholeSeconds => "0".to_owned(),
            Kind::Number { max, .. } => (max + 1).to_string(),
        };
        let err = load(&[(v.name, &bad)]).expect_err(v.name);
        assert_eq!((err.var, err.accepts), (v.name, v.accepts));
    }
}

#[test]
fn defaults_are_the_table_s() {
    let c = Config::default();
    assert_eq!(c.redis_url, variable("REDIS_URL").default);
    assert_eq!(c.api_host, variable("API_HOST").default);
    assert_eq!(c.max_body.to_string(), variable("MAX_BODY").default);
    assert_eq!(c.shutdown_grace.as_secs().to_string(), variable("SHUTDOWN_GRACE").default);
    assert_eq!(c.queues.join(","), variable("QUEUES").default);
}

#[test]
fn retry_policy_defaults_and_bounds() {
    let c = load(&[]).unwrap();
    assert_eq!(
        (c.retry_max, c.retry_backoff, c.retry_backoff_max),
        (0, Duration::from_secs(1), Duration::from_secs(300))
    );
    assert_eq!(c.default_retry(), None, "RETRY_MAX=0: never retried");
    assert_eq!(c.retry_defaults(), crate::RetryPolicy { max: 0, backoff: 1.0, backoff_max: 300.0 });
    let c = load(&[("RETRY_MAX", "5"), ("RETRY_BACKOFF", "0.5"), ("RETRY_BACKOFF_MAX", "0.5")]).unwrap();
    assert_eq!(c.default_retry(), Some(crate::RetryPolicy { max: 5, backoff: 0.5, backoff_max: 0.5 }));
    let c = load(&[("RETRY_MAX", "100"), ("RETRY_BACKOFF", "86400"), ("RETRY_BACKOFF_MAX", "604800")]).unwrap();
    assert_eq!(c.default_retry().map(|p| (p.max, p.backoff, p.backoff_max)), Some((100, 86400.0, 604800.0)));
    // A longest wait below the first names the longest wait.
    let err = load(&[("RETRY_BACKOFF", "10"), ("RETRY_BACKOFF_MAX", "5")]).unwrap_err();
    assert_eq!((err.var, err.value.as_str()), ("RETRY_BACKOFF_MAX", "5"));
    assert!(err.to_string().contains("from RETRY_BACKOFF"), "{err}");
}
