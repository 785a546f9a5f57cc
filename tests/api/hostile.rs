//! Hostile input through HTTP: each gets a clear 4xx with a stable code, and
//! nothing is stored. (Oversized, truncated, mistyped and unknown-field bodies
//! are in `errors.rs`; a client that never finishes its body in `http_surface.rs`.)

use recordpass_request::{DateRange, Lang};
use recordpass_tests::{SITE_ID, SITE_ORIGIN, TestVerifier};
use recordpass_verifier::store::Table;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::client::{Requester, ana_request};

/// POSTs raw bytes as JSON from the site's origin.
async fn post_raw(verifier: &TestVerifier, path: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let resp = reqwest::Client::new()
        .post(verifier.url(path))
        .header("Origin", SITE_ORIGIN)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .expect("sent");
    let status = resp.status();
    (status, resp.json().await.expect("a JSON error body"))
}

async fn nothing_stored(verifier: &TestVerifier) {
    for table in [Table::Submissions, Table::Ceremonies, Table::Passkeys] {
        assert_eq!(
            verifier.store.count(table).await.expect("count"),
            0,
            "{table:?}"
        );
    }
}

#[tokio::test]
async fn malformed_bodies_get_a_400_on_every_public_endpoint() {
    let verifier = TestVerifier::start().await;
    let deep = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend(
        json!({"site_id": SITE_ID, "email": "ana@example.org", "lang": "en"})
            .to_string()
            .bytes(),
    );
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("nested 20,000 deep", deep.into_bytes()),
        ("invalid UTF-8", b"{\"site_id\": \"\xC3\x28\xFF\"}".to_vec()),
        ("a NUL byte", b"{\"site_id\": \"demo\0\"}".to_vec()),
        ("a byte-order mark", bom),
        (
            "a duplicate key",
            br#"{"site_id": "demo", "site_id": "other", "email": "a@b.org", "lang": "en"}"#
                .to_vec(),
        ),
        (
            "a number where text goes",
            br#"{"site_id": 1e999, "email": [], "lang": {}}"#.to_vec(),
        ),
        ("an empty body", Vec::new()),
        ("a JSON string", br#""hello""#.to_vec()),
    ];
    for path in [
        "/api/v1/email-codes",
        "/api/v1/registrations",
        "/api/v1/signatures",
        "/api/v1/signatures/x/finish",
    ] {
        for (what, body) in &cases {
            let (status, reply) = post_raw(&verifier, path, body.clone()).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path}, {what}: {reply}");
            assert_eq!(reply["code"], "malformed_json", "{path}, {what}");
        }
    }
    nothing_stored(&verifier).await;
}

#[tokio::test]
async fn invisible_and_control_characters_in_names_are_refused_per_field() {
    let verifier = TestVerifier::start().await;
    let mut ana = Requester::new(&verifier);
    let credential_id = ana.register("ana@example.org").await;
    for (field, value) in [
        ("patient.legal_name", "Ana María \u{202E}zeréP"),
        ("patient.legal_name", "Ana\u{0007} María Pérez"),
        ("patient.legal_name", "Ana\u{2066}María\u{2069} Pérez"),
        ("patient.former_names[0]", "Ana\u{200B}Pérez"),
        ("patient.legal_name", "Ana Ma\u{00AD}ría Pérez"),
        ("patient.legal_name", "Ana \u{061C}María Pérez"),
        ("patient.former_names[0]", "Ana\u{2060}Pérez"),
        ("patient.former_names[0]", "Ana Pérez\u{E0041}\u{E007F}"),
    ] {
        let mut request = ana_request();
        match field {
            "patient.legal_name" => request.patient.legal_name = value.into(),
            _ => request.patient.former_names = vec![value.into()],
        }
        let (status, reply) = ana.start_signing(&request, &credential_id).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{value:?}: {reply}"
        );
        assert_eq!(reply["code"], "invalid_request");
        let fields = reply["fields"].as_array().expect("fields");
        assert!(
            fields
                .iter()
                .any(|f| f["field"] == field && f["problem"] == "invalid_characters"),
            "{value:?}: {reply}"
        );
    }
    assert_eq!(verifier.count(Table::Submissions).await, 0);
    assert_eq!(verifier.count(Table::Ceremonies).await, 0);
}

