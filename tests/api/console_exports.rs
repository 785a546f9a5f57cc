//! Console exports through HTTP: the printable PDF certificate, the
//! accounting of disclosures (page and CSV), and disabling staff.

use recordpass_request::{Lang, examples};
use recordpass_tests::TestVerifier;
use recordpass_verifier::console::{Role, audit};
use reqwest::StatusCode;
use serde_json::json;

use crate::client::{Requester, ana_request, dated, site_origin};
use crate::console::{StaffClient, jar, plant, submitted};

/// Signs `request` as a new requester with `email`, statement in `lang`.
async fn signed(
    verifier: &TestVerifier,
    email: &str,
    request: &recordpass_request::RecordsRequest,
    lang: Lang,
) -> String {
    let mut who = Requester::new(verifier);
    let credential_id = who.register(email).await;
    who.upload_attachments(request).await;
    let (status, body) = who.start_signing_in(request, &credential_id, lang).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let started = serde_json::from_value(body).expect("SigningStarted");
    let assertion = who.assert_from(site_origin(), &started);
    let (status, reply) = who.finish_signing(&started.ceremony_id, &assertion).await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    reply["request_number"].as_str().expect("number").to_owned()
}

/// Every audit event's canonical JSON, oldest first; the chain must be intact.
pub(crate) async fn audit_events(verifier: &TestVerifier) -> Vec<String> {
    assert!(matches!(
        audit::verify(&verifier.store).await.expect("verify"),
        audit::Verdict::Intact { .. }
    ));
    sqlx::query_scalar("SELECT event FROM audit_log ORDER BY seq")
        .fetch_all(verifier.store.pool())
        .await
        .expect("audit rows")
}

fn audited(events: &[String], action: &str, target: &str) -> bool {
    events.iter().any(|e| {
        e.contains(&format!("\"action\":\"{action}\""))
            && e.contains(&format!("\"target\":\"{target}\""))
    })
}

/// The PDF's text, all whitespace removed (lines wrap anywhere a space was).
fn pdf_text(bytes: &[u8]) -> (usize, String) {
    let doc = lopdf::Document::load_mem(bytes).expect("a PDF lopdf can read");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let text = doc.extract_text(&pages).expect("text");
    (pages.len(), squeeze(&text))
}

fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

async fn certificate(staff: &StaffClient<'_>, number: &str) -> (String, Vec<u8>) {
    let resp = staff
        .http
        .get(
            staff
                .verifier
                .url(&format!("/console/requests/{number}/certificate.pdf")),
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::OK);
    let kind = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (kind, resp.bytes().await.expect("bytes").to_vec())
}

#[tokio::test]
async fn the_certificate_pdf_shows_the_signed_statement_and_its_evidence() {
    let verifier = TestVerifier::start().await;
    let number = signed(&verifier, "ana@example.org", &ana_request(), Lang::Es).await;
    let stored = verifier
        .store
        .submission(&number)
        .await
        .expect("read")
        .expect("stored");
    let hana = StaffClient::enrolled(&verifier, "hana@example.org", Role::Specialist).await;
    let (_, detail) = hana.get(&format!("/console/requests/{number}")).await;
    assert!(detail.contains(&format!("/console/requests/{number}/certificate.pdf")));
    assert!(
        detail.contains("<dt>Instrument</dt><dd>Right of access (45 CFR 164.524)</dd>"),
        "{detail}"
    );

    let (kind, bytes) = certificate(&hana, &number).await;
    assert_eq!(kind, "application/pdf");
    assert!(bytes.starts_with(b"%PDF-"));
    let (_, text) = pdf_text(&bytes);
    for expected in [
        "Request and certificate of completion",
        "Riverside General Hospital",
        &number,
        "Right of access (45 CFR 164.524)",
        // The Spanish statement, accents intact (WinAnsi round trip).
        "Yo, Ana María Pérez, soy el (la) paciente",
        "Solicito a Riverside General Hospital",
        "Statement, exactly as signed (language: es)",
        &stored.digest,
        "recordpass-sign-v1",
        "UP (user present) yes, UV (user verified) yes",
        "Evidence re-verified at export: VERIFIED",
        "[pass] passkey_signature",
        "a***@example.org",
        "received by requester",
        "docs/evidence.md",
        "page 1 of",
    ] {
        assert!(text.contains(&squeeze(expected)), "{expected:?} in {text}");
    }
    assert!(!text.contains("NOTVERIFIED"));

    // Patient-supplied markup is literal text; a long statement wraps onto more pages.
    let hostile = format!(
        "<script>alert(1)</script> {}",
        "Ana María Pérez ".repeat(300)
    );
    plant(
        &verifier,
        &number,
        "RP-EVIL-0002",
        "Ana María Pérez",
        hostile.trim(),
    )
    .await;
    let (_, bytes) = certificate(&hana, "RP-EVIL-0002").await;
    let (pages, text) = pdf_text(&bytes);
    assert!(pages >= 3, "{pages} pages");
    assert!(text.contains("<script>alert(1)</script>"), "{text}");
    assert!(text.contains(&squeeze("Evidence re-verified at export: NOT VERIFIED")));
    assert!(text.contains(&format!("page{pages}of{pages}")));

    // Letters the PDF's font lacks print as `?`, and the heading says so
    // instead of claiming the text is exact.
    plant(
        &verifier,
        "RP-EVIL-0002",
        "RP-VIET-0003",
        "Ana María Pérez",
        "Trần Thị Ngọc",
    )
    .await;
    let (_, bytes) = certificate(&hana, "RP-VIET-0003").await;
    let (_, text) = pdf_text(&bytes);
    assert!(text.contains(&squeeze("Tr?n Th? Ng?c")), "{text}");
    assert!(!text.contains(&squeeze("exactly as signed")), "{text}");
    assert!(
        text.contains(&squeeze("the evidence bundle holds the exact text")),
        "{text}"
    );

    // No session, no certificate; the exports are in the audit chain.
    let status = jar()
        .get(verifier.url(&format!("/console/requests/{number}/certificate.pdf")))
        .send()
        .await
        .expect("sent")
        .status();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let events = audit_events(&verifier).await;
    assert!(audited(&events, "export_certificate", &number));
    assert!(audited(&events, "export_certificate", "RP-EVIL-0002"));
}

