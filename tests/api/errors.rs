//! Bad input: each gets a 4xx with a stable code and a plain message, and changes nothing.

use recordpass_tests::{SITE_ID, TestVerifier};
use recordpass_verifier::store::Table;
use reqwest::StatusCode;
use serde_json::{Value, json};
use url::Url;

use crate::client::{Requester, ana_request, site_origin};

async fn nothing_stored(verifier: &TestVerifier) {
    assert_eq!(verifier.count(Table::Submissions).await, 0);
}

fn assert_error(status: StatusCode, body: &Value, want_status: u16, want_code: &str) {
    assert_eq!(status.as_u16(), want_status, "{body}");
    assert_eq!(body["code"], want_code, "{body}");
    let message = body["message"].as_str().expect("message");
    assert!(
        message.len() > 10 && !message.contains("sqlx"),
        "plain message: {message}"
    );
}

#[tokio::test]
async fn pages_from_unconfigured_origins_are_refused() {
    let verifier = TestVerifier::start().await;
    let mut ana = Requester::new(&verifier);
    let token = ana.email_token("ana@example.org").await;
    let registration = json!({"site_id": SITE_ID, "email_token": token, "display_name": "Ana"});
    let code = json!({"site_id": SITE_ID, "email": "ana@example.org", "lang": "en"});
    for origin in [
        Some("https://evil.example"),
        Some("http://localhost:8082"),
        None,
    ] {
        let (status, reply) = ana
            .post_from(origin, "/api/v1/registrations", &registration)
            .await;
        assert_error(status, &reply, 403, "origin_not_allowed");
        let (status, reply) = ana.post_from(origin, "/api/v1/email-codes", &code).await;
        assert_error(status, &reply, 403, "origin_not_allowed");
    }
    assert_eq!(verifier.count(Table::Ceremonies).await, 0);

    let credential_id = ana.register("ana@example.org").await;
    let started = ana.signing(&ana_request(), &credential_id).await;
    let assertion = ana.assert_from(site_origin(), &started);
    let path = format!("/api/v1/signatures/{}/finish", started.ceremony_id);
    let (status, reply) = ana
        .post_from(Some("https://evil.example"), &path, &assertion)
        .await;
    assert_error(status, &reply, 403, "origin_not_allowed");
    nothing_stored(&verifier).await;
}

#[tokio::test]
async fn a_passkey_used_on_an_unconfigured_origin_is_refused() {
    let verifier = TestVerifier::start().await;
    let mut ana = Requester::new(&verifier);
    let credential_id = ana.register("ana@example.org").await;
    let started = ana.signing(&ana_request(), &credential_id).await;
    // Same RP ID, other port: the authenticator signs, the verifier must not accept it.
    let elsewhere = Url::parse("http://localhost:9999").expect("url");
    let assertion = ana.assert_from(elsewhere, &started);
    let (status, reply) = ana.finish_signing(&started.ceremony_id, &assertion).await;
    assert_error(status, &reply, 403, "origin_not_allowed");
    nothing_stored(&verifier).await;
}

#[tokio::test]
async fn expired_and_used_ceremonies_are_refused() {
    let verifier = TestVerifier::start().await;
    let mut ana = Requester::new(&verifier);

    let started = ana.start_registration("ana@example.org").await;
    let credential = ana.passkey_registration(&started);
    verifier.clock.advance(301);
    let path = format!("/api/v1/registrations/{}/finish", started.ceremony_id);
    let (status, reply) = ana.post(&path, &credential).await;
    assert_error(status, &reply, 410, "ceremony_expired");
    assert_eq!(verifier.count(Table::Passkeys).await, 0);

    let started = ana.start_registration("ana@example.org").await;
    let credential = ana.passkey_registration(&started);
    let path = format!("/api/v1/registrations/{}/finish", started.ceremony_id);
    assert_eq!(ana.post(&path, &credential).await.0, StatusCode::OK);
    let (status, reply) = ana.post(&path, &credential).await;
    assert_error(status, &reply, 410, "ceremony_expired");

    let credential_id = ana.register("ana@example.org").await;
    let signing = ana.signing(&ana_request(), &credential_id).await;
    let assertion = ana.assert_from(site_origin(), &signing);
    verifier.clock.advance(301);
    let (status, reply) = ana.finish_signing(&signing.ceremony_id, &assertion).await;
    assert_error(status, &reply, 410, "ceremony_expired");
    let (status, reply) = ana.finish_signing("no-such-ceremony", &assertion).await;
    assert_error(status, &reply, 410, "ceremony_expired");
    nothing_stored(&verifier).await;
}

