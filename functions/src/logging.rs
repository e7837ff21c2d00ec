//! Log set-up for the functions: the same lines as `taskq::logging` (JSON
//! with LOG_FORMAT=json, else text, on stderr for CloudWatch), with a
//! lighter filter.
//!
//! RUST_LOG is read as per-target levels (`info`, `warn,functions=debug`):
//! `EnvFilter`'s span and field matching needs a regex engine, which would
//! add a large share of every function's binary for a feature Lambda logs
//! do not need. A value this filter cannot read falls back to `info`.

use taskq::config::LogFormat;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the global subscriber; later calls do nothing.
pub fn init(format: LogFormat) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
    let registry = tracing_subscriber::registry().with(filter);
    let layer = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => registry.with(layer.json().flatten_event(true).with_current_span(false)).try_init(),
        LogFormat::Text => registry.with(layer).try_init(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_log_values_are_read_as_targets() {
        let t: Targets = "warn,functions=debug".parse().unwrap();
        assert!(t.would_enable("functions::invoke", &tracing::Level::DEBUG));
        assert!(!t.would_enable("redis", &tracing::Level::INFO));
        assert!("info".parse::<Targets>().is_ok());
    }
}
