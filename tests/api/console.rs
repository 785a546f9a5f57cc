//! The HIM staff console through HTTP: enrolment and sign-in with a software
//! passkey, the queue, the evidence panel, the workflow, exports, the audit
//! chain, and the authorization rules of every route in the console's table.

use recordpass_tests::TestVerifier;
use recordpass_verifier::{
    console::{self, Access, Role, audit},
    db::Backend,
    evidence::verify_bundle,
    vault::Field,
};
use reqwest::{StatusCode, redirect::Policy};
use serde_json::{Value, json};
use url::Url;
use webauthn_authenticator_rs::{WebauthnAuthenticator, softpasskey::SoftPasskey};

use crate::client::{Requester, ana_request, site_origin};

/// A staff member's browser: cookie jar, software passkey, console origin.
pub(crate) struct StaffClient<'a> {
    pub(crate) verifier: &'a TestVerifier,
    pub(crate) http: reqwest::Client,
    pub(crate) passkey: SoftPasskey,
    pub(crate) email: String,
}

pub(crate) fn origin(verifier: &TestVerifier) -> String {
    verifier.config.console_origin()
}

impl<'a> StaffClient<'a> {
    pub(crate) fn new(verifier: &'a TestVerifier, email: &str) -> StaffClient<'a> {
        StaffClient {
            verifier,
            http: jar(),
            passkey: SoftPasskey::new(true),
            email: email.into(),
        }
    }

    /// Invited (as the CLI does), enrolled and signed in.
    pub(crate) async fn enrolled(
        verifier: &'a TestVerifier,
        email: &str,
        role: Role,
    ) -> StaffClient<'a> {
        let mut staff = StaffClient::new(verifier, email);
        let link = invite(verifier, email, role).await;
        staff.enrol(&link).await;
        staff
    }

    pub(crate) async fn post_json(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let resp = self
            .http
            .post(self.verifier.url(path))
            .header("Origin", origin(self.verifier))
            .json(body)
            .send()
            .await
            .expect("sent");
        (resp.status(), resp.json().await.unwrap_or(Value::Null))
    }

    pub(crate) async fn enrol(&mut self, link: &str) {
        let token = link.split_once('#').expect("token in fragment").1;
        let (status, started) = self
            .post_json("/console/api/enrol/start", &json!({"token": token}))
            .await;
        assert_eq!(status, StatusCode::OK, "{started}");
        let options = serde_json::from_value(started["options"].clone()).expect("options");
        let credential = self
            .passkey
            .do_registration(console_url(self.verifier), options)
            .expect("soft passkey registers");
        let body = json!({"ceremony_id": started["ceremony_id"], "credential": credential});
        let (status, done) = self.post_json("/console/api/enrol/finish", &body).await;
        assert_eq!(status, StatusCode::OK, "{done}");
    }

    pub(crate) async fn sign_in(&mut self) -> StatusCode {
        let (status, started) = self
            .post_json("/console/api/sign-in/start", &json!({"email": self.email}))
            .await;
        if status != StatusCode::OK {
            return status;
        }
        let options = serde_json::from_value(started["options"].clone()).expect("options");
        let credential = self
            .passkey
            .do_authentication(console_url(self.verifier), options)
            .expect("soft passkey signs");
        let body = json!({"ceremony_id": started["ceremony_id"], "credential": credential});
        self.post_json("/console/api/sign-in/finish", &body).await.0
    }

    pub(crate) async fn get(&self, path: &str) -> (StatusCode, String) {
        let resp = self
            .http
            .get(self.verifier.url(path))
            .send()
            .await
            .expect("sent");
        (resp.status(), resp.text().await.expect("body"))
    }

    /// The CSRF token the console put in its forms.
    pub(crate) async fn csrf(&self) -> String {
        let (status, page) = self.get("/console").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let at = page.find("name=\"csrf\" value=\"").expect("csrf field") + 19;
        page[at..].split('"').next().expect("value").to_owned()
    }

