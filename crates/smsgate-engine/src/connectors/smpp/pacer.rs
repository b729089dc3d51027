//! How fast a connector may submit: the carrier's agreed rate in segments
//! per second, and AIMD back-off when the carrier says it is too fast.
//!
//! Time is a parameter, so the arithmetic is tested without sleeping. On
//! `ESME_RTHROTTLED` / `ESME_RMSGQFUL` the allowed rate halves (from the
//! configured rate, or from the rate measured when none is configured) and
//! sending pauses briefly; every acknowledged submit then adds a little
//! back, until the configured rate (or the measured peak) is reached and
//! the back-off is lifted. The message that was throttled is sent again
//! before any other, so back-off keeps order.

use std::time::{Duration, Instant};

/// Sending pauses this long after a throttling answer.
pub const THROTTLE_PAUSE: Duration = Duration::from_millis(200);
/// The slowest rate back-off goes down to, in segments per second.
const FLOOR: f64 = 1.0;
/// Without a configured rate, back-off starts from the measured rate but
/// from no less than this (a throttle at the first burst has no measure).
const UNLIMITED_START: f64 = 50.0;
/// Recovery: the rate grows by this share of the target per second of
/// acknowledged traffic.
const RECOVERY_PER_SECOND: f64 = 0.05;

#[derive(Debug, Clone)]
pub struct Pacer {
    /// Configured segments per second; `None`: unlimited.
    limit: Option<f64>,
    /// The backed-off rate, while backing off.
    backoff: Option<f64>,
    /// Where back-off recovers to: the limit, or the rate measured when
    /// throttling began.
    target: f64,
    /// The next instant a segment may go.
    next_at: Instant,
    /// Segments reserved in the current one-second window, to measure the
    /// rate when there is no limit.
    window_start: Instant,
    window_count: u32,
    last_rate: f64,
    /// When the rate was last halved: throttling answers to submits sent
    /// before then were part of the same burst and do not halve it again.
    last_decrease: Option<Instant>,
}

impl Pacer {
    /// `tps` segments per second; 0 means unlimited.
    pub fn new(tps: u32, now: Instant) -> Pacer {
        let limit = (tps > 0).then_some(f64::from(tps));
        Pacer {
            limit,
            backoff: None,
            target: limit.unwrap_or(f64::MAX),
            next_at: now,
            window_start: now,
            window_count: 0,
            last_rate: 0.0,
            last_decrease: None,
        }
    }

    /// The rate in force, `None` when unlimited.
    pub fn rate(&self) -> Option<f64> {
        match (self.backoff, self.limit) {
            (Some(b), Some(l)) => Some(b.min(l)),
            (b, l) => b.or(l),
        }
    }

    /// Books `segments` and returns when they may be sent.
    pub fn reserve(&mut self, segments: u32, now: Instant) -> Instant {
        if now.duration_since(self.window_start) >= Duration::from_secs(1) {
            let secs = now.duration_since(self.window_start).as_secs_f64();
            self.last_rate = f64::from(self.window_count) / secs;
            self.window_start = now;
            self.window_count = 0;
        }
        self.window_count += segments;
        let Some(rate) = self.rate() else {
            return now.max(self.next_at);
        };
        let at = now.max(self.next_at);
        self.next_at = at + Duration::from_secs_f64(f64::from(segments) / rate);
        at
    }

    /// The carrier answered a submit sent at `sent_at` with a throttling
    /// status.
    pub fn on_throttle(&mut self, sent_at: Instant, now: Instant) {
        self.next_at = self.next_at.max(now + THROTTLE_PAUSE);
        if self.last_decrease.is_some_and(|d| sent_at <= d) {
            return;
        }
        self.last_decrease = Some(now);
        let current = self.rate().unwrap_or_else(|| {
            // Unlimited: halve what was actually being sent.
            let secs = now.duration_since(self.window_start).as_secs_f64();
            let recent = if secs > 0.05 {
                f64::from(self.window_count) / secs
            } else {
                0.0
            };
            self.last_rate.max(recent).max(UNLIMITED_START)
        });
        if self.backoff.is_none() {
            self.target = self.limit.unwrap_or(current);
        }
        self.backoff = Some((current / 2.0).max(FLOOR));
    }

    /// A submit was acknowledged: back-off recovers a little.
    pub fn on_success(&mut self) {
        if let Some(b) = self.backoff {
            // Per segment sent at rate b, grow by target * share / b: the
            // rate grows by `share` of the target per second.
            let grown = b + self.target * RECOVERY_PER_SECOND / b.max(FLOOR);
            self.backoff = (grown < self.target).then_some(grown);
        }
    }