#[tokio::test]
async fn malformed_oversized_and_mistyped_bodies_are_refused() {
    let verifier = TestVerifier::start().await;
    let http = reqwest::Client::new();
    let url = verifier.url("/api/v1/signatures");
    let send = |body: Vec<u8>, content_type: &'static str| {
        http.post(&url)
            .header("Origin", "http://localhost:8081")
            .header("Content-Type", content_type)
            .body(body)
            .send()
    };
    let read = |resp: reqwest::Response| async move {
        let status = resp.status();
        (status, resp.json::<Value>().await.expect("json error body"))
    };

    let (status, body) = read(
        send(b"{\"site_id\": ".to_vec(), "application/json")
            .await
            .expect("sent"),
    )
    .await;
    assert_error(status, &body, 400, "malformed_json");
    let (status, body) = read(send(b"{}".to_vec(), "text/plain").await.expect("sent")).await;
    assert_error(status, &body, 415, "unsupported_media_type");
    let mut huge = br#"{"site_id":""#.to_vec();
    huge.extend(std::iter::repeat_n(b'a', 70 * 1024));
    huge.extend(br#""}"#);
    let (status, body) = read(send(huge, "application/json").await.expect("sent")).await;
    assert_error(status, &body, 413, "payload_too_large");
    let unknown_field = json!({"site_id": SITE_ID, "lang": "en", "request": ana_request(), "credential_id": "x", "admin": true});
    let (status, body) = read(
        send(unknown_field.to_string().into_bytes(), "application/json")
            .await
            .expect("sent"),
    )
    .await;
    assert_error(status, &body, 400, "malformed_json");
    nothing_stored(&verifier).await;
    assert_eq!(verifier.count(Table::Ceremonies).await, 0);
}

#[tokio::test]
async fn invalid_fields_are_reported_per_field() {
    let verifier = TestVerifier::start().await;
    let mut ana = Requester::new(&verifier);
    let credential_id = ana.register("ana@example.org").await;
    let mut request = ana_request();
    request.patient.date_of_birth = "2999-01-01".into();
    request.scope.record_kinds.clear();
    let (status, body) = ana.start_signing(&request, &credential_id).await;
    assert_error(status, &body, 422, "invalid_request");
    assert_eq!(
        body["fields"],
        json!([
            {"field": "patient.date_of_birth", "problem": "date_in_future"},
            {"field": "scope.record_kinds", "problem": "required"},
        ])
    );
    let (status, body) = ana.send_code("not-an-email").await;
    assert_error(status, &body, 422, "invalid_request");
    assert_eq!(body["fields"][0]["field"], "email");
    assert_eq!(verifier.count(Table::Ceremonies).await, 0);
}

#[tokio::test]
async fn the_passkey_must_belong_to_the_requests_email_and_site() {
    let verifier = TestVerifier::start().await;
    let mut ana = Requester::new(&verifier);
    let credential_id = ana.register("someone-else@example.org").await;
    let (status, body) = ana.start_signing(&ana_request(), &credential_id).await;
    assert_error(status, &body, 422, "email_mismatch");
    let (status, body) = ana.start_signing(&ana_request(), "bm90LWEta2V5").await;
    assert_error(status, &body, 400, "credential_unknown");
    let other_site = json!({"site_id": "nope", "lang": "en", "request": ana_request(), "credential_id": credential_id});
    let (status, body) = ana.post("/api/v1/signatures", &other_site).await;
    assert_error(status, &body, 404, "unknown_site");
    assert_eq!(verifier.count(Table::Ceremonies).await, 0);
}
