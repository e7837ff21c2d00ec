//! Queue depth as a CloudWatch metric, in Embedded Metric Format: on ECS the
//! worker's log lines go to CloudWatch Logs, which turns these lines into
//! the metric `taskq/QueueDepth` (dimension `Queue`) that scales the service
//! (see template.yaml). One line per queue, and the total under `(all)`.
//! The heartbeat calls [`DepthPublisher::beat`] on every beat.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use taskq::job::now_ms;
use taskq::{Config, Connection};

/// How often the depth is published.
pub const INTERVAL: Duration = Duration::from_secs(60);

/// Whether to publish: on ECS (its agent sets ECS_CONTAINER_METADATA_URI_V4),
/// or when TASKQ_EMF is set (listed in `taskq::config::VARIABLES`).
pub fn enabled() -> bool {
    std::env::var_os("ECS_CONTAINER_METADATA_URI_V4").is_some() || std::env::var_os("TASKQ_EMF").is_some()
}

/// Publishes queue depth every [`INTERVAL`], when [`enabled`].
#[derive(Default)]
pub struct DepthPublisher {
    /// When depth was last published, if it was: beats come more often.
    last: Option<Instant>,
}

impl DepthPublisher {
    /// Publishes the depth of `cfg`'s queues if it is due.
    pub async fn beat(&mut self, conn: &Connection, cfg: &Arc<Config>) {
        if !enabled() || self.last.is_some_and(|t| t.elapsed() < INTERVAL) {
            return;
        }
        self.last = Some(Instant::now());
        match taskq::Queue::new(conn.clone(), cfg.clone()).counts().await {
            // Straight to stdout: CloudWatch Logs reads EMF from the raw line.
            Ok(counts) => {
                let depths: Vec<(String, u64)> = counts.into_iter().map(|c| (c.name, c.count)).collect();
                emf_lines(&depths, now_ms()).iter().for_each(|l| println!("{l}"));
            }
            Err(e) => tracing::warn!(error = %e, "reading queue depth failed"),
        }
    }
}

/// The EMF lines for `depths` (queue, jobs waiting) at `timestamp_ms`.
pub fn emf_lines(depths: &[(String, u64)], timestamp_ms: i64) -> Vec<String> {
    let total: u64 = depths.iter().map(|(_, n)| n).sum();
    depths
        .iter()
        .map(|(q, n)| (q.as_str(), *n))
        .chain([("(all)", total)])
        .map(|(queue, depth)| {
            json!({
                "_aws": {
                    "Timestamp": timestamp_ms,
                    "CloudWatchMetrics": [{
                        "Namespace": "taskq",
                        "Dimensions": [["Queue"]],
                        "Metrics": [{"Name": "QueueDepth", "Unit": "Count"}],
                    }],
                },
                "Queue": queue,
                "QueueDepth": depth,
            })
            .to_string()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_queue_and_the_total() {
        let lines = emf_lines(&[("high".into(), 2), ("default".into(), 5)], 1_700_000_000_000);
        let docs: Vec<serde_json::Value> = lines.iter().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(docs.len(), 3);
        assert_eq!((docs[2]["Queue"].as_str(), docs[2]["QueueDepth"].as_u64()), (Some("(all)"), Some(7)));
        let m = &docs[0]["_aws"]["CloudWatchMetrics"][0];
        assert_eq!((m["Namespace"].as_str(), m["Metrics"][0]["Name"].as_str()), (Some("taskq"), Some("QueueDepth")));
        assert_eq!(docs[0]["_aws"]["Timestamp"], 1_700_000_000_000i64);
    }
}
