//! Stopping on SIGTERM or SIGINT, for the worker and the local server alike:
//! the first signal asks for a graceful stop, a second one exits at once
//! (when the graceful stop takes longer than the operator will wait).

use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

/// Exit status after a second signal: 128 + SIGINT, as shells report Ctrl-C.
const EXIT_AT_ONCE: i32 = 130;

/// Fires `stop` on the first SIGTERM or SIGINT, after `announce` (which says
/// so in the caller's own way); a second signal exits the process at once.
pub async fn stop_on_signal(stop: CancellationToken, announce: impl FnOnce()) {
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    tokio::select! { _ = term.recv() => {}, _ = int.recv() => {} }
    announce();
    stop.cancel();
    tokio::select! { _ = term.recv() => {}, _ = int.recv() => {} }
    tracing::warn!("second signal: exiting now");
    std::process::exit(EXIT_AT_ONCE);
}
