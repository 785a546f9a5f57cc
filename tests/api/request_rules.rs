//! The verifier applies the shared validation to the complete request:
//! every instrument is accepted, every invalid case is refused with the
//! field's path and problem, and nothing is stored for a refused request.

use recordpass_request::{
    DeliveryMethod, Lang, Recipient, RecordKind, SensitiveCategory, examples, upload::Attachment,
};
use recordpass_tests::TestVerifier;
use recordpass_verifier::store::Table;
use serde_json::{Value, json};

use crate::client::{Requester, dated, site_origin};

/// Starts signing `request` with a passkey bound to its requester's email.
async fn start(
    verifier: &TestVerifier,
    request: &recordpass_request::RecordsRequest,
) -> (u16, Value) {
    let mut requester = Requester::new(verifier);
    let credential_id = requester.register(&request.requester.email).await;
    requester.upload_attachments(request).await;
    let (status, body) = requester.start_signing(request, &credential_id).await;
    (status.as_u16(), body)
}

#[tokio::test]
async fn each_instrument_is_rendered_by_the_verifier() {
    let verifier = TestVerifier::start().await;
    let cases = [
        (
            examples::self_access(),
            "Request for access to health records",
        ),
        (
            examples::parent_directive(),
            "Send them to: Lincoln Elementary School nurse",
        ),
        (
            examples::representative_authorization(),
            "Who may receive it: Rivera & Cole LLP",
        ),
    ];
    for (request, expected) in cases {
        let (status, body) = start(&verifier, &dated(request)).await;
        assert_eq!(status, 200, "{body}");
        let statement = body["document"]["statement"].as_str().unwrap_or_default();
        assert!(statement.contains(expected), "{statement}");
        assert_eq!(body["document"]["format"], "recordpass.request.v3");
    }
}

#[tokio::test]
async fn invalid_requests_are_refused_with_the_field_path() {
    let verifier = TestVerifier::start().await;
    let cases: Vec<(&str, recordpass_request::RecordsRequest, Value)> = vec![
        (
            "end before start",
            {
                let mut r = dated(examples::parent_directive());
                r.scope.date_ranges[0].end = "2019-01-01".into();
                r
            },
            json!([{"field": "scope.date_ranges[0].end", "problem": "end_before_start"}]),
        ),
        (
            "no recipient address",
            {
                let mut r = dated(examples::parent_directive());
                r.recipient = Some(Recipient {
                    name: "School nurse".into(),
                    send_to: String::new(),
                });
                r
            },
            json!([{"field": "recipient.send_to", "problem": "required"}]),
        ),
        (
            "parent of an adult",
            {
                let mut r = dated(examples::parent_directive());
                r.patient.date_of_birth = "1990-01-01".into();
                r
            },
            json!([{"field": "patient.date_of_birth", "problem": "not_a_minor"}]),
        ),
        (
            "representative without authority",
            {
                let mut r = dated(examples::representative_authorization());
                r.requester.authority.clear();
                r
            },
            json!([{"field": "requester.authority", "problem": "required"}]),
        ),
        (
            "executor without a copy of their letters",
            {
                let mut r = dated(examples::representative_authorization());
                r.requester.role = recordpass_request::Role::Executor;
                r.requester.attachments.clear();
                r
            },
            json!([{"field": "requester.attachments", "problem": "required"}]),
        ),
        (
            "authorization without expiry",
            {
                let mut r = dated(examples::representative_authorization());
                r.authorization.expires_on.clear();
                r
            },
            json!([{"field": "authorization.expires_on", "problem": "required"}]),
        ),
        (
            "no E-SIGN consent, wrong signature",
            {
                let mut r = dated(examples::self_access());
                r.consent.electronic_records = false;
                r.signature = "Someone Else".into();
                r
            },
            json!([
                {"field": "consent.electronic_records", "problem": "must_agree"},
                {"field": "signature", "problem": "signature_mismatch"},
            ]),
        ),
        (
            "signed on another day",
            {
                let mut r = examples::self_access();
                r.signed_on = "2001-01-01".into();
                r
            },
            json!([{"field": "signed_on", "problem": "not_today"}]),
        ),
        (
            "disc without imaging",
            {
                let mut r = dated(examples::self_access());
                r.delivery.method = DeliveryMethod::Disc;
                r
            },
            json!([{"field": "delivery.method", "problem": "needs_imaging"}]),
        ),
        (
            "mail without an address",
            {
                let mut r = dated(examples::self_access());
                r.delivery.method = DeliveryMethod::Mail;
                r
            },
            json!([
                {"field": "delivery.address.street", "problem": "required"},
                {"field": "delivery.address.city", "problem": "required"},
                {"field": "delivery.address.state", "problem": "required"},
                {"field": "delivery.address.postal_code", "problem": "required"},
            ]),
        ),
    ];
    assert_refused(&verifier, cases).await;
}

/// What a request may carry (a privacy officer's review): a minor's Part 2
/// records, psychotherapy notes with anything else, a guardian without proof.
#[tokio::test]
async fn what_a_request_may_not_carry_is_refused_with_the_field_path() {
    let verifier = TestVerifier::start().await;
    let cases: Vec<(&str, recordpass_request::RecordsRequest, Value)> = vec![
        (
            "a parent alone for a minor's substance-use records",
            {
                let mut r = dated(examples::parent_directive());
                r.recipient = None;
                r.delivery.method = DeliveryMethod::SecureDownload;
                r.scope.sensitive = vec![SensitiveCategory::SubstanceUse];
                r
            },
            json!([{"field": "scope.sensitive", "problem": "needs_minors_consent"}]),
        ),
        (
            "psychotherapy notes with other records",
            {
                let mut r = dated(examples::psychotherapy_notes());
                r.scope.record_kinds = vec![RecordKind::LabResults];
                r
            },
            json!([{"field": "scope.sensitive", "problem": "psychotherapy_notes_alone"}]),
        ),
        (
            "a legal guardian without the guardianship order",
            {
                let mut r = dated(examples::parent_directive());
                r.requester.relationship = "legal guardian".into();
                r
            },
            json!([{"field": "requester.attachments", "problem": "required"}]),
        ),
        (
            "a relationship in the requester's words, without proof",
            {
                let mut r = dated(examples::parent_directive());
                r.requester.relationship = "grandmother with custody".into();
                r
            },
            json!([{"field": "requester.attachments", "problem": "required"}]),
        ),
    ];
    assert_refused(&verifier, cases).await;
}

