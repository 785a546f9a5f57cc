//! Field validation with plain-language, bilingual messages.

use serde::{Deserialize, Serialize};
use time::{Date, macros::format_description};

use crate::{Lang, RecordsRequest};

/// Longest accepted name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest accepted email address, in bytes (RFC 5321 path limit).
pub const MAX_EMAIL_BYTES: usize = 254;

/// A request field, named as in the JSON body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// [`RecordsRequest::patient_name`].
    PatientName,
    /// [`RecordsRequest::date_of_birth`].
    DateOfBirth,
    /// [`RecordsRequest::email`].
    Email,
    /// [`RecordsRequest::records`].
    Records,
}

/// What is wrong with a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    /// Nothing was entered.
    Required,
    /// Longer than allowed.
    TooLong,
    /// Contains control characters or characters not allowed here.
    InvalidCharacters,
    /// Not a real calendar date in `YYYY-MM-DD` form.
    InvalidDate,
    /// A date of birth after today.
    DateInFuture,
    /// A date of birth before 1900.
    DateTooOld,
    /// Not an email address.
    InvalidEmail,
}

/// One problem with one field; the widget shows it next to that field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// Which field.
    pub field: Field,
    /// What is wrong.
    pub problem: Problem,
}

impl FieldError {
    /// The plain-language message shown next to the field.
    pub fn message(&self, lang: Lang) -> &'static str {
        use Problem::*;
        match (lang, self.field, self.problem) {
            (Lang::En, Field::PatientName, Required) => "Enter the patient's full legal name.",
            (Lang::En, Field::DateOfBirth, Required) => "Enter the patient's date of birth.",
            (Lang::En, Field::Email, Required) => "Enter your email address.",
            (Lang::En, Field::Records, Required) => "Choose at least one kind of record.",
            (Lang::En, _, TooLong) => "This is too long. Shorten it and try again.",
            (Lang::En, _, InvalidCharacters) => "Remove the special characters from this field.",
            (Lang::En, _, InvalidDate) => "Enter a real date, for example 1984-03-07.",
            (Lang::En, _, DateInFuture) => "The date of birth can't be in the future.",
            (Lang::En, _, DateTooOld) => "Check the year: it must be 1900 or later.",
            (Lang::En, _, InvalidEmail) => "Enter an email address like name@example.com.",
            (Lang::Es, Field::PatientName, Required) => {
                "Escriba el nombre legal completo del paciente."
            }
            (Lang::Es, Field::DateOfBirth, Required) => {
                "Escriba la fecha de nacimiento del paciente."
            }
            (Lang::Es, Field::Email, Required) => "Escriba su correo electrónico.",
            (Lang::Es, Field::Records, Required) => "Elija al menos un tipo de registro.",
            (Lang::Es, _, TooLong) => "Es demasiado largo. Acórtelo e inténtelo de nuevo.",
            (Lang::Es, _, InvalidCharacters) => "Quite los caracteres especiales de este campo.",
            (Lang::Es, _, InvalidDate) => "Escriba una fecha real, por ejemplo 1984-03-07.",
            (Lang::Es, _, DateInFuture) => "La fecha de nacimiento no puede ser futura.",
            (Lang::Es, _, DateTooOld) => "Revise el año: debe ser 1900 o posterior.",
            (Lang::Es, _, InvalidEmail) => "Escriba un correo electrónico como nombre@ejemplo.com.",
        }
    }
}

impl RecordsRequest {
    /// Normalises the request and checks every field, reporting all problems
    /// at once. `today` is the requester's (or server's) current date.
    pub fn validate(&self, today: Date) -> Result<RecordsRequest, Vec<FieldError>> {
        let req = self.normalized();
        let mut errors = Vec::new();
        let mut fail = |field, problem| errors.push(FieldError { field, problem });

        if let Err(p) = check_name(&req.patient_name) {
            fail(Field::PatientName, p);
        }
        if let Err(p) = check_birth_date(&req.date_of_birth, today) {
            fail(Field::DateOfBirth, p);
        }
        if let Err(p) = check_email(&req.email) {
            fail(Field::Email, p);
        }
        if req.records.is_empty() {
            fail(Field::Records, Problem::Required);
        }
        if errors.is_empty() {
            Ok(req)
        } else {
            Err(errors)
        }
    }
}

/// Normalises and checks an email address on its own (e.g. before creating a passkey).
pub fn validate_email(email: &str) -> Result<String, FieldError> {
    let email = crate::model::normalize_email(email);
    check_email(&email)
        .map(|()| email)
        .map_err(|problem| FieldError {
            field: Field::Email,
            problem,
        })
}

/// Normalises and checks a person's name on its own.
pub fn validate_name(name: &str) -> Result<String, FieldError> {
    let name = crate::model::collapse_whitespace(name);
    check_name(&name)
        .map(|()| name)
        .map_err(|problem| FieldError {
            field: Field::PatientName,
            problem,
        })
}

fn check_name(name: &str) -> Result<(), Problem> {
    if name.is_empty() {
        return Err(Problem::Required);
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(Problem::TooLong);
    }
    if name
        .chars()
        .any(|c| c.is_control() || matches!(c, '<' | '>' | '{' | '}' | '\\'))
    {
        return Err(Problem::InvalidCharacters);
    }
    Ok(())
}

