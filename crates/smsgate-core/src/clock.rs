//! Time as a port: the engine asks a `Clock` what time it is, so rules
//! with time in them (sessions, schedules, validity, retries, leases,
//! receipt timeouts) are tested by moving a manual clock, not by sleeping.

use std::sync::atomic::{AtomicI64, Ordering};

use crate::Timestamp;

/// What time it is.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that moves only when told: for tests.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn at(t: Timestamp) -> ManualClock {
        ManualClock(AtomicI64::new(t.0))
    }

    /// Starts at the system's time now (stores and peers that read the
    /// system clock agree with it until it is moved).
    pub fn starting_now() -> ManualClock {
        ManualClock::at(Timestamp::now())
    }

    pub fn advance_millis(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }

    pub fn advance_secs(&self, s: i64) {
        self.advance_millis(s.saturating_mul(1000));
    }

    pub fn set(&self, t: Timestamp) {
        self.0.store(t.0, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = ManualClock::at(Timestamp(1_000));
        assert_eq!(clock.now(), Timestamp(1_000));
        clock.advance_secs(2);
        assert_eq!(clock.now(), Timestamp(3_000));
        clock.set(Timestamp(10));
        assert_eq!(clock.now(), Timestamp(10));
    }
}
