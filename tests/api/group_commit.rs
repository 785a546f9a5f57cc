//! Group commit: signature finishes that wait for SQLite's single writer are
//! stored together in one durable transaction, one savepoint each. Nobody is
//! answered before that transaction commits, one finish that fails inside the
//! batch rolls back alone, and every other one is stored with its evidence.
//! (On PostgreSQL each finish commits on its own; the same outcomes hold.)

use std::time::Duration;

use futures_util::{StreamExt as _, stream::FuturesUnordered};
use recordpass_request::examples;
use recordpass_tests::{LOAD_LIMITS, TestDatabase, TestVerifier};
use recordpass_verifier::store::Table;
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::Row as _;

use crate::{
    client::{Requester, ana_request, site_origin},
    metrics::{scrape, value},
    uploads::{maya_request, uploaded},
};

const COMMITS: &str = "recordpass_submission_commits_total";

#[tokio::test]
async fn queued_finishes_share_one_commit_and_a_bad_one_fails_alone() {
    let verifier = TestVerifier::start_with_limits(LOAD_LIMITS).await;
    // One file, named by two of the requests: only one of them can claim it.
    let attachment = uploaded(&verifier, "poa.pdf", "application/pdf", examples::PROOF_PDF).await;
    let mut signed = Vec::new();
    for i in 0..8 {
        let mut requester = Requester::new(&verifier);
        let (email, request) = match i {
            0 | 5 => ("maya@example.org", maya_request(vec![attachment.clone()])),
            _ => ("ana@example.org", ana_request()),
        };
        let credential_id = requester.register(email).await;
        let started = requester.signing(&request, &credential_id).await;
        let body = requester.assert_from(site_origin(), &started);
        signed.push((requester, started.ceremony_id, body));
    }
    let commits_before = value(&scrape(&verifier).await.1, COMMITS);

    // Hold the writer's turn (as a long transaction would) while all eight
    // finishes verify and queue: none may be answered before its commit.
    let turn = verifier.store.writer_turn().await;
    let mut finishes: FuturesUnordered<_> = signed
        .iter()
        .map(|(requester, ceremony_id, body)| requester.finish_signing(ceremony_id, body))
        .collect();
    if turn.is_some() {
        let early = tokio::time::timeout(Duration::from_millis(1500), finishes.next()).await;
        assert!(early.is_err(), "answered before the commit: {early:?}");
    }
    drop(turn);
    let mut answers: Vec<(StatusCode, Value)> = Vec::new();
    while let Some(answer) = finishes.next().await {
        answers.push(answer);
    }

    // Seven stored; the second claim of the one file is refused on its own.
    let stored: Vec<&str> = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::CREATED)
        .map(|(_, body)| body["request_number"].as_str().expect("number"))
        .collect();
    assert_eq!(stored.len(), 7, "{answers:?}");
    let refused: Vec<&Value> = answers
        .iter()
        .filter(|(status, _)| *status != StatusCode::CREATED)
        .map(|(status, body)| {
            assert_eq!(*status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            body
        })
        .collect();
    assert_eq!(refused.len(), 1, "{answers:?}");
    assert_eq!(refused[0]["code"], "invalid_request", "{}", refused[0]);
    assert_eq!(refused[0]["fields"][0]["problem"], "file_not_uploaded");

    // Every acknowledged submission is in the database with its evidence; the
    // refused one left nothing but its ceremony, which it did not use up.
    assert_eq!(verifier.count(Table::Submissions).await, 7);
    for number in &stored {
        let evidence: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM submission_evidence WHERE request_number = $1",
        )
        .bind(*number)
        .fetch_one(verifier.store.pool())
        .await
        .expect("count");
        assert_eq!(evidence, 1, "{number}");
    }
    assert_eq!(verifier.count(Table::Ceremonies).await, 1);
    let claimed_by: Option<String> = sqlx::query("SELECT request_number FROM uploads")
        .fetch_one(verifier.store.pool())
        .await
        .expect("the upload")
        .get("request_number");
    assert!(
        claimed_by.as_deref().is_some_and(|n| stored.contains(&n)),
        "{claimed_by:?}"
    );

    // SQLite stored the queued finishes together; PostgreSQL one by one.
    let commits = value(&scrape(&verifier).await.1, COMMITS) - commits_before;
    match TestDatabase::from_env() {
        TestDatabase::Sqlite => assert!((1.0..=2.0).contains(&commits), "{commits} commits"),
        TestDatabase::Postgres => assert_eq!(commits, 7.0),
    }
}

/// The pool that stores submissions commits durably (`synchronous = FULL`,
/// 2); only ceremony starts go through the light connection.
#[tokio::test]
async fn submissions_are_written_by_connections_that_fsync_every_commit() {
    let verifier = TestVerifier::start().await;
    if TestDatabase::from_env() != TestDatabase::Sqlite {
        return;
    }
    // Three connections held at once: three different ones.
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut conn = verifier.store.pool().acquire().await.expect("connection");
        let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut *conn)
            .await
            .expect("pragma");
        assert_eq!(synchronous, 2, "synchronous = FULL");
        held.push(conn);
    }
}
