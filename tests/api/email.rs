//! Email verification before a passkey is created, over real SMTP, and the
//! rate limits on the unauthenticated endpoints.

use recordpass_request::api::Submitted;
use recordpass_tests::{SITE_ID, TestVerifier};
use recordpass_verifier::db;
use recordpass_verifier::{store::Table, vault::Field};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Row as _;

use crate::client::{Requester, ana_request, site_origin, upload_file};

const ANA: &str = "ana@example.org";

/// The verifier's database, to look at raw rows.
fn raw_db(verifier: &TestVerifier) -> db::Pool {
    verifier.store.pool().clone()
}

async fn passkeys(verifier: &TestVerifier) -> i64 {
    verifier.count(Table::Passkeys).await
}

#[tokio::test]
async fn the_code_arrives_by_smtp_and_proves_the_address_for_a_signed_request() {
    let verifier = TestVerifier::start().await;
    let mut ana = Requester::new(&verifier);
    let sent = ana.code_sent(ANA).await;
    assert_eq!(sent.expires_in_secs, 600);

    let mail = verifier.smtp.take_for(ANA).await;
    assert_eq!(mail.from, "records@localhost");
    assert_eq!(mail.to, [ANA]);
    let text = mail.decoded();
    let code = mail.code().expect("a 6-digit code");
    // The subject, which lock screens show, names no hospital: for a
    // behavioural-health facility the name alone would disclose the relationship.
    assert!(text.contains("Subject: Your records request code\r\n"));
    assert!(text.contains("multipart/alternative") && text.contains("text/html"));
    assert!(text.contains(&format!(
        "Your Riverside General Hospital records request code is {code}. It expires in 10 \
         minutes. Do not share this code. Riverside General Hospital staff will never ask for \
         it. If you did not ask for this, ignore this email."
    )));
    let subject = text
        .lines()
        .find(|l| l.starts_with("Subject:"))
        .expect("subject");
    assert!(!subject.contains(&code), "the code is not in the subject");

    let (status, body) = ana.verify_code(&sent.verification_id, &code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["email_token"].as_str().expect("token").to_owned();
    assert_eq!(body["expires_in_secs"], 1800);
    let (status, body) = ana.start_registration_with(&token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let started = serde_json::from_value(body).expect("RegistrationStarted");
    let credential_id = ana.finish_registration(&started).await;

    let signing = ana.signing(&ana_request(), &credential_id).await;
    let assertion = ana.assert_from(site_origin(), &signing);
    let (status, reply) = ana.finish_signing(&signing.ceremony_id, &assertion).await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    let _: Submitted = serde_json::from_value(reply).expect("Submitted");

    // The requester row records when the address was verified; the code row is gone.
    let db = raw_db(&verifier);
    let row = sqlx::query("SELECT id, email, created_at, email_verified_at FROM requesters")
        .fetch_one(&db)
        .await
        .expect("requester");
    let sealed: String = row.get("email");
    assert!(!sealed.contains(ANA), "sealed at rest: {sealed}");
    let email = verifier
        .store
        .vault()
        .open(Field::RequesterEmail, row.get("id"), &sealed)
        .expect("opens");
    assert_eq!(email, ANA);
    let verified_at: Option<i64> = row.get("email_verified_at");
    let created_at: i64 = row.get("created_at");
    assert!(verified_at.is_some_and(|at| at <= created_at && at > created_at - 60));
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM email_verifications")
        .fetch_one(&db)
        .await
        .expect("count");
    assert_eq!(left, 0, "the used verification is deleted");
}

#[tokio::test]
async fn the_email_is_in_the_requesters_language() {
    let verifier = TestVerifier::start().await;
    let ana = Requester::new(&verifier);
    let body = json!({"site_id": SITE_ID, "email": ANA, "lang": "es"});
    let (status, reply) = ana.post("/api/v1/email-codes", &body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{reply}");
    let mail = verifier.smtp.take_for(ANA).await;
    let code = mail.code().expect("code");
    assert!(mail.decoded().contains(&format!(
        "Su código para la solicitud de registros de Riverside General Hospital es {code}. \
         Vence en 10 minutos."
    )));
    assert!(mail.data.contains("Content-Language: es"));
}

#[tokio::test]
async fn a_wrong_code_uses_an_attempt_and_changes_nothing_else() {
    let verifier = TestVerifier::start().await;
    let ana = Requester::new(&verifier);
    let sent = ana.code_sent(ANA).await;
    let code = verifier.smtp.take_for(ANA).await.code().expect("code");
    let wrong = wrong_code(&code);

    for (attempt, left) in [(1, 4), (2, 3)] {
        let (status, body) = ana.verify_code(&sent.verification_id, &wrong).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "attempt {attempt}: {body}");
        assert_eq!(body["code"], "code_incorrect");
        assert_eq!(body["attempts_left"], left);
    }
    let (status, body) = ana.verify_code(&sent.verification_id, "12a456").await;
    assert_eq!(
        (status, &body["attempts_left"]),
        (StatusCode::BAD_REQUEST, &json!(2))
    );
    assert_eq!(passkeys(&verifier).await, 0);
    assert_eq!(verifier.count(Table::Ceremonies).await, 0);

    let (status, body) = ana.verify_code(&sent.verification_id, &code).await;
    assert_eq!(status, StatusCode::OK, "the right code still works: {body}");
}

#[tokio::test]
async fn five_wrong_codes_lock_the_code_even_against_the_right_one() {
    let verifier = TestVerifier::start().await;
    let ana = Requester::new(&verifier);
    let sent = ana.code_sent(ANA).await;
    let code = verifier.smtp.take_for(ANA).await.code().expect("code");
    let wrong = wrong_code(&code);
    for _ in 0..4 {
        assert_eq!(
            ana.verify_code(&sent.verification_id, &wrong).await.0,
            StatusCode::BAD_REQUEST
        );
    }
    let (status, body) = ana.verify_code(&sent.verification_id, &wrong).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["code"], "too_many_attempts");
    let (status, body) = ana.verify_code(&sent.verification_id, &code).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["code"], "too_many_attempts");
    assert!(body.get("email_token").is_none());
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let verifier = TestVerifier::start().await;
    let ana = Requester::new(&verifier);
    let sent = ana.code_sent(ANA).await;
    let code = verifier.smtp.take_for(ANA).await.code().expect("code");
    verifier.clock.advance(601);
    let (status, body) = ana.verify_code(&sent.verification_id, &code).await;
    assert_eq!(status, StatusCode::GONE, "{body}");
    assert_eq!(body["code"], "code_expired");
    let (status, body) = ana.verify_code("no-such-verification", &code).await;
    assert_eq!(
        (status, &body["code"]),
        (StatusCode::GONE, &json!("code_expired"))
    );
}

