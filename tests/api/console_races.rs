//! Staff acting on the same request at the same moment: each change is
//! checked against the state the other left, on both backends.

use recordpass_tests::TestVerifier;
use recordpass_verifier::console::Role;
use reqwest::StatusCode;

use crate::client::{Requester, ana_request, site_origin};
use crate::console::{StaffClient, origin};

/// `n` requests signed by one requester; their numbers.
async fn signed(verifier: &TestVerifier, n: usize) -> Vec<String> {
    let mut ana = Requester::new(verifier);
    let credential_id = ana.register("ana@example.org").await;
    let mut numbers = Vec::new();
    for _ in 0..n {
        let started = ana.signing(&ana_request(), &credential_id).await;
        let body = ana.assert_from(site_origin(), &started);
        let (status, reply) = ana.finish_signing(&started.ceremony_id, &body).await;
        assert_eq!(status, StatusCode::CREATED, "{reply}");
        numbers.push(reply["request_number"].as_str().expect("number").to_owned());
    }
    numbers
}

/// Posts a console form with a CSRF token fetched beforehand, so two posts
/// can be sent at the same instant.
async fn post(
    staff: &StaffClient<'_>,
    csrf: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> StatusCode {
    let mut all = vec![("csrf", csrf)];
    all.extend_from_slice(fields);
    staff
        .http
        .post(staff.verifier.url(path))
        .header("Origin", origin(staff.verifier))
        .form(&all)
        .send()
        .await
        .expect("sent")
        .status()
}

pub(crate) async fn status_of(verifier: &TestVerifier, number: &str) -> String {
    sqlx::query_scalar("SELECT status FROM request_state WHERE request_number = $1")
        .bind(number)
        .fetch_one(verifier.store.pool())
        .await
        .expect("state")
}

/// One specialist fulfils while another denies: one of the two final
/// transitions applies, the other is refused as a conflict, and the request
/// stays in the winner's state.
#[tokio::test]
async fn racing_final_transitions_apply_only_one() {
    let verifier = TestVerifier::start().await;
    let hana = StaffClient::enrolled(&verifier, "hana@example.org", Role::Specialist).await;
    let ole = StaffClient::enrolled(&verifier, "ole@example.org", Role::Specialist).await;
    for number in signed(&verifier, 6).await {
        let path = format!("/console/requests/{number}/status");
        let (status, _) = hana.form(&path, &[("to", "in_review")]).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (hana_csrf, ole_csrf) = (hana.csrf().await, ole.csrf().await);
        let (fulfilled, denied) = tokio::join!(
            post(&hana, &hana_csrf, &path, &[("to", "fulfilled")]),
            post(
                &ole,
                &ole_csrf,
                &path,
                &[
                    ("to", "denied"),
                    ("text", "not our patient"),
                    ("reviewable", "no")
                ]
            ),
        );
        let winner = match (fulfilled, denied) {
            (StatusCode::SEE_OTHER, StatusCode::CONFLICT) => "fulfilled",
            (StatusCode::CONFLICT, StatusCode::SEE_OTHER) => "denied",
            other => panic!("{number}: exactly one final transition applies, got {other:?}"),
        };
        assert_eq!(status_of(&verifier, &number).await, winner);
    }
}

/// A double-submitted extension form extends once.
#[tokio::test]
async fn racing_extensions_extend_once() {
    let verifier = TestVerifier::start().await;
    let hana = StaffClient::enrolled(&verifier, "hana@example.org", Role::Specialist).await;
    for number in signed(&verifier, 6).await {
        let path = format!("/console/requests/{number}/extension");
        let csrf = hana.csrf().await;
        let reason = ("reason", "records are in off-site storage");
        let (thirty, twenty) = ([("days", "30"), reason], [("days", "20"), reason]);
        let (first, second) = tokio::join!(
            post(&hana, &csrf, &path, &thirty),
            post(&hana, &csrf, &path, &twenty),
        );
        let mut codes = [first, second];
        codes.sort();
        assert_eq!(
            codes,
            [StatusCode::SEE_OTHER, StatusCode::CONFLICT],
            "{number}"
        );
        let notices: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM request_events WHERE request_number = $1 AND kind = 'extension'",
        )
        .bind(&number)
        .fetch_one(verifier.store.pool())
        .await
        .expect("count");
        assert_eq!(notices, 1, "{number}: one notice of extension");
    }
}

/// Two admins place a legal hold on the same request at the same instant,
/// then both lift it: each time one applies and the other is refused (409,
/// nothing changed), with one audit event each, never an error.
#[tokio::test]
async fn racing_legal_holds_place_and_lift_once() {
    let verifier = TestVerifier::start().await;
    let ada = StaffClient::enrolled(&verifier, "ada@example.org", Role::Admin).await;
    let bo = StaffClient::enrolled(&verifier, "bo@example.org", Role::Admin).await;
    let (ada_csrf, bo_csrf) = (ada.csrf().await, bo.csrf().await);
    let numbers = signed(&verifier, 6).await;
    for number in &numbers {
        for (action, fields) in [
            ("hold", &[("reason", "matter 1")][..]),
            ("hold/lift", &[][..]),
        ] {
            let path = format!("/console/requests/{number}/{action}");
            let outcome = tokio::join!(
                post(&ada, &ada_csrf, &path, fields),
                post(&bo, &bo_csrf, &path, fields),
            );
            assert!(
                matches!(
                    outcome,
                    (StatusCode::SEE_OTHER, StatusCode::CONFLICT)
                        | (StatusCode::CONFLICT, StatusCode::SEE_OTHER)
                ),
                "{number} {action}: exactly one applies, got {outcome:?}"
            );
        }
    }
    let held: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM legal_holds")
        .fetch_one(verifier.store.pool())
        .await
        .expect("count");
    assert_eq!(held, 0);
    for action in ["legal_hold_placed", "legal_hold_lifted"] {
        let events: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE event LIKE '%\"action\":\"{action}\"%'"
        ))
        .fetch_one(verifier.store.pool())
        .await
        .expect("count");
        assert_eq!(events, 6, "{action}: one per request");
    }
}
