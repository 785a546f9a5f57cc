//! Each validation rule, through the public API.

use time::{Date, macros::date};

use super::*;
use crate::{
    DateRange, DeliveryMethod, Lang, Recipient, RecordKind, Role, SensitiveCategory, examples,
};

const TODAY: Date = date!(2026 - 11 - 26);

fn problems(req: &RecordsRequest) -> Vec<(String, Problem)> {
    match req.validate(TODAY) {
        Ok(_) => Vec::new(),
        Err(errors) => errors
            .into_iter()
            .map(|e| (e.field.path(), e.problem))
            .collect(),
    }
}

fn one(path: &str, problem: Problem) -> Vec<(String, Problem)> {
    vec![(path.to_owned(), problem)]
}

#[test]
fn examples_are_valid_and_already_normal() {
    for req in [
        examples::self_access(),
        examples::parent_directive(),
        examples::representative_authorization(),
        examples::psychotherapy_notes(),
    ] {
        assert_eq!(req.validate(TODAY), Ok(req.clone()));
    }
}

#[test]
fn normalising_collapses_whitespace_and_drops_answers_that_do_not_apply() {
    let mut req = examples::self_access();
    req.patient.legal_name = "  Ana   María Pérez ".into();
    req.requester.email = "Ana@Example.ORG".into();
    req.requester.relationship = "mother".into();
    req.requester.name = "Someone Else".into();
    req.scope.record_kinds = vec![
        RecordKind::LabResults,
        RecordKind::VisitNotes,
        RecordKind::LabResults,
    ];
    req.delivery.app_name = "MyChart".into();
    req.authorization.purpose = "unused".into();
    let ok = req.validate(TODAY).expect("valid");
    assert_eq!(ok.patient.legal_name, "Ana María Pérez");
    assert_eq!(
        ok.requester.name, "Ana María Pérez",
        "self: the signer is the patient"
    );
    assert_eq!(ok.requester.email, "Ana@example.org");
    assert_eq!(ok.requester.relationship, "");
    assert_eq!(ok.delivery.app_name, "");
    assert_eq!(ok.authorization, Default::default());
    assert_eq!(
        ok.scope.record_kinds,
        vec![RecordKind::VisitNotes, RecordKind::LabResults]
    );
}

#[test]
fn an_empty_request_reports_each_required_field() {
    let paths: Vec<String> = problems(&RecordsRequest::default())
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    assert_eq!(
        paths,
        [
            "requester.email",
            "patient.legal_name",
            "patient.date_of_birth",
            "scope.record_kinds",
            "consent.electronic_records",
            "signature",
            "signed_on",
        ]
    );
}

#[test]
fn dates_of_birth_are_checked_against_the_calendar_and_today() {
    let with_dob = |d: &str| {
        let mut req = examples::self_access();
        req.patient.date_of_birth = d.into();
        problems(&req)
    };
    assert_eq!(
        with_dob("2023-02-29"),
        one("patient.date_of_birth", Problem::InvalidDate)
    );
    assert_eq!(
        with_dob("07/03/1984"),
        one("patient.date_of_birth", Problem::InvalidDate)
    );
    assert_eq!(
        with_dob("2026-11-27"),
        one("patient.date_of_birth", Problem::DateInFuture)
    );
    assert_eq!(
        with_dob("1899-12-31"),
        one("patient.date_of_birth", Problem::DateTooOld)
    );
    assert!(with_dob("2024-02-29").is_empty());
    let future = FieldError {
        field: Field::PatientDateOfBirth,
        problem: Problem::DateInFuture,
    };
    assert_eq!(
        future.message(Lang::En),
        "Date of birth can't be in the future."
    );
}

