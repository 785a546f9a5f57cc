//! The whole ceremony: create a passkey, sign a request, store it.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use recordpass_request::{
    Digest, Lang, Nonce, SignedDocument, SiteIdentity, api::Submitted, signing_challenge_b64,
};
use recordpass_tests::{LOAD_LIMITS, SITE_ID, TestVerifier};
use recordpass_verifier::store::Table;
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::client::{Requester, ana_request, site_origin};

#[tokio::test]
async fn signed_request_is_stored_with_evidence_that_covers_the_digest() {
    let verifier = TestVerifier::start().await;
    let mut ana = Requester::new(&verifier);
    let credential_id = ana.register("ana@example.org").await;

    let started = ana.signing(&ana_request(), &credential_id).await;
    // The verifier renders exactly what the widget renders from the same request.
    let site = SiteIdentity {
        id: SITE_ID.into(),
        name: "Riverside General Hospital".into(),
    };
    let request = ana_request()
        .validate(verifier.clock.now().date())
        .expect("valid");
    let local = SignedDocument::new(site, request, Lang::En);
    assert_eq!(started.document, local);
    assert_eq!(started.digest, local.digest());
    assert!(
        started
            .document
            .statement
            .contains("lab test results and immunization records")
    );

    let body = ana.assert_from(site_origin(), &started);
    let (status, reply) = ana.finish_signing(&started.ceremony_id, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    let submitted: Submitted = serde_json::from_value(reply).expect("Submitted");
    assert_eq!(submitted.digest, local.digest());
    assert!(submitted.request_number.starts_with("RP-"));

    let stored = verifier.store.submissions().await.expect("list");
    assert_eq!(stored.len(), 1);
    let s = &stored[0];
    assert_eq!(s.request_number, submitted.request_number);
    assert_eq!(s.credential_id, credential_id);
    assert!(s.user_verified);
    // The stored document is exactly the bytes whose SHA-256 is the digest…
    assert_eq!(hex_sha256(s.document.as_bytes()), s.digest);
    assert_eq!(s.document.as_bytes(), local.canonical_bytes());
    // …and the signed clientDataJSON carries the challenge derived from that digest.
    let client_data: Value = serde_json::from_slice(&s.client_data_json).expect("clientDataJSON");
    let digest = Digest::from_hex(&s.digest).expect("hex digest");
    let nonce = Nonce::from_b64(&s.nonce).expect("32-byte nonce");
    assert_eq!(
        client_data["challenge"],
        signing_challenge_b64(&digest, &nonce)
    );
    assert_eq!(client_data["type"], "webauthn.get");
    // (the software authenticator serialises the origin with a trailing slash)
    assert_eq!(
        client_data["origin"]
            .as_str()
            .map(|o| o.trim_end_matches('/')),
        Some("http://localhost:8081")
    );
    assert!(!s.signature.is_empty() && s.authenticator_data.len() >= 37);
    assert_eq!(
        verifier.count(Table::Ceremonies).await,
        0,
        "ceremonies are used up"
    );
}

#[tokio::test]
async fn retrying_a_successful_finish_returns_the_same_submission() {
    let verifier = TestVerifier::start().await;
    let mut ana = Requester::new(&verifier);
    let credential_id = ana.register("ana@example.org").await;
    let started = ana.signing(&ana_request(), &credential_id).await;
    let body = ana.assert_from(site_origin(), &started);

    let (first_status, first) = ana.finish_signing(&started.ceremony_id, &body).await;
    let (again_status, again) = ana.finish_signing(&started.ceremony_id, &body).await;
    assert_eq!(first_status, StatusCode::CREATED);
    assert_eq!(
        again_status,
        StatusCode::OK,
        "a retry is answered, not refused: {again}"
    );
    assert_eq!(first, again);
    assert_eq!(verifier.count(Table::Submissions).await, 1);
}

#[tokio::test]
async fn a_replayed_assertion_cannot_sign_another_ceremony() {
    let verifier = TestVerifier::start().await;
    let mut ana = Requester::new(&verifier);
    let credential_id = ana.register("ana@example.org").await;
    let first = ana.signing(&ana_request(), &credential_id).await;
    let captured = ana.assert_from(site_origin(), &first);
    let (status, _) = ana.finish_signing(&first.ceremony_id, &captured).await;
    assert_eq!(status, StatusCode::CREATED);

    // Same request, new ceremony: a fresh nonce means a fresh challenge.
    let second = ana.signing(&ana_request(), &credential_id).await;
    assert_eq!(second.digest, first.digest);
    assert_ne!(
        second.options.public_key.challenge,
        first.options.public_key.challenge
    );
    let (status, body) = ana.finish_signing(&second.ceremony_id, &captured).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "passkey_rejected");
    assert_eq!(verifier.count(Table::Submissions).await, 1);
    // The failed attempt used the ceremony up.
    let honest = ana.assert_from(site_origin(), &second);
    let (status, body) = ana.finish_signing(&second.ceremony_id, &honest).await;
    assert_eq!(status, StatusCode::GONE, "{body}");
    assert_eq!(body["code"], "ceremony_expired");
}

