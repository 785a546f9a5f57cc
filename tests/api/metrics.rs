//! Prometheus metrics, scraped from the separate metrics listener.

use recordpass_tests::TestVerifier;
use reqwest::StatusCode;
use std::{collections::HashMap, time::Duration};

use crate::client::{Requester, ana_request, site_origin};

/// Samples by series (`name{labels}`), from one scrape.
pub(crate) async fn scrape(verifier: &TestVerifier) -> (String, HashMap<String, f64>) {
    let resp = reqwest::get(&verifier.metrics_url).await.expect("scraped");
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("application/openmetrics-text")
    );
    let text = resp.text().await.expect("body");
    let samples = text
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            Some((series.to_owned(), value.parse().ok()?))
        })
        .collect();
    (text, samples)
}

pub(crate) fn value(samples: &HashMap<String, f64>, series: &str) -> f64 {
    samples.get(series).copied().unwrap_or(0.0)
}

/// Scrapes until `series` reaches `wanted` (emails are sent in the background).
async fn wait_for(verifier: &TestVerifier, series: &str, wanted: f64) {
    for _ in 0..200 {
        if value(&scrape(verifier).await.1, series) == wanted {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{series} never reached {wanted}");
}

const FINISH_SIGNING: &str = r#"route="/api/v1/signatures/{id}/finish""#;

#[tokio::test]
async fn a_submission_moves_the_counters_and_labels_hold_no_identifiers() {
    let verifier = TestVerifier::start().await;
    let (_, before) = scrape(&verifier).await;
    assert_eq!(value(&before, "recordpass_submissions_total"), 0.0);
    assert_eq!(value(&before, "recordpass_overdue_requests"), 0.0);

    let mut ana = Requester::new(&verifier);
    let sent = ana.code_sent("ana@example.org").await;
    let code = verifier.smtp.take_for("ana@example.org").await.code();
    let wrong = if code.as_deref() == Some("000000") {
        "111111"
    } else {
        "000000"
    };
    let (status, _) = ana.verify_code(&sent.verification_id, wrong).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let credential_id = ana.register("ana@example.org").await;
    let started = ana.signing(&ana_request(), &credential_id).await;
    let body = ana.assert_from(site_origin(), &started);
    let (status, reply) = ana.finish_signing(&started.ceremony_id, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    let number = reply["request_number"].as_str().expect("number").to_owned();
    let nothing = reqwest::get(verifier.url("/no/such/RP-PATH"))
        .await
        .expect("sent");
    assert_eq!(nothing.status(), StatusCode::NOT_FOUND);
    wait_for(
        &verifier,
        r#"recordpass_email_deliveries_total{outcome="sent"}"#,
        2.0,
    )
    .await;

    let (text, after) = scrape(&verifier).await;
    for (series, wanted) in [
        ("recordpass_submissions_total", 1.0),
        (
            r#"recordpass_ceremonies_total{ceremony="email_code",outcome="code_incorrect"}"#,
            1.0,
        ),
        (
            r#"recordpass_ceremonies_total{ceremony="email_code",outcome="ok"}"#,
            1.0,
        ),
        (
            r#"recordpass_ceremonies_total{ceremony="registration",outcome="ok"}"#,
            1.0,
        ),
        (
            r#"recordpass_ceremonies_total{ceremony="signing",outcome="ok"}"#,
            1.0,
        ),
        (
            &format!(
                r#"recordpass_http_requests_total{{method="POST",{FINISH_SIGNING},status="201"}}"#
            ),
            1.0,
        ),
        (
            &format!(
                r#"recordpass_http_request_duration_seconds_count{{method="POST",{FINISH_SIGNING}}}"#
            ),
            1.0,
        ),
        (
            r#"recordpass_http_requests_total{method="GET",route="(unmatched)",status="404"}"#,
            1.0,
        ),
        (r#"recordpass_queue_requests{status="received"}"#, 1.0),
        ("recordpass_overdue_requests", 0.0),
        (
            r#"recordpass_email_deliveries_total{outcome="failed"}"#,
            0.0,
        ),
    ] {
        assert_eq!(value(&after, series), wanted, "{series} in\n{text}");
    }
    for identifier in [
        number.as_str(),
        credential_id.as_str(),
        started.ceremony_id.as_str(),
        sent.verification_id.as_str(),
        "ana@example.org",
        "RP-PATH",
    ] {
        assert!(!text.contains(identifier), "{identifier} in\n{text}");
    }

    // Past its legal due date (30 days, or 60 with the one extension) the
    // open request counts as overdue.
    verifier.clock.advance(61 * 86_400);
    let (text, later) = scrape(&verifier).await;
    assert_eq!(
        value(&later, "recordpass_overdue_requests"),
        1.0,
        "overdue in\n{text}"
    );
}

#[tokio::test]
async fn a_relay_that_is_down_counts_as_failed_deliveries() {
    let mut verifier = TestVerifier::start().await;
    verifier.smtp.stop().await;
    let ana = Requester::new(&verifier);
    // The answer does not depend on delivery (it happens in the background).
    ana.code_sent("ana@example.org").await;
    wait_for(
        &verifier,
        r#"recordpass_email_deliveries_total{outcome="failed"}"#,
        1.0,
    )
    .await;
    let (_, samples) = scrape(&verifier).await;
    assert_eq!(
        value(
            &samples,
            r#"recordpass_email_deliveries_total{outcome="sent"}"#
        ),
        0.0
    );
}

#[tokio::test]
async fn metrics_are_not_on_the_public_listener() {
    let verifier = TestVerifier::start().await;
    let resp = reqwest::get(verifier.url("/metrics")).await.expect("sent");
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}