#[test]
fn date_ranges_need_both_ends_in_order() {
    let mut req = examples::self_access();
    req.scope.all_dates = false;
    assert_eq!(problems(&req), one("scope.date_ranges", Problem::Required));
    req.scope.date_ranges = vec![
        DateRange {
            start: "2020-01-01".into(),
            end: "2021-01-01".into(),
        },
        DateRange {
            start: "2022-05-01".into(),
            end: "2022-04-30".into(),
        },
        DateRange {
            start: "2027-01-01".into(),
            end: "".into(),
        },
    ];
    assert_eq!(
        problems(&req),
        vec![
            (
                "scope.date_ranges[1].end".to_owned(),
                Problem::EndBeforeStart
            ),
            (
                "scope.date_ranges[2].start".to_owned(),
                Problem::DateInFuture
            ),
            ("scope.date_ranges[2].end".to_owned(), Problem::Required),
        ]
    );
    let e = FieldError {
        field: Field::ScopeDateRangeEnd(1),
        problem: Problem::EndBeforeStart,
    };
    assert_eq!(e.message(Lang::En), "End date is before start date.");
    req.scope.all_dates = true;
    assert!(
        problems(&req).is_empty(),
        "ranges are ignored for all dates"
    );
}

#[test]
fn roles_need_their_own_details() {
    let mut parent = examples::parent_directive();
    parent.requester.relationship.clear();
    parent.patient.date_of_birth = "2000-01-01".into();
    assert_eq!(
        problems(&parent),
        vec![
            ("requester.relationship".to_owned(), Problem::Required),
            ("patient.date_of_birth".to_owned(), Problem::NotAMinor),
        ]
    );
    let mut rep = examples::representative_authorization();
    rep.requester.authority = "  ".into();
    rep.requester.name.clear();
    assert_eq!(
        problems(&rep),
        vec![
            ("requester.name".to_owned(), Problem::Required),
            ("requester.authority".to_owned(), Problem::Required),
            ("signature".to_owned(), Problem::SignatureMismatch),
        ]
    );
    let mut executor = examples::representative_authorization();
    executor.requester.role = Role::Executor;
    assert!(problems(&executor).is_empty());
    // Naming the document is not enough: a copy of it must be attached.
    for role in [Role::LegalRepresentative, Role::Executor] {
        let mut unproven = examples::representative_authorization();
        unproven.requester.role = role;
        unproven.requester.attachments.clear();
        assert_eq!(
            problems(&unproven),
            vec![("requester.attachments".to_owned(), Problem::Required)],
            "{role:?}"
        );
    }
}

#[test]
fn delivery_and_recipient_rules() {
    let mut req = examples::parent_directive();
    req.recipient = Some(Recipient::default());
    assert_eq!(
        problems(&req),
        vec![
            ("recipient.name".to_owned(), Problem::Required),
            ("recipient.send_to".to_owned(), Problem::Required),
        ]
    );
    let required = FieldError {
        field: Field::RecipientSendTo,
        problem: Problem::Required,
    };
    assert_eq!(
        required.message(Lang::En),
        "Add where the records should be sent."
    );
    let mut req = examples::parent_directive();
    req.delivery.method = DeliveryMethod::PickUp;
    assert_eq!(
        problems(&req),
        vec![
            ("delivery.method".to_owned(), Problem::NotForRecipient),
            // Not electronic, so no longer a directive: an authorization needs an end date.
            ("authorization.expires_on".to_owned(), Problem::Required),
        ]
    );
    let mut req = examples::parent_directive();
    if let Some(r) = &mut req.recipient {
        r.send_to = "12 Main St".into();
    }
    assert_eq!(
        problems(&req),
        one("recipient.send_to", Problem::InvalidEmail)
    );

    let mut req = examples::self_access();
    req.delivery.method = DeliveryMethod::Disc;
    assert_eq!(
        problems(&req),
        one("delivery.method", Problem::NeedsImaging)
    );
    req.scope.record_kinds.push(RecordKind::ImagingFiles);
    assert!(problems(&req).is_empty());
    req.delivery.method = DeliveryMethod::PatientApp;
    assert_eq!(problems(&req), one("delivery.app_name", Problem::Required));
    req.delivery.method = DeliveryMethod::Mail;
    req.delivery.address.street = "1 Oak Ave".into();
    req.delivery.address.postal_code = "6270".into();
    assert_eq!(
        problems(&req),
        vec![
            ("delivery.address.city".to_owned(), Problem::Required),
            ("delivery.address.state".to_owned(), Problem::Required),
            (
                "delivery.address.postal_code".to_owned(),
                Problem::InvalidCharacters
            ),
        ]
    );
}

