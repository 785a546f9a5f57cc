//! Pages keep the widget release they embed across verifier upgrades: a
//! release that signs the same document keeps working, one that renders
//! another document format is told so before anything is signed.

use recordpass_request::{DOCUMENT_FORMAT, Lang};
use recordpass_tests::{SITE_ID, TestVerifier};
use recordpass_verifier::store::Table;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::client::{Requester, ana_request, site_origin};

/// The start of signing as a widget release sends it: with its document
/// format, or (releases before the field) without one.
fn start_body(credential_id: &str, format: Option<&str>) -> Value {
    let mut body = json!({"site_id": SITE_ID, "lang": Lang::En, "request": ana_request(),
                          "credential_id": credential_id});
    if let Some(format) = format {
        body["format"] = json!(format);
    }
    body
}

#[tokio::test]
async fn a_widget_rendering_another_document_format_is_refused_before_anything_is_signed() {
    let verifier = TestVerifier::start().await;
    let mut ana = Requester::new(&verifier);
    let credential_id = ana.register("ana@example.org").await;
    let ceremonies = verifier.count(Table::Ceremonies).await;

    let (status, refused) = ana
        .post(
            "/api/v1/signatures",
            &start_body(&credential_id, Some("recordpass.request.v1")),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["code"], "widget_outdated");
    assert_eq!(
        verifier.count(Table::Ceremonies).await,
        ceremonies,
        "nothing started"
    );

    // The current release, and one from before the field: both sign.
    for format in [Some(DOCUMENT_FORMAT), None] {
        let (status, started) = ana
            .post("/api/v1/signatures", &start_body(&credential_id, format))
            .await;
        assert_eq!(status, StatusCode::OK, "{format:?}: {started}");
        let started = serde_json::from_value(started).expect("SigningStarted");
        let assertion = ana.assert_from(site_origin(), &started);
        let (status, stored) = ana.finish_signing(&started.ceremony_id, &assertion).await;
        assert_eq!(status, StatusCode::CREATED, "{format:?}: {stored}");
    }
    assert_eq!(verifier.count(Table::Submissions).await, 2);
}
