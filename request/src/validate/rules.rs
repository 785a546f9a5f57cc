//! The rules, one function per part of the request.

use time::{Date, Duration};

use super::{
    AddressPart, Field, FieldError, MAX_ITEMS, MAX_NAME_CHARS, MAX_TEXT_CHARS, Problem, age_on,
    email::check_email, parse_date,
};
use crate::{
    Address, DeliveryMethod, RecordsRequest, Role, Scope, SensitiveCategory, SiteOffer,
    hidden::is_hidden_or_reordering, upload::MAX_ATTACHMENTS,
};

/// Collects field errors in form order.
struct Errors(Vec<FieldError>);

impl Errors {
    fn add(&mut self, field: Field, result: Result<(), Problem>) {
        if let Err(problem) = result {
            self.0.push(FieldError { field, problem });
        }
    }
}

/// Every problem with a normalised request.
pub(super) fn check(req: &RecordsRequest, today: Date, offer: &SiteOffer) -> Vec<FieldError> {
    let mut e = Errors(Vec::new());
    requester(&mut e, req);
    patient(&mut e, req, today);
    scope(&mut e, req, today, offer);
    delivery(&mut e, req, offer);
    terms(&mut e, req, today);
    e.0
}

fn requester(e: &mut Errors, req: &RecordsRequest) {
    let r = &req.requester;
    if r.role != Role::Patient {
        e.add(Field::RequesterName, check_name(&r.name));
    }
    if r.role == Role::ParentOrGuardian {
        e.add(
            Field::RequesterRelationship,
            check_text(&r.relationship, 100),
        );
    }
    if r.role.needs_authority() {
        e.add(
            Field::RequesterAuthority,
            check_text(&r.authority, MAX_TEXT_CHARS),
        );
    }
    // Representatives, executors and guardians show their authority, not just
    // name it; a mother or father may (164.502(g)).
    if r.must_prove_authority() && r.attachments.is_empty() {
        e.add(Field::RequesterAttachments, Err(Problem::Required));
    }
    e.add(Field::RequesterEmail, check_email(&r.email));
    e.add(Field::RequesterPhone, optional(&r.phone, check_phone));
    for (i, file) in r.attachments.iter().enumerate().take(MAX_ATTACHMENTS + 1) {
        let result = if i == MAX_ATTACHMENTS {
            Err(Problem::TooLong)
        } else if file.is_plausible() {
            Ok(())
        } else {
            Err(Problem::InvalidFile)
        };
        e.add(Field::RequesterAttachment(i), result);
    }
}

fn patient(e: &mut Errors, req: &RecordsRequest, today: Date) {
    let p = &req.patient;
    e.add(Field::PatientLegalName, check_name(&p.legal_name));
    for (i, name) in p.former_names.iter().enumerate().take(MAX_ITEMS + 1) {
        let result = if i == MAX_ITEMS {
            Err(Problem::TooLong)
        } else {
            check_name(name)
        };
        e.add(Field::PatientFormerName(i), result);
    }
    let dob = check_past_date(&p.date_of_birth, today).and_then(|dob| {
        let minor = age_on(dob, today) < 18;
        if req.requester.role == Role::ParentOrGuardian && !minor {
            Err(Problem::NotAMinor)
        } else {
            Ok(())
        }
    });
    e.add(Field::PatientDateOfBirth, dob);
    if !p.address.is_empty() {
        address(e, &p.address, Field::PatientAddress);
    }
    e.add(Field::PatientPhone, optional(&p.phone, check_phone));
    e.add(Field::PatientEmail, optional(&p.email, check_email));
    e.add(Field::PatientMrn, optional(&p.mrn, check_mrn));
}

fn scope(e: &mut Errors, req: &RecordsRequest, today: Date, offer: &SiteOffer) {
    let s = &req.scope;
    // Psychotherapy notes asked for alone are a whole request.
    let kinds = if s.record_kinds.is_empty() && !req.has_psychotherapy_authorization() {
        Err(Problem::Required)
    } else if s
        .record_kinds
        .iter()
        .any(|k| !offer.record_kinds.contains(k))
    {
        Err(Problem::NotOffered)
    } else {
        Ok(())
    };
    e.add(Field::ScopeRecordKinds, kinds);
    if !s.all_dates {
        date_ranges(e, s, today);
    }
    e.add(Field::ScopeSensitive, sensitive(req));
}

fn date_ranges(e: &mut Errors, s: &Scope, today: Date) {
    let ranges = match s.date_ranges.len() {
        0 => Err(Problem::Required),
        n if n > MAX_ITEMS => Err(Problem::TooLong),
        _ => Ok(()),
    };
    e.add(Field::ScopeDateRanges, ranges);
    for (i, range) in s.date_ranges.iter().enumerate().take(MAX_ITEMS) {
        let start = check_past_date(&range.start, today);
        e.add(Field::ScopeDateRangeStart(i), start.map(|_| ()));
        let end = check_date(&range.end).and_then(|end| match start {
            Ok(start) if end < start => Err(Problem::EndBeforeStart),
            _ => Ok(()),
        });
        e.add(Field::ScopeDateRangeEnd(i), end);
    }
}

/// What the sensitive categories opted in allow.
fn sensitive(req: &RecordsRequest) -> Result<(), Problem> {
    let s = &req.scope;
    if req.requester.role == Role::ParentOrGuardian
        && s.sensitive.contains(&SensitiveCategory::SubstanceUse)
    {
        // 42 CFR 2.14: a minor's Part 2 records are never released on a
        // parent's signature alone (only the minor's, or both).
        Err(Problem::NeedsMinorsConsent)
    } else if req.has_psychotherapy_authorization()
        && (!s.record_kinds.is_empty() || s.sensitive.len() > 1)
    {
        // 164.508(b)(3)(ii): combined with anything else, the authorization
        // for psychotherapy notes would be defective.
        Err(Problem::PsychotherapyNotesAlone)
    } else {
        Ok(())
    }
}