#[tokio::test]
async fn disclosures_list_fulfilled_third_party_requests_only() {
    let verifier = TestVerifier::start().await;
    let access = submitted(&verifier).await;
    let directive = signed(
        &verifier,
        "luis@example.org",
        &dated(examples::parent_directive()),
        Lang::En,
    )
    .await;
    let pending = signed(
        &verifier,
        "maya@example.org",
        &dated(examples::representative_authorization()),
        Lang::En,
    )
    .await;
    // A copy whose recipient a spreadsheet would evaluate.
    let evil = "RP-EVIL-0003";
    plant(
        &verifier,
        &directive,
        evil,
        "Lincoln Elementary School nurse",
        "=HYPERLINK(1)",
    )
    .await;
    let hana = StaffClient::enrolled(&verifier, "hana@example.org", Role::Specialist).await;
    for number in [&access, &directive, evil] {
        for to in ["in_review", "fulfilled"] {
            let path = format!("/console/requests/{number}/status");
            let (status, body) = hana.form(&path, &[("to", to)]).await;
            assert_eq!(status, StatusCode::SEE_OTHER, "{number} {to}: {body}");
        }
    }

    let auditor = StaffClient::enrolled(&verifier, "aud@example.org", Role::Auditor).await;
    let (status, page) = auditor.get("/console/disclosures").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains(&format!("/console/requests/{directive}")),
        "{page}"
    );
    for text in [
        "Sofía Gómez Ruiz",
        "Lincoln Elementary School nurse",
        "nurse@lincoln.example.org",
        "immunization records; dates 2020-01-01 to 2024-12-31",
        "at the request of the individual",
        "2 disclosure(s)",
    ] {
        assert!(page.contains(text), "{text} in {page}");
    }
    assert!(!page.contains(&access), "right of access is no disclosure");
    assert!(!page.contains(&pending), "not fulfilled yet");

    let today = verifier.clock.now().date();
    let tomorrow = today.next_day().expect("tomorrow");
    for (search, listed) in [("sofia", true), ("GOMEZ ruiz", true), ("ana", false)] {
        let (status, page) = auditor.form("/console/disclosures", &[("q", search)]).await;
        assert_eq!(status, StatusCode::OK, "{search}");
        assert_eq!(page.contains(&directive), listed, "{search}");
    }
    // A search never comes from a URL (proxies log them): `?q=` is ignored.
    let (_, page) = auditor.get("/console/disclosures?q=ana").await;
    assert!(page.contains(&directive));
    for (query, listed) in [
        (format!("from={today}&to={today}"), true),
        (format!("from={tomorrow}"), false),
        (
            format!("to={}", today.previous_day().expect("yesterday")),
            false,
        ),
    ] {
        let (status, page) = auditor.get(&format!("/console/disclosures?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{query}");
        assert_eq!(page.contains(&directive), listed, "{query}");
    }
    let (status, _) = auditor.get("/console/disclosures?from=2026-13-45").await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a bad date is refused"
    );

    let (status, csv) = auditor
        .form("/console/disclosures.csv", &[("q", "sofía")])
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .is_some_and(|h| h.starts_with("date_of_disclosure,request_number,"))
    );
    let row = csv
        .lines()
        .find(|l| l.contains(&directive))
        .expect("directive row");
    assert!(
        row.contains("Lincoln Elementary School nurse,nurse@lincoln.example.org"),
        "{row}"
    );
    assert!(!csv.contains(&access));
    let (_, all) = auditor.get("/console/disclosures.csv").await;
    let defused = all.lines().find(|l| l.contains(evil)).expect("planted row");
    assert!(defused.contains(",'=HYPERLINK(1),"), "defused: {defused}");

    // Specialists work the queue; the report is for auditors and admins.
    assert_eq!(
        hana.get("/console/disclosures").await.0,
        StatusCode::FORBIDDEN
    );
    let admin = StaffClient::enrolled(&verifier, "boss@example.org", Role::Admin).await;
    assert_eq!(admin.get("/console/disclosures").await.0, StatusCode::OK);
    let events = audit_events(&verifier).await;
    assert!(audited(&events, "view_disclosures", ""));
    assert!(audited(&events, "export_disclosures_csv", ""));
    assert!(
        !events.iter().any(|e| e.contains("sof")),
        "searches by name stay out of the audit log"
    );
}

