//! The one table of configuration variables: each one's name, default,
//! meaning and accepted values. Loading ([`super::Config::from_lookup`])
//! takes defaults, bounds and error texts from it, `--help` of the worker
//! and of `local` print it ([`help_text`]), and a test checks README's
//! configuration table against it.

/// The form a variable's value must have, checked by loading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Any text, or a form loading checks by a rule of its own (URLs,
    /// queue lists, choices), named in [`Variable::accepts`].
    Text,
    /// Seconds greater than 0, fractions allowed (`30`, `0.5`).
    Seconds,
    /// Whole seconds greater than 0: Redis TTLs cannot hold fractions.
    WholeSeconds,
    /// A whole number within these bounds, both included.
    Number {
        /// Smallest value accepted.
        min: u64,
        /// Largest value accepted.
        max: u64,
    },
}

/// One variable taskq reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variable {
    /// The environment variable's name.
    pub name: &'static str,
    /// The value used when it is unset or empty; "" means none (the
    /// setting is off or absent).
    pub default: &'static str,
    /// What it sets, in a few words, for `--help`.
    pub meaning: &'static str,
    /// What a bad value is told to be, in the error message; "" for
    /// variables taskq does not parse (read as set or unset, or by a library).
    pub accepts: &'static str,
    /// How loading checks a value.
    pub kind: Kind,
}

/// What [`Kind::Seconds`] and [`Kind::WholeSeconds`] values must be.
pub const SECONDS: &str = "a number of seconds greater than 0, such as 30 or 0.5";
/// What a fraction given to a [`Kind::WholeSeconds`] variable is told.
pub const WHOLE_SECONDS: &str = "a whole number of seconds greater than 0";

const fn var(name: &'static str, default: &'static str, meaning: &'static str, accepts: &'static str) -> Variable {
    Variable { name, default, meaning, accepts, kind: Kind::Text }
}

const fn secs(name: &'static str, default: &'static str, meaning: &'static str) -> Variable {
    Variable { name, default, meaning, accepts: SECONDS, kind: Kind::Seconds }
}

const fn ttl(name: &'static str, default: &'static str, meaning: &'static str) -> Variable {
    Variable { name, default, meaning, accepts: SECONDS, kind: Kind::WholeSeconds }
}

const fn number(
    name: &'static str,
    default: &'static str,
    meaning: &'static str,
    (min, max): (u64, u64),
    accepts: &'static str,
) -> Variable {
    Variable { name, default, meaning, accepts, kind: Kind::Number { min, max } }
}

