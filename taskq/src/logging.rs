//! Log set-up shared by every binary: JSON lines (LOG_FORMAT=json) for log
//! collectors, or text, on stderr. Text is coloured only when stderr is a
//! terminal: `docker logs`, SAM's log and files get plain lines.
//!
//! RUST_LOG is read as per-target levels (`info`, `warn,taskq=debug`); a
//! value it cannot read falls back to `info`. `EnvFilter`'s span and field
//! matching is left out: it needs a regex engine, a large share of every
//! Lambda function's binary, for something job and request logs do not need.

use std::io::IsTerminal;

use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::LogFormat;

/// Installs the global subscriber; later calls do nothing.
pub fn init(format: LogFormat) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
    let terminal = std::io::stderr().is_terminal();
    let _ = tracing_subscriber::registry().with(filter).with(layer(format, std::io::stderr, terminal)).try_init();
}

/// The formatting layer: `terminal` says whether `writer` is a terminal,
/// the only place text gets ANSI colours.
fn layer<S, W>(format: LogFormat, writer: W, terminal: bool) -> Box<dyn Layer<S> + Send + Sync>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let layer = tracing_subscriber::fmt::layer().with_writer(writer);
    match format {
        LogFormat::Json => layer.json().flatten_event(true).with_current_span(false).boxed(),
        LogFormat::Text => layer.with_ansi(terminal).boxed(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::layer::SubscriberExt;

    use super::layer;
    use crate::config::LogFormat;

    /// Collects what a layer writes.
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn text_log(terminal: bool) -> String {
        let buf = Buf::default();
        let out = buf.clone();
        let subscriber = tracing_subscriber::registry().with(layer(LogFormat::Text, move || out.clone(), terminal));
        tracing::subscriber::with_default(subscriber, || tracing::warn!(job = "j1", "job failed"));
        String::from_utf8(buf.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn text_is_coloured_only_on_a_terminal() {
        let plain = text_log(false);
        assert!(plain.contains("WARN") && plain.contains("job failed") && plain.contains("job=\"j1\""), "{plain:?}");
        assert!(!plain.contains('\x1b'), "escape codes off a terminal: {plain:?}");
        assert!(text_log(true).contains('\x1b'));
    }

    #[test]
    fn rust_log_values_are_read_as_targets() {
        let t: Targets = "warn,functions=debug".parse().unwrap();
        assert!(t.would_enable("functions::invoke", &tracing::Level::DEBUG));
        assert!(!t.would_enable("redis", &tracing::Level::INFO));
        assert!("info".parse::<Targets>().is_ok());
    }
}
