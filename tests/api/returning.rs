//! Returning requesters through HTTP: sign in with the passkey created for an
//! earlier request (a discoverable credential), see one's own requests and
//! download their signed receipts, start new requests without another email
//! check (a guardian for two children), and the status email staff changes send.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use recordpass_request::{
    Lang, RecordsRequest, RequestStatus, Role,
    api::{MyRequests, SignInStarted, SignedIn},
    examples,
};
use recordpass_tests::{PRIVACY_PHONE, SITE_ID, SITE_ORIGIN, TestVerifier};
use recordpass_verifier::{console, evidence::verify_bundle};
use reqwest::StatusCode;
use serde_json::{Value, json};
use webauthn_authenticator_rs::{WebauthnAuthenticator, softpasskey::SoftPasskey};
use webauthn_rs_proto::{AllowCredentials, UserVerificationPolicy};

use crate::client::{Requester, ana_request, dated, site_origin};
use crate::console::StaffClient;
use crate::flow::{assertion_counter, stored_counter};

/// A passkey created on the site: its credential id and the user handle a
/// resident key returns with every assertion.
pub(crate) struct Account {
    pub credential_id: String,
    user_handle: Vec<u8>,
}

/// Verifies `email` and creates a passkey for it.
pub(crate) async fn register(requester: &mut Requester<'_>, email: &str) -> Account {
    let started = requester.start_registration(email).await;
    let user_handle = started.options.public_key.user.id.clone();
    let credential_id = requester.finish_registration(&started).await;
    Account {
        credential_id,
        user_handle,
    }
}

/// Signs `request` with the account's passkey (optionally with a session);
/// returns the request number.
pub(crate) async fn sign(
    requester: &mut Requester<'_>,
    account: &Account,
    request: &RecordsRequest,
    session: Option<&str>,
) -> String {
    sign_in_language(requester, account, request, session, Lang::En).await
}

