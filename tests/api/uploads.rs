//! Proof-of-authority uploads through HTTP: accepted types stored sealed, liars
//! and oversize files refused with specific codes and nothing stored, the file
//! bound into the signed document, linked at signing, listed and downloadable
//! in the console (audited), purged when unclaimed.

use recordpass_request::{
    Digest,
    api::FILE_NAME_HEADER,
    examples,
    upload::{Attachment, MAX_UPLOAD_BYTES, MediaType},
};
use recordpass_tests::{SITE_ID, SITE_ORIGIN, TestVerifier, verifier_cli};
use recordpass_verifier::{
    console::{Role, audit},
    retention,
    store::Table,
};
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::Row as _;

use crate::{
    at_rest::raw_database,
    client::{Requester, dated, site_origin, upload_file},
    console::StaffClient,
    evidence::run,
};

const ELF: &[u8] = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0>\0\x01\0\0\0padding";
const HTML: &[u8] = b"<!doctype html><title>x</title><script>alert(document.cookie)</script>";

async fn upload(
    verifier: &TestVerifier,
    name: &str,
    content_type: &str,
    bytes: &[u8],
) -> (StatusCode, Value) {
    upload_file(verifier, SITE_ORIGIN, name, content_type, bytes).await
}

/// Uploads `bytes` and expects `201`; returns the attachment to sign.
pub(crate) async fn uploaded(
    verifier: &TestVerifier,
    name: &str,
    ct: &str,
    bytes: &[u8],
) -> Attachment {
    let (status, body) = upload(verifier, name, ct, bytes).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    serde_json::from_value(body["attachment"].clone()).expect("attachment")
}

#[tokio::test]
async fn pdf_jpeg_and_png_are_stored_with_their_detected_type_and_digest() {
    let verifier = TestVerifier::start().await;
    for (name, ct, bytes, kind) in [
        (
            "poa.pdf",
            "application/pdf",
            examples::PROOF_PDF,
            MediaType::Pdf,
        ),
        (
            "letters.JPG",
            "image/jpeg",
            examples::PROOF_JPEG,
            MediaType::Jpeg,
        ),
        (
            "order.png",
            "image/png",
            examples::PROOF_PNG,
            MediaType::Png,
        ),
    ] {
        let a = uploaded(&verifier, name, ct, bytes).await;
        assert_eq!(a.media_type, kind);
        assert_eq!(a.size, bytes.len() as u64);
        assert_eq!(a.sha256, Digest::of(bytes));
        assert_eq!(a.name, name);
    }
    assert_eq!(verifier.count(Table::Uploads).await, 3);
}