    /// Submits a form the way the browser does (Origin + CSRF field).
    pub(crate) async fn form(&self, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
        let csrf = self.csrf().await;
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        let resp = self
            .http
            .post(self.verifier.url(path))
            .header("Origin", origin(self.verifier))
            .form(&all)
            .send()
            .await
            .expect("sent");
        (resp.status(), resp.text().await.unwrap_or_default())
    }
}

pub(crate) fn jar() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .expect("client")
}

pub(crate) fn console_url(verifier: &TestVerifier) -> Url {
    Url::parse(&origin(verifier)).expect("console origin")
}

pub(crate) async fn invite(verifier: &TestVerifier, email: &str, role: Role) -> String {
    console::auth::invite(
        &verifier.store,
        &verifier.config,
        verifier.clock.unix(),
        "cli",
        email,
        role,
    )
    .await
    .expect("invited")
}

/// A signed request from Ana; returns its number.
pub(crate) async fn submitted(verifier: &TestVerifier) -> String {
    let mut ana = Requester::new(verifier);
    let credential_id = ana.register("ana@example.org").await;
    let started = ana.signing(&ana_request(), &credential_id).await;
    let body = ana.assert_from(site_origin(), &started);
    let (status, reply) = ana.finish_signing(&started.ceremony_id, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    reply["request_number"].as_str().expect("number").to_owned()
}

#[tokio::test]
async fn staff_enrol_sign_in_work_a_request_and_the_audit_chain_holds() {
    let verifier = TestVerifier::start().await;
    let number = submitted(&verifier).await;
    let mut hana = StaffClient::enrolled(&verifier, "hana@example.org", Role::Specialist).await;

    // Sign out, then back in with the passkey.
    let (status, _) = hana.form("/console/sign-out", &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(hana.get("/console").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(hana.sign_in().await, StatusCode::OK);

    // The queue: the request, its due date 30 days on, counts per status.
    let (status, queue) = hana.get("/console").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        queue.contains(&number) && queue.contains("Ana María Pérez"),
        "{queue}"
    );
    assert!(queue.contains("Received: <strong>1</strong>"), "{queue}");
    for q in ["maría", "PEREZ ana", &number[3..7]] {
        let (status, found) = hana.form("/console", &[("q", q)]).await;
        assert_eq!(status, StatusCode::OK, "{found}");
        assert!(found.contains(&number), "search {q}");
    }
    let (_, none) = hana.form("/console", &[("q", "nobody")]).await;
    assert!(!none.contains(&number));
    // A search never comes from a URL (proxies log them): `?q=` is ignored.
    let (_, unfiltered) = hana.get("/console?q=nobody").await;
    assert!(unfiltered.contains(&number));
    let (_, overdue) = hana.get("/console?due=overdue").await;
    assert!(!overdue.contains(&format!("/console/requests/{number}")));

    // The detail page re-verifies the evidence.
    let (status, detail) = hana.get(&format!("/console/requests/{number}")).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert!(detail.contains("verified now"), "{detail}");
    assert!(detail.contains("passkey_signature") && detail.contains("document_digest"));
    assert!(detail.contains("identity not yet matched to chart"));

    // Identity matched, extension, review, fulfilment.
    let base = format!("/console/requests/{number}");
    let (status, _) = hana
        .form(&format!("{base}/identity"), &[("matched", "yes")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _) = hana
        .form(
            &format!("{base}/extension"),
            &[
                ("days", "30"),
                ("reason", "records are in off-site storage"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _) = hana
        .form(
            &format!("{base}/extension"),
            &[("days", "5"), ("reason", "again")],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "only one extension");
    let (status, _) = hana
        .form(&format!("{base}/status"), &[("to", "fulfilled")])
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "received cannot jump to fulfilled"
    );
    for to in ["in_review", "fulfilled"] {
        let (status, body) = hana.form(&format!("{base}/status"), &[("to", to)]).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{to}: {body}");
    }
    let (_, detail) = hana.get(&base).await;
    assert!(detail.contains("identity matched to chart by hana@example.org"));
    assert!(detail.contains("Notice of extension for request"));
    assert!(detail.contains("<dd id=\"status-now\">Fulfilled</dd>"));

    // The requester is told, without health information.
    let mail = verifier.smtp.take_for("ana@example.org").await;
    let text = mail.decoded();
    assert!(text.contains(&number), "{text}");
    assert!(!text.contains("Pérez") && !text.contains("1984"), "{text}");

    // The bundle download verifies offline and carries the chart match.
    let resp = hana
        .http
        .get(verifier.url(&format!("{base}/bundle")))
        .send()
        .await
        .expect("bundle");
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = resp.bytes().await.expect("bytes");
    let report = verify_bundle(&bytes, Some(verifier.seal.public()));
    assert!(report.ok(), "{report}");
    let bundle: Value = serde_json::from_slice(&bytes).expect("json");
    assert!(
        bundle["identity_assurance"]
            .as_str()
            .is_some_and(|a| a.contains("matched to chart by hana@example.org")),
        "{bundle}"
    );

    // Everything was audited, in an intact chain an auditor can read.
    assert!(matches!(
        audit::verify(&verifier.store).await.expect("verify"),
        audit::Verdict::Intact { .. }
    ));
    let auditor = StaffClient::enrolled(&verifier, "aud@example.org", Role::Auditor).await;
    let (status, page) = auditor.get("/console/audit").await;
    assert_eq!(status, StatusCode::OK);
    for action in [
        "staff_invite",
        "staff_enrolled",
        "sign_in",
        "view",
        "identity_match",
        "extension",
        "status_change",
        "export_bundle",
    ] {
        assert!(
            page.contains(&format!("<td>{action}</td>")),
            "{action} audited"
        );
    }
    assert!(page.contains("audit chain intact"));
}

/// Fills `{param}` segments with `value`.
fn concrete(path: &str, value: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') { value } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_console_route_refuses_without_a_session_and_for_the_wrong_role() {
    let verifier = TestVerifier::start().await;
    let number = submitted(&verifier).await;
    let mut by_role = Vec::new();
    for role in Role::ALL {
        let email = format!("{}@example.org", role.as_str());
        by_role.push((role, StaffClient::enrolled(&verifier, &email, role).await));
    }
    let anonymous = jar();
    let routes = console::routes();
    let mut guarded = 0;
    for route in &routes {
        let url = verifier.url(&concrete(route.path, &number));
        let Access::Roles(allowed) = route.access else {
            assert!(
                route.path.starts_with("/console/static/")
                    || route.path.starts_with("/console/api/")
                    || route.path == "/console/sign-in"
                    || route.path == "/console/enrol",
                "{} {} is public",
                route.method,
                route.path
            );
            continue;
        };
        guarded += 1;
        let send = |client: &reqwest::Client| {
            client
                .request(route.method.clone(), &url)
                .header("Origin", origin(&verifier))
                .form(&[("csrf", "x")])
                .send()
        };
        let status = send(&anonymous).await.expect("sent").status();
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{} {}",
            route.method,
            route.path
        );
        for (role, staff) in &by_role {
            if allowed.contains(role) {
                continue;
            }
            let status = send(&staff.http).await.expect("sent").status();
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{} {} as {}",
                route.method,
                route.path,
                role.as_str()
            );
        }
    }
    assert!(guarded >= 10, "the table lists the console's routes");
}

#[tokio::test]
async fn state_changes_need_the_console_origin_and_the_csrf_token() {
    let verifier = TestVerifier::start().await;
    let number = submitted(&verifier).await;
    let hana = StaffClient::enrolled(&verifier, "hana@example.org", Role::Specialist).await;
    let path = verifier.url(&format!("/console/requests/{number}/notes"));
    let csrf = hana.csrf().await;
    let attempts = [
        (Some("https://evil.example"), Some(csrf.as_str())),
        (None, Some(csrf.as_str())),
        (
            Some(origin(&verifier).as_str()).map(|_| ""),
            Some(csrf.as_str()),
        ),
    ];
    for (from, token) in attempts {
        let mut req = hana
            .http
            .post(&path)
            .form(&[("csrf", token.unwrap_or("")), ("text", "x")]);
        if let Some(o) = from {
            req = req.header("Origin", o);
        }
        assert_eq!(
            req.send().await.expect("sent").status(),
            StatusCode::FORBIDDEN
        );
    }
    // `Origin: null` (forms under no-referrer) passes only when the browser says same-origin.
    for (site, expected) in [
        ("cross-site", StatusCode::FORBIDDEN),
        ("same-origin", StatusCode::SEE_OTHER),
    ] {
        let status = hana
            .http
            .post(&path)
            .header("Origin", "null")
            .header("Sec-Fetch-Site", site)
            .form(&[("csrf", csrf.as_str()), ("text", "x")])
            .send()
            .await
            .expect("sent")
            .status();
        assert_eq!(status, expected, "{site}");
    }
    let console_origin = origin(&verifier);
    for token in ["", "forged", &csrf[1..]] {
        let status = hana
            .http
            .post(&path)
            .header("Origin", &console_origin)
            .form(&[("csrf", token), ("text", "x")])
            .send()
            .await
            .expect("sent")
            .status();
        assert_eq!(status, StatusCode::FORBIDDEN, "token {token:?}");
    }
    let (status, _) = hana
        .form(
            &format!("/console/requests/{number}/notes"),
            &[("text", "ok")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

/// The sign-in form posts (the address never lands in a URL); posted
/// without its script, it says the script is needed.
#[tokio::test]
async fn the_sign_in_form_posts_and_explains_when_its_script_did_not_run() {
    let verifier = TestVerifier::start().await;
    let staff = StaffClient::new(&verifier, "hana@example.org");
    let (status, page) = staff.get("/console/sign-in").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(r#"method="post" action="/console/sign-in""#),
        "{page}"
    );
    assert!(!page.contains("needs this page's script"));
    let resp = staff
        .http
        .post(verifier.url("/console/sign-in"))
        .header("Origin", origin(&verifier))
        .form(&[("email", "hana@example.org")])
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::OK);
    let page = resp.text().await.expect("body");
    assert!(page.contains("needs this page's script"), "{page}");
    assert!(
        !page.contains("hana@example.org"),
        "the address is not echoed"
    );
}

/// A page on a sibling subdomain shares the site, so the browser sends the
/// strict cookie with its image or fetch requests: such loads are refused
/// before the session is touched (no idle-timer refresh, no audit entry);
/// following a link from there, and the console's own requests, still work.
#[tokio::test]
async fn staff_pages_loaded_by_another_origin_are_refused_and_not_audited() {
    let verifier = TestVerifier::start().await;
    let number = submitted(&verifier).await;
    let mut hana = StaffClient::enrolled(&verifier, "hana@example.org", Role::Specialist).await;
    let page = format!("/console/requests/{number}");
    let views = || async {
        let events: Vec<String> = sqlx::query_scalar("SELECT event FROM audit_log")
            .fetch_all(verifier.store.pool())
            .await
            .expect("audit");
        events.iter().filter(|e| e.contains("\"view\"")).count()
    };
    let before = views().await;
    for fetch in [
        ("same-site", "no-cors", "image"),
        ("same-site", "cors", "empty"),
        ("same-site", "navigate", "iframe"),
        ("cross-site", "no-cors", "script"),
    ] {
        let status = load(&hana, &page, fetch).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{fetch:?}");
    }
    assert_eq!(views().await, before, "refused loads write no audit entry");

    // Idle for 16 minutes while a sibling page keeps loading the console:
    // the session still ends on time.
    verifier.clock.advance(14 * 60);
    let status = load(&hana, &page, ("same-site", "no-cors", "image")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    verifier.clock.advance(2 * 60);
    assert_eq!(hana.get("/console").await.0, StatusCode::UNAUTHORIZED);

    // A link followed from the hospital's intranet, and the console's own
    // requests, pass (after signing in again).
    assert_eq!(hana.sign_in().await, StatusCode::OK);
    for fetch in [
        ("same-site", "navigate", "document"),
        ("same-origin", "cors", "empty"),
        ("none", "navigate", "document"),
    ] {
        assert_eq!(load(&hana, &page, fetch).await, StatusCode::OK, "{fetch:?}");
    }
    assert_eq!(views().await, before + 3, "each page shown is audited");
}

/// `GET path` with the fetch metadata `(site, mode, dest)` a browser sends.
async fn load(
    staff: &StaffClient<'_>,
    path: &str,
    (site, mode, dest): (&str, &str, &str),
) -> StatusCode {
    staff
        .http
        .get(staff.verifier.url(path))
        .header("Sec-Fetch-Site", site)
        .header("Sec-Fetch-Mode", mode)
        .header("Sec-Fetch-Dest", dest)
        .send()
        .await
        .expect("sent")
        .status()
}

#[tokio::test]
async fn idle_sessions_expire_and_cookies_are_strict() {
    let verifier = TestVerifier::start().await;
    let mut hana = StaffClient::new(&verifier, "hana@example.org");
    let link = invite(&verifier, "hana@example.org", Role::Specialist).await;
    let token = link.split_once('#').expect("fragment").1;
    let (_, started) = hana
        .post_json("/console/api/enrol/start", &json!({"token": token}))
        .await;
    let options = serde_json::from_value(started["options"].clone()).expect("options");
    let credential = hana
        .passkey
        .do_registration(console_url(&verifier), options)
        .expect("registers");
    let resp = hana
        .http
        .post(verifier.url("/console/api/enrol/finish"))
        .header("Origin", origin(&verifier))
        .json(&json!({"ceremony_id": started["ceremony_id"], "credential": credential}))
        .send()
        .await
        .expect("sent");
    let cookie = resp
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("session cookie")
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    // The link works once.
    let (status, _) = hana
        .post_json("/console/api/enrol/start", &json!({"token": token}))
        .await;
    assert_eq!(status, StatusCode::GONE);

    assert_eq!(hana.get("/console").await.0, StatusCode::OK);
    verifier.clock.advance(14 * 60);
    assert_eq!(
        hana.get("/console").await.0,
        StatusCode::OK,
        "activity keeps it alive"
    );
    verifier.clock.advance(15 * 60 + 1);
    assert_eq!(hana.get("/console").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(hana.sign_in().await, StatusCode::OK);
    assert_eq!(hana.get("/console").await.0, StatusCode::OK);
}

/// Stores a copy of request `number` as `evil` with `from` replaced by `to`
/// in its document: a document no API would accept (names refuse `<`),
/// which the console must still show as text, and never as verified.
pub(crate) async fn plant(verifier: &TestVerifier, number: &str, evil: &str, from: &str, to: &str) {
    let stored = verifier.store.submission(number).await.expect("read");
    let edited = stored.expect("stored").document.replace(from, to);
    let sealed = verifier
        .store
        .vault()
        .seal(Field::Document, evil, &edited)
        .expect("seal");
    sqlx::query(
        "INSERT INTO submissions (request_number, ceremony_id, site_id, requester_id,
             credential_id, document, digest, nonce, client_data_json, authenticator_data,
             signature, user_verified, received_at)
         SELECT $1, ceremony_id || 'x', site_id, requester_id, credential_id,
             $2, digest, nonce, client_data_json,
             authenticator_data, signature, user_verified, received_at
         FROM submissions WHERE request_number = $3",
    )
    .bind(evil)
    .bind(sealed)
    .bind(number)
    .execute(verifier.store.pool())
    .await
    .expect("planted");
}

#[tokio::test]
async fn hostile_request_text_is_inert_in_pages_and_csv() {
    let verifier = TestVerifier::start().await;
    let number = submitted(&verifier).await;
    // A document no API would accept (names refuse `<`), planted directly:
    // the console must still show it as text, and say it does not verify.
    let hostile = "=HYPERLINK(\\\"http://x\\\")<script>alert(1)</script>";
    let evil = "RP-EVIL-0001";
    plant(&verifier, &number, evil, "Ana María Pérez", hostile).await;
    let hana = StaffClient::enrolled(&verifier, "hana@example.org", Role::Specialist).await;
    for path in ["/console".to_owned(), format!("/console/requests/{evil}")] {
        let (status, page) = hana.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(!page.contains("<script>alert"), "{path} escapes");
        assert!(
            page.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{path}"
        );
    }
    let (_, detail) = hana.get(&format!("/console/requests/{evil}")).await;
    assert!(
        detail.contains("NOT VERIFIED"),
        "an edited document never looks verified"
    );
    let resp = hana
        .http
        .get(verifier.url("/console/queue.csv"))
        .send()
        .await
        .expect("csv");
    let csp = resp
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(csp.starts_with("default-src 'self'"), "{csp}");
    let csv = resp.text().await.expect("text");
    let line = csv.lines().find(|l| l.starts_with(evil)).expect("row");
    assert!(line.contains(",\"'=HYPERLINK("), "defused: {line}");
}

#[tokio::test]
async fn a_tampered_audit_row_is_named_by_verify() {
    let verifier = TestVerifier::start().await;
    for who in ["a@example.org", "b@example.org", "c@example.org"] {
        invite(&verifier, who, Role::Auditor).await;
    }
    let pool = verifier.store.pool();
    // Append-only: the database refuses edits…
    let refused = sqlx::query("UPDATE audit_log SET event = 'x' WHERE seq = 2")
        .execute(pool)
        .await;
    assert!(refused.is_err());
    // …and someone who drops the trigger is still caught by the chain.
    let drop_trigger = match verifier.store.backend() {
        Backend::Sqlite => "DROP TRIGGER audit_log_no_update",
        Backend::Postgres => "DROP TRIGGER audit_log_no_update ON audit_log",
    };
    sqlx::query(drop_trigger).execute(pool).await.expect("drop");
    sqlx::query(
        "UPDATE audit_log SET event = replace(event, 'b@example.org', 'z@example.org') WHERE seq = 2",
    )
    .execute(pool)
    .await
    .expect("tampered");
    let verdict = audit::verify(&verifier.store).await.expect("verify");
    assert!(
        matches!(verdict, audit::Verdict::Broken { seq: 2, .. }),
        "{verdict}"
    );
    assert!(verdict.to_string().contains("seq 2"));
}

#[tokio::test]
async fn concurrent_audited_actions_extend_one_unbroken_chain() {
    let verifier = TestVerifier::start().await;
    let number = submitted(&verifier).await;
    let hana = StaffClient::enrolled(&verifier, "hana@example.org", Role::Specialist).await;
    let events = || async {
        match audit::verify(&verifier.store).await.expect("verify") {
            audit::Verdict::Intact { rows } => rows,
            broken => panic!("{broken}"),
        }
    };
    let before = events().await;
    // Each view appends to the audit log: they race for the next `seq`.
    const VIEWS: i64 = 12;
    let mut views = tokio::task::JoinSet::new();
    for _ in 0..VIEWS {
        let get = hana
            .http
            .get(verifier.url(&format!("/console/requests/{number}")));
        views.spawn(async move {
            let resp = get.send().await.expect("sent");
            (resp.status(), resp.text().await.expect("body"))
        });
    }
    while let Some(view) = views.join_next().await {
        let (status, page) = view.expect("view task");
        assert_eq!(status, StatusCode::OK, "{page}");
    }
    assert_eq!(
        events().await,
        before + VIEWS,
        "each view recorded once, chain intact"
    );
}

/// The JSON's shape: keys and value types, not values.
fn shape(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), shape(v))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(shape).collect()),
        Value::String(s) => json!(format!("string of {}", s.len())),
        Value::Number(_) => json!("number"),
        Value::Bool(_) => json!("bool"),
        Value::Null => Value::Null,
    }
}

#[tokio::test]
async fn sign_in_does_not_reveal_whether_an_address_is_staff() {
    let verifier = TestVerifier::start().await;
    let mut hana = StaffClient::enrolled(&verifier, "hana@example.org", Role::Admin).await;
    let start = "/console/api/sign-in/start";
    let (status, known) = hana
        .post_json(start, &json!({"email": "hana@example.org"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{known}");
    let (status, unknown) = hana
        .post_json(start, &json!({"email": "nobody@example.org"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{unknown}");
    assert_eq!(shape(&known), shape(&unknown), "{known} vs {unknown}");
    // Asking again: a new challenge, but the same made-up credential id.
    let (_, again) = hana
        .post_json(start, &json!({"email": "nobody@example.org"}))
        .await;
    let allowed = |v: &Value| v["options"]["publicKey"]["allowCredentials"][0]["id"].clone();
    assert_eq!(allowed(&again), allowed(&unknown));
    assert_ne!(
        again["options"]["publicKey"]["challenge"],
        unknown["options"]["publicKey"]["challenge"]
    );

    // A real assertion sent to the decoy ceremony fails like any bad sign-in,
    // and the attempt is audited.
    let options = serde_json::from_value(known["options"].clone()).expect("options");
    let credential = hana
        .passkey
        .do_authentication(console_url(&verifier), options)
        .expect("soft passkey signs");
    let body = json!({"ceremony_id": unknown["ceremony_id"], "credential": credential});
    let (status, reply) = hana.post_json("/console/api/sign-in/finish", &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{reply}");
    assert_eq!(reply["code"], "credential_unknown");
    let failed: Vec<String> = sqlx::query_scalar(
        "SELECT event FROM audit_log WHERE event LIKE '%sign_in_failed%' ORDER BY seq",
    )
    .fetch_all(verifier.store.pool())
    .await
    .expect("audit");
    assert_eq!(failed.len(), 1, "{failed:?}");
    // Not staff: the permanent trail keeps a keyed hash, not the address.
    assert!(!failed[0].contains("nobody"), "{failed:?}");
    assert!(failed[0].contains("not-staff:"), "{failed:?}");
    // The staff member's own ceremony still works.
    let body = json!({"ceremony_id": known["ceremony_id"], "credential": credential});
    assert_eq!(
        hana.post_json("/console/api/sign-in/finish", &body).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_audit_trail_exports_as_lines_anyone_can_recheck() {
    use sha2::{Digest as _, Sha256};
    let verifier = TestVerifier::start().await;
    let mut hana = StaffClient::enrolled(&verifier, "hana@example.org", Role::Admin).await;
    assert_eq!(hana.sign_in().await, StatusCode::OK);
    let resp = hana
        .http
        .get(verifier.url("/console/audit.jsonl"))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .expect("ascii")
            .starts_with("attachment"),
    );
    let text = resp.text().await.expect("body");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert!(lines.len() >= 4, "{text}");
    // Every link recomputes with plain SHA-256: hash = SHA-256(prev_hash ‖ event).
    let mut prev = audit::GENESIS.to_owned();
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line["seq"], json!(i + 1));
        assert_eq!(line["prev_hash"], json!(prev));
        let event = line["event"].as_str().expect("event string");
        let mut h = Sha256::new();
        h.update(prev.as_bytes());
        h.update(event.as_bytes());
        let hash = hex::encode(h.finalize());
        assert_eq!(line["hash"], json!(hash), "row {}", i + 1);
        prev = hash;
    }
    // The export itself is the last entry.
    let last: Value =
        serde_json::from_str(lines[lines.len() - 1]["event"].as_str().expect("event"))
            .expect("event JSON");
    assert_eq!(last["action"], "export_audit");
    assert_eq!(last["actor"], "hana@example.org");
}
