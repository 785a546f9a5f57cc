//! The verifier applies the shared validation to the complete request:
//! every instrument is accepted, every invalid case is refused with the
//! field's path and problem, and nothing is stored for a refused request.

use recordpass_request::{DeliveryMethod, Recipient, examples};
use recordpass_tests::TestVerifier;
use recordpass_verifier::store::Table;
use serde_json::{Value, json};

use crate::client::{Requester, dated};

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
    for (what, request, fields) in cases {
        let (status, body) = start(&verifier, &request).await;
        assert_eq!(status, 422, "{what}: {body}");
        assert_eq!(body["code"], "invalid_request", "{what}");
        assert_eq!(body["fields"], fields, "{what}");
    }
    let ceremonies = verifier.count(Table::Ceremonies).await;
    assert_eq!(ceremonies, 0, "nothing is stored for refused requests");
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
