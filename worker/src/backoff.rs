//! Waiting between retries of a Redis call that failed: each wait doubles,
//! up to a cap, and starts over once a call succeeds. Every retry loop of the
//! worker uses one, so their bounds are named here once.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// Doubling delays between `start` and `cap`.
#[derive(Debug, Clone)]
pub struct Backoff {
    /// The first delay, and the one after a reset.
    start: Duration,
    /// No delay grows beyond this one.
    cap: Duration,
    /// What the next wait lasts.
    delay: Duration,
}

impl Backoff {
    /// Retries of commands on the shared connection (claim, end, release):
    /// short, as a slot is idle meanwhile.
    pub const COMMAND: Backoff = Backoff::new(Duration::from_millis(50), Duration::from_secs(2));
    /// Reconnections of the cancel subscriber: the heartbeat's flag check
    /// covers the gap, so it can wait longer.
    pub const SUBSCRIPTION: Backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));

    /// Delays from `start`, doubling up to `cap`.
    pub const fn new(start: Duration, cap: Duration) -> Backoff {
        Backoff { start, cap, delay: start }
    }

    /// The delay to wait now; the next one is twice as long, up to the cap.
    pub fn next_delay(&mut self) -> Duration {
        let now = self.delay;
        self.delay = (now * 2).min(self.cap);
        now
    }

    /// Starts over from the first delay (after a success).
    pub fn reset(&mut self) {
        self.delay = self.start;
    }

    /// Whether the delays have grown to the cap: for loops that give up
    /// instead of waiting that long.
    pub fn exhausted(&self) -> bool {
        self.delay >= self.cap
    }

    /// Waits the next delay; false if `stop` fires first.
    pub async fn sleep(&mut self, stop: &CancellationToken) -> bool {
        tokio::select! { _ = tokio::time::sleep(self.next_delay()) => true, _ = stop.cancelled() => false }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap_and_start_over_on_reset() {
        let mut b = Backoff::COMMAND;
        let ms: Vec<u128> = (0..8).map(|_| b.next_delay().as_millis()).collect();
        assert_eq!(ms, [50, 100, 200, 400, 800, 1600, 2000, 2000]);
        assert!(b.exhausted());
        b.reset();
        assert!(!b.exhausted());
        assert_eq!(b.next_delay(), Duration::from_millis(50));
    }

    #[test]
    fn a_bounded_loop_waits_up_to_1_6_s_before_giving_up() {
        let mut b = Backoff::COMMAND;
        let mut waits = vec![];
        while !b.exhausted() {
            waits.push(b.next_delay().as_millis());
        }
        assert_eq!(waits, [50, 100, 200, 400, 800, 1600]);
    }

    #[tokio::test]
    async fn sleep_returns_false_when_stopped() {
        let stop = CancellationToken::new();
        stop.cancel();
        let mut b = Backoff::SUBSCRIPTION;
        assert!(!b.sleep(&stop).await);
    }
}