/// Parses a `YYYY-MM-DD` calendar date.
pub(crate) fn parse_date(s: &str) -> Option<Date> {
    Date::parse(s, format_description!("[year]-[month]-[day]")).ok()
}

fn check_birth_date(s: &str, today: Date) -> Result<(), Problem> {
    if s.is_empty() {
        return Err(Problem::Required);
    }
    let date = parse_date(s).ok_or(Problem::InvalidDate)?;
    if date > today {
        return Err(Problem::DateInFuture);
    }
    if date.year() < 1900 {
        return Err(Problem::DateTooOld);
    }
    Ok(())
}

fn check_email(email: &str) -> Result<(), Problem> {
    if email.is_empty() {
        return Err(Problem::Required);
    }
    if email.len() > MAX_EMAIL_BYTES {
        return Err(Problem::TooLong);
    }
    let Some((local, domain)) = email.rsplit_once('@') else {
        return Err(Problem::InvalidEmail);
    };
    let bad_char = |c: char| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',');
    let label_ok = |l: &str| {
        !l.is_empty() && !l.starts_with('-') && !l.ends_with('-') && !l.contains(['@', '_'])
    };
    let domain_ok = domain.contains('.') && domain.split('.').all(label_ok);
    if local.is_empty() || local.len() > 64 || email.chars().any(bad_char) || !domain_ok {
        return Err(Problem::InvalidEmail);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RecordKind;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 26);

    fn valid() -> RecordsRequest {
        RecordsRequest {
            patient_name: "  Ana   María Pérez ".into(),
            date_of_birth: "1984-03-07".into(),
            email: "Ana.Perez@Example.ORG".into(),
            records: vec![
                RecordKind::LabResults,
                RecordKind::VisitNotes,
                RecordKind::LabResults,
            ],
        }
    }

    fn problems(req: RecordsRequest) -> Vec<(Field, Problem)> {
        req.validate(TODAY)
            .unwrap_err()
            .into_iter()
            .map(|e| (e.field, e.problem))
            .collect()
    }

    #[test]
    fn valid_request_is_normalised() {
        let req = valid().validate(TODAY).expect("valid");
        assert_eq!(req.patient_name, "Ana María Pérez");
        assert_eq!(req.email, "Ana.Perez@example.org");
        assert_eq!(
            req.records,
            vec![RecordKind::VisitNotes, RecordKind::LabResults]
        );
    }

    #[test]
    fn empty_request_reports_every_field() {
        assert_eq!(
            problems(RecordsRequest::default()),
            vec![
                (Field::PatientName, Problem::Required),
                (Field::DateOfBirth, Problem::Required),
                (Field::Email, Problem::Required),
                (Field::Records, Problem::Required),
            ]
        );
    }

    #[test]
    fn dates_are_checked_against_the_calendar_and_today() {
        let with_dob = |d: &str| RecordsRequest {
            date_of_birth: d.into(),
            ..valid()
        };
        assert_eq!(
            problems(with_dob("2023-02-29")),
            vec![(Field::DateOfBirth, Problem::InvalidDate)]
        );
        assert_eq!(
            problems(with_dob("07/03/1984")),
            vec![(Field::DateOfBirth, Problem::InvalidDate)]
        );
        assert_eq!(
            problems(with_dob("2026-11-27")),
            vec![(Field::DateOfBirth, Problem::DateInFuture)]
        );
        assert_eq!(
            problems(with_dob("1899-12-31")),
            vec![(Field::DateOfBirth, Problem::DateTooOld)]
        );
        assert!(with_dob("2024-02-29").validate(TODAY).is_ok());
        assert!(with_dob("2026-11-26").validate(TODAY).is_ok());
    }

    #[test]
    fn emails_and_names_reject_bad_input() {
        for bad in [
            "ana",
            "ana@",
            "@example.org",
            "ana@example",
            "a b@example.org",
            "ana@-x.org",
        ] {
            let req = RecordsRequest {
                email: bad.into(),
                ..valid()
            };
            assert_eq!(
                problems(req),
                vec![(Field::Email, Problem::InvalidEmail)],
                "{bad}"
            );
        }
        let req = RecordsRequest {
            patient_name: "Ana <script>".into(),
            ..valid()
        };
        assert_eq!(
            problems(req),
            vec![(Field::PatientName, Problem::InvalidCharacters)]
        );
        let req = RecordsRequest {
            patient_name: "x".repeat(201),
            ..valid()
        };
        assert_eq!(problems(req), vec![(Field::PatientName, Problem::TooLong)]);
    }

    #[test]
    fn every_message_exists_in_both_languages_and_differs() {
        let all = [
            Problem::Required,
            Problem::TooLong,
            Problem::InvalidCharacters,
            Problem::InvalidDate,
            Problem::DateInFuture,
            Problem::DateTooOld,
            Problem::InvalidEmail,
        ];
        for field in [
            Field::PatientName,
            Field::DateOfBirth,
            Field::Email,
            Field::Records,
        ] {
            for problem in all {
                let e = FieldError { field, problem };
                assert_ne!(e.message(Lang::En), e.message(Lang::Es));
            }
        }
    }
}