    /// Segments per second actually sent: over the last whole second, or
    /// 0 once nothing was sent for a second.
    pub fn measured(&self, now: Instant) -> f64 {
        let since = now.duration_since(self.window_start);
        if since >= Duration::from_secs(2) {
            0.0
        } else if since >= Duration::from_secs(1) {
            f64::from(self.window_count) / since.as_secs_f64()
        } else {
            self.last_rate
        }
    }

    pub fn is_backing_off(&self) -> bool {
        self.backoff.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_spaces_segments_evenly() {
        let t0 = Instant::now();
        let mut p = Pacer::new(10, t0);
        assert_eq!(p.reserve(1, t0), t0);
        assert_eq!(p.reserve(1, t0), t0 + Duration::from_millis(100));
        // A three-part message books three segments.
        assert_eq!(p.reserve(3, t0), t0 + Duration::from_millis(200));
        assert_eq!(p.reserve(1, t0), t0 + Duration::from_millis(500));
        // Idle time is not banked beyond the present.
        let later = t0 + Duration::from_secs(10);
        assert_eq!(p.reserve(1, later), later);
    }

    #[test]
    fn the_rate_sent_is_measured() {
        let t0 = Instant::now();
        let mut p = Pacer::new(0, t0);
        for i in 0..100 {
            p.reserve(1, t0 + Duration::from_millis(i * 10));
        }
        let t1 = t0 + Duration::from_millis(1000);
        p.reserve(1, t1);
        assert!(
            (95.0..=105.0).contains(&p.measured(t1)),
            "{}",
            p.measured(t1)
        );
        assert_eq!(p.measured(t1 + Duration::from_secs(3)), 0.0);
    }

    #[test]
    fn unlimited_never_waits() {
        let t0 = Instant::now();
        let mut p = Pacer::new(0, t0);
        for _ in 0..1000 {
            assert_eq!(p.reserve(1, t0), t0);
        }
        assert_eq!(p.rate(), None);
    }

    #[test]
    fn throttling_halves_pauses_and_recovers() {
        let t0 = Instant::now();
        let mut p = Pacer::new(100, t0);
        p.on_throttle(t0, t0);
        assert_eq!(p.rate(), Some(50.0));
        // More answers to the same burst do not halve it again.
        p.on_throttle(t0, t0 + Duration::from_millis(5));
        assert_eq!(p.rate(), Some(50.0));
        assert_eq!(
            p.reserve(1, t0),
            t0 + Duration::from_millis(5) + THROTTLE_PAUSE
        );
        let t1 = t0 + Duration::from_secs(1);
        p.on_throttle(t1, t1);
        assert_eq!(p.rate(), Some(25.0));
        // Acknowledgements bring the rate back up to the limit, then the
        // back-off is lifted.
        let mut n = 0;
        while p.is_backing_off() {
            p.on_success();
            n += 1;
            assert!(n < 100_000);
        }
        assert_eq!(p.rate(), Some(100.0));
    }

    #[test]
    fn throttling_without_a_limit_halves_the_measured_rate() {
        let t0 = Instant::now();
        let mut p = Pacer::new(0, t0);
        for i in 0..400 {
            p.reserve(1, t0 + Duration::from_millis(i * 5 / 2));
        }
        // 400 segments in ~1 s.
        let t1 = t0 + Duration::from_millis(1000);
        p.reserve(1, t1);
        p.on_throttle(t1, t1);
        let rate = p.rate().unwrap();
        assert!((150.0..=250.0).contains(&rate), "{rate}");
        while p.is_backing_off() {
            p.on_success();
        }
        assert_eq!(p.rate(), None);
    }

    #[test]
    fn a_throttle_at_the_first_burst_starts_from_a_sane_rate() {
        let t0 = Instant::now();
        let mut p = Pacer::new(0, t0);
        p.reserve(1, t0);
        p.on_throttle(t0, t0);
        assert_eq!(p.rate(), Some(UNLIMITED_START / 2.0));
    }

    #[test]
    fn back_off_never_stops_sending() {
        let t0 = Instant::now();
        let mut p = Pacer::new(2, t0);
        for i in 0..20 {
            let t = t0 + Duration::from_secs(i);
            p.on_throttle(t, t);
        }
        assert_eq!(p.rate(), Some(FLOOR));
    }
}