#[test]
fn site_offers_limit_kinds_and_methods() {
    let offer = crate::SiteOffer {
        record_kinds: vec![RecordKind::LabResults],
        delivery_methods: vec![DeliveryMethod::Mail],
    };
    let errors = examples::self_access()
        .validate_for(TODAY, &offer)
        .expect_err("not offered");
    let got: Vec<_> = errors.iter().map(|e| (e.field, e.problem)).collect();
    assert_eq!(
        got,
        vec![
            (Field::ScopeRecordKinds, Problem::NotOffered),
            (Field::DeliveryMethod, Problem::NotOffered),
        ]
    );
}

#[test]
fn authorization_terms_consent_and_signature() {
    let mut req = examples::representative_authorization();
    req.authorization.expires_on = "2026-11-26".into();
    req.consent.electronic_records = false;
    req.signature = "maya   CHEN".into();
    req.signed_on = "2026-11-20".into();
    assert_eq!(
        problems(&req),
        vec![
            (
                "authorization.expires_on".to_owned(),
                Problem::ExpiresTooSoon
            ),
            ("consent.electronic_records".to_owned(), Problem::MustAgree),
            ("signed_on".to_owned(), Problem::NotToday),
        ],
        "the typed name matches regardless of case and spacing"
    );
    let mut psych = examples::psychotherapy_notes();
    psych.authorization.expires_on.clear();
    assert_eq!(
        problems(&psych),
        one("authorization.expires_on", Problem::Required)
    );
    let mut late = examples::self_access();
    late.signed_on = "2026-11-27".into();
    assert!(problems(&late).is_empty(), "a day of time-zone slack");
}

#[test]
fn phones_emails_and_names_reject_bad_input() {
    for bad in [
        "ana",
        "ana@",
        "@example.org",
        "ana@example",
        "a b@example.org",
        "ana@-x.org",
        // A right-to-left override or a zero-width space would make the
        // address read differently in the statement from what it is.
        "ana@exa\u{202E}gro.elpm",
        "an\u{200B}a@example.org",
        // Local parts a mailer refuses: no code could ever be sent there.
        "jane.@example.com",
        "jane..doe@example.com",
        "a(b)@example.com",
        "a@b@example.com",
    ] {
        let mut req = examples::self_access();
        req.requester.email = bad.into();
        assert_eq!(
            problems(&req),
            one("requester.email", Problem::InvalidEmail),
            "{bad}"
        );
    }
    let mut req = examples::self_access();
    req.patient.phone = "call me".into();
    req.patient.legal_name = "Ana <script>".into();
    req.signature = "Ana <script>".into();
    req.patient.former_names = vec!["x".repeat(201)];
    assert_eq!(
        problems(&req),
        vec![
            ("patient.legal_name".to_owned(), Problem::InvalidCharacters),
            ("patient.former_names[0]".to_owned(), Problem::TooLong),
            ("patient.phone".to_owned(), Problem::InvalidPhone),
            ("signature".to_owned(), Problem::InvalidCharacters),
        ]
    );
}

#[test]
fn invisible_direction_and_control_characters_are_refused_in_names() {
    for bad in [
        "Ana \u{202E}zeréP",
        "Ana\u{2066}María\u{2069}",
        "Ana\u{200F}",
        "Ana\u{0000}María",
        "Ana\u{200B}María",
        "\u{FEFF}Ana",
    ] {
        let mut req = examples::self_access();
        req.patient.former_names = vec![bad.into()];
        assert_eq!(
            problems(&req),
            one("patient.former_names[0]", Problem::InvalidCharacters),
            "{bad:?}"
        );
    }
    // Accents, apostrophes, hyphens and non-Latin scripts are names like any other.
    for good in [
        "Zoë O'Brien-Núñez",
        "Nguyễn Thị Minh",
        "Мария Иванова",
        "张伟",
    ] {
        let mut req = examples::self_access();
        req.patient.former_names = vec![good.into()];
        assert_eq!(problems(&req), vec![], "{good}");
    }
}

