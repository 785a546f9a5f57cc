//! What the audit trail shows and records in the console: the head anchor,
//! paging, and a trace of every look at the queue.

use recordpass_tests::TestVerifier;
use recordpass_verifier::console::{Role, audit};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::console::{StaffClient, submitted};

/// The audit page shows the chain's head anchor and the newest
/// [`audit::PAGE_ROWS`] events, with a link to the older ones.
#[tokio::test]
async fn the_audit_page_shows_the_head_anchor_and_pages_older_events() {
    let verifier = TestVerifier::start().await;
    let hana = StaffClient::enrolled(&verifier, "hana@example.org", Role::Auditor).await;
    let extra = audit::PAGE_ROWS + 5;
    let mut tx = verifier.store.pool().begin().await.expect("begin");
    for i in 0..extra {
        let event = audit::Event {
            actor: "cli",
            action: "probe",
            target: "",
            detail: json!({"i": i}),
        };
        audit::append(&mut tx, 0, event).await.expect("append");
    }
    tx.commit().await.expect("commit");
    let head = audit::head(&verifier.store)
        .await
        .expect("head")
        .expect("rows");

    let (status, page) = hana.get("/console/audit").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(&format!("<code id=\"head-anchor\">{head}</code>")),
        "{page}"
    );
    let rows = |page: &str| page.matches("<tr><td>").count();
    assert_eq!(rows(&page), audit::PAGE_ROWS);
    assert!(page.contains(&format!("<tr><td>{}</td>", head.seq)));
    let older = page
        .split("id=\"audit-older\" href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a link to older events")
        .to_owned();
    let (status, rest) = hana.get(&older).await;
    assert_eq!(status, StatusCode::OK);
    // The rest: the events before the first page, down to seq 1; no further link.
    let total = usize::try_from(head.seq).expect("seq");
    assert_eq!(rows(&rest), total - audit::PAGE_ROWS);
    assert!(rest.contains("<tr><td>1</td>"), "{rest}");
    assert!(!rest.contains("audit-older"));
}

/// Looking at the queue is audited; a name search records which requests it
/// showed, never the words searched for.
#[tokio::test]
async fn viewing_and_searching_the_queue_is_audited_without_the_search_words() {
    let verifier = TestVerifier::start().await;
    let number = submitted(&verifier).await;
    let hana = StaffClient::enrolled(&verifier, "hana@example.org", Role::Specialist).await;
    let views = || async {
        let rows: Vec<String> = sqlx::query_scalar("SELECT event FROM audit_log ORDER BY seq")
            .fetch_all(verifier.store.pool())
            .await
            .expect("audit rows");
        rows.iter()
            .map(|r| serde_json::from_str::<Value>(r).expect("event"))
            .filter(|e| e["action"] == "view_queue")
            .collect::<Vec<_>>()
    };
    let before = views().await.len();
    // The form fetches the queue for its CSRF token first (a plain view), then searches.
    let (status, page) = hana.form("/console", &[("q", "maría PEREZ")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&number));
    let (_, none) = hana.get("/console?status=denied").await;
    assert!(!none.contains(&format!("/console/requests/{number}")));

    let views = views().await;
    assert_eq!(views.len(), before + 3, "{views:?}");
    let (search, plain) = (&views[before + 1], &views[before + 2]);
    assert_eq!(search["actor"], "hana@example.org");
    assert_eq!(search["detail"]["searched"], true);
    assert_eq!(search["detail"]["rows"], 1);
    assert_eq!(search["detail"]["requests"], json!([number]));
    let text = search.to_string().to_lowercase();
    assert!(!text.contains("mar") && !text.contains("perez"), "{text}");
    assert_eq!(plain["detail"]["searched"], false);
    assert_eq!(plain["detail"]["status"], "denied");
    assert_eq!(plain["detail"]["rows"], 0);
    assert!(plain["detail"].get("requests").is_none());
}
