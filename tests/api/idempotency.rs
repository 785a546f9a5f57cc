//! Retries never duplicate a request: signing again with the same idempotency
//! key (after an answer was lost) returns the first submission.

use recordpass_request::{Lang, RecordsRequest, api::SigningStarted};
use recordpass_tests::{SITE_ID, TestVerifier};
use recordpass_verifier::store::Table;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::client::{Requester, ana_request, site_origin};
use crate::uploads::{maya_request, uploaded};

const KEY: &str = "draft-7f3c9a1e2b4d4c0a";

/// Starts a signing ceremony with `key`: the ceremony, or the refusal.
async fn start_with_key(
    ana: &mut Requester<'_>,
    request: &RecordsRequest,
    credential_id: &str,
    key: &str,
) -> Result<SigningStarted, (StatusCode, Value)> {
    let body = json!({"site_id": SITE_ID, "lang": Lang::En, "request": request,
                      "credential_id": credential_id, "idempotency_key": key});
    let (status, started) = ana.post("/api/v1/signatures", &body).await;
    if status != StatusCode::OK {
        return Err((status, started));
    }
    Ok(serde_json::from_value(started).expect("SigningStarted"))
}

/// Starts a signing ceremony with `key`, signs it and finishes it.
async fn sign_with_key(
    ana: &mut Requester<'_>,
    request: &RecordsRequest,
    credential_id: &str,
    key: &str,
) -> (StatusCode, Value) {
    match start_with_key(ana, request, credential_id, key).await {
        Ok(started) => {
            let assertion = ana.assert_from(site_origin(), &started);
            ana.finish_signing(&started.ceremony_id, &assertion).await
        }
        Err(refused) => refused,
    }
}

#[tokio::test]
async fn signing_again_with_the_same_key_returns_the_first_submission() {
    let verifier = TestVerifier::start().await;
    let mut ana = Requester::new(&verifier);
    let credential_id = ana.register("ana@example.org").await;
    let request = ana_request();

    let (status, first) = sign_with_key(&mut ana, &request, &credential_id, KEY).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    // The answer was lost; the widget prepares a new ceremony and the requester signs again.
    let (status, again) = sign_with_key(&mut ana, &request, &credential_id, KEY).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(
        again, first,
        "the same request number, digest and receipt time"
    );
    let count = || async { verifier.count(Table::Submissions).await };
    assert_eq!(count().await, 1);

    // The same key for a different request is refused, and stores nothing.
    let mut other = request.clone();
    other.patient.former_names = vec!["Ana Pérez Ruiz".into()];
    let (status, refused) = sign_with_key(&mut ana, &other, &credential_id, KEY).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["code"], "idempotency_key_reused");
    assert_eq!(count().await, 1);

    // A new key (a new request shown for signing) is a new submission.
    let (status, second) =
        sign_with_key(&mut ana, &request, &credential_id, "draft-0123456789abcdef").await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    assert_ne!(second["request_number"], first["request_number"]);
    assert_eq!(count().await, 2);
}

/// The first submission claimed the request's file: signing the same request
/// again with the same key does not ask for the file again, it gets that
/// submission. Without the key the file is still missing.
#[tokio::test]
async fn signing_again_a_request_whose_file_was_claimed_returns_the_first_submission() {
    let verifier = TestVerifier::start().await;
    let pdf = recordpass_request::examples::PROOF_PDF;
    let attachment = uploaded(&verifier, "poa.pdf", "application/pdf", pdf).await;
    let mut maya = Requester::new(&verifier);
    let credential_id = maya.register("maya@example.org").await;
    let request = maya_request(vec![attachment]);

    let (status, first) = sign_with_key(&mut maya, &request, &credential_id, KEY).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let (status, again) = sign_with_key(&mut maya, &request, &credential_id, KEY).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again, first);
    assert_eq!(verifier.count(Table::Submissions).await, 1);

    let other_key = "draft-0123456789abcdef";
    let (status, refused) = sign_with_key(&mut maya, &request, &credential_id, other_key).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["fields"][0]["problem"], "file_not_uploaded");
    assert_eq!(verifier.count(Table::Submissions).await, 1);
}

/// The answer to the second signing is lost too: retrying that finish with
/// the same assertion gets the first submission again, not "start again".
#[tokio::test]
async fn retrying_a_finish_answered_with_an_earlier_submission_gets_it_again() {
    let verifier = TestVerifier::start().await;
    let mut ana = Requester::new(&verifier);
    let credential_id = ana.register("ana@example.org").await;
    let request = ana_request();
    let (status, first) = sign_with_key(&mut ana, &request, &credential_id, KEY).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");

    let started = start_with_key(&mut ana, &request, &credential_id, KEY)
        .await
        .expect("started");
    let assertion = ana.assert_from(site_origin(), &started);
    for attempt in ["answered", "retried after a lost answer"] {
        let (status, reply) = ana.finish_signing(&started.ceremony_id, &assertion).await;
        assert_eq!(status, StatusCode::OK, "{attempt}: {reply}");
        assert_eq!(reply, first, "{attempt}");
    }
    assert_eq!(verifier.count(Table::Submissions).await, 1);

    // Another assertion on that used ceremony is still refused.
    let other = ana.assert_from(site_origin(), &started);
    let (status, reply) = ana.finish_signing(&started.ceremony_id, &other).await;
    assert_eq!(status, StatusCode::GONE, "{reply}");
}

#[tokio::test]
async fn keys_are_per_requester_and_must_be_well_formed() {
    let verifier = TestVerifier::start().await;
    let mut ana = Requester::new(&verifier);
    let ana_credential = ana.register("ana@example.org").await;
    let (status, reply) = sign_with_key(&mut ana, &ana_request(), &ana_credential, KEY).await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    // Another requester who happens to send the same key gets their own submission.
    let mut twin = Requester::new(&verifier);
    let twin_credential = twin.register("ana@example.org").await;
    let (status, reply) = sign_with_key(&mut twin, &ana_request(), &twin_credential, KEY).await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");

    for bad in [
        "short",
        "has spaces in it here",
        &"x".repeat(65),
        "ümlaut-ümlaut-ümlaut",
    ] {
        let (status, reply) = sign_with_key(&mut ana, &ana_request(), &ana_credential, bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {reply}");
        assert_eq!(reply["code"], "malformed_json", "{bad}");
    }
    assert_eq!(verifier.count(Table::Submissions).await, 2);
}
