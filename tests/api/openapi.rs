//! The OpenAPI contract: served as committed, and every documented operation
//! is really served and answers with a status it documents.

use recordpass_tests::{SITE_ORIGIN, TestVerifier};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const COMMITTED: &str = include_str!("../../docs/api/openapi.json");

#[tokio::test]
async fn serves_the_committed_document() {
    let verifier = TestVerifier::start().await;
    let resp = reqwest::get(verifier.url("/openapi.json"))
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let served = resp.text().await.expect("body");
    assert!(
        served == COMMITTED,
        "GET /openapi.json differs from docs/api/openapi.json; regenerate it with\n  \
         cargo run -q -p recordpass-verifier -- openapi > docs/api/openapi.json"
    );
}

#[tokio::test]
async fn every_documented_operation_answers_as_documented() {
    let verifier = TestVerifier::start().await;
    let http = reqwest::Client::new();
    let spec: Value = serde_json::from_str(COMMITTED).expect("the document is JSON");
    let paths = spec["paths"].as_object().expect("paths");
    assert!(paths.len() >= 11, "{:?}", paths.keys());
    for (path, item) in paths {
        // Path parameters get a value no resource has.
        let url = verifier.url(&path.replace('{', "x-").replace('}', ""));
        for (method, operation) in item.as_object().expect("path item") {
            let method: Method = method.to_uppercase().parse().expect("method");
            let mut request = http
                .request(method.clone(), &url)
                .header("Origin", SITE_ORIGIN);
            if method == Method::POST {
                request = request.json(&json!({}));
            }
            let resp = request.send().await.expect("sent");
            let status = resp.status();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            let documented = &operation["responses"][status.as_str()];
            assert!(
                !documented.is_null(),
                "{method} {path} answered {status} {body}, which its operation does not document"
            );
        }
        // A routed path refuses other methods (405); an unrouted one is 404.
        // No operation uses PATCH.
        let resp = http.patch(&url).send().await.expect("sent");
        assert_eq!(
            resp.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{path} is documented but not routed"
        );
    }
}
