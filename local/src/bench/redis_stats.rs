//! What Redis says about its own work: `INFO` fields, `INFO commandstats`,
//! its CPU time, and a per-script profile from `SLOWLOG`.
//!
//! Every script runs as `EVALSHA`, so `INFO commandstats` lumps them all
//! together. The slow log at threshold 0 records every top-level command with
//! its execution time and arguments; the SHA-1 among them names the script.
//! Logging every command costs Redis time, so the profile is a pass of its
//! own and the rates are measured without it.

use std::collections::{BTreeMap, HashMap, HashSet};

use anyhow::Context;
use redis::Value;
use serde::Serialize;
use taskq::Connection;
use taskq::scripts;

use super::report::Summary;

/// Commands that only clients send, never scripts: the rest of
/// `INFO commandstats` ran inside scripts (or, rarely, from the heartbeat).
pub const TOP_LEVEL: &[&str] = &[
    "evalsha",
    "evalsha_ro",
    "eval",
    "blpop",
    "subscribe",
    "ping",
    "info",
    "zcard",
    "config|resetstat",
    "script|load",
    "client|info",
];

/// Runs `INFO <section>`.
pub async fn info(conn: &Connection, section: &str) -> anyhow::Result<String> {
    let mut c = conn.clone();
    redis::cmd("INFO").arg(section).query_async(&mut c).await.with_context(|| format!("INFO {section}"))
}

/// The value of `name` in an `INFO` reply.
pub fn field<'a>(info: &'a str, name: &str) -> Option<&'a str> {
    info.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(':')).map(str::trim)
}

/// CPU time Redis has used (user + system, every thread), in seconds.
pub async fn cpu_seconds(conn: &Connection) -> anyhow::Result<f64> {
    let cpu = info(conn, "cpu").await?;
    let get = |n| field(&cpu, n).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    Ok(get("used_cpu_user") + get("used_cpu_sys"))
}

/// One command's line of `INFO commandstats`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CommandStat {
    /// Times it ran.
    pub calls: u64,
    /// Microseconds spent executing it, in all.
    pub usec: u64,
    /// `usec / calls`.
    pub usec_per_call: f64,
}

/// `INFO commandstats` by lower-case command name (`evalsha`, `blpop`, ...).
pub async fn command_stats(conn: &Connection) -> anyhow::Result<BTreeMap<String, CommandStat>> {
    let text = info(conn, "commandstats").await?;
    let mut out = BTreeMap::new();
    for line in text.lines() {
        // cmdstat_evalsha:calls=20003,usec=512345,usec_per_call=25.61,rejected_calls=0,failed_calls=0
        let Some((name, rest)) = line.trim().strip_prefix("cmdstat_").and_then(|l| l.split_once(':')) else {
            continue;
        };
        let mut s = CommandStat::default();
        for kv in rest.split(',') {
            match kv.split_once('=') {
                Some(("calls", v)) => s.calls = v.parse().unwrap_or(0),
                Some(("usec", v)) => s.usec = v.parse().unwrap_or(0),
                Some(("usec_per_call", v)) => s.usec_per_call = v.parse().unwrap_or(0.0),
                _ => {}
            }
        }
        out.insert(name.to_owned(), s);
    }
    Ok(out)
}

/// Whether Redis has run the finish script of this build of taskq. After a
/// drain it has, unless the worker binary was built from other sources: its
/// figures would then be those of other code.
pub async fn has_our_finish_script(conn: &Connection) -> anyhow::Result<bool> {
    let mut c = conn.clone();
    let exists: Vec<bool> =
        redis::cmd("SCRIPT").arg("EXISTS").arg(scripts::FINISH.get_hash()).query_async(&mut c).await?;
    Ok(exists.first().copied().unwrap_or(false))
}

/// Zeroes `INFO commandstats` so that the next read covers one phase.
pub async fn reset_stats(conn: &Connection) -> anyhow::Result<()> {
    let mut c = conn.clone();
    redis::cmd("CONFIG").arg("RESETSTAT").query_async::<()>(&mut c).await.context("CONFIG RESETSTAT")
}

