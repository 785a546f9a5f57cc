//! Time, passed in so expiry and deadlines are testable.

use std::sync::{
    Arc,
    atomic::{AtomicI64, Ordering},
};
use time::OffsetDateTime;

/// Source of the current time.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// Seconds added to the system time (tests move time forward with it).
    skew: Arc<AtomicI64>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock::default()
    }

    /// Now, in UTC.
    pub fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + time::Duration::seconds(self.skew.load(Ordering::Relaxed))
    }

    /// Now, as unix seconds.
    pub fn unix(&self) -> i64 {
        self.now().unix_timestamp()
    }

    /// Moves this clock (and every clone of it) forward by `seconds`.
    pub fn advance(&self, seconds: i64) {
        self.skew.fetch_add(seconds, Ordering::Relaxed);
    }
}