#[test]
fn every_message_exists_in_both_languages_and_differs() {
    let fields = [
        Field::Email,
        Field::RequesterName,
        Field::RequesterRelationship,
        Field::RequesterAuthority,
        Field::PatientLegalName,
        Field::PatientDateOfBirth,
        Field::ScopeRecordKinds,
        Field::ScopeDateRanges,
        Field::ScopeDateRangeEnd(0),
        Field::DeliveryAppName,
        Field::DeliveryAddress(AddressPart::City),
        Field::RecipientName,
        Field::RecipientSendTo,
        Field::AuthorizationExpiresOn,
        Field::ConsentElectronicRecords,
        Field::Signature,
        Field::SignedOn,
    ];
    for field in fields {
        for problem in Problem::ALL {
            let e = FieldError { field, problem };
            assert!(!e.message(Lang::En).is_empty());
            assert_ne!(
                e.message(Lang::En),
                e.message(Lang::Es),
                "{field} {problem:?}"
            );
        }
    }
}

#[test]
fn field_errors_serialise_with_paths() {
    let e = FieldError {
        field: Field::ScopeDateRangeEnd(0),
        problem: Problem::EndBeforeStart,
    };
    assert_eq!(
        serde_json::to_value(e).expect("serialises"),
        serde_json::json!({"field": "scope.date_ranges[0].end", "problem": "end_before_start"})
    );
}

#[test]
fn ages_count_whole_years() {
    assert_eq!(age_on(date!(2008 - 11 - 27), TODAY), 17);
    assert_eq!(age_on(date!(2008 - 11 - 26), TODAY), 18);
}

#[test]
fn proof_of_authority_files_are_checked_and_kept_for_everyone_but_the_patient() {
    let rep = examples::representative_authorization();
    assert!(problems(&rep).is_empty());
    assert_eq!(rep.normalized().requester.attachments.len(), 1);

    // A parent's files are kept (a mother or father may attach proof); a
    // patient's are dropped, not signed.
    let mut parent = examples::parent_directive();
    parent.requester.attachments = rep.requester.attachments.clone();
    assert_eq!(parent.normalized().requester.attachments.len(), 1);
    assert!(problems(&parent).is_empty());
    let mut patient = examples::self_access();
    patient.requester.attachments = rep.requester.attachments.clone();
    assert!(patient.normalized().requester.attachments.is_empty());

    let mut bad = rep.clone();
    bad.requester.attachments[0].name = "poa.exe".into();
    bad.requester.attachments.push(crate::upload::Attachment {
        size: 0,
        ..rep.requester.attachments[0].clone()
    });
    assert_eq!(
        problems(&bad),
        vec![
            ("requester.attachments[0]".to_owned(), Problem::InvalidFile),
            ("requester.attachments[1]".to_owned(), Problem::InvalidFile),
        ]
    );
    let mut many = rep.clone();
    many.requester.attachments = vec![rep.requester.attachments[0].clone(); 6];
    assert_eq!(
        problems(&many),
        vec![("requester.attachments[5]".to_owned(), Problem::TooLong)]
    );
    // Names are sanitised on the way in.
    let mut pathy = rep.clone();
    pathy.requester.attachments[0].name = "C:\\scans\\power-of-attorney.pdf".into();
    assert_eq!(pathy.normalized(), rep.normalized());
}