/// The address (`ip:port`) Redis sees for a connection of ours, so that the
/// profile tells the benchmark's own commands from the worker's.
pub async fn client_addr(conn: &Connection) -> anyhow::Result<String> {
    let mut c = conn.clone();
    let info: String = redis::cmd("CLIENT").arg("INFO").query_async(&mut c).await.context("CLIENT INFO")?;
    info.split_whitespace()
        .find_map(|kv| kv.strip_prefix("addr="))
        .map(str::to_owned)
        .context("CLIENT INFO without addr")
}

/// Slow-log settings to restore after profiling.
pub struct SlowlogSettings {
    threshold: String,
    max_len: String,
}

/// Makes the slow log record every command (threshold 0), keeping up to
/// `max_len` entries; returns the settings it replaced.
pub async fn slowlog_everything(conn: &Connection, max_len: usize) -> anyhow::Result<SlowlogSettings> {
    let get = |name: &'static str| {
        let mut c = conn.clone();
        async move {
            let kv: Vec<String> = redis::cmd("CONFIG").arg("GET").arg(name).query_async(&mut c).await?;
            Ok::<_, redis::RedisError>(kv.get(1).cloned().unwrap_or_default())
        }
    };
    let old =
        SlowlogSettings { threshold: get("slowlog-log-slower-than").await?, max_len: get("slowlog-max-len").await? };
    let everything = SlowlogSettings { threshold: "0".into(), max_len: max_len.to_string() };
    slowlog_set(conn, &everything).await.context("configuring SLOWLOG")?;
    Ok(old)
}

/// Puts back the slow-log settings found before profiling.
pub async fn slowlog_restore(conn: &Connection, old: SlowlogSettings) -> anyhow::Result<()> {
    slowlog_set(conn, &old).await.context("restoring SLOWLOG settings")
}

/// Applies `settings` and empties the slow log.
async fn slowlog_set(conn: &Connection, settings: &SlowlogSettings) -> redis::RedisResult<()> {
    let mut c = conn.clone();
    redis::pipe()
        .cmd("CONFIG")
        .arg("SET")
        .arg("slowlog-max-len")
        .arg(&settings.max_len)
        .ignore()
        .cmd("CONFIG")
        .arg("SET")
        .arg("slowlog-log-slower-than")
        .arg(&settings.threshold)
        .ignore()
        .cmd("SLOWLOG")
        .arg("RESET")
        .ignore()
        .query_async(&mut c)
        .await
}

/// Origin of the commands that scripts ran.
pub const IN_SCRIPTS: &str = "script";

/// Execution time of one command or script, from the slow log.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileRow {
    /// `worker`, `client` (the benchmark: enqueue, cancel, polling), or
    /// `script` for commands run inside a script (already counted in its time).
    pub origin: &'static str,
    /// Script name (`finish`, `enqueue`, ...) or lower-case command name.
    pub command: String,
    /// Times it ran.
    pub calls: u64,
    /// Calls per job of the pass.
    pub calls_per_job: f64,
    /// Execution time per call, microseconds.
    pub usec: Summary,
    /// Execution time of all its calls, per job of the pass, microseconds.
    pub usec_per_job: f64,
}

