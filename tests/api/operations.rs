//! Operator commands on a live database: `backup` (restored, every bundle
//! verifies), `purge` (retention: dry run, closed requests only, authorizations
//! kept six years past their expiry, legal holds, a six-year floor, audited),
//! `hold add / remove / list`, and the background purge of expired transient
//! state and of requesters who never signed.

use recordpass_request::examples;
use recordpass_tests::{TestDatabase, TestVerifier, verifier_cli};
use recordpass_verifier::{
    Store,
    console::{Role, audit},
    db::Backend,
    evidence::{Exporter, to_pretty_json, verify_bundle},
    retention,
    seal::SealKey,
    store::Table,
    vault::Field,
};
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use std::{process::Command, sync::Arc};

use crate::{
    client::{Requester, ana_request, dated, site_origin},
    console::StaffClient,
    evidence::run,
    returning,
};

/// Lets tests purge with a retention shorter than six years (`0`: everything closed).
const SHORT_RETENTION: &str = "[retention]\nallow_short_signed_retention = true\n";

const DAY: i64 = 24 * 60 * 60;

/// Signs `request` as a new requester `email` (uploading the files it names);
/// returns the request number.
async fn sign_as(
    verifier: &TestVerifier,
    email: &str,
    request: &recordpass_request::RecordsRequest,
) -> String {
    let mut who = Requester::new(verifier);
    let credential_id = who.register(email).await;
    who.upload_attachments(request).await;
    let started = who.signing(request, &credential_id).await;
    let body = who.assert_from(site_origin(), &started);
    let (status, reply) = who.finish_signing(&started.ceremony_id, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    reply["request_number"].as_str().expect("number").to_owned()
}

/// Records request `number` as fulfilled at `at`.
async fn close(store: &Store, number: &str, at: i64) {
    sqlx::query(
        "INSERT INTO request_state (request_number, status, updated_at) VALUES ($1, 'fulfilled', $2)",
    )
    .bind(number)
    .bind(at)
    .execute(store.pool())
    .await
    .expect("closed");
}

/// The request numbers still stored.
async fn left(store: &Store) -> Vec<String> {
    sqlx::query_scalar("SELECT request_number FROM submissions ORDER BY request_number")
        .fetch_all(store.pool())
        .await
        .expect("left")
}

/// Every audit event, oldest first; the chain must be intact.
async fn audit_events(store: &Store) -> Vec<Value> {
    assert!(matches!(
        audit::verify(store).await.expect("verify"),
        audit::Verdict::Intact { .. }
    ));
    let rows: Vec<String> = sqlx::query_scalar("SELECT event FROM audit_log ORDER BY seq")
        .fetch_all(store.pool())
        .await
        .expect("events");
    rows.iter()
        .map(|e| serde_json::from_str(e).expect("json"))
        .collect()
}

/// Signs Ana's request `times` times; returns the request numbers.
async fn sign(verifier: &TestVerifier, times: usize) -> Vec<String> {
    Requester::new(verifier).register_and_sign(times).await
}

fn cli(verifier: &TestVerifier, args: &[&str]) -> Command {
    let mut cmd = verifier_cli();
    cmd.arg("--config").arg(&verifier.config_path).args(args);
    cmd
}

async fn count(store: &Store, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(store.pool())
        .await
        .expect("count")
}

#[tokio::test]
async fn a_backup_of_the_live_database_restores_and_every_bundle_verifies() {
    // `backup` is SQLite's; whichever backend the suite runs on.
    let verifier = TestVerifier::start_on(TestDatabase::Sqlite, "").await;
    let numbers = sign(&verifier, 2).await;
    let dir = tempfile::tempdir().expect("dir");
    let copy = dir.path().join("backup.db");
    let (ok, out) = run(&mut cli(&verifier, &["backup", &copy.to_string_lossy()]));
    assert!(ok, "{out}");
    assert!(out.contains("(2 signed requests)"), "{out}");
    // Requests after the backup are not in it; a second backup to the same file is refused.
    sign(&verifier, 1).await;
    let (ok, out) = run(&mut cli(&verifier, &["backup", &copy.to_string_lossy()]));
    assert!(!ok && out.contains("already exists"), "{out}");

    // Restore: the copy is a database in its own right, read with the same keyring.
    let restored = dir.path().join("restored.db");
    std::fs::copy(&copy, &restored).expect("restore");
    let vault = verifier.config.encryption.vault().expect("keyring");
    let store = Store::open(&format!("sqlite://{}", restored.display()), Arc::new(vault))
        .await
        .expect("restored database opens");
    assert_eq!(store.count(Table::Submissions).await.expect("count"), 2);
    let seal = SealKey::load(&verifier.config, &store)
        .await
        .expect("seal key");
    assert_eq!(
        seal.public().key_id(),
        verifier.seal.public().key_id(),
        "the seal key travels with the backup"
    );
    let exporter = Exporter {
        rp_id: &verifier.config.relying_party.id,
        public_url: &verifier.base_url,
        seal: &seal,
        reader: recordpass_verifier::evidence::Reader::Him,
    };
    for number in &numbers {
        let bundle = exporter
            .export(&store, number, verifier.clock.unix())
            .await
            .expect("export from the restored copy");
        let json = to_pretty_json(&bundle).expect("json");
        let report = verify_bundle(json.as_bytes(), Some(verifier.seal.public()));
        assert!(report.ok(), "{number}: {report:?}");
    }
}

#[tokio::test]
async fn backup_of_postgresql_points_to_pg_dump() {
    let verifier = TestVerifier::start_on(TestDatabase::Postgres, "").await;
    let dir = tempfile::tempdir().expect("dir");
    let copy = dir.path().join("backup.db");
    let (ok, out) = run(&mut cli(&verifier, &["backup", &copy.to_string_lossy()]));
    assert!(!ok && out.contains("pg_dump"), "{out}");
    assert!(!copy.exists());
}

#[tokio::test]
async fn purge_removes_only_closed_requests_past_retention_and_audits_it() {
    let verifier = TestVerifier::start_with_sections(SHORT_RETENTION).await;
    let numbers = sign(&verifier, 3).await;
    let store = &verifier.store;
    // Two requests are closed (fulfilled, withdrawn); the third is still open.
    for (number, status) in [(&numbers[0], "fulfilled"), (&numbers[1], "withdrawn")] {
        sqlx::query(
            "INSERT INTO request_state (request_number, status, updated_at) VALUES ($1, $2, $3)",
        )
        .bind(number)
        .bind(status)
        .bind(verifier.clock.unix())
        .execute(store.pool())
        .await
        .expect("closed");
    }
    let purge = |days: &str, dry_run: bool| {
        let mut cmd = cli(&verifier, &["purge"]);
        if dry_run {
            cmd.arg("--dry-run");
        }
        cmd.env("RECORDPASS_RETENTION_SIGNED_REQUEST_DAYS", days);
        run(&mut cmd)
    };

    // Within the default six years nothing goes.
    let (ok, out) = purge("2192", false);
    assert!(ok && out.contains("submissions: 0"), "{out}");
    // Past retention, a dry run counts without deleting.
    let (ok, out) = purge("0", true);
    assert!(ok, "{out}");
    assert!(out.contains("submissions: 2"), "{out}");
    assert!(out.contains("submission_evidence: 2"), "{out}");
    assert!(out.contains("dry run: nothing deleted"), "{out}");
    // It names the requests that would go, and only those.
    for number in &numbers[..2] {
        assert!(
            out.lines().any(|l| l == format!("would purge: {number}")),
            "{out}"
        );
    }
    assert!(!out.contains(&numbers[2]), "{out}");
    assert_eq!(store.count(Table::Submissions).await.expect("count"), 3);

    let (ok, out) = purge("0", false);
    assert!(ok && out.contains("submissions: 2"), "{out}");
    let left: Vec<String> = sqlx::query_scalar("SELECT request_number FROM submissions")
        .fetch_all(store.pool())
        .await
        .expect("left");
    assert_eq!(left, [numbers[2].clone()], "the open request stays");
    for table in [
        "submission_evidence",
        "patient_name_tokens",
        "request_state",
    ] {
        let sql = format!(
            "SELECT COUNT(*) FROM {table} WHERE request_number <> '{}'",
            numbers[2]
        );
        assert_eq!(count(store, &sql).await, 0, "{table}");
    }
    assert!(
        count(store, "SELECT COUNT(*) FROM patient_name_tokens").await > 0,
        "the open request is still searchable"
    );
    let purges = count(
        store,
        "SELECT COUNT(*) FROM audit_log WHERE event LIKE '%\"purge\"%'",
    )
    .await;
    assert_eq!(purges, 1, "the purge is in the audit trail");
    let events = audit_events(store).await;
    let purge = events
        .iter()
        .find(|e| e["action"] == "purge")
        .expect("purge event");
    // Retention counts from the closing: the cut-off is named for it.
    let detail = &purge["detail"];
    assert_eq!(detail["submissions"], 2, "{purge}");
    assert!(detail["closed_before"].is_i64(), "{purge}");
    assert!(detail.get("received_before").is_none(), "{purge}");
    let mut closed = numbers[..2].to_vec();
    closed.sort();
    assert_eq!(detail["request_numbers"], serde_json::json!(closed));
}

/// Retention counts from the closing (the disclosure), not from receipt: a
/// request received seven years ago but answered this year stays.
#[tokio::test]
async fn retention_counts_from_when_a_request_was_closed() {
    let verifier = TestVerifier::start().await;
    let numbers = sign(&verifier, 2).await;
    let store = &verifier.store;
    let seven_years = 7 * 365 * 24 * 60 * 60;
    let now = verifier.clock.unix();
    for (number, closed_at) in [(&numbers[0], now - seven_years), (&numbers[1], now)] {
        sqlx::query("UPDATE submissions SET received_at = $1 WHERE request_number = $2")
            .bind(now - seven_years - 60 * 24 * 60 * 60)
            .bind(number)
            .execute(store.pool())
            .await
            .expect("received long ago");
        sqlx::query(
            "INSERT INTO request_state (request_number, status, updated_at) VALUES ($1, 'fulfilled', $2)",
        )
        .bind(number)
        .bind(closed_at)
        .execute(store.pool())
        .await
        .expect("closed");
    }
    let mut cmd = cli(&verifier, &["purge"]);
    let (ok, out) = run(cmd.env("RECORDPASS_RETENTION_SIGNED_REQUEST_DAYS", "2192"));
    assert!(ok && out.contains("submissions: 1"), "{out}");
    let left: Vec<String> = sqlx::query_scalar("SELECT request_number FROM submissions")
        .fetch_all(store.pool())
        .await
        .expect("left");
    assert_eq!(left, [numbers[1].clone()], "answered this year: kept");
}

/// An authorization is kept six years from the date it was last in effect,
/// its expiration, not only from its closing (45 CFR 164.508, 164.530(j)(2)).
#[tokio::test]
async fn an_authorization_is_kept_six_years_past_its_expiry_not_only_its_closing() {
    let verifier = TestVerifier::start().await;
    let store = &verifier.store;
    let request = dated(examples::representative_authorization());
    let in_effect = sign_as(&verifier, "maya@example.org", &request).await;
    let mut again = request.clone();
    again.requester.email = "lee@example.org".into();
    let expired = sign_as(&verifier, "lee@example.org", &again).await;
    let mut access = sign(&verifier, 2).await;
    let (unreadable, access) = (access.pop().expect("two"), access.remove(0));
    let seven_years_ago = verifier.clock.unix() - 7 * 365 * DAY;
    for number in [&in_effect, &expired, &access, &unreadable] {
        close(store, number, seven_years_ago).await;
    }
    // `expired` is a record from seven years ago: its authorization ran out
    // then (the stored document is rewritten as it would have been signed).
    let long_ago = (verifier.clock.now().date() - time::Duration::days(7 * 365)).to_string();
    let sealed: String =
        sqlx::query_scalar("SELECT document FROM submissions WHERE request_number = $1")
            .bind(&expired)
            .fetch_one(store.pool())
            .await
            .expect("document");
    let vault = store.vault();
    let text = vault
        .open(Field::Document, &expired, &sealed)
        .expect("opens");
    let mut doc: Value = serde_json::from_str(&text).expect("json");
    doc["request"]["authorization"]["expires_on"] = long_ago.clone().into();
    sqlx::query("UPDATE submissions SET document = $1 WHERE request_number = $2")
        .bind(
            vault
                .seal(Field::Document, &expired, &doc.to_string())
                .expect("seals"),
        )
        .bind(&expired)
        .execute(store.pool())
        .await
        .expect("rewritten");
    // A document this version cannot read: its expiration is unknown, so it stays.
    sqlx::query("UPDATE submissions SET document = $1 WHERE request_number = $2")
        .bind(
            vault
                .seal(Field::Document, &unreadable, "{\"format\":\"Ana Chen\"}")
                .expect("seals"),
        )
        .bind(&unreadable)
        .execute(store.pool())
        .await
        .expect("rewritten");

    // Default retention (six years): all three closed seven years ago.
    let (ok, out) = run(&mut cli(&verifier, &["purge", "--dry-run"]));
    assert!(ok, "{out}");
    for line in [
        format!("would purge: {expired}"),
        format!("would purge: {access}"),
        "submissions: 2".to_owned(),
    ] {
        assert!(out.lines().any(|l| l == line), "{line} in {out}");
    }
    let expires_on = &request.authorization.expires_on;
    assert!(
        out.contains(&format!(
            "keep: {in_effect} (authorization expiring {expires_on}, kept until "
        )),
        "{out}"
    );
    assert!(!out.contains(&format!("would purge: {in_effect}")), "{out}");
    assert!(
        out.lines().any(|l| l
            == format!(
                "keep: {unreadable} (document unreadable: not a signed document this version reads)"
            )),
        "{out}"
    );
    assert!(
        !out.contains("Ana Chen"),
        "nothing of the document is printed: {out}"
    );

    let (ok, out) = run(&mut cli(&verifier, &["purge"]));
    assert!(ok && out.contains("submissions: 2"), "{out}");
    let mut kept = vec![in_effect.clone(), unreadable.clone()];
    kept.sort();
    assert_eq!(left(store).await, kept, "in effect, or unreadable: kept");
    let events = audit_events(store).await;
    let purge = events
        .iter()
        .find(|e| e["action"] == "purge")
        .expect("purge");
    assert_eq!(
        purge["detail"]["kept_authorizations_in_effect"], 1,
        "{purge}"
    );
    assert_eq!(purge["detail"]["kept_unreadable"], 1, "{purge}");
}

/// A records manager places a legal hold from the command line; every purge
/// keeps the request until the hold is lifted; both are audited; the console
/// shows it.
#[tokio::test]
async fn a_legal_hold_keeps_a_request_from_purge_until_it_is_lifted() {
    let verifier = TestVerifier::start_with_sections(SHORT_RETENTION).await;
    let store = &verifier.store;
    let numbers = sign(&verifier, 2).await;
    for number in &numbers {
        close(store, number, verifier.clock.unix()).await;
    }
    let (held, other) = (numbers[0].as_str(), numbers[1].as_str());
    let hold = |args: &[&str]| run(&mut cli(&verifier, &[&["hold"][..], args].concat()));
    let purge = |dry_run: bool| {
        let mut cmd = cli(&verifier, &["purge"]);
        if dry_run {
            cmd.arg("--dry-run");
        }
        run(cmd.env("RECORDPASS_RETENTION_SIGNED_REQUEST_DAYS", "0"))
    };

    // Refused, changing nothing: no reason, a request that does not exist.
    let (ok, out) = hold(&["add", held, "--reason", "  "]);
    assert!(!ok && out.contains("needs a reason"), "{out}");
    let (ok, out) = hold(&["add", "RP-NONE-0000", "--reason", "matter 1"]);
    assert!(
        !ok && out.contains("no signed request RP-NONE-0000"),
        "{out}"
    );
    let (ok, out) = hold(&["list"]);
    assert!(ok && out.contains("No legal holds."), "{out}");

    let reason = "Litigation: Chen v. Riverside, matter 2026-114";
    let (ok, out) = hold(&["add", held, "--reason", reason]);
    assert!(
        ok && out.contains(&format!("{held} is on legal hold")),
        "{out}"
    );
    let (ok, out) = hold(&["add", held, "--reason", "again"]);
    assert!(!ok && out.contains("already on legal hold"), "{out}");
    let (ok, out) = hold(&["list"]);
    let line = out
        .lines()
        .find(|l| l.starts_with(held))
        .unwrap_or_else(|| panic!("{held} listed: {out}"));
    assert!(
        ok && line.contains(" cli ") && line.ends_with(reason),
        "{out}"
    );
    assert!(!out.contains(other), "{out}");
    let stored: String = sqlx::query_scalar("SELECT reason FROM legal_holds")
        .fetch_one(store.pool())
        .await
        .expect("stored");
    assert!(!stored.contains("Chen"), "the reason is sealed at rest");

    // The console's request page says so (any role may read it).
    let auditor = StaffClient::enrolled(&verifier, "aud@example.org", Role::Auditor).await;
    let (status, page) = auditor.get(&format!("/console/requests/{held}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("<dd id=\"legal-hold\"><strong>On hold</strong>, placed by cli on ")
            && page.contains("matter 2026-114"),
        "{page}"
    );
    let (_, page) = auditor.get(&format!("/console/requests/{other}")).await;
    assert!(page.contains("<dd id=\"legal-hold\">None</dd>"), "{page}");

    // The background purge keeps the held request's delivered webhooks.
    let long_ago = verifier.clock.unix() - 60 * DAY;
    for number in [held, other] {
        sqlx::query(
            "INSERT INTO webhook_deliveries (id, event_id, event_type, request_number, endpoint,
                 payload, created_at, state, attempts, next_attempt_ms, finished_at)
             VALUES ($1, $1, 'request.submitted', $1, 'https://roi.example.org/in', '{}', $2,
                 'delivered', 1, 0, $2)",
        )
        .bind(number)
        .bind(long_ago)
        .execute(store.pool())
        .await
        .expect("delivery");
    }
    retention::purge_transient(store, &verifier.config, verifier.clock.unix())
        .await
        .expect("background purge");
    let deliveries: Vec<String> =
        sqlx::query_scalar("SELECT request_number FROM webhook_deliveries")
            .fetch_all(store.pool())
            .await
            .expect("deliveries");
    assert_eq!(deliveries, [held.to_owned()]);

    // The dry run lists what would go and what the hold keeps; the purge agrees.
    let (ok, out) = purge(true);
    assert!(ok, "{out}");
    assert!(
        out.lines().any(|l| l == format!("would purge: {other}")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l == format!("keep: {held} (legal hold)")),
        "{out}"
    );
    assert!(!out.contains(&format!("would purge: {held}")), "{out}");
    let (ok, out) = purge(false);
    assert!(
        ok && out.lines().any(|l| l == format!("purged: {other}")),
        "{out}"
    );
    assert_eq!(left(store).await, [held.to_owned()]);
    assert_eq!(
        count(store, "SELECT COUNT(*) FROM requesters").await,
        1,
        "Ana stays with her held request"
    );

    let (ok, out) = hold(&["remove", held]);
    assert!(ok && out.contains("lifted"), "{out}");
    let (ok, out) = hold(&["remove", held]);
    assert!(!ok && out.contains("not on legal hold"), "{out}");
    let (ok, out) = hold(&["list"]);
    assert!(ok && out.contains("No legal holds."), "{out}");
    let (ok, out) = purge(false);
    assert!(
        ok && out.lines().any(|l| l == format!("purged: {held}")),
        "{out}"
    );
    assert!(left(store).await.is_empty());

    let events = audit_events(store).await;
    let of = |action: &str| {
        events
            .iter()
            .filter(|e| e["action"] == action)
            .collect::<Vec<_>>()
    };
    for action in ["legal_hold_placed", "legal_hold_lifted"] {
        let found = of(action);
        assert_eq!(found.len(), 1, "{action}: {events:?}");
        assert_eq!(found[0]["actor"], "cli");
        assert_eq!(found[0]["target"], held);
    }
    assert_eq!(of("purge")[0]["detail"]["kept_on_legal_hold"], 1);
    assert!(
        !events.iter().any(|e| e.to_string().contains("Chen")),
        "the reason stays out of the audit trail"
    );
}

