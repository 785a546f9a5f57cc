//! Several verifier instances on one database, as behind a load balancer:
//! ceremonies live in the database, so any instance can finish what another
//! started, and each ceremony is consumed once however the finishes race.
//! (Run on both backends: `RECORDPASS_TEST_DATABASE=postgres` for PostgreSQL.)

use recordpass_request::api::Submitted;
use recordpass_tests::TestVerifier;
use recordpass_verifier::store::Table;
use reqwest::StatusCode;
use serde_json::Value;

use crate::client::{Requester, ana_request, site_origin};

#[tokio::test]
async fn a_ceremony_started_on_one_instance_finishes_on_another() {
    let one = TestVerifier::start().await;
    let two = one.another_instance().await;
    let mut ana = Requester::new(&one);
    let on_two = Requester::new(&two);

    // Passkey creation: started on one, finished on two.
    let started = ana.start_registration("ana@example.org").await;
    let credential = ana.passkey_registration(&started);
    let path = format!("/api/v1/registrations/{}/finish", started.ceremony_id);
    let (status, body) = on_two.post(&path, &credential).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let credential_id = body["credential_id"].as_str().expect("credential id");

    // Signing: started on two, finished on one.
    let started = on_two.signing(&ana_request(), credential_id).await;
    let assertion = ana.assert_from(site_origin(), &started);
    let (status, body) = ana.finish_signing(&started.ceremony_id, &assertion).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let submitted: Submitted = serde_json::from_value(body).expect("Submitted");

    // Both instances see the one stored request.
    for instance in [&one, &two] {
        let stored = instance
            .store
            .submission(&submitted.request_number)
            .await
            .expect("read")
            .expect("stored");
        assert_eq!(stored.digest, submitted.digest.to_hex());
        assert_eq!(stored.credential_id, credential_id);
    }
}

#[tokio::test]
async fn concurrent_finishes_of_one_ceremony_store_one_request() {
    let one = TestVerifier::start().await;
    let two = one.another_instance().await;
    let mut ana = Requester::new(&one);
    let on_two = Requester::new(&two);
    let credential_id = ana.register("ana@example.org").await;

    const ROUNDS: usize = 6;
    for round in 0..ROUNDS {
        let started = ana.signing(&ana_request(), &credential_id).await;
        // Even rounds: the same assertion sent twice (a retry racing the
        // original). Odd rounds: two different assertions of one challenge.
        let first = ana.assert_from(site_origin(), &started);
        let second = if round % 2 == 0 {
            first.clone()
        } else {
            ana.assert_from(site_origin(), &started)
        };
        let ((status_a, body_a), (status_b, body_b)) = tokio::join!(
            ana.finish_signing(&started.ceremony_id, &first),
            on_two.finish_signing(&started.ceremony_id, &second),
        );
        let answers = [(status_a, &body_a), (status_b, &body_b)];
        let created: Vec<&Value> = answers
            .iter()
            .filter(|(s, _)| *s == StatusCode::CREATED)
            .map(|(_, b)| *b)
            .collect();
        assert_eq!(
            created.len(),
            1,
            "round {round}: exactly one finish stores: {answers:?}"
        );
        let (other_status, other_body) = answers
            .iter()
            .find(|(s, _)| *s != StatusCode::CREATED)
            .expect("the other answer");
        if round % 2 == 0 {
            // The retry gets the original answer (if it came second) or is
            // refused (if it lost the race while the winner was committing).
            assert!(
                (*other_status == StatusCode::OK && *other_body == created[0])
                    || (*other_status == StatusCode::GONE
                        && other_body["code"] == "ceremony_expired"),
                "round {round}: {answers:?}"
            );
        } else {
            assert_eq!(
                *other_status,
                StatusCode::GONE,
                "round {round}: {answers:?}"
            );
            assert_eq!(other_body["code"], "ceremony_expired");
        }
    }
    let stored = one.count(Table::Submissions).await;
    assert_eq!(stored, ROUNDS as i64, "one request per ceremony");
    assert_eq!(two.count(Table::Ceremonies).await, 0);
}
