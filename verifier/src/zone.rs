//! The hospital's time zone (`[[sites]] time_zone`): legal deadlines are
//! counted in its calendar days, and every date or time a person reads is
//! shown in it. APIs keep RFC 3339 in UTC (`crate::clock::rfc3339`).
//!
//! "Within 30 days after receipt" (45 CFR 164.524(b)(2)) counts the local
//! calendar day the request arrived on: a request signed at 20:30 in New York
//! on November 1 (01:30 UTC on November 2) is due on December 1, and it is
//! overdue only once December 1 has ended in New York. The zone database is
//! compiled in (jiff's bundled tzdb), so no system files are read.

use jiff::{SignedDuration, Timestamp, ZonedDateTime, civil::Date, tz::TimeZone};
use serde::Deserialize;

use crate::Error;

/// An IANA time zone, e.g. `America/New_York`; [`Zone::utc`] by default.
#[derive(Clone, Debug, Deserialize)]
#[serde(try_from = "String")]
pub struct Zone {
    name: String,
    tz: TimeZone,
}

impl TryFrom<String> for Zone {
    type Error = String;

    fn try_from(name: String) -> Result<Zone, String> {
        Zone::named(&name).map_err(|e| e.to_string())
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Zone) -> bool {
        self.name == other.name
    }
}

impl Default for Zone {
    fn default() -> Zone {
        Zone::utc()
    }
}

/// When a request must be acted on: the last local day, and the instant it ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline {
    /// The due date, a local calendar day (shown as `YYYY-MM-DD`).
    pub date: Date,
    /// Unix seconds when that day ends in the zone (the next day's start).
    pub ends_at: i64,
}

impl Deadline {
    /// Past due at `now`: the due date has ended locally.
    pub fn passed(&self, now: i64) -> bool {
        now >= self.ends_at
    }
}

impl Zone {
    /// Coordinated Universal Time.
    pub fn utc() -> Zone {
        Zone {
            name: "UTC".into(),
            tz: TimeZone::UTC,
        }
    }

    /// The IANA zone `name`; an unknown name is a configuration error.
    pub fn named(name: &str) -> Result<Zone, Error> {
        let tz = TimeZone::get(name).map_err(|e| {
            Error::Config(format!(
                "time_zone {name:?} is not an IANA time zone (e.g. \"America/New_York\"): {e}"
            ))
        })?;
        Ok(Zone {
            name: name.to_owned(),
            tz,
        })
    }

    /// The IANA name, as configured.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn at(&self, unix: i64) -> Result<ZonedDateTime, Error> {
        Timestamp::from_second(unix)
            .map(|t| t.to_zoned_datetime(self.tz.clone()))
            .map_err(|_| Error::Internal(format!("time {unix} out of range")))
    }

    /// The local calendar day of `unix`.
    pub fn date(&self, unix: i64) -> Result<Date, Error> {
        Ok(self.at(unix)?.date())
    }

    /// `days` local calendar days after the day of `received_at`, ending at
    /// the end of that local day (a DST change in between moves the instant,
    /// not the date).
    pub fn deadline(&self, received_at: i64, days: i64) -> Result<Deadline, Error> {
        let out_of_range = |_| Error::Internal("due date out of range".into());
        let date = self
            .date(received_at)?
            .checked_add(SignedDuration::from_hours(days.saturating_mul(24)))
            .map_err(out_of_range)?;
        let ends_at = date
            .tomorrow()
            .and_then(|next| next.to_zoned_datetime(self.tz.clone()))
            .map_err(out_of_range)?
            .timestamp()
            .as_second();
        Ok(Deadline { date, ends_at })
    }

    fn format(&self, unix: i64, format: &str) -> String {
        self.at(unix)
            .ok()
            .and_then(|at| jiff::fmt::strtime::format(format, &at).ok())
            .unwrap_or_else(|| unix.to_string())
    }

    /// Unix seconds as local time with the zone's abbreviation:
    /// `2026-11-01 20:30 EST` (`2026-05-01 14:03 UTC` in UTC).
    pub fn time_text(&self, unix: i64) -> String {
        self.format(unix, "%Y-%m-%d %H:%M %Z")
    }

    /// Unix seconds as the local date, `2026-11-01`.
    pub fn date_text(&self, unix: i64) -> String {
        self.format(unix, "%Y-%m-%d")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unix seconds of an RFC 3339 UTC time.
    fn unix(text: &str) -> i64 {
        text.parse::<Timestamp>().expect("timestamp").as_second()
    }

    #[test]
    fn an_evening_receipt_counts_from_the_local_day() {
        let ny = Zone::named("America/New_York").expect("zone");
        // Signed 20:30 EST on Sunday, November 1 (DST ended at 02:00 that day).
        let received = unix("2026-11-02T01:30:00Z");
        assert_eq!(ny.date_text(received), "2026-11-01");
        assert_eq!(ny.time_text(received), "2026-11-01 20:30 EST");
        let due = ny.deadline(received, 30).expect("deadline");
        assert_eq!(due.date.to_string(), "2026-12-01");
        assert_eq!(due.ends_at, unix("2026-12-02T05:00:00Z"), "midnight EST");
        // Late on December 1 in New York (already December 2 in UTC): not yet.
        assert!(!due.passed(unix("2026-12-02T04:59:59Z")));
        assert!(due.passed(unix("2026-12-02T05:00:00Z")));
        // In UTC the same receipt is a November 2 request, due December 2.
        let utc = Zone::utc().deadline(received, 30).expect("deadline");
        assert_eq!(utc.date.to_string(), "2026-12-02");
        assert_eq!(Zone::utc().time_text(received), "2026-11-02 01:30 UTC");
    }

    #[test]
    fn days_are_calendar_days_across_a_dst_change() {
        let ny = Zone::named("America/New_York").expect("zone");
        // 23:30 EST on March 1, 2026; clocks spring forward on March 8, so the
        // 30 days hold 719 hours, and the due day ends at midnight EDT.
        let received = unix("2026-03-02T04:30:00Z");
        let due = ny.deadline(received, 30).expect("deadline");
        assert_eq!(due.date.to_string(), "2026-03-31");
        assert_eq!(due.ends_at, unix("2026-04-01T04:00:00Z"));
        // And back in the autumn: 00:15 EDT on October 15, due November 14,
        // ending at midnight EST.
        let received = unix("2026-10-15T04:15:00Z");
        assert_eq!(ny.date_text(received), "2026-10-15");
        let due = ny.deadline(received, 30).expect("deadline");
        assert_eq!(due.date.to_string(), "2026-11-14");
        assert_eq!(due.ends_at, unix("2026-11-15T05:00:00Z"));
        // An extension adds calendar days the same way.
        let extended = ny.deadline(received, 60).expect("deadline");
        assert_eq!(extended.date.to_string(), "2026-12-14");
    }

    #[test]
    fn unknown_zones_are_refused_and_utc_is_the_default() {
        let err = Zone::named("America/Springfield").expect_err("unknown");
        assert!(err.to_string().contains("not an IANA time zone"), "{err}");
        assert!(Zone::named("Europe/Madrid").is_ok());
        assert_eq!(Zone::default().name(), "UTC");
        assert_eq!(Zone::utc().date_text(1_777_644_180), "2026-05-01");
    }
}