#[tokio::test]
async fn a_code_and_its_token_are_single_use() {
    let verifier = TestVerifier::start().await;
    let mut ana = Requester::new(&verifier);
    let sent = ana.code_sent(ANA).await;
    let code = verifier.smtp.take_for(ANA).await.code().expect("code");
    let (status, body) = ana.verify_code(&sent.verification_id, &code).await;
    assert_eq!(status, StatusCode::OK);
    let token = body["email_token"].as_str().expect("token").to_owned();
    let (status, body) = ana.verify_code(&sent.verification_id, &code).await;
    assert_eq!(
        (status, &body["code"]),
        (StatusCode::GONE, &json!("code_expired"))
    );

    // Two ceremonies may start with one token (a retry after a cancelled
    // dialog), but only one registration can finish with it.
    let (status, first) = ana.start_registration_with(&token).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let (status, second) = ana.start_registration_with(&token).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let first = serde_json::from_value(first).expect("RegistrationStarted");
    ana.finish_registration(&first).await;
    let second = serde_json::from_value(second).expect("RegistrationStarted");
    let credential = ana.passkey_registration(&second);
    let path = format!("/api/v1/registrations/{}/finish", second.ceremony_id);
    let (status, body) = ana.post(&path, &credential).await;
    assert_eq!(
        (status, &body["code"]),
        (StatusCode::FORBIDDEN, &json!("email_not_verified"))
    );
    let (status, body) = ana.start_registration_with(&token).await;
    assert_eq!(
        (status, &body["code"]),
        (StatusCode::FORBIDDEN, &json!("email_not_verified"))
    );
    assert_eq!(passkeys(&verifier).await, 1);
}