/// An admin places and lifts a legal hold on the console's request page: the
/// same hold as the CLI's (`hold list` shows it, purge keeps the request),
/// audited with the admin as the actor. Other roles see the hold but cannot
/// change it; a post without the CSRF token, a bad reason, a second hold, a
/// lift with none and an unknown request are refused with a specific message
/// and change nothing.
#[tokio::test]
async fn an_admin_places_and_lifts_a_legal_hold_on_the_console() {
    let verifier = TestVerifier::start_with_sections(SHORT_RETENTION).await;
    let store = &verifier.store;
    let numbers = sign(&verifier, 2).await;
    for number in &numbers {
        close(store, number, verifier.clock.unix()).await;
    }
    let (held, other) = (numbers[0].as_str(), numbers[1].as_str());
    let page_of = format!("/console/requests/{held}");
    let place = format!("/console/requests/{held}/hold");
    let lift = format!("/console/requests/{held}/hold/lift");
    let hold_list = || run(&mut cli(&verifier, &["hold", "list"]));
    let holds_stored = || count(store, "SELECT COUNT(*) FROM legal_holds");
    let hold_events = || async move {
        audit_events(store)
            .await
            .into_iter()
            .filter(|e| {
                e["action"]
                    .as_str()
                    .is_some_and(|a| a.starts_with("legal_hold"))
            })
            .collect::<Vec<_>>()
    };
    let admin = StaffClient::enrolled(&verifier, "admin@example.org", Role::Admin).await;
    let specialist = StaffClient::enrolled(&verifier, "spec@example.org", Role::Specialist).await;
    let auditor = StaffClient::enrolled(&verifier, "aud@example.org", Role::Auditor).await;

    // Only an admin gets the form.
    let (status, page) = admin.get(&page_of).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("id=\"place-hold-form\"") && !page.contains("id=\"lift-hold-form\""),
        "{page}"
    );
    for staff in [&specialist, &auditor] {
        let (status, page) = staff.get(&page_of).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("<dd id=\"legal-hold\">None</dd>"), "{page}");
        assert!(!page.contains("hold-form"), "{page}");
    }

    // Refused, changing nothing: other roles, no CSRF token, a bad reason.
    for staff in [&specialist, &auditor] {
        let (status, _) = staff.form(&place, &[("reason", "matter 1")]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{}", staff.email);
    }
    let status = admin
        .http
        .post(verifier.url(&place))
        .header("Origin", crate::console::origin(&verifier))
        .form(&[("reason", "matter 1")])
        .send()
        .await
        .expect("sent")
        .status();
    assert_eq!(status, StatusCode::FORBIDDEN, "no CSRF token");
    let too_long = "x".repeat(501);
    for (reason, message) in [
        (
            "  \n ",
            "a legal hold needs a reason (a matter or case reference)",
        ),
        (
            too_long.as_str(),
            "the reason is longer than 500 characters (it has 501)",
        ),
        ("matter\u{7}1", "the reason must be plain text"),
    ] {
        let (status, page) = admin.form(&place, &[("reason", reason)]).await;
        assert_eq!(status, StatusCode::CONFLICT, "{page}");
        let error = page
            .split("<p class=\"bad\" id=\"hold-reason-error\" role=\"alert\">")
            .nth(1)
            .unwrap_or_else(|| panic!("the message is next to the field: {page}"));
        assert!(
            error.starts_with(&format!("Nothing changed: {message}")),
            "{page}"
        );
        assert!(
            page.contains("aria-invalid=\"true\" aria-describedby=\"hold-reason-error\""),
            "{page}"
        );
    }
    let (status, page) = admin.form(&place, &[]).await;
    assert_eq!(status, StatusCode::CONFLICT, "{page}");
    assert!(page.contains("needs a reason"), "{page}");
    let (status, page) = admin.form(&lift, &[]).await;
    assert_eq!(status, StatusCode::CONFLICT, "{page}");
    assert!(
        page.contains(&format!(
            "id=\"hold-error\" role=\"alert\">Nothing changed: {held} is not on legal hold"
        )),
        "{page}"
    );
    let (status, page) = admin
        .form(
            "/console/requests/RP-NONE-0000/hold",
            &[("reason", "matter 1")],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{page}");
    assert!(
        page.contains("there is no signed request RP-NONE-0000"),
        "{page}"
    );
    assert_eq!(holds_stored().await, 0);
    assert!(hold_events().await.is_empty());

    // Placed: the page, `hold list`, the queue and the audit trail say so.
    let reason = "Litigation: Chen v. Riverside,\n matter 2026-114";
    let (status, _) = admin.form(&place, &[("reason", reason)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = auditor.get(&page_of).await;
    assert!(
        page.contains(
            "<dd id=\"legal-hold\"><strong>On hold</strong>, placed by admin@example.org on "
        ) && page.contains("Chen v. Riverside, matter 2026-114"),
        "{page}"
    );
    let (_, page) = admin.get(&page_of).await;
    assert!(
        page.contains("id=\"lift-hold-form\"") && !page.contains("id=\"place-hold-form\""),
        "{page}"
    );
    let (ok, out) = hold_list();
    let line = out
        .lines()
        .find(|l| l.starts_with(held))
        .unwrap_or_else(|| panic!("{held} listed: {out}"));
    assert!(
        ok && line.contains(" admin@example.org ")
            && line.ends_with("Litigation: Chen v. Riverside, matter 2026-114"),
        "{out}"
    );
    let stored: String = sqlx::query_scalar("SELECT reason FROM legal_holds")
        .fetch_one(store.pool())
        .await
        .expect("stored");
    assert!(!stored.contains("Chen"), "the reason is sealed at rest");
    let (_, queue) = specialist.get("/console?held=1").await;
    assert!(
        queue.contains(&format!(">{held}</a>"))
            && !queue.contains(&format!(">{other}</a>"))
            && queue.contains("<strong class=\"held\">legal hold</strong>"),
        "{queue}"
    );

    // A blank reason sent from a page that went stale (someone placed the
    // hold meanwhile): no place form to stand next to, so the message is
    // shown above the lift form.
    let (status, page) = admin.form(&place, &[("reason", " ")]).await;
    assert_eq!(status, StatusCode::CONFLICT, "{page}");
    assert!(
        page.contains(
            "id=\"hold-error\" role=\"alert\">Nothing changed: a legal hold needs a reason"
        ) && page.contains("id=\"lift-hold-form\""),
        "{page}"
    );

    // A second hold is refused, naming the first; the first stands.
    let (status, page) = admin.form(&place, &[("reason", "again")]).await;
    assert_eq!(status, StatusCode::CONFLICT, "{page}");
    assert!(
        page.contains(&format!(
            "id=\"hold-error\" role=\"alert\">Nothing changed: {held} is already on legal hold \
             (placed by admin@example.org at "
        )),
        "{page}"
    );
    assert_eq!(holds_stored().await, 1);

    // Purge keeps the held request.
    let purge =
        || run(cli(&verifier, &["purge"]).env("RECORDPASS_RETENTION_SIGNED_REQUEST_DAYS", "0"));
    let (ok, out) = purge();
    assert!(
        ok && out.lines().any(|l| l == format!("purged: {other}")),
        "{out}"
    );
    assert_eq!(left(store).await, [held.to_owned()]);

    // Other roles cannot lift it.
    for staff in [&specialist, &auditor] {
        let (status, _) = staff.form(&lift, &[]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{}", staff.email);
    }
    assert_eq!(holds_stored().await, 1);

    // Lifted: gone from the page and `hold list`; the next purge removes it.
    let (status, _) = admin.form(&lift, &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = admin.get(&page_of).await;
    assert!(
        page.contains("<dd id=\"legal-hold\">None</dd>") && page.contains("id=\"place-hold-form\""),
        "{page}"
    );
    let (ok, out) = hold_list();
    assert!(ok && out.contains("No legal holds."), "{out}");

    let events = hold_events().await;
    assert_eq!(events.len(), 2, "{events:?}");
    for (event, action) in events
        .iter()
        .zip(["legal_hold_placed", "legal_hold_lifted"])
    {
        assert_eq!(event["action"], action);
        assert_eq!(event["actor"], "admin@example.org");
        assert_eq!(event["target"], held);
    }
    assert_eq!(events[1]["detail"]["placed_by"], "admin@example.org");
    assert!(
        !audit_events(store)
            .await
            .iter()
            .any(|e| e.to_string().contains("Chen")),
        "the reason stays out of the audit trail"
    );
    let (ok, out) = purge();
    assert!(
        ok && out.lines().any(|l| l == format!("purged: {held}")),
        "{out}"
    );
    assert!(left(store).await.is_empty());
}

/// A typo or `0` in `signed_request_days` would delete every closed request:
/// below six years it is refused, naming the key, and nothing is deleted.
#[tokio::test]
async fn a_signed_retention_below_six_years_is_refused_unless_allowed() {
    let verifier = TestVerifier::start().await;
    let number = sign(&verifier, 1).await.remove(0);
    close(&verifier.store, &number, verifier.clock.unix() - 30 * DAY).await;
    for days in ["6", "0"] {
        let mut cmd = cli(&verifier, &["purge"]);
        let (ok, out) = run(cmd.env("RECORDPASS_RETENTION_SIGNED_REQUEST_DAYS", days));
        assert!(!ok, "{out}");
        assert!(
            out.contains(&format!("[retention] signed_request_days (or RECORDPASS_RETENTION_SIGNED_REQUEST_DAYS) is {days}:"))
                && out.contains("allow_short_signed_retention = true"),
            "{out}"
        );
    }
    assert_eq!(left(&verifier.store).await, [number]);
}

#[tokio::test]
async fn purge_removes_requesters_whose_requests_are_all_purged_with_their_passkeys() {
    let verifier = TestVerifier::start_with_sections(SHORT_RETENTION).await;
    let store = &verifier.store;
    // Ana signed once, Luis twice (each registers their own passkey); Ana's
    // request and Luis's first are closed, Luis's second is still open.
    let ana = sign(&verifier, 1).await;
    let luis = sign(&verifier, 2).await;
    for number in [&ana[0], &luis[0]] {
        sqlx::query(
            "INSERT INTO request_state (request_number, status, updated_at) VALUES ($1, 'fulfilled', $2)",
        )
        .bind(number)
        .bind(verifier.clock.unix())
        .execute(store.pool())
        .await
        .expect("closed");
    }
    let owner = |number: String| async move {
        sqlx::query_scalar::<_, String>(
            "SELECT requester_id FROM submissions WHERE request_number = $1",
        )
        .bind(number)
        .fetch_one(store.pool())
        .await
        .expect("owner")
    };
    let (ana_id, luis_id) = (owner(ana[0].clone()).await, owner(luis[0].clone()).await);
    // Ana is signed in on her status page.
    sqlx::query(
        "INSERT INTO requester_sessions (token_hash, requester_id, site_id, credential_id, created_at, last_seen_at)
         SELECT 'h', requester_id, 'riverside', credential_id, $1, $1 FROM passkeys WHERE requester_id = $2",
    )
    .bind(verifier.clock.unix())
    .bind(&ana_id)
    .execute(store.pool())
    .await
    .expect("session");
    let rows = |table: &'static str, column: &'static str, id: String| async move {
        count(
            store,
            &format!("SELECT COUNT(*) FROM {table} WHERE {column} = '{id}'"),
        )
        .await
    };
    let purge = |dry_run: bool| {
        let mut cmd = cli(&verifier, &["purge"]);
        if dry_run {
            cmd.arg("--dry-run");
        }
        cmd.env("RECORDPASS_RETENTION_SIGNED_REQUEST_DAYS", "0");
        run(&mut cmd)
    };

    let (ok, out) = purge(true);
    assert!(ok, "{out}");
    for line in [
        "submissions: 2",
        "requester_sessions: 1",
        "passkeys: 1",
        "requesters: 1",
    ] {
        assert!(out.lines().any(|l| l == line), "{line} in {out}");
    }
    assert_eq!(rows("requesters", "id", ana_id.clone()).await, 1, "dry run");

    let (ok, out) = purge(false);
    assert!(ok && out.lines().any(|l| l == "requesters: 1"), "{out}");
    for (table, column) in [
        ("requesters", "id"),
        ("passkeys", "requester_id"),
        ("requester_sessions", "requester_id"),
    ] {
        assert_eq!(
            rows(table, column, ana_id.clone()).await,
            0,
            "Ana's {table}"
        );
    }
    // Luis still has an open request: he, his passkey and it stay.
    assert_eq!(rows("requesters", "id", luis_id.clone()).await, 1);
    assert_eq!(rows("passkeys", "requester_id", luis_id.clone()).await, 1);
    assert_eq!(rows("submissions", "requester_id", luis_id).await, 1);
    assert!(matches!(
        audit::verify(store).await.expect("verify"),
        audit::Verdict::Intact { .. }
    ));
}

#[tokio::test]
async fn expired_ceremonies_codes_and_sessions_are_purged() {
    let verifier = TestVerifier::start().await;
    let mut ana = Requester::new(&verifier);
    let credential_id = ana.register("ana@example.org").await;
    // A signing ceremony started and abandoned, and a code never used.
    ana.signing(&ana_request(), &credential_id).await;
    ana.code_sent("luis@example.org").await;
    let store = &verifier.store;
    assert_eq!(store.count(Table::Ceremonies).await.expect("count"), 1);
    let now = verifier.clock.unix();
    let report = retention::purge_transient(store, &verifier.config, now)
        .await
        .expect("purge");
    assert_eq!(report.total(), 0, "nothing has expired yet: {report}");

    let later = now + 24 * 60 * 60;
    let report = retention::purge_transient(store, &verifier.config, later)
        .await
        .expect("purge");
    assert!(report.tables.contains(&("ceremonies", 1)), "{report}");
    assert!(
        report.tables.contains(&("email_verifications", 1)),
        "{report}"
    );
    assert_eq!(store.count(Table::Ceremonies).await.expect("count"), 0);
    assert_eq!(
        count(store, "SELECT COUNT(*) FROM email_verifications").await,
        0
    );
    // Signed requests and passkeys are not transient.
    assert_eq!(store.count(Table::Passkeys).await.expect("count"), 1);
}

/// A request for the holder of `email`, signed on the verifier's (moved) today.
fn request_for(verifier: &TestVerifier, email: &str) -> recordpass_request::RecordsRequest {
    let mut request =
        recordpass_request::examples::dated(ana_request(), verifier.clock.now().date());
    request.requester.email = email.into();
    request
}

#[tokio::test]
async fn requesters_who_never_signed_are_purged_after_unsigned_requester_days() {
    const DAY: i64 = 24 * 60 * 60;
    let verifier = TestVerifier::start().await;
    assert_eq!(verifier.config.retention.unsigned_requester_days, 30);
    let store = &verifier.store;
    // Day 0: Luis, Elena and Carmen create a passkey and sign nothing; Ana signs.
    let mut luis = Requester::new(&verifier);
    let luis_key = returning::register(&mut luis, "luis@example.org").await;
    let mut elena = Requester::new(&verifier);
    let elena_key = returning::register(&mut elena, "elena@example.org").await;
    let mut carmen = Requester::new(&verifier);
    let carmen_key = returning::register(&mut carmen, "carmen@example.org").await;
    sign(&verifier, 1).await;
    let requester_of = |credential_id: String| async move {
        sqlx::query_scalar::<_, String>(
            "SELECT requester_id FROM passkeys WHERE credential_id = $1",
        )
        .bind(credential_id)
        .fetch_one(store.pool())
        .await
        .expect("requester")
    };
    let luis_id = requester_of(luis_key.credential_id.clone()).await;
    let requesters = || count(store, "SELECT COUNT(*) FROM requesters");
    let purge = || async {
        retention::purge_transient(store, &verifier.config, verifier.clock.unix())
            .await
            .expect("purge")
    };

    // Day 29: Elena signs in to look (no request, but she used her passkey).
    // Nobody has been idle 30 days yet.
    verifier.clock.advance(29 * DAY);
    returning::sign_in(&mut elena, &elena_key).await;
    let report = purge().await;
    assert!(report.tables.contains(&("requesters", 0)), "{report}");
    assert_eq!(requesters().await, 4);

    // Day 31: Diego registers; Carmen starts signing and has not finished.
    verifier.clock.advance(2 * DAY);
    let mut diego = Requester::new(&verifier);
    returning::register(&mut diego, "diego@example.org").await;
    let carmen_request = request_for(&verifier, "carmen@example.org");
    let carmen_signing = carmen
        .signing(&carmen_request, &carmen_key.credential_id)
        .await;
    let report = purge().await;
    // Only Luis goes: idle 31 days with nothing signed. Ana signed, Elena
    // signed in on day 29, Diego is new, Carmen is signing (Elena's session,
    // idle since day 29, goes as usual).
    for row in [("passkeys", 1), ("requesters", 1)] {
        assert!(report.tables.contains(&row), "{row:?} in {report}");
    }
    assert_eq!(requesters().await, 4);
    for (table, column) in [("requesters", "id"), ("passkeys", "requester_id")] {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE {column} = '{luis_id}'");
        assert_eq!(count(store, &sql).await, 0, "Luis's {table}");
    }
    // Audited once, with a count and nothing that identifies him.
    let events: Vec<String> = sqlx::query_scalar(
        "SELECT event FROM audit_log WHERE event LIKE '%unsigned_requesters%' ORDER BY seq",
    )
    .fetch_all(store.pool())
    .await
    .expect("audit");
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(
        events[0].contains("\"unsigned_requesters\":1"),
        "{}",
        events[0]
    );
    assert!(
        !events[0].contains("luis") && !events[0].contains(&luis_id),
        "{}",
        events[0]
    );
    assert!(matches!(
        audit::verify(store).await.expect("verify"),
        audit::Verdict::Intact { .. }
    ));
    // Nothing left to remove: the next run deletes and audits nothing.
    assert!(purge().await.tables.contains(&("requesters", 0)));

    // Carmen's identity was kept for the signature she was giving.
    let body = carmen.assert_from(site_origin(), &carmen_signing);
    let (status, reply) = carmen
        .finish_signing(&carmen_signing.ceremony_id, &body)
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{reply}");

    // Luis comes back: his old passkey is unknown; he registers again with
    // the same address and signs.
    let luis_request = request_for(&verifier, "luis@example.org");
    let (status, reply) = luis
        .start_signing(&luis_request, &luis_key.credential_id)
        .await;
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST, "{reply}");
    assert_eq!(reply["code"], "credential_unknown");
    let again = returning::register(&mut luis, "luis@example.org").await;
    let number = returning::sign(&mut luis, &again, &luis_request, None).await;
    assert!(!number.is_empty());
    assert_eq!(requesters().await, 5);
    // Signed now, Luis stays however long he is idle; so does Carmen.
    verifier.clock.advance(365 * DAY);
    let report = purge().await;
    assert!(
        report.tables.contains(&("requesters", 2)),
        "Elena and Diego: {report}"
    );
    assert_eq!(requesters().await, 3, "Ana, Carmen and Luis");
}

#[tokio::test]
async fn serve_refuses_to_start_without_its_keyring_but_snippet_needs_none() {
    let verifier = TestVerifier::start().await;
    let text = std::fs::read_to_string(&verifier.config_path).expect("config");
    let keyring = verifier
        .config
        .encryption
        .key_file
        .as_ref()
        .expect("key_file")
        .display()
        .to_string();
    let missing = verifier.config_path.with_file_name("missing-keyring.toml");
    std::fs::write(&missing, text.replace(&keyring, "/nonexistent/keyring")).expect("written");

    let (ok, out) = run(verifier_cli().arg("--config").arg(&missing).arg("serve"));
    assert!(!ok, "{out}");
    assert!(
        out.contains("[encryption] key_file /nonexistent/keyring"),
        "{out}"
    );
    assert!(!out.contains("listening on"), "{out}");
    // The embed snippet is public: it reads no secrets (here it stops only
    // because the test has no widget build).
    let (_, out) = run(verifier_cli().arg("--config").arg(&missing).arg("snippet"));
    assert!(!out.contains("key_file"), "{out}");
}

/// The audit chain has no key: someone who drops the triggers can rewrite it
/// so that it still adds up, or cut rows off its end. The head anchor that
/// `audit verify` prints (the verifier also logs it), kept elsewhere, catches
/// both.
#[tokio::test]
async fn audit_verify_checks_the_chain_against_an_anchor_kept_elsewhere() {
    let verifier = TestVerifier::start().await;
    for who in ["a@example.org", "b@example.org", "c@example.org"] {
        let invite = ["staff", "invite", "--email", who, "--role", "auditor"];
        let (ok, out) = run(&mut cli(&verifier, &invite));
        assert!(ok, "{out}");
    }
    let (ok, out) = run(&mut cli(&verifier, &["audit", "verify"]));
    assert!(ok && out.contains("audit chain intact: 3 events"), "{out}");
    let anchor = out
        .lines()
        .find_map(|l| l.strip_prefix("head anchor: "))
        .expect("head anchor printed")
        .to_owned();
    assert!(anchor.starts_with("3:"), "{anchor}");
    let (ok, out) = run(&mut cli(
        &verifier,
        &["audit", "verify", "--anchor", &anchor],
    ));
    assert!(ok && out.contains("1 anchor(s) match"), "{out}");

    // Row 2 rewritten and every later link recomputed.
    let pool = verifier.store.pool();
    for trigger in ["audit_log_no_update", "audit_log_no_delete"] {
        let drop = match verifier.store.backend() {
            Backend::Sqlite => format!("DROP TRIGGER {trigger}"),
            Backend::Postgres => format!("DROP TRIGGER {trigger} ON audit_log"),
        };
        sqlx::query(&drop)
            .execute(pool)
            .await
            .expect("drop trigger");
    }
    let rows: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT seq, event, hash FROM audit_log ORDER BY seq")
            .fetch_all(pool)
            .await
            .expect("rows");
    let mut prev = rows[0].2.clone();
    for (seq, event, _) in &rows[1..] {
        let event = event.replace("b@example.org", "z@example.org");
        let hash = hex::encode(
            Sha256::new()
                .chain_update(&prev)
                .chain_update(&event)
                .finalize(),
        );
        sqlx::query("UPDATE audit_log SET prev_hash = $1, event = $2, hash = $3 WHERE seq = $4")
            .bind(&prev)
            .bind(&event)
            .bind(&hash)
            .bind(seq)
            .execute(pool)
            .await
            .expect("rewritten");
        prev = hash;
    }
    let (ok, out) = run(&mut cli(&verifier, &["audit", "verify"]));
    assert!(ok, "without an anchor the rewritten chain adds up: {out}");
    let (ok, out) = run(&mut cli(
        &verifier,
        &["audit", "verify", "--anchor", &anchor],
    ));
    assert!(
        !ok && out.contains("seq 3") && out.contains("rewritten"),
        "{out}"
    );

    // The last row cut off.
    sqlx::query("DELETE FROM audit_log WHERE seq = 3")
        .execute(pool)
        .await
        .expect("cut");
    let (ok, out) = run(&mut cli(
        &verifier,
        &["audit", "verify", "--anchor", &anchor],
    ));
    assert!(!ok && out.contains("cut off"), "{out}");
    let (ok, out) = run(&mut cli(
        &verifier,
        &["audit", "verify", "--anchor", "3:nothex"],
    ));
    assert!(!ok && out.contains("SEQ:HASH"), "{out}");
}

#[tokio::test]
async fn reading_submissions_from_the_command_line_is_audited() {
    let verifier = TestVerifier::start().await;
    let numbers = sign(&verifier, 1).await;
    let events = || async {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT event FROM audit_log WHERE event LIKE '%\"actor\":\"cli\"%' ORDER BY seq",
        )
        .fetch_all(verifier.store.pool())
        .await
        .expect("audit rows");
        rows.iter()
            .map(|e| serde_json::from_str::<serde_json::Value>(e).expect("event"))
            .collect::<Vec<_>>()
    };
    assert!(events().await.is_empty());

    let (ok, out) = run(cli(&verifier, &["submissions", "list", "--json"])
        .env("USER", "him-it")
        .env_remove("SUDO_USER"));
    assert!(ok && out.contains(&numbers[0]), "{out}");
    let dir = tempfile::tempdir().expect("temp dir");
    let bundle = dir.path().join("bundle.json");
    let (ok, out) = run(
        cli(&verifier, &["submissions", "export", &numbers[0], "--out"])
            .arg(&bundle)
            .env("USER", "him-it")
            .env_remove("SUDO_USER"),
    );
    assert!(ok, "{out}");

    let events = events().await;
    let seen: Vec<(&str, &str, &str)> = events
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default(),
                e["target"].as_str().unwrap_or_default(),
                e["detail"]["os_user"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("list_submissions", "", "him-it"),
            ("export_bundle", numbers[0].as_str(), "him-it"),
        ]
    );
    assert_eq!(events[0]["detail"]["submissions"], 1);
}

#[tokio::test]
async fn serve_refuses_a_public_url_with_a_path() {
    // The widget calls the API at its loader's origin and the page's CSP names
    // public_url: under a path, both would fail on the hospital's page.
    let verifier = TestVerifier::start().await;
    for (url, ok) in [
        ("https://records.example-hospital.org/records", false),
        ("https://records.example-hospital.org/?x=1", false),
        ("https://records.example-hospital.org/", true),
    ] {
        let (started, out) = run(cli(&verifier, &["snippet"]).env("RECORDPASS_PUBLIC_URL", url));
        assert_eq!(
            !out.contains("public_url must be an origin"),
            ok,
            "{url}: {out}"
        );
        if !ok {
            assert!(!started, "{url}: {out}");
        }
    }
    let (started, out) = run(cli(&verifier, &["serve"]).env(
        "RECORDPASS_PUBLIC_URL",
        "https://records.example-hospital.org/records",
    ));
    assert!(!started && !out.contains("listening on"), "{out}");
    assert!(
        out.contains("public_url must be an origin without a path"),
        "{out}"
    );
}