fn delivery(e: &mut Errors, req: &RecordsRequest, offer: &SiteOffer) {
    let d = &req.delivery;
    let method = if !offer.delivery_methods.contains(&d.method) {
        Err(Problem::NotOffered)
    } else if req.recipient.is_some() && !d.method.reaches_recipient() {
        Err(Problem::NotForRecipient)
    } else if d.method == DeliveryMethod::Disc
        && !req.scope.record_kinds.iter().any(|k| k.is_imaging())
    {
        Err(Problem::NeedsImaging)
    } else {
        Ok(())
    };
    e.add(Field::DeliveryMethod, method);
    if d.method == DeliveryMethod::PatientApp {
        e.add(
            Field::DeliveryAppName,
            check_text(&d.app_name, MAX_NAME_CHARS),
        );
    }
    if d.method == DeliveryMethod::Mail && req.recipient.is_none() {
        address(e, &d.address, Field::DeliveryAddress);
    }
    if let Some(recipient) = &req.recipient {
        e.add(Field::RecipientName, check_name(&recipient.name));
        let send_to = if d.method.is_electronic() {
            check_email(&recipient.send_to)
        } else {
            check_text(&recipient.send_to, MAX_TEXT_CHARS)
        };
        e.add(Field::RecipientSendTo, send_to);
    }
}

fn terms(e: &mut Errors, req: &RecordsRequest, today: Date) {
    let signed_on = check_date(&req.signed_on).and_then(|d| {
        if (d - today).abs() > Duration::days(1) {
            Err(Problem::NotToday)
        } else {
            Ok(d)
        }
    });
    if req.needs_authorization_terms() {
        let a = &req.authorization;
        e.add(
            Field::AuthorizationPurpose,
            optional(&a.purpose, |p| check_text(p, MAX_TEXT_CHARS)),
        );
        let expires = check_date(&a.expires_on).and_then(|d| {
            if d <= signed_on.unwrap_or(today) {
                Err(Problem::ExpiresTooSoon)
            } else {
                Ok(())
            }
        });
        e.add(Field::AuthorizationExpiresOn, expires);
    }
    let agreed = if req.consent.electronic_records {
        Ok(())
    } else {
        Err(Problem::MustAgree)
    };
    e.add(Field::ConsentElectronicRecords, agreed);
    let signature = check_name(&req.signature).and_then(|()| {
        if req.signature.to_lowercase() == req.signer_name().to_lowercase() {
            Ok(())
        } else {
            Err(Problem::SignatureMismatch)
        }
    });
    e.add(Field::Signature, signature);
    e.add(Field::SignedOn, signed_on.map(|_| ()));
}

fn address(e: &mut Errors, a: &Address, field: fn(AddressPart) -> Field) {
    e.add(
        field(AddressPart::Street),
        check_text(&a.street, MAX_NAME_CHARS),
    );
    e.add(field(AddressPart::City), check_text(&a.city, 100));
    e.add(field(AddressPart::State), check_text(&a.state, 50));
    let zip = check_text(&a.postal_code, 10).and_then(|()| {
        let digits = a.postal_code.chars().filter(char::is_ascii_digit).count();
        let allowed = a
            .postal_code
            .chars()
            .all(|c| c.is_ascii_digit() || c == '-');
        if allowed && (digits == 5 || digits == 9) {
            Ok(())
        } else {
            Err(Problem::InvalidCharacters)
        }
    });
    e.add(field(AddressPart::PostalCode), zip);
}

fn optional(s: &str, check: impl Fn(&str) -> Result<(), Problem>) -> Result<(), Problem> {
    if s.is_empty() { Ok(()) } else { check(s) }
}

/// Control characters, markup and template punctuation, and invisible
/// characters that change how text is displayed without showing themselves
/// ([`is_hidden_or_reordering`]).
fn has_bad_chars(s: &str) -> bool {
    s.chars().any(|c| {
        c.is_control() || matches!(c, '<' | '>' | '{' | '}' | '\\') || is_hidden_or_reordering(c)
    })
}

pub(super) fn check_name(name: &str) -> Result<(), Problem> {
    check_text(name, MAX_NAME_CHARS)
}

fn check_text(s: &str, max_chars: usize) -> Result<(), Problem> {
    if s.is_empty() {
        return Err(Problem::Required);
    }
    if s.chars().count() > max_chars {
        return Err(Problem::TooLong);
    }
    if has_bad_chars(s) {
        return Err(Problem::InvalidCharacters);
    }
    Ok(())
}

fn check_phone(s: &str) -> Result<(), Problem> {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    let allowed = s
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')' | '.'));
    if allowed && (7..=15).contains(&digits) {
        Ok(())
    } else {
        Err(Problem::InvalidPhone)
    }
}

fn check_mrn(s: &str) -> Result<(), Problem> {
    if s.chars().count() > 40 {
        return Err(Problem::TooLong);
    }
    if !s
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '-' | ' ' | '/'))
    {
        return Err(Problem::InvalidCharacters);
    }
    Ok(())
}

fn check_date(s: &str) -> Result<Date, Problem> {
    if s.is_empty() {
        return Err(Problem::Required);
    }
    let date = parse_date(s).ok_or(Problem::InvalidDate)?;
    if date.year() < 1900 {
        return Err(Problem::DateTooOld);
    }
    Ok(date)
}

fn check_past_date(s: &str, today: Date) -> Result<Date, Problem> {
    let date = check_date(s)?;
    if date > today {
        return Err(Problem::DateInFuture);
    }
    Ok(date)
}