#[test]
fn a_guardian_or_other_relationship_must_attach_proof_and_a_mother_or_father_may() {
    let proof = examples::representative_authorization()
        .requester
        .attachments;
    for relationship in [
        "legal guardian",
        "Tutor(a) legal",
        "aunt with custody",
        "madrastra",
    ] {
        let mut req = examples::parent_directive();
        req.requester.relationship = relationship.into();
        assert_eq!(
            problems(&req),
            one("requester.attachments", Problem::Required),
            "{relationship}"
        );
        req.requester.attachments = proof.clone();
        assert!(problems(&req).is_empty(), "{relationship}");
    }
    for relationship in ["mother", "Father", "madre", "padre"] {
        let mut req = examples::parent_directive();
        req.requester.relationship = relationship.into();
        assert!(problems(&req).is_empty(), "{relationship}: optional");
    }
    // No relationship yet: that is what is missing, not the file.
    let mut req = examples::parent_directive();
    req.requester.relationship.clear();
    assert_eq!(
        problems(&req),
        one("requester.relationship", Problem::Required)
    );
    let e = FieldError {
        field: Field::RequesterAttachments,
        problem: Problem::Required,
    };
    assert!(
        e.message(Lang::En)
            .starts_with("Attach a copy of the document")
    );
}

#[test]
fn a_parent_alone_cannot_consent_to_release_a_minors_substance_use_records() {
    let mut req = examples::parent_directive();
    req.recipient = None;
    req.delivery.method = DeliveryMethod::SecureDownload;
    req.scope.sensitive = vec![SensitiveCategory::SubstanceUse];
    assert_eq!(
        problems(&req),
        one("scope.sensitive", Problem::NeedsMinorsConsent)
    );
    // Whatever else is opted in, and to whomever the records go.
    let mut third_party = examples::parent_directive();
    third_party.scope.sensitive = vec![
        SensitiveCategory::SubstanceUse,
        SensitiveCategory::MentalHealth,
    ];
    third_party.authorization.expires_on = "2027-11-26".into();
    assert_eq!(
        problems(&third_party),
        one("scope.sensitive", Problem::NeedsMinorsConsent)
    );
    // The minor (or any adult patient) may ask; a parent may ask for the rest.
    let mut own = examples::self_access();
    own.scope.sensitive = vec![SensitiveCategory::SubstanceUse];
    assert!(problems(&own).is_empty());
    req.scope.sensitive = vec![SensitiveCategory::MentalHealth];
    assert!(problems(&req).is_empty());
    let e = FieldError {
        field: Field::ScopeSensitive,
        problem: Problem::NeedsMinorsConsent,
    };
    assert!(e.message(Lang::En).contains("child's own consent"));
    assert!(
        e.message(Lang::Es)
            .contains("consentimiento del (de la) propio(a) menor")
    );
}

#[test]
fn psychotherapy_notes_are_asked_for_alone() {
    let alone = examples::psychotherapy_notes();
    assert!(problems(&alone).is_empty());
    let with_records = {
        let mut r = alone.clone();
        r.scope.record_kinds = vec![RecordKind::VisitNotes];
        r
    };
    let with_category = {
        let mut r = alone.clone();
        r.scope.sensitive.push(SensitiveCategory::MentalHealth);
        r
    };
    for req in [with_records, with_category] {
        assert_eq!(
            problems(&req),
            one("scope.sensitive", Problem::PsychotherapyNotesAlone)
        );
    }
    // Nothing at all is still nothing.
    let mut nothing = alone.clone();
    nothing.scope.sensitive.clear();
    assert_eq!(
        problems(&nothing),
        one("scope.record_kinds", Problem::Required)
    );
    // Alone, to someone else, on paper or electronically.
    let mut sent = examples::parent_directive();
    sent.scope = alone.scope.clone();
    sent.authorization.expires_on = "2027-11-26".into();
    assert!(problems(&sent).is_empty());
    let e = FieldError {
        field: Field::ScopeSensitive,
        problem: Problem::PsychotherapyNotesAlone,
    };
    assert!(e.message(Lang::En).contains("request of their own"));
}
