//! Complete, valid example requests, one per instrument (and psychotherapy
//! notes, which are asked for alone), for documentation
//! and tests in every crate. All are signed on [`EXAMPLE_DATE`]; use
//! [`dated`] to move one to another day.

use time::{Date, Duration};

use crate::{
    Address, Authorization, Consent, DeliveryMethod, Patient, Recipient, RecordKind,
    RecordsRequest, Requester, Role, Scope, SensitiveCategory, SiteIdentity,
};

/// The day the examples are signed on.
pub const EXAMPLE_DATE: &str = "2026-11-26";

/// The example hospital.
pub fn site() -> SiteIdentity {
    SiteIdentity {
        id: "demo".into(),
        name: "Riverside General Hospital".into(),
    }
}

/// Ana asks for her own lab results and immunizations by secure download:
/// a right-of-access request.
pub fn self_access() -> RecordsRequest {
    RecordsRequest {
        requester: Requester {
            role: Role::Patient,
            name: "Ana María Pérez".into(),
            email: "ana@example.org".into(),
            ..Requester::default()
        },
        patient: Patient {
            legal_name: "Ana María Pérez".into(),
            date_of_birth: "1984-03-07".into(),
            ..Patient::default()
        },
        scope: Scope {
            record_kinds: vec![RecordKind::LabResults, RecordKind::Immunizations],
            ..Scope::default()
        },
        consent: Consent {
            electronic_records: true,
        },
        signature: "Ana María Pérez".into(),
        signed_on: EXAMPLE_DATE.into(),
        ..RecordsRequest::default()
    }
}

/// Luis, father of 11-year-old Sofía, has her immunizations for 2020–2024
/// emailed to her new school nurse: a directive.
pub fn parent_directive() -> RecordsRequest {
    let mut req = RecordsRequest {
        requester: Requester {
            role: Role::ParentOrGuardian,
            name: "Luis Gómez".into(),
            relationship: "father".into(),
            email: "luis@example.org".into(),
            phone: "555-010-0199".into(),
            ..Requester::default()
        },
        patient: Patient {
            legal_name: "Sofía Gómez Ruiz".into(),
            date_of_birth: "2015-06-01".into(),
            ..Patient::default()
        },
        recipient: Some(Recipient {
            name: "Lincoln Elementary School nurse".into(),
            send_to: "nurse@lincoln.example.org".into(),
        }),
        consent: Consent {
            electronic_records: true,
        },
        signature: "Luis Gómez".into(),
        signed_on: EXAMPLE_DATE.into(),
        ..RecordsRequest::default()
    };
    req.scope.record_kinds = vec![RecordKind::Immunizations];
    req.scope.all_dates = false;
    req.scope.date_ranges = vec![crate::DateRange {
        start: "2020-01-01".into(),
        end: "2024-12-31".into(),
    }];
    req.delivery.method = DeliveryMethod::Email;
    req
}

/// Maya, holding a health care power of attorney for her mother (attached:
/// [`PROOF_PDF`] as `power-of-attorney.pdf`), has paper copies including Part 2
/// records mailed to a law office: an authorization (and Part 2 consent).
pub fn representative_authorization() -> RecordsRequest {
    let mut req = RecordsRequest {
        requester: Requester {
            role: Role::LegalRepresentative,
            name: "Maya Chen".into(),
            authority: "health care power of attorney signed 2024-05-01".into(),
            email: "maya@example.org".into(),
            attachments: vec![crate::upload::Attachment::describe(
                "power-of-attorney.pdf",
                crate::upload::MediaType::Pdf,
                PROOF_PDF,
            )],
            ..Requester::default()
        },
        patient: Patient {
            legal_name: "Li Chen".into(),
            former_names: vec!["Li Wong".into()],
            date_of_birth: "1950-02-14".into(),
            address: Address {
                street: "12 Elm St".into(),
                city: "Springfield".into(),
                state: "IL".into(),
                postal_code: "62701".into(),
            },
            mrn: "MRN-448812".into(),
            ..Patient::default()
        },
        recipient: Some(Recipient {
            name: "Rivera & Cole LLP".into(),
            send_to: "200 Main St, Springfield, IL 62701".into(),
        }),
        authorization: Authorization {
            purpose: "legal advice about my mother's care".into(),
            expires_on: "2027-11-26".into(),
        },
        consent: Consent {
            electronic_records: true,
        },
        signature: "Maya Chen".into(),
        signed_on: EXAMPLE_DATE.into(),
        ..RecordsRequest::default()
    };
    req.scope.record_kinds = vec![RecordKind::CompleteRecord];
    req.scope.sensitive = vec![SensitiveCategory::SubstanceUse];
    req.delivery.method = DeliveryMethod::Mail;
    req
}

/// Ana asks for her own psychotherapy notes, and nothing else, by secure
/// download: their authorization alone (45 CFR 164.508(b)(3)(ii)).
pub fn psychotherapy_notes() -> RecordsRequest {
    let mut req = self_access();
    req.scope.record_kinds.clear();
    req.scope.sensitive = vec![SensitiveCategory::PsychotherapyNotes];
    req.authorization.expires_on = "2027-11-26".into();
    req
}

/// `req` signed on `today` instead, with any expiration a year later.
pub fn dated(mut req: RecordsRequest, today: Date) -> RecordsRequest {
    req.signed_on = today.to_string();
    if !req.authorization.expires_on.is_empty() {
        req.authorization.expires_on = (today + Duration::days(365)).to_string();
    }
    req
}

/// A small, valid one-page PDF (a stand-in for a scanned power of attorney).
pub const PROOF_PDF: &[u8] = include_bytes!("../fixtures/proof.pdf");
/// A small, valid 1×1 JPEG.
pub const PROOF_JPEG: &[u8] = include_bytes!("../fixtures/proof.jpg");
/// A small, valid 1×1 PNG.
pub const PROOF_PNG: &[u8] = include_bytes!("../fixtures/proof.png");