#[tokio::test]
async fn registration_needs_a_valid_unexpired_token() {
    let verifier = TestVerifier::start().await;
    let ana = Requester::new(&verifier);
    for token in ["", "made-up-token"] {
        let (status, body) = ana.start_registration_with(token).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(body["code"], "email_not_verified");
    }
    let old_shape = json!({"site_id": SITE_ID, "email": ANA, "display_name": "Ana"});
    let (status, body) = ana.post("/api/v1/registrations", &old_shape).await;
    assert_eq!(
        (status, &body["code"]),
        (StatusCode::BAD_REQUEST, &json!("malformed_json"))
    );

    let token = ana.email_token(ANA).await;
    verifier.clock.advance(30 * 60 + 1);
    let (status, body) = ana.start_registration_with(&token).await;
    assert_eq!(
        (status, &body["code"]),
        (StatusCode::FORBIDDEN, &json!("email_not_verified"))
    );
    assert_eq!(verifier.count(Table::Ceremonies).await, 0);
}

#[tokio::test]
async fn every_address_gets_the_same_answer() {
    let verifier = TestVerifier::start().await;
    let mut ana = Requester::new(&verifier);
    ana.register(ANA).await;
    let shape = |body: &Value| {
        let mut keys: Vec<_> = body.as_object().expect("object").keys().cloned().collect();
        keys.sort();
        (
            keys,
            body["expires_in_secs"].clone(),
            body["verification_id"].as_str().map(str::len),
        )
    };
    let (known_status, known) = ana.send_code(ANA).await;
    let (new_status, unknown) = ana.send_code("nobody-yet@example.org").await;
    assert_eq!(known_status, StatusCode::ACCEPTED);
    assert_eq!(new_status, known_status);
    assert_eq!(shape(&known), shape(&unknown));
    assert_ne!(known["verification_id"], unknown["verification_id"]);
    // Both really get a code.
    verifier.smtp.take_for(ANA).await;
    verifier.smtp.take_for("nobody-yet@example.org").await;
}

#[tokio::test]
async fn codes_are_stored_only_as_keyed_hashes() {
    let verifier = TestVerifier::start().await;
    let ana = Requester::new(&verifier);
    let sent = ana.code_sent(ANA).await;
    let code = verifier.smtp.take_for(ANA).await.code().expect("code");
    let db = raw_db(&verifier);
    let row = sqlx::query("SELECT * FROM email_verifications WHERE id = $1")
        .bind(&sent.verification_id)
        .fetch_one(&db)
        .await
        .expect("row");
    let hash: Vec<u8> = row.get("code_hash");
    assert_eq!(hash.len(), 32, "HMAC-SHA256");
    let columns: Vec<String> = (0..row.len())
        .map(|i| {
            row.try_get::<Option<String>, _>(i)
                .ok()
                .flatten()
                .or_else(|| {
                    row.try_get::<Option<i64>, _>(i)
                        .ok()
                        .flatten()
                        .map(|n| n.to_string())
                })
                .or_else(|| row.try_get::<Option<Vec<u8>>, _>(i).ok().flatten().map(hex))
                .unwrap_or_default()
        })
        .collect();
    assert!(
        columns.iter().any(|c| c.starts_with("rp1:")) && !columns.contains(&ANA.to_owned()),
        "the address is sealed: {columns:?}"
    );
    for value in &columns {
        assert!(
            !value.contains(&code),
            "the code appears in the row: {value}"
        );
    }
    assert!(!String::from_utf8_lossy(&hash).contains(&code));
    let limits: Vec<String> = sqlx::query_scalar("SELECT bucket FROM rate_limit_events")
        .fetch_all(&db)
        .await
        .expect("buckets");
    assert_eq!(limits.len(), 2, "one per client, one per address");
    assert!(
        limits
            .iter()
            .all(|b| !b.contains("ana") && !b.contains("127.0.0.1"))
    );
}