#[tokio::test]
async fn files_that_lie_are_empty_or_too_large_get_a_specific_4xx_and_nothing_is_stored() {
    let verifier = TestVerifier::start().await;
    let mut oversize = examples::PROOF_PDF.to_vec();
    oversize.resize(MAX_UPLOAD_BYTES as usize + 1, b' ');
    let truncated = &examples::PROOF_PDF[..examples::PROOF_PDF.len() - 10];
    let cases: [(&str, &str, &[u8], StatusCode, &str); 8] = [
        (
            "poa.pdf",
            "application/pdf",
            examples::PROOF_PNG,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "file_type_mismatch",
        ),
        (
            "poa.pdf",
            "image/png",
            examples::PROOF_PNG,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "file_type_mismatch",
        ),
        (
            "poa.pdf",
            "application/pdf",
            ELF,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "file_type_unsupported",
        ),
        (
            "poa.pdf",
            "application/pdf",
            HTML,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "file_type_unsupported",
        ),
        (
            "poa.html",
            "text/html",
            examples::PROOF_PDF,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "file_type_mismatch",
        ),
        (
            "poa.pdf",
            "application/pdf",
            b"",
            StatusCode::BAD_REQUEST,
            "file_empty",
        ),
        (
            "poa.pdf",
            "application/pdf",
            &oversize,
            StatusCode::PAYLOAD_TOO_LARGE,
            "file_too_large",
        ),
        (
            "poa.pdf",
            "application/pdf",
            truncated,
            StatusCode::UNPROCESSABLE_ENTITY,
            "file_damaged",
        ),
    ];
    for (name, ct, bytes, status, code) in cases {
        let (got, body) = upload(&verifier, name, ct, bytes).await;
        assert_eq!(
            (got, body["code"].as_str()),
            (status, Some(code)),
            "{name} {ct}: {body}"
        );
        assert!(!body["message"].as_str().unwrap_or("").is_empty());
    }
    // From a page that is not the site's, even a good file is refused.
    let (got, body) = upload_file(
        &verifier,
        "https://evil.example",
        "poa.pdf",
        "application/pdf",
        examples::PROOF_PDF,
    )
    .await;
    assert_eq!(got, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(verifier.count(Table::Uploads).await, 0);
}

/// Maya's representative request, dated today, naming `attachments`.
pub(crate) fn maya_request(attachments: Vec<Attachment>) -> recordpass_request::RecordsRequest {
    let mut req = dated(examples::representative_authorization());
    req.requester.attachments = attachments;
    req
}

#[tokio::test]
async fn a_signed_representative_request_claims_its_file_and_the_console_serves_the_exact_bytes() {
    let verifier = TestVerifier::start().await;
    let attachment = uploaded(
        &verifier,
        "C:\\scans\\power-of-attorney.pdf",
        "application/pdf",
        examples::PROOF_PDF,
    )
    .await;
    assert_eq!(attachment.name, "power-of-attorney.pdf");
    let mut maya = Requester::new(&verifier);
    let credential_id = maya.register("maya@example.org").await;
    let started = maya
        .signing(&maya_request(vec![attachment.clone()]), &credential_id)
        .await;
    // The signed document names the file and its digest, in the statement too.
    assert_eq!(
        started.document.request.requester.attachments,
        vec![attachment.clone()]
    );
    assert!(
        started
            .document
            .statement
            .contains(&attachment.sha256.to_hex()),
        "{}",
        started.document.statement
    );
    let body = maya.assert_from(site_origin(), &started);
    let (status, reply) = maya.finish_signing(&started.ceremony_id, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    let number = reply["request_number"].as_str().expect("number").to_owned();

    let row = sqlx::query("SELECT id, request_number FROM uploads")
        .fetch_one(verifier.store.pool())
        .await
        .expect("one upload");
    assert_eq!(
        row.get::<Option<String>, _>("request_number"),
        Some(number.clone())
    );
    let id: String = row.get("id");

    // Claimed files outlive the unclaimed-upload expiry.
    verifier.clock.advance(3 * 24 * 60 * 60);
    retention::purge_transient(&verifier.store, &verifier.config, verifier.clock.unix())
        .await
        .expect("purge");
    assert_eq!(verifier.count(Table::Uploads).await, 1);

    let staff = StaffClient::enrolled(&verifier, "aud@example.org", Role::Auditor).await;
    let (status, detail) = staff.get(&format!("/console/requests/{number}")).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    for part in [
        "Proof of authority",
        "power-of-attorney.pdf",
        &attachment.sha256.to_hex(),
        "✓ yes",
        &format!("/console/requests/{number}/files/{id}"),
    ] {
        assert!(detail.contains(part), "{part} in the detail page");
    }

    let resp = staff
        .http
        .get(verifier.url(&format!("/console/requests/{number}/files/{id}")))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::OK);
    let h = resp.headers().clone();
    assert_eq!(h["content-type"], "application/pdf");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(
        h["content-security-policy"]
            .to_str()
            .expect("csp")
            .starts_with("sandbox")
    );
    assert_eq!(
        h["content-disposition"],
        "attachment; filename=\"power-of-attorney.pdf\""
    );
    assert_eq!(
        resp.bytes().await.expect("bytes").as_ref(),
        examples::PROOF_PDF
    );

    // Another request's number does not reach this file.
    let (status, _) = staff
        .get(&format!("/console/requests/RP-0000-0000/files/{id}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Offline: the exported bundle names the file, and `verify-bundle --attachment`
    // tells the signed file from any other.
    let dir = tempfile::tempdir().expect("dir");
    let bundle = dir.path().join("bundle.json");
    let (ok, out) = run(verifier_cli()
        .args(["submissions", "export", &number, "--out"])
        .arg(&bundle)
        .arg("--config")
        .arg(&verifier.config_path));
    assert!(ok, "{out}");
    let (pdf, png) = (dir.path().join("poa.pdf"), dir.path().join("other.png"));
    std::fs::write(&pdf, examples::PROOF_PDF).expect("write");
    std::fs::write(&png, examples::PROOF_PNG).expect("write");
    let (ok, out) = run(verifier_cli()
        .arg("verify-bundle")
        .arg(&bundle)
        .arg("--attachment")
        .arg(&pdf));
    assert!(
        ok && out.contains("is the signed power-of-attorney.pdf"),
        "{out}"
    );
    let (ok, out) = run(verifier_cli()
        .arg("verify-bundle")
        .arg(&bundle)
        .arg("--attachment")
        .arg(&png));
    assert!(
        !ok && out.contains("is not a file the signed document names"),
        "{out}"
    );

    let (_, audit_page) = staff.get("/console/audit").await;
    assert!(
        audit_page.contains("<td>export_file</td>"),
        "download audited"
    );
    assert!(matches!(
        audit::verify(&verifier.store).await.expect("verify"),
        audit::Verdict::Intact { .. }
    ));
}

/// Uploads `bytes` as `poa.pdf` from the client address `127.0.0.<n>` (each
/// address may store 20 files an hour) and expects `201`.
async fn uploaded_from(verifier: &TestVerifier, n: u8, bytes: &[u8]) -> Attachment {
    let resp = crate::upload_intake::client_from(n)
        .post(verifier.url(&format!("/api/v1/sites/{SITE_ID}/uploads")))
        .header("Origin", SITE_ORIGIN)
        .header("Content-Type", "application/pdf")
        .header(FILE_NAME_HEADER, "poa.pdf")
        .body(bytes.to_vec())
        .send()
        .await
        .expect("sent");
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    assert_eq!(status, StatusCode::CREATED, "{body}");
    serde_json::from_value(body["attachment"].clone()).expect("attachment")
}

/// Two requesters upload the same bytes (two uploads of one file) and finish
/// their signatures at the same moment, round after round. On PostgreSQL
/// both finishes may pick the same (oldest) upload: the one that waited for
/// the other's row lock must then claim the other identical upload, not
/// answer `file_not_uploaded`. Each request gets an upload row of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_requesters_signing_identical_files_at_once_each_claim_an_upload_of_their_own() {
    let verifier = TestVerifier::start_with_limits("posts_burst = 1000").await;
    let mut maya = Requester::new(&verifier);
    let mut omar = Requester::new(&verifier);
    let maya_key = maya.register("maya@example.org").await;
    let omar_key = omar.register("omar@example.org").await;
    let rounds = 16;
    for round in 0..rounds {
        let first = uploaded_from(&verifier, 10 + 2 * round, examples::PROOF_PDF).await;
        let second = uploaded_from(&verifier, 11 + 2 * round, examples::PROOF_PDF).await;
        assert_eq!(first, second, "one file, uploaded twice");
        let for_maya = maya_request(vec![first]);
        let mut for_omar = maya_request(vec![second]);
        for_omar.requester.email = "omar@example.org".into();
        let maya_started = maya.signing(&for_maya, &maya_key).await;
        let omar_started = omar.signing(&for_omar, &omar_key).await;
        let maya_body = maya.assert_from(site_origin(), &maya_started);
        let omar_body = omar.assert_from(site_origin(), &omar_started);
        let ((maya_status, maya_reply), (omar_status, omar_reply)) = tokio::join!(
            maya.finish_signing(&maya_started.ceremony_id, &maya_body),
            omar.finish_signing(&omar_started.ceremony_id, &omar_body),
        );
        assert_eq!(
            (maya_status, omar_status),
            (StatusCode::CREATED, StatusCode::CREATED),
            "round {round}: {maya_reply} {omar_reply}"
        );
        let mut claimed = Vec::new();
        for reply in [&maya_reply, &omar_reply] {
            let number = reply["request_number"].as_str().expect("number");
            let ids: Vec<String> =
                sqlx::query_scalar("SELECT id FROM uploads WHERE request_number = $1")
                    .bind(number)
                    .fetch_all(verifier.store.pool())
                    .await
                    .expect("claimed uploads");
            assert_eq!(ids.len(), 1, "round {round}: {number} claimed {ids:?}");
            claimed.extend(ids);
        }
        assert_ne!(
            claimed[0], claimed[1],
            "round {round}: one upload claimed twice"
        );
    }
    let unclaimed: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM uploads WHERE request_number IS NULL")
            .fetch_one(verifier.store.pool())
            .await
            .expect("count");
    assert_eq!(unclaimed, 0);
    assert_eq!(
        verifier.count(Table::Submissions).await,
        2 * i64::from(rounds)
    );
}

/// A claim matches uploads by content, so a request may claim an identical
/// file someone else uploaded first under another name; the console shows
/// and serves it under the name this request signed, never the other one.
#[tokio::test]
async fn a_claimed_file_is_shown_under_the_name_its_request_signed() {
    let verifier = TestVerifier::start().await;
    let theirs = uploaded(
        &verifier,
        "POA - Jane Doe.pdf",
        "application/pdf",
        examples::PROOF_PDF,
    )
    .await;
    // Theirs is the older one: the claim takes it.
    verifier.clock.advance(1);
    let mine = uploaded(
        &verifier,
        "poa-maya.pdf",
        "application/pdf",
        examples::PROOF_PDF,
    )
    .await;
    assert_eq!((theirs.sha256, theirs.size), (mine.sha256, mine.size));
    let mut maya = Requester::new(&verifier);
    let credential_id = maya.register("maya@example.org").await;
    let started = maya
        .signing(&maya_request(vec![mine]), &credential_id)
        .await;
    let body = maya.assert_from(site_origin(), &started);
    let (status, reply) = maya.finish_signing(&started.ceremony_id, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    let number = reply["request_number"].as_str().expect("number");
    let id: String = sqlx::query_scalar("SELECT id FROM uploads WHERE request_number = $1")
        .bind(number)
        .fetch_one(verifier.store.pool())
        .await
        .expect("one claimed upload");

    let staff = StaffClient::enrolled(&verifier, "aud@example.org", Role::Auditor).await;
    let (status, detail) = staff.get(&format!("/console/requests/{number}")).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert!(detail.contains("poa-maya.pdf"), "{detail}");
    assert!(!detail.contains("Jane Doe"), "{detail}");
    let resp = staff
        .http
        .get(verifier.url(&format!("/console/requests/{number}/files/{id}")))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()["content-disposition"],
        "attachment; filename=\"poa-maya.pdf\""
    );
    assert_eq!(resp.bytes().await.expect("bytes"), examples::PROOF_PDF);
}

#[tokio::test]
async fn a_document_naming_a_file_never_uploaded_is_a_field_error_and_nothing_is_stored() {
    let verifier = TestVerifier::start().await;
    let mut maya = Requester::new(&verifier);
    let credential_id = maya.register("maya@example.org").await;
    let ceremonies = verifier.count(Table::Ceremonies).await;
    // Uploaded: the PDF. Named in the document: the PNG, never uploaded.
    uploaded(&verifier, "poa.pdf", "application/pdf", examples::PROOF_PDF).await;
    let never = Attachment::describe("order.png", MediaType::Png, examples::PROOF_PNG);
    let (status, body) = maya
        .start_signing(&maya_request(vec![never]), &credential_id)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "invalid_request");
    assert_eq!(body["fields"][0]["field"], "requester.attachments[0]");
    assert_eq!(body["fields"][0]["problem"], "file_not_uploaded");
    // Same digest, different size: still not the uploaded file.
    let mut liar = Attachment::describe("poa.pdf", MediaType::Pdf, examples::PROOF_PDF);
    liar.size += 1;
    let (status, body) = maya
        .start_signing(&maya_request(vec![liar]), &credential_id)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(verifier.count(Table::Submissions).await, 0);
    assert_eq!(verifier.count(Table::Ceremonies).await, ceremonies);
    let claimed: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM uploads WHERE request_number IS NOT NULL")
            .fetch_one(verifier.store.pool())
            .await
            .expect("count");
    assert_eq!(claimed, 0);
}

#[tokio::test]
async fn a_file_gone_before_the_signature_is_a_field_error_and_unclaimed_files_expire() {
    let verifier = TestVerifier::start().await;
    let attachment = uploaded(&verifier, "poa.pdf", "application/pdf", examples::PROOF_PDF).await;
    let mut maya = Requester::new(&verifier);
    let credential_id = maya.register("maya@example.org").await;
    let started = maya
        .signing(&maya_request(vec![attachment.clone()]), &credential_id)
        .await;
    let body = maya.assert_from(site_origin(), &started);
    // The file disappears between the review screen and the signature.
    sqlx::query("DELETE FROM uploads")
        .execute(verifier.store.pool())
        .await
        .expect("delete");
    let (status, reply) = maya.finish_signing(&started.ceremony_id, &body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{reply}");
    assert_eq!(reply["fields"][0]["problem"], "file_not_uploaded");
    assert_eq!(verifier.count(Table::Submissions).await, 0);

    // Unclaimed files are purged once they expire, not before.
    uploaded(&verifier, "poa.pdf", "application/pdf", examples::PROOF_PDF).await;
    let purge = || async {
        retention::purge_transient(&verifier.store, &verifier.config, verifier.clock.unix())
            .await
            .expect("purge")
    };
    verifier
        .clock
        .advance(recordpass_verifier::uploads::UPLOAD_TTL_SECS - 60);
    purge().await;
    assert_eq!(verifier.count(Table::Uploads).await, 1);
    verifier.clock.advance(120);
    let report = purge().await;
    assert!(report.tables.contains(&("uploads", 1)), "{report:?}");
    assert_eq!(verifier.count(Table::Uploads).await, 0);
}

#[tokio::test]
async fn uploaded_bytes_and_names_never_reach_the_database_in_clear() {
    let verifier = TestVerifier::start().await;
    let attachment = uploaded(
        &verifier,
        "Li-Chen-power-of-attorney.pdf",
        "application/pdf",
        examples::PROOF_PDF,
    )
    .await;
    let mut maya = Requester::new(&verifier);
    let credential_id = maya.register("maya@example.org").await;
    let started = maya
        .signing(&maya_request(vec![attachment]), &credential_id)
        .await;
    let body = maya.assert_from(site_origin(), &started);
    let (status, reply) = maya.finish_signing(&started.ceremony_id, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    let raw = raw_database(&verifier);
    let contains = |needle: &[u8]| raw.windows(needle.len()).any(|w| w == needle);
    assert!(
        !contains(b"Power of attorney"),
        "the PDF's text is in clear"
    );
    assert!(
        !contains(&examples::PROOF_PDF[..64]),
        "the PDF's bytes are in clear"
    );
    assert!(
        !contains(b"Li-Chen-power-of-attorney"),
        "the file name is in clear"
    );
    let row = sqlx::query("SELECT name, content FROM uploads")
        .fetch_one(verifier.store.pool())
        .await
        .expect("row");
    for column in ["name", "content"] {
        assert!(
            row.get::<String, _>(column).starts_with("rp1:"),
            "{column} sealed"
        );
    }
}

/// The widget names the file in a header (percent-encoded UTF-8), so the name
/// never reaches a URL that proxies log; earlier widget releases' `?name=`
/// still works, and the header wins when both are sent.
#[tokio::test]
async fn the_file_name_travels_in_a_header_and_the_query_is_a_fallback() {
    let verifier = TestVerifier::start().await;
    let pdf = examples::PROOF_PDF;
    let poa = uploaded(
        &verifier,
        "Poder notarial de José Núñez.pdf",
        "application/pdf",
        pdf,
    )
    .await;
    assert_eq!(poa.name, "Poder notarial de José Núñez.pdf");

    let send = |query: Option<&'static str>, header: Option<&'static str>| {
        let mut request = reqwest::Client::new()
            .post(verifier.url(&format!("/api/v1/sites/{SITE_ID}/uploads")))
            .header("Origin", SITE_ORIGIN)
            .header("Content-Type", "application/pdf")
            .body(pdf.to_vec());
        if let Some(name) = query {
            request = request.query(&[("name", name)]);
        }
        if let Some(name) = header {
            request = request.header(FILE_NAME_HEADER, name);
        }
        async move {
            let resp = request.send().await.expect("sent");
            assert_eq!(resp.status(), StatusCode::CREATED);
            let body: Value = resp.json().await.expect("json");
            body["attachment"]["name"]
                .as_str()
                .expect("name")
                .to_owned()
        }
    };
    assert_eq!(send(Some("old-widget.pdf"), None).await, "old-widget.pdf");
    assert_eq!(
        send(Some("in-the-url.pdf"), Some("in%20a%20header.pdf")).await,
        "in a header.pdf"
    );

    // Browsers may send the header: a preflight from the site's page allows it.
    let preflight = reqwest::Client::new()
        .request(
            reqwest::Method::OPTIONS,
            verifier.url(&format!("/api/v1/sites/{SITE_ID}/uploads")),
        )
        .header("Origin", SITE_ORIGIN)
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            format!("content-type,{FILE_NAME_HEADER}"),
        )
        .send()
        .await
        .expect("sent");
    let allowed = preflight.headers()["access-control-allow-headers"]
        .to_str()
        .expect("ascii")
        .to_lowercase();
    assert!(allowed.contains(FILE_NAME_HEADER), "{allowed}");
}
