//! Log set-up shared by every binary: JSON lines (LOG_FORMAT=json) for log
//! collectors, or text, on stderr.
//!
//! RUST_LOG is read as per-target levels (`info`, `warn,taskq=debug`); a
//! value it cannot read falls back to `info`. `EnvFilter`'s span and field
//! matching is left out: it needs a regex engine, a large share of every
//! Lambda function's binary, for something job and request logs do not need.

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::LogFormat;

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
    use tracing_subscriber::filter::Targets;

    #[test]
    fn rust_log_values_are_read_as_targets() {
        let t: Targets = "warn,functions=debug".parse().unwrap();
        assert!(t.would_enable("functions::invoke", &tracing::Level::DEBUG));
        assert!(!t.would_enable("redis", &tracing::Level::INFO));
        assert!("info".parse::<Targets>().is_ok());
    }
}