/// Each request is refused with exactly `fields`, and nothing is stored.
async fn assert_refused(
    verifier: &TestVerifier,
    cases: Vec<(&str, recordpass_request::RecordsRequest, Value)>,
) {
    for (what, request, fields) in cases {
        let (status, body) = start(verifier, &request).await;
        assert_eq!(status, 422, "{what}: {body}");
        assert_eq!(body["code"], "invalid_request", "{what}");
        assert_eq!(body["fields"], fields, "{what}");
    }
    let ceremonies = verifier.count(Table::Ceremonies).await;
    assert_eq!(ceremonies, 0, "nothing is stored for refused requests");
}

/// Psychotherapy notes asked for alone are signed as their own
/// authorization, to the requester, through to a stored request.
#[tokio::test]
async fn psychotherapy_notes_alone_are_signed_as_their_own_authorization() {
    let verifier = TestVerifier::start().await;
    let mut ana = Requester::new(&verifier);
    let credential_id = ana.register("ana@example.org").await;
    let request = dated(examples::psychotherapy_notes());
    let started = ana.signing(&request, &credential_id).await;
    let statement = &started.document.statement;
    assert!(
        statement.starts_with("Separate authorization for psychotherapy notes"),
        "{statement}"
    );
    for part in [
        "I, Ana María Pérez, am the patient",
        "Information to be disclosed: psychotherapy notes, from all dates.",
        "Who may receive it: me, as electronic copy through a secure download link",
        "This authorization expires on",
    ] {
        assert!(statement.contains(part), "{part} in:\n{statement}");
    }
    assert!(!statement.contains("Request for access"), "{statement}");
    assert_eq!(started.document.summary().instrument, "authorization");
    let body = ana.assert_from(site_origin(), &started);
    let (status, reply) = ana.finish_signing(&started.ceremony_id, &body).await;
    assert_eq!(status.as_u16(), 201, "{reply}");
    assert_eq!(verifier.count(Table::Submissions).await, 1);
}

/// A guardian's order, and a father's optional proof, are signed with the
/// request (named in the statement) and claimed by it.
#[tokio::test]
async fn parents_and_guardians_sign_with_their_proof_attached() {
    let verifier = TestVerifier::start().await;
    let proof = examples::representative_authorization()
        .requester
        .attachments;
    let mut luis = Requester::new(&verifier);
    let credential_id = luis.register("luis@example.org").await;
    for (relationship, lang, lead) in [
        (
            "legal guardian",
            Lang::En,
            "Proof of authority attached: power-of-attorney.pdf",
        ),
        (
            "padre",
            Lang::Es,
            "Prueba de autoridad adjunta: power-of-attorney.pdf",
        ),
    ] {
        let mut request = dated(examples::parent_directive());
        request.requester.relationship = relationship.into();
        request.requester.attachments = proof.clone();
        luis.upload_attachments(&request).await;
        let (status, body) = luis.start_signing_in(&request, &credential_id, lang).await;
        assert_eq!(status.as_u16(), 200, "{relationship}: {body}");
        let started: recordpass_request::api::SigningStarted =
            serde_json::from_value(body).expect("started");
        assert!(
            started.document.statement.contains(lead),
            "{relationship}: {}",
            started.document.statement
        );
        let files: &Vec<Attachment> = &started.document.request.requester.attachments;
        assert_eq!(files, &proof, "{relationship}");
        let body = luis.assert_from(site_origin(), &started);
        let (status, reply) = luis.finish_signing(&started.ceremony_id, &body).await;
        assert_eq!(status.as_u16(), 201, "{relationship}: {reply}");
    }
    let claimed: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM uploads WHERE request_number IS NOT NULL")
            .fetch_one(verifier.store.pool())
            .await
            .expect("count");
    assert_eq!(claimed, 2, "each request claimed its file");
}

#[tokio::test]
async fn the_request_email_must_match_the_passkey() {
    let verifier = TestVerifier::start().await;
    let mut maya = Requester::new(&verifier);
    let credential_id = maya.register("maya@example.org").await;
    let mut request = dated(examples::representative_authorization());
    request.requester.email = "someone-else@example.org".into();
    maya.upload_attachments(&request).await;
    let (status, body) = maya.start_signing(&request, &credential_id).await;
    assert_eq!(status.as_u16(), 422, "{body}");
    assert_eq!(body["code"], "email_mismatch");
}

#[tokio::test]
async fn site_info_describes_what_the_site_offers() {
    let verifier = TestVerifier::start().await;
    let info: Value =
        reqwest::get(verifier.url(&format!("/api/v1/sites/{}", recordpass_tests::SITE_ID)))
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
    assert_eq!(info["record_kinds"].as_array().map(Vec::len), Some(10));
    assert!(
        info["delivery_methods"]
            .as_array()
            .is_some_and(|m| m.contains(&json!("secure_download")))
    );
    assert_eq!(info["adolescent_age"], 12);
    assert_eq!(info["languages"], json!(["en", "es"]));
}