#[tokio::test]
async fn ten_thousand_date_ranges_are_cut_off_and_two_hundred_refused() {
    let verifier = TestVerifier::start().await;
    let mut ana = Requester::new(&verifier);
    let credential_id = ana.register("ana@example.org").await;
    let ranges = |n: usize| {
        let range = DateRange {
            start: "2020-01-01".into(),
            end: "2020-12-31".into(),
        };
        let mut request = ana_request();
        request.scope.all_dates = false;
        request.scope.date_ranges = vec![range; n];
        json!({"site_id": SITE_ID, "lang": Lang::En, "request": request, "credential_id": credential_id})
    };
    // Far over the body limit: refused before it is parsed.
    let (status, reply) = post_raw(
        &verifier,
        "/api/v1/signatures",
        ranges(10_000).to_string().into_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{reply}");
    assert_eq!(reply["code"], "payload_too_large");
    // Within the body limit but more ranges than a request may have: a field error.
    let (status, reply) = post_raw(
        &verifier,
        "/api/v1/signatures",
        ranges(200).to_string().into_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{reply}");
    assert_eq!(reply["fields"][0]["field"], "scope.date_ranges", "{reply}");
    assert_eq!(reply["fields"][0]["problem"], "too_long", "{reply}");
    assert_eq!(verifier.count(Table::Ceremonies).await, 0);
}

#[tokio::test]
async fn every_json_operation_refuses_a_body_over_64_kib_before_reading_it() {
    let verifier = TestVerifier::start().await;
    let document: Value =
        serde_json::from_str(include_str!("../../docs/api/openapi.json")).expect("document");
    let mut body = br#"{"site_id":""#.to_vec();
    body.extend(std::iter::repeat_n(b'a', 70 * 1024));
    body.extend(br#""}"#);
    let console = verifier.config.console_origin();
    let mut checked = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        let json_body = &item["post"]["requestBody"]["content"]["application/json"];
        if json_body.is_null() {
            continue;
        }
        let path = path.replace("{id}", "x").replace("{site}", SITE_ID);
        let origin = if path.starts_with("/console") {
            console.as_str()
        } else {
            SITE_ORIGIN
        };
        let resp = reqwest::Client::new()
            .post(verifier.url(&path))
            .header("Origin", origin)
            .header("Content-Type", "application/json")
            .body(body.clone())
            .send()
            .await
            .expect("sent");
        let status = resp.status();
        let reply: Value = resp.json().await.expect("a JSON error body");
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{path}: {reply}");
        assert_eq!(reply["code"], "payload_too_large", "{path}");
        checked.push(path);
    }
    // The requester API's eight and the console's four sign-in and enrolment operations.
    assert_eq!(checked.len(), 12, "{checked:?}");
    nothing_stored(&verifier).await;
}

#[tokio::test]
async fn a_nul_character_in_an_id_gets_a_4xx_on_either_database() {
    // PostgreSQL cannot store NUL in text (SQLSTATE 22021); SQLite can: both
    // must answer as for any other bad id, never with a server error.
    let verifier = TestVerifier::start().await;
    let nul_body = serde_json::to_vec(&json!({"credential": {}})).expect("json");
    let start = serde_json::to_vec(&json!({
        "site_id": SITE_ID, "lang": Lang::En, "request": ana_request(),
        "credential_id": "abc\u{0}def",
    }))
    .expect("json");
    for (path, body) in [
        (
            "/api/v1/email-codes/a%00b/verify",
            br#"{"code":"123456"}"#.to_vec(),
        ),
        ("/api/v1/signatures/a%00b/finish", nul_body.clone()),
        ("/api/v1/registrations/a%00b/finish", nul_body),
        ("/api/v1/signatures", start),
    ] {
        let (status, body) = post_raw(&verifier, path, body).await;
        assert!(status.is_client_error(), "{path}: {status} {body}");
        assert_ne!(body["code"], "internal", "{path}: {body}");
    }
    nothing_stored(&verifier).await;
}