#[tokio::test]
async fn an_assertion_over_a_different_document_is_rejected() {
    let verifier = TestVerifier::start().await;
    let mut ana = Requester::new(&verifier);
    let credential_id = ana.register("ana@example.org").await;
    let mut started = ana.signing(&ana_request(), &credential_id).await;
    // A compromised page swaps the challenge for one over another document.
    let other = Digest::of(b"a different request");
    let forged = signing_challenge_b64(&other, &started.nonce);
    started.options.public_key.challenge = URL_SAFE_NO_PAD.decode(forged).expect("b64");
    let body = ana.assert_from(site_origin(), &started);
    let (status, reply) = ana.finish_signing(&started.ceremony_id, &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{reply}");
    assert_eq!(reply["code"], "passkey_rejected");
    assert_eq!(verifier.count(Table::Submissions).await, 0);
}

#[tokio::test]
async fn a_signature_counter_that_goes_backwards_is_refused() {
    // Two ceremonies started together snapshot the same stored counter, so
    // webauthn-rs alone accepts the older assertion if it arrives last. That
    // is what a cloned authenticator looks like: the verifier refuses it.
    let verifier = TestVerifier::start().await;
    let mut ana = Requester::new(&verifier);
    let credential_id = ana.register("ana@example.org").await;
    let first = ana.signing(&ana_request(), &credential_id).await;
    let second = ana.signing(&ana_request(), &credential_id).await;
    let older = ana.assert_from(site_origin(), &first);
    let newer = ana.assert_from(site_origin(), &second);

    let (status, body) = ana.finish_signing(&second.ceremony_id, &newer).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = ana.finish_signing(&first.ceremony_id, &older).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "passkey_counter_regressed");
    assert_eq!(verifier.count(Table::Submissions).await, 1);
    // The refused ceremony is used up, and the passkey keeps working forward.
    let (status, body) = ana.finish_signing(&first.ceremony_id, &older).await;
    assert_eq!(status, StatusCode::GONE, "{body}");
    let third = ana.signing(&ana_request(), &credential_id).await;
    let next = ana.assert_from(site_origin(), &third);
    let (status, body) = ana.finish_signing(&third.ceremony_id, &next).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn two_uses_of_one_passkey_finished_together_leave_the_newest_counter_stored() {
    // Both finishes read the passkey before verifying; whichever is stored
    // second finds it changed since and must apply its counter to the state
    // as it is then. Stored older-then-newer both are accepted; newer-then-
    // older the older is refused. Either way the newest counter is kept.
    let verifier = TestVerifier::start_with_limits(LOAD_LIMITS).await;
    let mut ana = Requester::new(&verifier);
    let credential_id = ana.register("ana@example.org").await;
    let mut accepted = 0;
    for round in 0..6 {
        let first = ana.signing(&ana_request(), &credential_id).await;
        let second = ana.signing(&ana_request(), &credential_id).await;
        let older = ana.assert_from(site_origin(), &first);
        let newer = ana.assert_from(site_origin(), &second);
        let ((s_old, b_old), (s_new, b_new)) = tokio::join!(
            ana.finish_signing(&first.ceremony_id, &older),
            ana.finish_signing(&second.ceremony_id, &newer),
        );
        assert!(
            s_old == StatusCode::CREATED
                || (s_old == StatusCode::CONFLICT && b_old["code"] == "passkey_counter_regressed"),
            "round {round}: {s_old} {b_old}"
        );
        assert!(
            s_new == StatusCode::CREATED
                || (s_new == StatusCode::CONFLICT && b_new["code"] == "passkey_counter_regressed"),
            "round {round}: {s_new} {b_new}"
        );
        accepted +=
            usize::from(s_old == StatusCode::CREATED) + usize::from(s_new == StatusCode::CREATED);
        assert_eq!(
            stored_counter(&verifier, &credential_id).await,
            assertion_counter(&newer),
            "round {round}: the newest use's counter is stored ({s_old} then {s_new})"
        );
    }
    assert!(accepted >= 6, "at least one use per round is stored");
    assert_eq!(verifier.count(Table::Submissions).await, accepted as i64);
}

/// The signature counter in an assertion's authenticator data (bytes 33..37)
/// of a signing or sign-in finish's body.
pub(crate) fn assertion_counter(body: &Value) -> u64 {
    let data = body["credential"]["response"]["authenticatorData"]
        .as_str()
        .expect("authenticatorData");
    let bytes = URL_SAFE_NO_PAD.decode(data).expect("base64url");
    u64::from(u32::from_be_bytes(
        bytes[33..37].try_into().expect("4 bytes"),
    ))
}

/// The signature counter webauthn-rs keeps for `credential_id`.
pub(crate) async fn stored_counter(verifier: &TestVerifier, credential_id: &str) -> u64 {
    let stored: String =
        sqlx::query_scalar("SELECT passkey FROM passkeys WHERE credential_id = $1")
            .bind(credential_id)
            .fetch_one(verifier.store.pool())
            .await
            .expect("passkey");
    let passkey: Value = serde_json::from_str(&stored).expect("json");
    passkey
        .pointer("/cred/counter")
        .and_then(Value::as_u64)
        .expect("webauthn-rs keeps the counter at /cred/counter")
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn passkey_creation_requires_user_verification_and_prefers_a_discoverable_credential() {
    let verifier = TestVerifier::start().await;
    let ana = Requester::new(&verifier);
    let started = ana.start_registration("ana@example.org").await;
    let options = serde_json::to_value(&started.options).expect("serialises");
    let selection = &options["publicKey"]["authenticatorSelection"];
    assert_eq!(selection["userVerification"], "required", "{options}");
    assert_eq!(selection["residentKey"], "preferred", "{options}");
    // Synced passkeys (iCloud, Google) must work: no attestation is demanded.
    assert_eq!(options["publicKey"]["attestation"], "none", "{options}");
}