/// Every variable read, in the order `--help` lists them.
pub const VARIABLES: &[Variable] = &[
    var(
        "REDIS_URL",
        "redis://127.0.0.1:6379/0",
        "redis:// or rediss:// URL, with user:password@ if needed",
        "a redis:// or rediss:// URL such as redis://user:password@host:6379/0",
    ),
    var("REDIS_CLUSTER", "auto", "auto, yes or no", "auto, yes or no"),
    var("REDIS_TLS_CA_FILE", "", "PEM file of a private CA for rediss:// (default: the public roots)", ""),
    secs("REDIS_TIMEOUT", "2", "seconds any Redis call may take"),
    var(
        "REDIS_IAM_USER",
        "",
        "ElastiCache user id for IAM authentication (token as password)",
        "the ElastiCache user id to authenticate as, set with REDIS_IAM_CACHE",
    ),
    var(
        "REDIS_IAM_CACHE",
        "",
        "ElastiCache cache name the IAM token is for",
        "the ElastiCache cache name, set with REDIS_IAM_USER",
    ),
    var(
        "AWS_REGION",
        "",
        "AWS region of the cache, for IAM authentication",
        "the cache's AWS region, such as us-east-1, with REDIS_IAM_USER",
    ),
    ttl("RESULT_TTL", "3600", "seconds finished and canceled jobs are kept"),
    ttl("FAILURE_TTL", "86400", "seconds failed jobs are kept"),
    secs("TASK_TIMEOUT", "600", "default seconds a job may run"),
    ttl("IDEMP_MARGIN", "300", "seconds added to a job's duration, recorded with the job"),
    var("API_HOST", "0.0.0.0", "address of the local API server", ""),
    number("API_PORT", "8000", "port of the local API server", (1, 65535), "a TCP port from 1 to 65535"),
    var(
        "KEY_PREFIX",
        "{taskq}",
        "prefix of every Redis key, with a {hash tag}",
        "a prefix containing a non-empty {hash tag}, such as {taskq} or {myapp}",
    ),
    var(
        "QUEUES",
        "high,default",
        "queue names in priority order",
        "comma-separated distinct queue names (letters, digits, _ and -) in priority order",
    ),
    number("WORKER_CONCURRENCY", "8", "jobs one worker runs at once", (1, 1024), "a whole number from 1 to 1024"),
    secs("SHUTDOWN_GRACE", "30", "seconds a stopping worker lets jobs finish"),
    secs("WORKER_HEARTBEAT", "5", "seconds between worker heartbeats (dead after 3 missed)"),
    var("WORKER_HEALTH_FILE", "", "file the worker rewrites on every heartbeat, for container health checks", ""),
    var("ECS_AGENT_URI", "", "set by ECS: the worker asks its agent for scale-in protection while running jobs", ""),
    var("TASKQ_EMF", "", "when set (to anything), the worker logs queue depth as CloudWatch EMF lines off ECS too", ""),
    number(
        "MAX_ATTEMPTS",
        "3",
        "runs before a crash-recovered job fails as abandoned",
        (1, 1000),
        "a whole number from 1 to 1000",
    ),
    number(
        "RETRY_MAX",
        "0",
        "retries after a failed attempt, for tasks without a policy of their own (0: never retried)",
        (0, 100),
        "a whole number of retries from 0 to 100",
    ),
    Variable {
        name: "RETRY_BACKOFF",
        default: "1",
        meaning: "seconds of the first retry's wait, doubled for each next one (with jitter)",
        accepts: "a number of seconds greater than 0 and at most 86400",
        kind: Kind::Seconds,
    },
    Variable {
        name: "RETRY_BACKOFF_MAX",
        default: "300",
        meaning: "longest wait between retries, seconds",
        accepts: "a number of seconds from RETRY_BACKOFF to 604800",
        kind: Kind::Seconds,
    },
    number(
        "MAX_BODY",
        "1048576",
        "largest request body in bytes",
        (64, 64 * 1024 * 1024),
        "a number of bytes from 64 to 67108864",
    ),
    number(
        "MAX_QUEUED",
        "100000",
        "most jobs one queue may hold waiting (0: no bound); enqueues beyond it get 429",
        (0, 1 << 40),
        "a whole number of jobs, 0 for no bound",
    ),
    var(
        "API_TOKEN",
        "",
        "bearer token required by every route but /health; unset: open; set but empty: an error",
        "a non-empty bearer token; unset the variable to run the API without one",
    ),
    var("LOG_FORMAT", "text", "json or text", "json or text"),
    var("RUST_LOG", "info", "log levels, overall and per target, e.g. warn,taskq=debug", ""),
];

/// The variable called `name`; a name missing from [`VARIABLES`] is a bug
/// (in a `const` block, one the compiler reports).
pub const fn variable(name: &str) -> &'static Variable {
    let mut i = 0;
    while i < VARIABLES.len() {
        if same(VARIABLES[i].name, name) {
            return &VARIABLES[i];
        }
        i += 1;
    }
    panic!("a variable is not in config::VARIABLES")
}

/// `a == b`, in a `const fn`.
const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// What loading needs of a variable: its row without `meaning`, which only
/// `--help` reads. Made at compile time ([`Spec::of`] in a `const` block),
/// so that a program that only loads settings (a Lambda function) links
/// these few fields of the variables it reads, not the whole table.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// The variable's name.
    pub name: &'static str,
    /// Its default.
    pub default: &'static str,
    /// What a bad value is told to be.
    pub accepts: &'static str,
    /// How its value is checked.
    pub kind: Kind,
}

impl Spec {
    /// The row of `name`.
    pub const fn of(name: &str) -> Spec {
        let v = variable(name);
        Spec { name: v.name, default: v.default, accepts: v.accepts, kind: v.kind }
    }
}

/// The table as `--help` prints it: one line per variable, default in brackets.
pub fn help_text() -> String {
    let mut s = String::from("Environment variables (defaults in brackets):\n");
    for v in VARIABLES {
        s.push_str(&format!("  {:<20} {} [{}]\n", v.name, v.meaning, v.default));
    }
    s
}
