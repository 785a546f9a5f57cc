//! CORS, unknown routes and the widget asset routes.

use recordpass_tests::{SITE_ORIGIN, TestVerifier};
use reqwest::{Method, StatusCode};
use serde_json::Value;

#[tokio::test]
async fn cors_allows_only_configured_origins() {
    let verifier = TestVerifier::start().await;
    let http = reqwest::Client::new();
    let preflight = |origin: &'static str| {
        http.request(Method::OPTIONS, verifier.url("/api/v1/signatures"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "content-type")
            .send()
    };
    let allowed = preflight(SITE_ORIGIN).await.expect("sent");
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        SITE_ORIGIN
    );
    let refused = preflight("https://evil.example").await.expect("sent");
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_get_json_errors() {
    let verifier = TestVerifier::start().await;
    let http = reqwest::Client::new();
    let resp = http
        .get(verifier.url("/api/v1/nothing"))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        resp.json::<Value>().await.expect("json")["code"],
        "not_found"
    );
    let resp = http
        .get(verifier.url("/api/v1/signatures"))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        resp.json::<Value>().await.expect("json")["code"],
        "method_not_allowed"
    );
    let resp = http
        .get(verifier.url("/api/v1/sites/riverside"))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let site: Value = resp.json().await.expect("json");
    assert_eq!(site["him_phone"], "+1 (555) 010-0100");
}

#[tokio::test]
async fn widget_routes_say_not_found_until_the_widget_is_built() {
    let verifier = TestVerifier::start().await;
    let http = reqwest::Client::new();
    for path in [
        "/widget.js",
        "/embed.json",
        "/assets/recordpass_widget-0000.wasm",
    ] {
        let resp = http.get(verifier.url(path)).send().await.expect("sent");
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn the_demo_outbox_exists_only_in_demo_mode() {
    let verifier = TestVerifier::start().await;
    let http = reqwest::Client::new();
    let resp = http
        .get(verifier.url("/demo/outbox"))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        resp.json::<Value>().await.expect("json")["code"],
        "not_found"
    );

    let demo = TestVerifier::start_demo().await;
    let sent = http
        .post(demo.url("/api/v1/email-codes"))
        .header("Origin", SITE_ORIGIN)
        .json(
            &serde_json::json!({"site_id": "riverside", "email": "a&b@example.org", "lang": "es"}),
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(sent.status(), StatusCode::ACCEPTED);
    // The message is stored by a background task.
    let mut page = String::new();
    for _ in 0..50 {
        let resp = http
            .get(demo.url("/demo/outbox"))
            .send()
            .await
            .expect("sent");
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(
            resp.headers()["content-security-policy"],
            "default-src 'none'"
        );
        page = resp.text().await.expect("html");
        if page.contains("data-testid=\"message\"") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(page.contains("To: a&amp;b@example.org"), "{page}");
    assert!(
        page.contains("Su código para la solicitud de registros de Riverside General Hospital es ")
    );
    assert_eq!(demo.smtp.all().len(), 0, "demo mode sends nothing");
}