/// [`sign`], with the statement shown and signed in `lang`.
pub(crate) async fn sign_in_language(
    requester: &mut Requester<'_>,
    account: &Account,
    request: &RecordsRequest,
    session: Option<&str>,
    lang: Lang,
) -> String {
    let body = json!({"site_id": SITE_ID, "lang": lang.tag(), "request": request,
        "credential_id": account.credential_id});
    let mut post = requester
        .http
        .post(requester.verifier.url("/api/v1/signatures"))
        .header("Origin", SITE_ORIGIN)
        .json(&body);
    if let Some(token) = session {
        post = post.bearer_auth(token);
    }
    let resp = post.send().await.expect("sent");
    assert_eq!(resp.status(), StatusCode::OK);
    let started = resp.json().await.expect("SigningStarted");
    let body = requester.assert_from(site_origin(), &started);
    let (status, reply) = requester.finish_signing(&started.ceremony_id, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    reply["request_number"].as_str().expect("number").to_owned()
}

/// `POST /api/v1/sign-ins`: the options ask for any discoverable passkey.
async fn start_sign_in(requester: &Requester<'_>) -> SignInStarted {
    let (status, body) = requester
        .post("/api/v1/sign-ins", &json!({"site_id": SITE_ID}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let started: SignInStarted = serde_json::from_value(body).expect("SignInStarted");
    let options = &started.options.public_key;
    assert!(
        options.allow_credentials.is_empty(),
        "discoverable: no list"
    );
    assert_eq!(options.user_verification, UserVerificationPolicy::Required);
    assert!(started.options.mediation.is_none(), "asked on a click");
    started
}

/// The soft passkey acting as a resident-key authenticator: it answers a
/// request without `allowCredentials` with the credential it holds for the
/// RP and that credential's user handle (SoftPasskey itself only answers
/// for listed credentials and sends no user handle).
fn discoverable_assertion(
    passkey: &mut SoftPasskey,
    account: &Account,
    started: &SignInStarted,
) -> Value {
    let mut options = started.options.clone();
    options.public_key.allow_credentials = vec![AllowCredentials {
        type_: "public-key".into(),
        id: URL_SAFE_NO_PAD
            .decode(&account.credential_id)
            .expect("credential id"),
        transports: None,
    }];
    let mut credential = passkey
        .do_authentication(site_origin(), options)
        .expect("soft passkey signs in");
    credential.response.user_handle = Some(account.user_handle.clone());
    json!({"credential": credential})
}

/// Signs in with the account's passkey; returns the session.
pub(crate) async fn sign_in(requester: &mut Requester<'_>, account: &Account) -> SignedIn {
    let started = start_sign_in(requester).await;
    let body = discoverable_assertion(&mut requester.passkey, account, &started);
    let path = format!("/api/v1/sign-ins/{}/finish", started.ceremony_id);
    let (status, reply) = requester.post(&path, &body).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    serde_json::from_value(reply).expect("SignedIn")
}

/// `GET path` with an optional bearer token; status and body bytes.
async fn get(verifier: &TestVerifier, path: &str, token: Option<&str>) -> (StatusCode, Vec<u8>) {
    let mut req = reqwest::Client::new()
        .get(verifier.url(path))
        .header("Origin", SITE_ORIGIN);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let resp = req.send().await.expect("sent");
    let status = resp.status();
    (status, resp.bytes().await.expect("body").to_vec())
}

/// `GET /api/v1/me/requests` with the session `token`.
pub(crate) async fn my_requests(verifier: &TestVerifier, token: &str) -> MyRequests {
    let (status, body) = get(verifier, "/api/v1/me/requests", Some(token)).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).expect("MyRequests")
}

fn code(body: &[u8]) -> String {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    v["code"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_returning_requester_signs_in_sees_their_request_and_downloads_a_receipt_that_verifies() {
    let verifier = TestVerifier::start().await;
    let mut ana = Requester::new(&verifier);
    let account = register(&mut ana, "ana@example.org").await;
    let number = sign(&mut ana, &account, &ana_request(), None).await;
    // Someone else's request on the same site.
    let mut luis = Requester::new(&verifier);
    let luis_account = register(&mut luis, "luis@example.org").await;
    let other = sign(
        &mut luis,
        &luis_account,
        &dated(examples::parent_directive()),
        None,
    )
    .await;

    let session = sign_in(&mut ana, &account).await;
    assert_eq!(session.credential_id, account.credential_id);
    assert_eq!(session.email, "ana@example.org");
    assert_eq!(session.idle_timeout_secs, 15 * 60);
    assert_eq!(session.expires_in_secs, 60 * 60);
    let token = session.session_token.as_str();

    let list = my_requests(&verifier, token).await;
    assert_eq!(list.requests.len(), 1, "only Ana's own: {list:?}");
    let mine = &list.requests[0];
    assert_eq!(mine.request_number, number);
    assert_eq!(mine.patient_name, "Ana María Pérez");
    assert_eq!(mine.instrument, "right_of_access");
    assert_eq!(mine.relationship, Role::Patient);
    assert_eq!(mine.status, RequestStatus::Received);
    assert_eq!(
        mine.status_label.en,
        RequestStatus::Received.requester_label(recordpass_request::Lang::En)
    );
    assert!(mine.status_label.es.starts_with("Recibida"));
    let received = time::OffsetDateTime::parse(
        &mine.received_at,
        &time::format_description::well_known::Rfc3339,
    )
    .expect("received_at");
    assert_eq!(
        mine.due_date,
        (received + time::Duration::days(30)).date().to_string()
    );
    assert!(mine.receipt_available);

    // The receipt is the sealed evidence bundle, and it verifies offline.
    let (status, bundle) = get(
        &verifier,
        &format!("/api/v1/me/requests/{number}/receipt"),
        Some(token),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let report = verify_bundle(&bundle, Some(verifier.seal.public()));
    assert!(report.ok(), "{report}");
    let json: Value = serde_json::from_slice(&bundle).expect("bundle json");
    assert_eq!(json["request_number"], number.as_str(), "{json}");

    // Once HIM matches Ana to her chart, her receipt says so without naming
    // the staff member (HIM's own copy and the audit trail do).
    let hana =
        StaffClient::enrolled(&verifier, "hana@example.org", console::Role::Specialist).await;
    let matched = format!("/console/requests/{number}/identity");
    let (status, _) = hana.form(&matched, &[("matched", "yes")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let receipt = format!("/api/v1/me/requests/{number}/receipt");
    let (status, bundle) = get(&verifier, &receipt, Some(token)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(verify_bundle(&bundle, Some(verifier.seal.public())).ok());
    let json: Value = serde_json::from_slice(&bundle).expect("bundle json");
    let assurance = json["identity_assurance"].as_str().expect("assurance");
    assert!(
        assurance.contains("identity matched to chart by HIM staff"),
        "{assurance}"
    );
    let text = String::from_utf8_lossy(&bundle);
    assert!(!text.contains("hana@"), "{text}");
    let (_, detail) = hana.get(&format!("/console/requests/{number}")).await;
    assert!(detail.contains("identity matched to chart by hana@example.org"));

    // Luis's number is not Ana's: 404, like a number that does not exist.
    for number in [other.as_str(), "RP-0000-0000"] {
        let (status, body) = get(
            &verifier,
            &format!("/api/v1/me/requests/{number}/receipt"),
            Some(token),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(code(&body), "not_found");
    }

    // Sign-in, status view and download are audited, naming no patient.
    let rows: Vec<String> = sqlx::query_scalar("SELECT event FROM audit_log ORDER BY seq")
        .fetch_all(verifier.store.pool())
        .await
        .expect("audit rows");
    for action in [
        "requester_sign_in",
        "requester_view_status",
        "requester_receipt_download",
    ] {
        assert!(
            rows.iter().any(|r| r.contains(action)),
            "{action}: {rows:?}"
        );
    }
    assert!(
        rows.iter()
            .all(|r| !r.contains("Pérez") && !r.contains("1984"))
    );
}

/// `DELETE /api/v1/me/session` ends the session at once and no other; no
/// token, an unknown one or one already ended is `401`, as on the other
/// `/me` routes.
#[tokio::test]
async fn signing_out_ends_the_session_at_once_and_no_other() {
    let verifier = TestVerifier::start().await;
    let mut ana = Requester::new(&verifier);
    let account = register(&mut ana, "ana@example.org").await;
    sign(&mut ana, &account, &ana_request(), None).await;
    let phone = sign_in(&mut ana, &account).await.session_token;
    let laptop = sign_in(&mut ana, &account).await.session_token;
    let sign_out = |token: Option<&str>| {
        let mut req = reqwest::Client::new()
            .delete(verifier.url("/api/v1/me/session"))
            .header("Origin", SITE_ORIGIN);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        async move { req.send().await.expect("sent").status() }
    };
    assert_eq!(my_requests(&verifier, &phone).await.requests.len(), 1);
    assert_eq!(sign_out(Some(&phone)).await, StatusCode::NO_CONTENT);
    let (status, body) = get(&verifier, "/api/v1/me/requests", Some(&phone)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&body), "sign_in_required");
    assert_eq!(
        my_requests(&verifier, &laptop).await.requests.len(),
        1,
        "the other session stands"
    );
    for token in [Some(phone.as_str()), Some("not-a-session"), None] {
        assert_eq!(sign_out(token).await, StatusCode::UNAUTHORIZED, "{token:?}");
    }
    assert_eq!(sign_out(Some(&laptop)).await, StatusCode::NO_CONTENT);
    // The widget's page may call it: CORS allows the method from the site's origin.
    let preflight = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, verifier.url("/api/v1/me/session"))
        .header("Origin", SITE_ORIGIN)
        .header("Access-Control-Request-Method", "DELETE")
        .header("Access-Control-Request-Headers", "authorization")
        .send()
        .await
        .expect("sent");
    let allowed = preflight
        .headers()
        .get("access-control-allow-methods")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(allowed.contains("DELETE"), "{allowed}");
}

#[tokio::test]
async fn no_token_an_unknown_token_or_an_ended_session_is_refused() {
    let verifier = TestVerifier::start().await;
    let mut ana = Requester::new(&verifier);
    let account = register(&mut ana, "ana@example.org").await;
    let number = sign(&mut ana, &account, &ana_request(), None).await;
    let receipt = format!("/api/v1/me/requests/{number}/receipt");

    for path in ["/api/v1/me/requests", receipt.as_str()] {
        for token in [None, Some("not-a-session")] {
            let (status, body) = get(&verifier, path, token).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{path} {token:?}");
            assert_eq!(code(&body), "sign_in_required");
        }
    }

    // Idle for more than 15 minutes: the session has ended.
    let token = sign_in(&mut ana, &account).await.session_token;
    my_requests(&verifier, &token).await;
    verifier.clock.advance(15 * 60 + 1);
    let (status, _) = get(&verifier, "/api/v1/me/requests", Some(&token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Kept busy, it still ends an hour after sign-in.
    let token = sign_in(&mut ana, &account).await.session_token;
    for _ in 0..4 {
        verifier.clock.advance(14 * 60);
        my_requests(&verifier, &token).await;
    }
    verifier.clock.advance(5 * 60);
    let (status, _) = get(&verifier, "/api/v1/me/requests", Some(&token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "absolute timeout");

    // A signature started with an ended session is refused too.
    let body = json!({"site_id": SITE_ID, "lang": "en", "request": ana_request(),
        "credential_id": account.credential_id});
    let resp = ana
        .http
        .post(verifier.url("/api/v1/signatures"))
        .header("Origin", SITE_ORIGIN)
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_sign_in_ceremony_is_single_use_and_unknown_passkeys_get_no_hint() {
    let verifier = TestVerifier::start().await;
    let mut ana = Requester::new(&verifier);
    let account = register(&mut ana, "ana@example.org").await;

    // Replaying a successful finish: the ceremony is used up.
    let started = start_sign_in(&ana).await;
    let body = discoverable_assertion(&mut ana.passkey, &account, &started);
    let path = format!("/api/v1/sign-ins/{}/finish", started.ceremony_id);
    let (status, _) = ana.post(&path, &body).await;
    assert_eq!(status, StatusCode::OK);
    let (status, reply) = ana.post(&path, &body).await;
    assert_eq!(status, StatusCode::GONE, "{reply}");
    assert_eq!(reply["code"], "ceremony_expired");

    // The same assertion into a fresh ceremony: its challenge is another one.
    let fresh = start_sign_in(&ana).await;
    let path = format!("/api/v1/sign-ins/{}/finish", fresh.ceremony_id);
    let (status, replayed) = ana.post(&path, &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{replayed}");
    assert_eq!(replayed["code"], "passkey_rejected");

    // A passkey this verifier never registered (made against another
    // verifier with the same RP ID), and a registered passkey answering with
    // someone else's user handle, are refused exactly like a bad signature:
    // same status, code and message.
    let elsewhere = TestVerifier::start().await;
    let mut mallory = Requester::new(&elsewhere);
    let stranger = register(&mut mallory, "mallory@example.org").await;
    let started = start_sign_in(&ana).await;
    let unknown = discoverable_assertion(&mut mallory.passkey, &stranger, &started);
    let path = format!("/api/v1/sign-ins/{}/finish", started.ceremony_id);
    let (status, unknown_reply) = ana.post(&path, &unknown).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{unknown_reply}");

    let wrong_handle = Account {
        credential_id: account.credential_id.clone(),
        user_handle: vec![7u8; 16],
    };
    let started = start_sign_in(&ana).await;
    let forged = discoverable_assertion(&mut ana.passkey, &wrong_handle, &started);
    let path = format!("/api/v1/sign-ins/{}/finish", started.ceremony_id);
    let (status, forged_reply) = ana.post(&path, &forged).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{forged_reply}");
    assert_eq!(unknown_reply, replayed, "no hint which credentials exist");
    assert_eq!(forged_reply, replayed);
}

async fn requester_sessions(verifier: &TestVerifier) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM requester_sessions")
        .fetch_one(verifier.store.pool())
        .await
        .expect("count")
}

#[tokio::test]
async fn a_sign_in_whose_signature_counter_goes_backwards_is_refused() {
    // As for signing (flow.rs): two ceremonies started together, finished
    // newest first. The older assertion's counter is behind the stored one,
    // which is what a cloned authenticator looks like.
    let verifier = TestVerifier::start().await;
    let mut ana = Requester::new(&verifier);
    let account = register(&mut ana, "ana@example.org").await;
    let first = start_sign_in(&ana).await;
    let second = start_sign_in(&ana).await;
    let older = discoverable_assertion(&mut ana.passkey, &account, &first);
    let newer = discoverable_assertion(&mut ana.passkey, &account, &second);
    let finish =
        |started: &SignInStarted| format!("/api/v1/sign-ins/{}/finish", started.ceremony_id);

    let (status, reply) = ana.post(&finish(&second), &newer).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let sessions = requester_sessions(&verifier).await;
    let (status, reply) = ana.post(&finish(&first), &older).await;
    assert_eq!(status, StatusCode::CONFLICT, "{reply}");
    assert_eq!(reply["code"], "passkey_counter_regressed");
    assert_eq!(
        requester_sessions(&verifier).await,
        sessions,
        "no session opened"
    );
    // The refused ceremony is used up, and the passkey keeps working forward.
    let (status, reply) = ana.post(&finish(&first), &older).await;
    assert_eq!(status, StatusCode::GONE, "{reply}");
    assert_eq!(reply["code"], "ceremony_expired");
    sign_in(&mut ana, &account).await;
}

#[tokio::test]
async fn a_stored_counter_ahead_of_the_authenticator_refuses_the_sign_in() {
    let verifier = TestVerifier::start().await;
    let mut ana = Requester::new(&verifier);
    let account = register(&mut ana, "ana@example.org").await;
    sign_in(&mut ana, &account).await;
    // The stored counter runs ahead of the authenticator's, as when a copy of
    // the key was used elsewhere: the next sign-in must not succeed.
    let stored: String =
        sqlx::query_scalar("SELECT passkey FROM passkeys WHERE credential_id = $1")
            .bind(&account.credential_id)
            .fetch_one(verifier.store.pool())
            .await
            .expect("passkey");
    let mut passkey: Value = serde_json::from_str(&stored).expect("json");
    let counter = passkey
        .pointer_mut("/cred/counter")
        .expect("webauthn-rs keeps the counter at /cred/counter");
    *counter = json!(counter.as_u64().expect("number") + 1000);
    sqlx::query("UPDATE passkeys SET passkey = $1 WHERE credential_id = $2")
        .bind(passkey.to_string())
        .bind(&account.credential_id)
        .execute(verifier.store.pool())
        .await
        .expect("updated");
    let started = start_sign_in(&ana).await;
    let body = discoverable_assertion(&mut ana.passkey, &account, &started);
    let path = format!("/api/v1/sign-ins/{}/finish", started.ceremony_id);
    let (status, reply) = ana.post(&path, &body).await;
    assert_eq!(status, StatusCode::CONFLICT, "{reply}");
    assert_eq!(reply["code"], "passkey_counter_regressed");
}

#[tokio::test]
async fn a_guardian_signs_for_two_children_with_one_passkey_and_one_email_check() {
    let verifier = TestVerifier::start().await;
    let mut luis = Requester::new(&verifier);
    let account = register(&mut luis, "luis@example.org").await;
    let sofia = dated(examples::parent_directive());
    let first = sign(&mut luis, &account, &sofia, None).await;
    assert_eq!(verifier.smtp.all().len(), 0, "the one code email was read");

    // Later: sign in, then a request for his son, signed with the same
    // passkey in the session: no email code, no new passkey.
    let session = sign_in(&mut luis, &account).await;
    let mut mateo = sofia.clone();
    mateo.patient.legal_name = "Mateo Gómez Ruiz".into();
    mateo.patient.date_of_birth = "2018-09-12".into();
    mateo.requester.email = session.email.clone();
    let second = sign(&mut luis, &account, &mateo, Some(&session.session_token)).await;
    assert_eq!(
        verifier.smtp.count_after(300).await,
        0,
        "no second code email"
    );
    assert_eq!(
        verifier
            .count(recordpass_verifier::store::Table::Passkeys)
            .await,
        1
    );

    let list = my_requests(&verifier, &session.session_token).await;
    let numbers: Vec<&str> = list
        .requests
        .iter()
        .map(|r| r.request_number.as_str())
        .collect();
    assert_eq!(list.requests.len(), 2, "{numbers:?}");
    assert!(numbers.contains(&first.as_str()) && numbers.contains(&second.as_str()));
    let mut patients: Vec<&str> = list
        .requests
        .iter()
        .map(|r| r.patient_name.as_str())
        .collect();
    patients.sort_unstable();
    assert_eq!(patients, ["Mateo Gómez Ruiz", "Sofía Gómez Ruiz"]);
    assert!(
        list.requests
            .iter()
            .all(|r| r.relationship == Role::ParentOrGuardian && r.instrument == "directive")
    );

    // Each signed document records the relationship, and each receipt
    // carries the original email verification.
    for number in [&first, &second] {
        let (status, bundle) = get(
            &verifier,
            &format!("/api/v1/me/requests/{number}/receipt"),
            Some(&session.session_token),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(verify_bundle(&bundle, Some(verifier.seal.public())).ok());
        let stored = verifier
            .store
            .submission(number)
            .await
            .expect("read")
            .expect("stored");
        let doc: Value = serde_json::from_str(&stored.document).expect("document");
        assert_eq!(doc["request"]["requester"]["role"], "parent_or_guardian");
        assert_eq!(doc["request"]["requester"]["relationship"], "father");
        let json: Value = serde_json::from_slice(&bundle).expect("json");
        assert!(
            json.to_string().contains("email_verified_at"),
            "the original email verification is in the receipt"
        );
    }

    // The session's passkey only: another requester's credential is refused.
    let mut ana = Requester::new(&verifier);
    let ana_account = register(&mut ana, "ana@example.org").await;
    let body = json!({"site_id": SITE_ID, "lang": "en", "request": ana_request(),
        "credential_id": ana_account.credential_id});
    let resp = luis
        .http
        .post(verifier.url("/api/v1/signatures"))
        .header("Origin", SITE_ORIGIN)
        .bearer_auth(&session.session_token)
        .json(&body)
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_staff_status_change_emails_the_link_and_no_health_information() {
    let verifier = TestVerifier::start().await;
    let mut ana = Requester::new(&verifier);
    let account = register(&mut ana, "ana@example.org").await;
    let number = sign(&mut ana, &account, &ana_request(), None).await;

    let hana =
        StaffClient::enrolled(&verifier, "hana@example.org", console::Role::Specialist).await;
    let (status, body) = hana
        .form(
            &format!("/console/requests/{number}/status"),
            &[("to", "in_review")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");

    let mail = verifier.smtp.take_for("ana@example.org").await;
    let text = mail.decoded();
    let link = format!("{SITE_ORIGIN}/records#recordpass-status");
    assert!(text.contains(&link), "{text}");
    assert!(text.contains("Riverside General Hospital"), "{text}");
    assert!(text.contains(&number), "{text}");
    for phi in [
        "Ana María",
        "Pérez",
        "1984",
        "03-07",
        "Lab",
        "lab_results",
        "In review",
    ] {
        assert!(!text.contains(phi), "{phi} in {text}");
    }

    // The status page shows the change.
    let session = sign_in(&mut ana, &account).await;
    let list = my_requests(&verifier, &session.session_token).await;
    assert_eq!(list.requests[0].status, RequestStatus::InReview);

    // What the hospital asks for reaches the status page (the email only
    // links to it); a staff-only note never does.
    let needed = "Please send a copy of your photo ID.";
    for (path, fields) in [
        (
            "status",
            vec![("to", "needs_information"), ("text", needed)],
        ),
        ("notes", vec![("text", "Internal: called the clinic.")]),
    ] {
        let (status, body) = hana
            .form(&format!("/console/requests/{number}/{path}"), &fields)
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    }
    let list = my_requests(&verifier, &session.session_token).await;
    let messages: Vec<&str> = list.requests[0]
        .messages
        .iter()
        .map(|m| m.text.as_str())
        .collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(messages[1].ends_with(needed), "{messages:?}");
    assert!(
        !messages.iter().any(|m| m.contains("Internal")),
        "{messages:?}"
    );
}

/// What one language's notices must say, and must not.
struct Notices {
    lang: Lang,
    in_review: &'static str,
    extension: &'static str,
    denial: &'static str,
    rights: [&'static str; 3],
    not: [&'static str; 3],
    email_title: &'static str,
}

#[tokio::test]
async fn extension_and_denial_notices_reach_the_requester_in_the_language_they_signed() {
    let reason = "the records are held off site";
    let reasons = "the records asked for do not exist";
    let cases = [
        Notices {
            lang: Lang::Es,
            in_review: "En proceso: el hospital está trabajando en ella.",
            extension: "Necesitamos hasta 20 días más para responder, por esta razón: the records are held off site. Responderemos a más tardar el ",
            denial: "Razones: the records asked for do not exist",
            rights: [
                "escriba al departamento de registros médicos para pedirlo",
                "presentar una queja ante la Oficina de Privacidad, al teléfono +1 (555) 010-0199, o \
                 ante la Oficina de Derechos Civiles del Departamento de Salud y Servicios Humanos \
                 de EE. UU.",
                "(www.hhs.gov/ocr/complaints, 1-800-368-1019)",
            ],
            not: [
                "Health Information Management",
                "In review",
                "Privacy Office",
            ],
            email_title: "<html lang=\"es\"><head><meta charset=\"utf-8\"><title>Su solicitud de registros médicos cambió de estado</title>",
        },
        Notices {
            lang: Lang::En,
            in_review: "In progress: the hospital is working on it.",
            extension: "We need up to 20 more days to respond because: the records are held off site. We will respond by ",
            denial: "Reasons: the records asked for do not exist",
            rights: [
                "write to the medical records department to ask",
                "complain to the Privacy Office, at +1 (555) 010-0199, or to the Office for Civil \
                 Rights of the U.S. Department of Health and Human Services",
                "(www.hhs.gov/ocr/complaints, 1-800-368-1019)",
            ],
            not: [
                "Health Information Management",
                "departamento",
                "privacy officer",
            ],
            email_title: "<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Your medical records request changed status</title>",
        },
    ];
    for case in cases {
        let verifier = TestVerifier::start().await;
        let mut ana = Requester::new(&verifier);
        let account = register(&mut ana, "ana@example.org").await;
        let request = ana_request();
        let number = sign_in_language(&mut ana, &account, &request, None, case.lang).await;
        let hana =
            StaffClient::enrolled(&verifier, "hana@example.org", console::Role::Specialist).await;
        let base = format!("/console/requests/{number}");
        let steps = [
            ("status", vec![("to", "in_review")]),
            ("extension", vec![("days", "20"), ("reason", reason)]),
            (
                "status",
                vec![("to", "denied"), ("text", reasons), ("reviewable", "yes")],
            ),
        ];
        for (path, fields) in steps {
            // While the request is open, staff are asked to write in the
            // requester's language; the statement is marked with it.
            if path == "extension" {
                let (_, detail) = hana.get(&base).await;
                let name = match case.lang {
                    Lang::En => "English",
                    Lang::Es => "Spanish",
                };
                assert!(detail.contains(&format!("write it in {name}")), "{detail}");
                assert!(
                    detail.contains(&format!("id=\"statement\" lang=\"{}\"", case.lang.tag())),
                    "{detail}"
                );
            }
            let (status, body) = hana.form(&format!("{base}/{path}"), &fields).await;
            assert_eq!(status, StatusCode::SEE_OTHER, "{path}: {body}");
        }
        // The status email is a titled page in the requester's language.
        let mail = verifier.smtp.take_for("ana@example.org").await;
        let html = mail.decoded();
        assert!(html.contains(case.email_title), "{html}");

        let session = sign_in(&mut ana, &account).await;
        let list = my_requests(&verifier, &session.session_token).await;
        let messages: Vec<&str> = list.requests[0]
            .messages
            .iter()
            .map(|m| m.text.as_str())
            .collect();
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert_eq!(messages[0], case.in_review);
        assert!(
            messages[1].starts_with(&match case.lang {
                Lang::En => format!("Notice of extension for request {number}."),
                Lang::Es => format!("Aviso de prórroga de la solicitud {number}."),
            }),
            "{messages:?}"
        );
        assert!(messages[1].contains(case.extension), "{messages:?}");
        assert!(
            messages[2].starts_with(&match case.lang {
                Lang::En => format!("Denial notice for request {number}."),
                Lang::Es => format!("Aviso de negativa de la solicitud {number}."),
            }),
            "{messages:?}"
        );
        assert!(messages[2].contains(case.denial), "{messages:?}");
        for part in case.rights {
            assert!(messages[2].contains(part), "{part:?} in {messages:?}");
        }
        for part in case.not {
            assert!(
                messages.iter().all(|m| !m.contains(part)),
                "{part:?} in {messages:?}"
            );
        }
        // The console shows staff the same rights text, contact and phone.
        let (_, detail) = hana.get(&base).await;
        assert!(detail.contains(case.rights[1]), "{detail}");
    }
}

/// A site without `privacy_phone` or `privacy_contact`: the denial notice
/// names the hospital's privacy officer and gives the HIM phone (the one
/// phone the site has), in the language signed, on the requester's status
/// view and in the console alike.
#[tokio::test]
async fn a_denial_without_a_privacy_phone_names_the_privacy_officer_at_the_him_phone() {
    let verifier = TestVerifier::start_changed(|config| {
        let site = &mut config.sites[0];
        site.privacy_phone = None;
        site.privacy_contact = Default::default();
    })
    .await;
    let mut ana = Requester::new(&verifier);
    let account = register(&mut ana, "ana@example.org").await;
    let hana =
        StaffClient::enrolled(&verifier, "hana@example.org", console::Role::Specialist).await;
    let cases = [
        (
            Lang::En,
            "complain to the hospital's privacy officer, at +1 (555) 010-0100, or to the Office",
            "privacy officer, at +1 (555) 010-0100, or",
        ),
        (
            Lang::Es,
            "queja ante el encargado de privacidad del hospital, al teléfono +1 (555) 010-0100, o \
             ante la Oficina",
            "queja ante el encargado de privacidad del hospital, al teléfono +1 (555) 010-0100, o",
        ),
    ];
    let mut numbers = Vec::new();
    for (lang, expected, in_console) in &cases {
        let number = sign_in_language(&mut ana, &account, &ana_request(), None, *lang).await;
        let base = format!("/console/requests/{number}");
        let (_, detail) = hana.get(&base).await;
        assert!(detail.contains(in_console), "{in_console:?} in {detail}");
        assert!(!detail.contains(PRIVACY_PHONE), "{detail}");
        for to in ["in_review", "denied"] {
            let fields = [
                ("to", to),
                ("text", "no such records"),
                ("reviewable", "yes"),
            ];
            let (status, body) = hana.form(&format!("{base}/status"), &fields).await;
            assert_eq!(status, StatusCode::SEE_OTHER, "{to}: {body}");
        }
        numbers.push((number, *expected));
    }
    let session = sign_in(&mut ana, &account).await;
    let list = my_requests(&verifier, &session.session_token).await;
    for ((number, expected), (_, _, in_console)) in numbers.iter().zip(&cases) {
        let mine = list
            .requests
            .iter()
            .find(|r| &r.request_number == number)
            .unwrap_or_else(|| panic!("{number} listed"));
        let denial = mine.messages.last().expect("the denial notice");
        assert!(
            denial.text.contains(expected),
            "{expected:?} in {}",
            denial.text
        );
        assert!(!denial.text.contains(PRIVACY_PHONE), "{}", denial.text);
        let (_, detail) = hana.get(&format!("/console/requests/{number}")).await;
        assert!(detail.contains(in_console), "{in_console:?} in {detail}");
    }
}

/// A request whose site was since removed from the configuration cannot be
/// denied (its notice could not name the complaint contact and phone): the
/// console says so before and when staff try, and the refusal changes nothing.
#[tokio::test]
async fn a_request_whose_site_is_no_longer_configured_cannot_be_denied() {
    let verifier = TestVerifier::start().await;
    let mut ana = Requester::new(&verifier);
    let account = register(&mut ana, "ana@example.org").await;
    let number = sign(&mut ana, &account, &ana_request(), None).await;
    let later = verifier
        .another_instance_with(|config| config.sites[0].id = "northside".into())
        .await;
    let hana = StaffClient::enrolled(&later, "hana@example.org", console::Role::Specialist).await;
    let base = format!("/console/requests/{number}");
    let (status, body) = hana
        .form(&format!("{base}/status"), &[("to", "in_review")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let (_, detail) = hana.get(&base).await;
    assert!(
        detail.contains("site (riverside) is no longer configured"),
        "{detail}"
    );
    let deny = [
        ("to", "denied"),
        ("text", "no such records"),
        ("reviewable", "yes"),
    ];
    let (status, body) = hana.form(&format!("{base}/status"), &deny).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body.contains("There is no such site."), "{body}");
    let (_, detail) = hana.get(&base).await;
    assert!(
        detail.contains("<option value=\"denied\">"),
        "still open: {detail}"
    );
    assert!(!detail.contains("Denial notice for request"), "{detail}");
}

#[tokio::test]
async fn the_status_list_shows_each_request_in_its_own_state() {
    let verifier = TestVerifier::start().await;
    let mut ana = Requester::new(&verifier);
    let account = register(&mut ana, "ana@example.org").await;
    let mut numbers = Vec::new();
    for _ in 0..4 {
        numbers.push(sign(&mut ana, &account, &ana_request(), None).await);
    }
    // Staff move three of them on: in review with a 10-day extension,
    // fulfilled, withdrawn; the first stays as received.
    let hana =
        StaffClient::enrolled(&verifier, "hana@example.org", console::Role::Specialist).await;
    let steps = [
        (1, "status", vec![("to", "in_review")]),
        (
            1,
            "extension",
            vec![("days", "10"), ("reason", "records at another site")],
        ),
        (2, "status", vec![("to", "in_review")]),
        (2, "status", vec![("to", "fulfilled")]),
        (3, "status", vec![("to", "withdrawn")]),
    ];
    for (i, path, fields) in steps {
        let number = &numbers[i];
        let (status, body) = hana
            .form(&format!("/console/requests/{number}/{path}"), &fields)
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{path}: {body}");
    }

    let session = sign_in(&mut ana, &account).await;
    let list = my_requests(&verifier, &session.session_token).await;
    assert_eq!(list.requests.len(), 4);
    let mine = |number: &str| {
        list.requests
            .iter()
            .find(|r| r.request_number == number)
            .unwrap_or_else(|| panic!("{number} listed"))
    };
    let expected = [
        (RequestStatus::Received, "Received: ", "Recibida: "),
        (RequestStatus::InReview, "In progress: ", "En proceso: "),
        (RequestStatus::Fulfilled, "Completed: ", "Completada: "),
        (RequestStatus::Withdrawn, "Withdrawn", "Retirada"),
    ];
    for (number, (status, en, es)) in numbers.iter().zip(expected) {
        let r = mine(number);
        assert_eq!(r.status, status, "{number}");
        assert!(
            r.status_label.en.starts_with(en),
            "{number}: {:?}",
            r.status_label
        );
        assert!(
            r.status_label.es.starts_with(es),
            "{number}: {:?}",
            r.status_label
        );
    }
    // The extension moves only its own request's due date, by its 10 days.
    let due = |number: &str| {
        let parts: Vec<i32> = mine(number)
            .due_date
            .split('-')
            .map(|p| p.parse().expect("number"))
            .collect();
        let month = time::Month::try_from(u8::try_from(parts[1]).expect("month")).expect("month");
        time::Date::from_calendar_date(parts[0], month, u8::try_from(parts[2]).expect("day"))
            .expect("date")
    };
    assert_eq!(
        due(&numbers[1]) - due(&numbers[0]),
        time::Duration::days(10)
    );
    assert_eq!(due(&numbers[2]), due(&numbers[0]));
    assert_eq!(
        mine(&numbers[1]).messages.len(),
        2,
        "status change and notice"
    );
}

/// Audit rows whose event names `action`.
async fn audited(verifier: &TestVerifier, action: &str) -> usize {
    let rows: Vec<String> = sqlx::query_scalar("SELECT event FROM audit_log")
        .fetch_all(verifier.store.pool())
        .await
        .expect("audit rows");
    rows.iter().filter(|r| r.contains(action)).count()
}

#[tokio::test]
async fn a_burst_of_status_reads_is_refused_with_retry_after_and_audited_once() {
    let verifier =
        TestVerifier::start_with_limits("posts_burst = 10\ncodes_per_address = 10").await;
    let mut ana = Requester::new(&verifier);
    let account = register(&mut ana, "ana@example.org").await;
    let token = sign_in(&mut ana, &account).await.session_token;
    let seen_at = || async {
        sqlx::query_scalar::<_, i64>("SELECT last_seen_at FROM requester_sessions")
            .fetch_one(verifier.store.pool())
            .await
            .expect("session")
    };
    let signed_in_at = seen_at().await;
    // Read from another address (the guard keys on it), so that the burst
    // is the reads' own and not what signing in used up.
    let reader = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .expect("client");
    let read = || {
        reader
            .get(verifier.url("/api/v1/me/requests"))
            .header("Origin", SITE_ORIGIN)
            .bearer_auth(&token)
            .send()
    };
    for i in 0..10 {
        let resp = read().await.expect("sent");
        assert_eq!(
            resp.status(),
            StatusCode::OK,
            "read {i} is inside the burst"
        );
    }
    let resp = read().await.expect("sent");
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(resp.headers()["retry-after"], "1");
    assert_eq!(
        resp.json::<Value>().await.expect("json")["code"],
        "rate_limited"
    );
    // Ten views: one audit row, and the session's idle timer written at
    // sign-in only (it is refreshed at most once a minute).
    assert_eq!(audited(&verifier, "requester_view_status").await, 1);
    assert_eq!(seen_at().await, signed_in_at);
    verifier.clock.advance(5 * 60);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let resp = read().await.expect("sent");
    assert_eq!(resp.status(), StatusCode::OK, "the quota refills");
    assert_eq!(
        audited(&verifier, "requester_view_status").await,
        2,
        "the first view after five minutes is audited again"
    );
    assert!(
        seen_at().await >= signed_in_at + 5 * 60,
        "the idle timer is refreshed"
    );
}

#[tokio::test]
async fn sign_ins_finished_together_with_one_passkey_leave_the_newest_counter_stored() {
    // As for signing (flow.rs): each finish reads the passkey before
    // verifying; whichever is stored later finds it changed and applies its
    // counter to the state as it is then, so the highest counter stays.
    let verifier = TestVerifier::start_with_limits(recordpass_tests::LOAD_LIMITS).await;
    let mut ana = Requester::new(&verifier);
    let account = register(&mut ana, "ana@example.org").await;
    for round in 0..6 {
        let mut started = Vec::new();
        for _ in 0..4 {
            started.push(start_sign_in(&ana).await);
        }
        let bodies: Vec<Value> = started
            .iter()
            .map(|s| discoverable_assertion(&mut ana.passkey, &account, s))
            .collect();
        let finishes = started.iter().zip(&bodies).map(|(s, body)| {
            let path = format!("/api/v1/sign-ins/{}/finish", s.ceremony_id);
            let ana = &ana;
            async move { ana.post(&path, body).await }
        });
        let answers = futures_util::future::join_all(finishes).await;
        for (status, reply) in &answers {
            assert!(
                *status == StatusCode::OK
                    || (*status == StatusCode::CONFLICT
                        && reply["code"] == "passkey_counter_regressed"),
                "round {round}: {status} {reply}"
            );
        }
        assert!(
            answers.iter().any(|(s, _)| *s == StatusCode::OK),
            "round {round}: one sign-in at least"
        );
        let newest = bodies.last().expect("four");
        assert_eq!(
            stored_counter(&verifier, &account.credential_id).await,
            assertion_counter(newest),
            "round {round}: the newest use's counter is stored"
        );
    }
}

#[tokio::test]
async fn a_sign_in_does_not_hold_the_writer_while_waiting_for_a_connection() {
    // On SQLite (a pool of 3 connections on 2 cores) a sign-in that read the
    // passkey on a second pooled connection while holding the write lock
    // stalled whenever the other connections were waiting for that lock:
    // everything waited out `busy_timeout` (5 s), and the waiting writers
    // then failed. Sign-ins and code requests together must all go through.
    let verifier = TestVerifier::start_with_limits(recordpass_tests::LOAD_LIMITS).await;
    let mut ana = Requester::new(&verifier);
    let account = register(&mut ana, "ana@example.org").await;
    for round in 0..4 {
        let started = start_sign_in(&ana).await;
        let body = discoverable_assertion(&mut ana.passkey, &account, &started);
        let path = format!("/api/v1/sign-ins/{}/finish", started.ceremony_id);
        let emails: Vec<String> = (0..4)
            .map(|i| format!("x{round}-{i}@example.org"))
            .collect();
        let began = std::time::Instant::now();
        let ((status, reply), codes) = tokio::join!(
            ana.post(&path, &body),
            futures_util::future::join_all(emails.iter().map(|e| ana.send_code(e))),
        );
        let took = began.elapsed();
        assert_eq!(status, StatusCode::OK, "round {round}: {reply}");
        for (status, body) in codes {
            assert_eq!(status, StatusCode::ACCEPTED, "round {round}: {body}");
        }
        assert!(
            took < std::time::Duration::from_secs(4),
            "round {round}: took {took:?}, as if waiting out busy_timeout"
        );
    }
}
