//! Where the time comes from.
//!
//! Logic never reads the wall clock itself: it takes a [`Clock`], so tests can pin and move time
//! and assert exact instants without sleeping.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};

/// A source of the current instant.
pub trait Clock: Send + Sync {
    /// The current instant, in UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock of the machine.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to, for tests.
///
/// Clones share the same instant, so a test can hand one clone to the code under test and move
/// time through another.
#[derive(Debug, Clone)]
pub struct MockClock {
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl MockClock {
    /// A clock stopped at `now`.
    #[must_use]
    pub fn new(now: DateTime<Utc>) -> Self {
        Self {
            now: Arc::new(Mutex::new(now)),
        }
    }

    /// Moves the clock to `now` (backwards too, if a test needs it).
    pub fn set(&self, now: DateTime<Utc>) {
        *self.lock() = now;
    }

    /// Moves the clock forward by `delta`.
    pub fn advance(&self, delta: TimeDelta) {
        let mut now = self.lock();
        *now += delta;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, DateTime<Utc>> {
        // The guarded value is a plain instant that is always whole, so a panic in another
        // holder cannot have left it half-written: poisoning carries no information here.
        self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for MockClock {
    /// A clock stopped at 2022-01-16T14:40:00Z, an arbitrary but fixed instant.
    fn default() -> Self {
        Self::new(
            Utc.with_ymd_and_hms(2022, 1, 16, 14, 40, 0)
                .single()
                .expect("a fixed, valid calendar date"),
        )
    }
}

impl Clock for MockClock {
    fn now(&self) -> DateTime<Utc> {
        *self.lock()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mock_clock_stays_still_until_advanced() {
        let clock = MockClock::default();
        let first = clock.now();
        assert_eq!(clock.now(), first);

        clock.advance(TimeDelta::seconds(90));

        assert_eq!(clock.now(), first + TimeDelta::seconds(90));
    }

    #[test]
    fn mock_clock_clones_share_the_same_instant() {
        let clock = MockClock::default();
        let clone = clock.clone();
        let target = Utc
            .with_ymd_and_hms(2030, 5, 1, 0, 0, 0)
            .single()
            .expect("valid date");

        clone.set(target);

        assert_eq!(clock.now(), target);
    }
}
