//! ECS task scale-in protection while jobs run.
//!
//! When its service scales in, ECS stops tasks of its choosing. A worker
//! stopped with jobs running lets them finish within SHUTDOWN_GRACE and sends
//! the rest back to their queue, to start over on another worker. A task can
//! ask not to be chosen, through the ECS agent at ECS_AGENT_URI (which ECS
//! sets): the worker asks while it runs jobs, renews the request before it
//! expires, and withdraws it once idle, so that scale-in stops idle workers.
//! (Deployments also wait for protected tasks, at most until the protection
//! expires.) The task role needs `ecs:UpdateTaskProtection` (template.yaml).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::state::Shared;

/// How long one request protects the task; renewed when half of it is left.
pub const EXPIRES: Duration = Duration::from_secs(10 * 60);
/// How often the worker compares what it asked for with what it runs.
const CHECK: Duration = Duration::from_secs(1);
/// After a failed request, how long before the next try.
const RETRY: Duration = Duration::from_secs(30);

/// Keeps the task protected while `shared` runs jobs, until `done`.
pub async fn run(agent_uri: String, shared: Arc<Shared>, done: CancellationToken) {
    let url = format!("{}/task-protection/v1/state", agent_uri.trim_end_matches('/'));
    let client = match reqwest::Client::builder().timeout(Duration::from_secs(5)).build() {
        Ok(c) => c,
        Err(e) => return tracing::warn!(error = %e, "no HTTP client: scale-in protection is off"),
    };
    // Until when the task is protected, as far as this worker asked.
    let mut until: Option<Instant> = None;
    let mut next_try = Instant::now();
    let mut tick = tokio::time::interval(CHECK);
    loop {
        tokio::select! { _ = tick.tick() => {}, _ = done.cancelled() => return }
        let now = Instant::now();
        let busy = !shared.running.is_empty();
        let due = match until {
            None => busy,
            Some(t) => !busy || t.saturating_duration_since(now) < EXPIRES / 2,
        };
        if !due || now < next_try {
            continue;
        }
        match set(&client, &url, busy).await {
            Ok(()) => {
                tracing::debug!(protected = busy, "scale-in protection set");
                until = busy.then(|| now + EXPIRES);
            }
            Err(e) => {
                tracing::warn!(error = %e, protected = busy, "scale-in protection request failed");
                next_try = now + RETRY;
            }
        }
    }
}

/// `PUT {agent}/task-protection/v1/state`; the agent answers 200 with
/// `protection`, or with `failure` or `error` when ECS refused.
async fn set(client: &reqwest::Client, url: &str, on: bool) -> Result<(), String> {
    let body = if on {
        serde_json::json!({ "ProtectionEnabled": true, "ExpiresInMinutes": EXPIRES.as_secs() / 60 })
    } else {
        serde_json::json!({ "ProtectionEnabled": false })
    };
    let answer = client.put(url).json(&body).send().await.map_err(|e| e.to_string())?;
    let status = answer.status();
    let text = answer.text().await.map_err(|e| e.to_string())?;
    let parsed: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    if status.is_success() && parsed.get("protection").is_some() {
        Ok(())
    } else {
        Err(format!("{status}: {}", text.chars().take(300).collect::<String>()))
    }
}