/// Reads the whole slow log and sums it up by origin and command; `jobs`
/// is the number of jobs the pass ran, to express costs per job. Entries
/// from `client_addrs` are the benchmark's own.
///
/// Redis runs one command at a time, so the commands a script ran are the
/// entries just before the script's own: each is attributed to its script
/// (`finish > hset`), and what is left of the script's time once they are
/// taken out is shown as `finish > (lua)`: the interpreter, the bridge from
/// `redis.call` to the command, argument and reply conversion.
pub async fn slowlog_profile(
    conn: &Connection,
    client_addrs: &HashSet<String>,
    jobs: usize,
) -> anyhow::Result<(Vec<ProfileRow>, usize)> {
    let mut c = conn.clone();
    let mut entries: Vec<Value> =
        redis::cmd("SLOWLOG").arg("GET").arg(-1).query_async(&mut c).await.context("SLOWLOG GET")?;
    // Newest first as read; attribution needs them in the order they ran.
    entries.reverse();
    let names: HashMap<String, &'static str> = script_names().into_iter().collect();
    let mut by: BTreeMap<(&'static str, String), Vec<f64>> = BTreeMap::new();
    let mut pending: Vec<(String, f64)> = Vec::new();
    let n = entries.len();
    for e in entries {
        let Value::Array(fields) = e else { continue };
        let (Some(Value::Int(usec)), Some(Value::Array(args))) = (fields.get(2), fields.get(3)) else { continue };
        let usec = *usec as f64;
        let arg = |i: usize| match args.get(i) {
            Some(Value::BulkString(b)) => String::from_utf8_lossy(b).into_owned(),
            Some(Value::SimpleString(s)) => s.clone(),
            _ => String::new(),
        };
        let addr = match fields.get(4) {
            Some(Value::BulkString(b)) => String::from_utf8_lossy(b).into_owned(),
            _ => String::new(),
        };
        let cmd = arg(0).to_ascii_lowercase();
        // Commands run by a script come from a fake client without an address.
        if addr.starts_with('?') || addr.is_empty() {
            pending.push((cmd, usec));
            continue;
        }
        let origin = if client_addrs.contains(&addr) { "client" } else { "worker" };
        let command = match cmd.as_str() {
            "evalsha" | "evalsha_ro" | "eval" => {
                let sha = if cmd == "eval" { String::new() } else { arg(1).to_ascii_lowercase() };
                let script = names.get(&sha).map(|s| s.to_string()).unwrap_or_else(|| format!("{cmd} {sha}"));
                let inner: f64 = pending.iter().map(|(_, us)| us).sum();
                for (inner_cmd, us) in pending.drain(..) {
                    by.entry((IN_SCRIPTS, format!("{script} > {inner_cmd}"))).or_default().push(us);
                }
                by.entry((IN_SCRIPTS, format!("{script} > (lua)"))).or_default().push((usec - inner).max(0.0));
                script
            }
            _ => cmd,
        };
        pending.clear();
        by.entry((origin, command)).or_default().push(usec);
    }
    let jobs = jobs.max(1) as f64;
    let mut rows: Vec<ProfileRow> = by
        .into_iter()
        .map(|((origin, command), us)| {
            let total: f64 = us.iter().sum();
            ProfileRow {
                origin,
                command,
                calls: us.len() as u64,
                calls_per_job: us.len() as f64 / jobs,
                usec_per_job: total / jobs,
                usec: Summary::of(us),
            }
        })
        .collect();
    // Top-level commands first (their times add up), most expensive first;
    // then what ran inside each script, grouped by script.
    let script_of = |r: &ProfileRow| r.command.split(" > ").next().unwrap_or_default().to_owned();
    let script_cost: HashMap<String, f64> =
        rows.iter().filter(|r| r.origin != IN_SCRIPTS).map(|r| (r.command.clone(), r.usec_per_job)).collect();
    rows.sort_by(|a, b| match (a.origin == IN_SCRIPTS, b.origin == IN_SCRIPTS) {
        (false, false) => b.usec_per_job.total_cmp(&a.usec_per_job),
        (false, true) => std::cmp::Ordering::Less,
        (true, false) => std::cmp::Ordering::Greater,
        (true, true) => {
            let cost = |r: &ProfileRow| script_cost.get(&script_of(r)).copied().unwrap_or(0.0);
            cost(b)
                .total_cmp(&cost(a))
                .then(script_of(a).cmp(&script_of(b)))
                .then(b.usec_per_job.total_cmp(&a.usec_per_job))
        }
    });
    Ok((rows, n))
}

/// Every taskq script by its SHA-1.
fn script_names() -> Vec<(String, &'static str)> {
    [
        ("enqueue", &scripts::ENQUEUE),
        ("fetch", &scripts::FETCH),
        ("finish", &scripts::FINISH),
        ("progress", &scripts::PROGRESS),
        ("cancel", &scripts::CANCEL),
        ("purge", &scripts::PURGE),
        ("requeue", &scripts::REQUEUE),
        ("release", &scripts::RELEASE),
        ("heartbeat", &scripts::HEARTBEAT),
        ("recover", &scripts::RECOVER),
        ("list_queued", &scripts::LIST_QUEUED),
        ("promote", &scripts::PROMOTE),
        ("reschedule", &scripts::RESCHEDULE),
        ("tick", &scripts::TICK),
    ]
    .into_iter()
    .map(|(name, s)| (s.get_hash().to_ascii_lowercase(), name))
    .collect()
}