#[tokio::test]
async fn an_address_gets_three_codes_per_quarter_hour() {
    let verifier = TestVerifier::start_with_limits("posts_burst = 200").await;
    let ana = Requester::new(&verifier);
    for _ in 0..3 {
        ana.code_sent(ANA).await;
    }
    let resp = ana
        .http
        .post(verifier.url("/api/v1/email-codes"))
        .header("Origin", recordpass_tests::SITE_ORIGIN)
        .json(&json!({"site_id": SITE_ID, "email": "ANA@example.org", "lang": "en"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = resp.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!(
        (1..=900).contains(&retry_after),
        "Retry-After {retry_after}"
    );
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["code"], "rate_limited");
    assert_eq!(verifier.smtp.count_after(200).await, 3, "no fourth email");

    ana.code_sent("someone-else@example.org").await;
    verifier.clock.advance(retry_after as i64);
    ana.code_sent(ANA).await;
}

#[tokio::test]
async fn many_code_requests_at_once_for_one_address_get_exactly_the_allowed_codes() {
    // Counted limits read a count and insert in one transaction; on
    // PostgreSQL concurrent transactions do not see each other's
    // uncommitted inserts, so each bucket is locked while it is counted.
    let verifier = TestVerifier::start_with_limits(
        "posts_burst = 1000\nposts_per_second = 1000\ncodes_per_client = 1000",
    )
    .await;
    let ana = Requester::new(&verifier);
    let answers =
        futures_util::future::join_all((0..40).map(|_| ana.send_code("ana@example.org"))).await;
    let accepted = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::ACCEPTED)
        .count();
    for (status, body) in &answers {
        assert!(
            *status == StatusCode::ACCEPTED
                || (*status == StatusCode::TOO_MANY_REQUESTS && body["code"] == "rate_limited"),
            "{status} {body}"
        );
    }
    assert_eq!(accepted, 3, "codes_per_address");
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM email_verifications")
        .fetch_one(&raw_db(&verifier))
        .await
        .expect("count");
    assert_eq!(stored, 3, "three codes, each with its own guesses");
}

#[tokio::test]
async fn a_client_gets_a_limited_number_of_codes() {
    let verifier = TestVerifier::start_with_limits("posts_burst = 200\ncodes_per_client = 2").await;
    let ana = Requester::new(&verifier);
    ana.code_sent("a@example.org").await;
    ana.code_sent("b@example.org").await;
    let (status, body) = ana.send_code("c@example.org").await;
    assert_eq!(
        (status, &body["code"]),
        (StatusCode::TOO_MANY_REQUESTS, &json!("rate_limited"))
    );
}

#[tokio::test]
async fn floods_of_api_requests_are_refused_with_retry_after() {
    let verifier = TestVerifier::start_with_limits("posts_burst = 3").await;
    let ana = Requester::new(&verifier);
    for _ in 0..3 {
        let (status, _) = ana.verify_code("x", "000000").await;
        assert_eq!(status, StatusCode::GONE);
    }
    let resp = ana
        .http
        .post(verifier.url("/api/v1/email-codes/x/verify"))
        .header("Origin", recordpass_tests::SITE_ORIGIN)
        .json(&json!({"code": "000000"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(resp.headers()["retry-after"], "1");
    assert_eq!(
        resp.headers()["access-control-allow-origin"],
        recordpass_tests::SITE_ORIGIN,
        "the widget can read the refusal"
    );
    assert_eq!(
        resp.json::<Value>().await.expect("json")["code"],
        "rate_limited"
    );
    let site = ana
        .http
        .get(verifier.url("/api/v1/sites/riverside"))
        .send()
        .await
        .expect("sent");
    assert_eq!(
        site.status(),
        StatusCode::OK,
        "reads have a quota of their own (returning::a_burst_of_status_reads_…)"
    );
}

/// The status and `Retry-After` of asking for a code for `email`.
async fn send_refused(ana: &Requester<'_>, email: &str) -> (StatusCode, Value, u64) {
    let resp = ana
        .http
        .post(ana.verifier.url("/api/v1/email-codes"))
        .header("Origin", recordpass_tests::SITE_ORIGIN)
        .json(&json!({"site_id": SITE_ID, "email": email, "lang": "en"}))
        .send()
        .await
        .expect("sent");
    let status = resp.status();
    let retry_after = retry_after(resp.headers());
    (status, resp.json().await.expect("json"), retry_after)
}

fn retry_after(headers: &reqwest::header::HeaderMap) -> u64 {
    headers
        .get("retry-after")
        .map_or(0, |v| v.to_str().expect("ascii").parse().expect("seconds"))
}

/// Asks for a code for `email`; returns the verification id and the code from the email.
async fn code_for(ana: &Requester<'_>, email: &str) -> (String, String) {
    let sent = ana.code_sent(email).await;
    let code = ana
        .verifier
        .smtp
        .take_for(email)
        .await
        .code()
        .expect("code");
    (sent.verification_id, code)
}

/// Makes `n` wrong guesses at `verification_id` (each answered `400`).
async fn guess_wrong(ana: &Requester<'_>, verification_id: &str, code: &str, n: usize) {
    for _ in 0..n {
        let (status, body) = ana.verify_code(verification_id, &wrong_code(code)).await;
        assert_eq!(
            (status, &body["code"]),
            (StatusCode::BAD_REQUEST, &json!("code_incorrect")),
            "{body}"
        );
    }
}

#[tokio::test]
async fn wrong_guesses_across_codes_and_spellings_use_up_the_mailboxs_budget() {
    let verifier = TestVerifier::start_with_limits(
        "posts_burst = 200\ncodes_per_address = 10\nwrong_codes_per_mailbox = 7",
    )
    .await;
    let ana = Requester::new(&verifier);
    // One Gmail mailbox, spelt three ways, each spelling with its own code.
    let (first, first_code) = code_for(&ana, "jane.doe@gmail.com").await;
    guess_wrong(&ana, &first, &first_code, 3).await;
    let (second, second_code) = code_for(&ana, "JaneDoe+1@gmail.com").await;
    guess_wrong(&ana, &second, &second_code, 3).await;
    let (third, third_code) = code_for(&ana, "jane.doe+2@googlemail.com").await;
    guess_wrong(&ana, &third, &third_code, 1).await;

    // Seven wrong guesses: even the right codes are refused, before they are compared.
    for (id, code) in [(&third, &third_code), (&first, &first_code)] {
        let resp = ana
            .http
            .post(verifier.url(&format!("/api/v1/email-codes/{id}/verify")))
            .header("Origin", recordpass_tests::SITE_ORIGIN)
            .json(&json!({"code": code}))
            .send()
            .await
            .expect("sent");
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        let wait = retry_after(resp.headers());
        assert!(
            (23 * 3600..=24 * 3600).contains(&wait),
            "Retry-After {wait}"
        );
        let body: Value = resp.json().await.expect("json");
        assert_eq!(body["code"], "rate_limited");
        assert!(body.get("email_token").is_none());
    }
    // A new code is refused too, for any spelling.
    for spelling in ["janedoe@gmail.com", "j.a.n.e.d.o.e+new@googlemail.com"] {
        let (status, body, wait) = send_refused(&ana, spelling).await;
        assert_eq!(
            (status, &body["code"]),
            (StatusCode::TOO_MANY_REQUESTS, &json!("rate_limited")),
            "{spelling}"
        );
        assert!(wait > 23 * 3600, "Retry-After {wait}");
    }
    // The refused right guess used no attempt of its code.
    let attempts: i64 =
        sqlx::query_scalar("SELECT attempts_left FROM email_verifications WHERE id = $1")
            .bind(&third)
            .fetch_one(&raw_db(&verifier))
            .await
            .expect("row");
    assert_eq!(attempts, 4);

    // Another mailbox (dots count outside Gmail) is unaffected.
    let (other, other_code) = code_for(&ana, "jane.doe@example.org").await;
    let (status, body) = ana.verify_code(&other, &other_code).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A day later the budget is back.
    verifier.clock.advance(24 * 3600);
    let (again, again_code) = code_for(&ana, "jane.doe@gmail.com").await;
    let (status, body) = ana.verify_code(&again, &again_code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn many_wrong_guesses_at_once_take_exactly_the_budget() {
    // Guesses at different codes lock no common row: the budget's bucket is
    // locked while it is counted (on PostgreSQL an advisory lock).
    let verifier = TestVerifier::start_with_limits(
        "posts_burst = 1000\nposts_per_second = 1000\ncodes_per_address = 10\nwrong_codes_per_mailbox = 4",
    )
    .await;
    let ana = Requester::new(&verifier);
    let mut codes = Vec::new();
    for email in ["ana@example.org", "ana+2@example.org", "ANA+3@example.org"] {
        codes.push(code_for(&ana, email).await);
    }
    let ana = &ana;
    let guesses = codes
        .iter()
        .flat_map(|(id, code)| std::iter::repeat_n((id, wrong_code(code)), 4));
    let answers = futures_util::future::join_all(
        guesses.map(|(id, wrong)| async move { ana.verify_code(id, &wrong).await }),
    )
    .await;
    let mut incorrect = 0;
    for (status, body) in &answers {
        match (*status, body["code"].as_str()) {
            (StatusCode::BAD_REQUEST, Some("code_incorrect")) => incorrect += 1,
            (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited")) => {}
            other => panic!("{other:?} {body}"),
        }
    }
    assert_eq!(incorrect, 4, "wrong_codes_per_mailbox");
    for (id, code) in &codes {
        let (status, body) = ana.verify_code(id, code).await;
        assert_eq!(
            (status, &body["code"]),
            (StatusCode::TOO_MANY_REQUESTS, &json!("rate_limited"))
        );
    }
}

#[tokio::test]
async fn addresses_the_mailer_would_refuse_get_the_field_error() {
    let verifier = TestVerifier::start().await;
    let ana = Requester::new(&verifier);
    for bad in [
        "jane.@example.com",
        "jane..doe@example.com",
        "a(b)@example.com",
        "a@b@example.com",
    ] {
        let (status, body) = ana.send_code(bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
        assert_eq!(body["code"], "invalid_request");
        assert_eq!(
            body["fields"],
            json!([{"field": "email", "problem": "invalid_email"}]),
            "{bad}"
        );
    }
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM email_verifications")
        .fetch_one(&raw_db(&verifier))
        .await
        .expect("count");
    assert_eq!(stored, 0, "no code was made");
    code_for(&ana, "jane.doe+records@example.com").await;
}

#[tokio::test]
async fn sending_a_code_keeps_the_events_other_limits_still_count() {
    // Code windows shorter than the uploads' hour: the purge when a code is
    // sent once dropped upload events still inside their window.
    let verifier = TestVerifier::start_with_limits(
        "posts_burst = 200\ncodes_per_address_window_secs = 300\ncodes_per_client_window_secs = 600",
    )
    .await;
    let ana = Requester::new(&verifier);
    let pdf = recordpass_request::examples::PROOF_PDF;
    for i in 0..20 {
        let (status, body) = upload_file(
            &verifier,
            recordpass_tests::SITE_ORIGIN,
            &format!("poa-{i}.pdf"),
            "application/pdf",
            pdf,
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    verifier.clock.advance(20 * 60);
    ana.code_sent(ANA).await;
    let (status, body) = upload_file(
        &verifier,
        recordpass_tests::SITE_ORIGIN,
        "one-more.pdf",
        "application/pdf",
        pdf,
    )
    .await;
    assert_eq!(
        (status, &body["code"]),
        (StatusCode::TOO_MANY_REQUESTS, &json!("rate_limited")),
        "20 uploads per client and hour still counted"
    );
}

fn wrong_code(code: &str) -> String {
    let last = code.as_bytes()[5];
    format!(
        "{}{}",
        &code[..5],
        if last == b'9' {
            '0'
        } else {
            char::from(last + 1)
        }
    )
}

fn hex(bytes: Vec<u8>) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
