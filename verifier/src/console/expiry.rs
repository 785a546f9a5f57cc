//! The end of the authorization a request carries (45 CFR 164.508(c)(1)(v)):
//! shown among the request's facts, and checked again when records are
//! released, since an expired authorization is no longer valid
//! (164.508(b)(2)(i)). Signing only checks that it ends after the day it is
//! signed; a request can wait in the queue past that end.

use recordpass_request::{RecordsRequest, parse_date};
use time::Date;

use crate::Error;

/// How the authorization's end stands against today and the due date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// In effect through the due date.
    InEffect,
    /// In effect today, but it ends before the due date.
    EndsBeforeDue,
    /// Its last day has passed (or its end cannot be read): records may not
    /// be released under it.
    Expired,
}

/// The end of a request's authorization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expiry {
    /// The end date as signed (`YYYY-MM-DD`).
    pub expires_on: String,
    date: Option<Date>,
}

impl Expiry {
    /// The end of `request`'s authorization: the main instrument's, or that of
    /// the separate psychotherapy-notes authorization (both carry the one
    /// `authorization.expires_on` the requester signed). `None` when the
    /// request carries no authorization (right of access, directive).
    pub fn of(request: &RecordsRequest) -> Option<Expiry> {
        request.needs_authorization_terms().then(|| Expiry {
            expires_on: request.authorization.expires_on.clone(),
            date: parse_date(&request.authorization.expires_on),
        })
    }

    /// Where it stands on `today` for a request due on `due` (local calendar
    /// days of the hospital's zone, as the console shows them). It is in
    /// effect through the end of its date.
    pub fn standing(&self, today: Date, due: Date) -> Standing {
        match self.date {
            Some(end) if end >= today => {
                if end < due {
                    Standing::EndsBeforeDue
                } else {
                    Standing::InEffect
                }
            }
            _ => Standing::Expired,
        }
    }

    /// Why records may not be released under it on `today` (a local calendar
    /// day), if they may not.
    pub fn refusal(&self, today: Date) -> Option<String> {
        match self.date {
            Some(end) if end >= today => None,
            Some(end) => Some(format!(
                "The authorization expired on {end}; a new signed authorization is needed \
                 before release."
            )),
            None => Some(format!(
                "The authorization's end date ({:?}) cannot be read; a new signed authorization \
                 is needed before release.",
                self.expires_on
            )),
        }
    }
}

/// A local calendar day of the hospital's zone ([`crate::zone`]) as the
/// date type the request's own dates are read into.
pub fn local_day(day: jiff::civil::Date) -> Result<Date, Error> {
    parse_date(&day.to_string()).ok_or_else(|| Error::Internal("local day out of range".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use recordpass_request::examples;

    fn day(text: &str) -> Date {
        parse_date(text).expect(text)
    }

    fn expiring(on: &str) -> Expiry {
        let mut request = examples::representative_authorization();
        request.authorization.expires_on = on.into();
        Expiry::of(&request).expect("an authorization")
    }

    #[test]
    fn in_effect_through_its_last_day_then_refused_with_the_date() {
        let (today, due) = (day("2026-11-26"), day("2026-12-26"));
        let e = expiring("2026-11-27");
        assert_eq!(e.standing(today, due), Standing::EndsBeforeDue);
        assert_eq!(e.refusal(today), None);
        assert_eq!(
            e.refusal(day("2026-11-27")),
            None,
            "in effect all of its last day"
        );
        let next_day = day("2026-11-28");
        assert_eq!(e.standing(next_day, due), Standing::Expired);
        assert_eq!(
            e.refusal(next_day).as_deref(),
            Some(
                "The authorization expired on 2026-11-27; a new signed authorization is \
                 needed before release."
            )
        );
        let long = expiring("2027-11-26");
        assert_eq!(long.standing(today, due), Standing::InEffect);
        assert_eq!(
            long.standing(today, day("2027-11-27")),
            Standing::EndsBeforeDue
        );
    }

    #[test]
    fn an_unreadable_end_is_treated_as_expired_and_access_carries_none() {
        let today = day("2026-11-26");
        let e = expiring("when the case closes");
        assert_eq!(e.standing(today, today), Standing::Expired);
        assert!(
            e.refusal(today)
                .is_some_and(|r| r.contains("\"when the case closes\""))
        );
        assert_eq!(Expiry::of(&examples::self_access()), None);
        assert_eq!(Expiry::of(&examples::parent_directive()), None);
        let mut psych = examples::self_access();
        psych.scope.sensitive = vec![recordpass_request::SensitiveCategory::PsychotherapyNotes];
        psych.authorization.expires_on = "2027-01-01".into();
        assert!(
            Expiry::of(&psych).is_some(),
            "psychotherapy notes authorization"
        );
    }

    #[test]
    fn a_local_day_reads_as_the_same_calendar_date() {
        let d = jiff::civil::date(2026, 12, 1);
        assert_eq!(local_day(d).expect("in range"), day("2026-12-01"));
    }
}