#[tokio::test]
async fn a_disabled_staff_member_is_signed_out_at_once_and_cannot_sign_in() {
    let verifier = TestVerifier::start().await;
    let boss = StaffClient::enrolled(&verifier, "boss@example.org", Role::Admin).await;
    let mut hana = StaffClient::enrolled(&verifier, "hana@example.org", Role::Specialist).await;
    let other = StaffClient::enrolled(&verifier, "boss2@example.org", Role::Admin).await;
    assert_eq!(hana.get("/console").await.0, StatusCode::OK);

    let disable = |email: &'static str| [("email", email), ("action", "disable")];
    let (status, body) = boss
        .form("/console/staff/access", &disable("hana@example.org"))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(
        hana.get("/console").await.0,
        StatusCode::UNAUTHORIZED,
        "session ended"
    );
    // Sign-in is refused: like any address without an enabled account, hers
    // now gets a decoy ceremony that names none of her passkeys.
    let (status, started) = hana
        .post_json(
            "/console/api/sign-in/start",
            &json!({"email": "hana@example.org"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let offered = started["options"]["publicKey"]["allowCredentials"][0]["id"]
        .as_str()
        .expect("one allowed credential")
        .to_owned();
    let hers: Vec<String> = sqlx::query_scalar(
        "SELECT p.credential_id FROM staff_passkeys p JOIN staff s ON s.id = p.staff_id
         WHERE s.email = $1",
    )
    .bind("hana@example.org")
    .fetch_all(verifier.store.pool())
    .await
    .expect("passkeys");
    assert_eq!(hers.len(), 1);
    assert!(!hers.contains(&offered), "sign-in refused");
    let (_, page) = boss.get("/console/staff").await;
    assert!(page.contains("Disabled "), "{page}");
    assert!(
        page.contains("aria-label=\"Re-enable hana@example.org\""),
        "{page}"
    );

    // Not oneself; an unknown member is a 404; bad actions are refused.
    let (status, _) = boss
        .form("/console/staff/access", &disable("boss@example.org"))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = boss
        .form("/console/staff/access", &disable("nobody@example.org"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let bad = [("email", "hana@example.org"), ("action", "delete")];
    assert_eq!(
        boss.form("/console/staff/access", &bad).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // Another admin may be disabled while one stays active.
    let (status, _) = boss
        .form("/console/staff/access", &disable("boss2@example.org"))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        other.get("/console/staff").await.0,
        StatusCode::UNAUTHORIZED
    );

    let enable = [("email", "hana@example.org"), ("action", "enable")];
    let (status, _) = boss.form("/console/staff/access", &enable).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(hana.sign_in().await, StatusCode::OK);
    assert_eq!(hana.get("/console").await.0, StatusCode::OK);

    let events = audit_events(&verifier).await;
    assert!(audited(&events, "staff_disabled", "hana@example.org"));
    assert!(audited(&events, "staff_disabled", "boss2@example.org"));
    assert!(audited(&events, "staff_enabled", "hana@example.org"));
}
