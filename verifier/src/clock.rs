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

/// Unix seconds as RFC 3339 text in UTC (`2026-05-01T14:03:00Z`); `None` when
/// out of the representable range. Callers decide what an impossible time means.
pub fn rfc3339(unix: i64) -> Option<String> {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()?
        .format(&time::format_description::well_known::Rfc3339)
        .ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_is_utc_with_seconds_and_refuses_out_of_range() {
        assert_eq!(
            super::rfc3339(1_777_644_180).as_deref(),
            Some("2026-05-01T14:03:00Z")
        );
        assert_eq!(super::rfc3339(i64::MAX), None);
    }
}
