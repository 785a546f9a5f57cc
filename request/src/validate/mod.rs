//! Validation with plain-language, bilingual messages. The widget and the
//! verifier run exactly these rules, so a request the widget accepts is one
//! the verifier accepts (on the same day and site).

mod date;
mod email;
mod field;
mod messages;
mod rules;

pub use field::{AddressPart, Field};
pub use messages::{FieldError, Problem};

use time::Date;

use crate::model::{collapse_whitespace, normalize_email};
use crate::{RecordsRequest, SiteOffer};

/// Longest accepted name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest accepted free-text answer (authority, where to send), in characters.
pub const MAX_TEXT_CHARS: usize = 500;
/// Longest accepted email address, in bytes (RFC 5321 path limit).
pub const MAX_EMAIL_BYTES: usize = 254;
/// Most date ranges or former names in one request.
pub const MAX_ITEMS: usize = 10;

impl RecordsRequest {
    /// Normalises the request and checks every field against everything a
    /// site can offer, reporting all problems at once. `today` is the
    /// requester's (or server's) current date.
    pub fn validate(&self, today: Date) -> Result<RecordsRequest, Vec<FieldError>> {
        self.validate_for(today, &SiteOffer::default())
    }

    /// Like [`RecordsRequest::validate`], also checking that record kinds and
    /// delivery are among what `offer` lists.
    pub fn validate_for(
        &self,
        today: Date,
        offer: &SiteOffer,
    ) -> Result<RecordsRequest, Vec<FieldError>> {
        let req = self.normalized();
        let errors = rules::check(&req, today, offer);
        if errors.is_empty() {
            Ok(req)
        } else {
            Err(errors)
        }
    }
}

/// Normalises and checks an email address on its own (e.g. before creating a passkey).
pub fn validate_email(email: &str) -> Result<String, FieldError> {
    let email = normalize_email(email);
    email::check_email(&email)
        .map(|()| email)
        .map_err(|problem| FieldError {
            field: Field::Email,
            problem,
        })
}

/// Normalises and checks a person's name on its own (a passkey's display name).
pub fn validate_name(name: &str) -> Result<String, FieldError> {
    let name = collapse_whitespace(name);
    rules::check_name(&name)
        .map(|()| name)
        .map_err(|problem| FieldError {
            field: Field::DisplayName,
            problem,
        })
}

/// Parses a `YYYY-MM-DD` calendar date.
pub fn parse_date(s: &str) -> Option<Date> {
    date::parse_date(s)
}

/// Whole years from `born` to `on`.
pub fn age_on(born: Date, on: Date) -> i32 {
    let mut age = on.year() - born.year();
    if (on.month() as u8, on.day()) < (born.month() as u8, born.day()) {
        age -= 1;
    }
    age
}

#[cfg(test)]
mod tests;
