//! Legal deadlines through the console: counted in calendar days of the
//! site's time zone and shown in it, and no extension once the original
//! deadline has passed (45 CFR 164.524(b)(2)(ii)).

use recordpass_tests::TestVerifier;
use recordpass_verifier::{console::Role, zone::Zone};
use reqwest::StatusCode;

use crate::{
    client::Requester,
    console::{StaffClient, submitted},
};

const DAY: i64 = 24 * 60 * 60;

/// Moves `verifier`'s clock forward to `unix`.
fn advance_to(verifier: &TestVerifier, unix: i64) {
    let now = verifier.clock.unix();
    assert!(unix > now, "the test's dates lie in the future");
    verifier.clock.advance(unix - now);
}

/// The queue row of `number` (from its due cell to the end of the row).
fn row<'a>(queue: &'a str, number: &str) -> &'a str {
    let link = queue
        .find(&format!("/console/requests/{number}\""))
        .unwrap_or_else(|| panic!("{number} not in the queue:\n{queue}"));
    let start = queue[..link].rfind("<tr").expect("row start");
    let end = link + queue[link..].find("</tr>").expect("row end");
    &queue[start..end]
}

#[tokio::test]
async fn an_evening_request_is_dated_and_due_by_the_hospital_s_calendar() {
    let verifier = TestVerifier::start_changed(|config| {
        config.sites[0].time_zone = Some(Zone::named("America/New_York").expect("zone"));
    })
    .await;
    let number = submitted(&verifier).await;
    // Signed at 20:30 EST on Sunday, November 1, 2037: 01:30 UTC on November 2.
    sqlx::query("UPDATE submissions SET received_at = $1 WHERE request_number = $2")
        .bind(2_140_738_200_i64)
        .bind(&number)
        .execute(verifier.store.pool())
        .await
        .expect("received on the evening of November 1");
    let mut hana = StaffClient::enrolled(&verifier, "hana@example.org", Role::Specialist).await;

    let (status, detail) = hana.get(&format!("/console/requests/{number}")).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert!(detail.contains("2037-11-01 20:30 EST"), "{detail}");
    assert!(
        !detail.contains("2037-11-02 01:30"),
        "no UTC time:\n{detail}"
    );
    assert!(detail.contains("<dt>Due</dt><dd>2037-12-01"), "{detail}");

    // 23:00 on December 1 in New York (04:00 UTC on December 2): due today,
    // not overdue.
    advance_to(&verifier, 2_143_339_200);
    assert_eq!(hana.sign_in().await, StatusCode::OK);
    let (_, queue) = hana.get("/console").await;
    let line = row(&queue, &number);
    assert!(
        line.contains("2037-12-01") && line.contains("2037-11-01"),
        "{line}"
    );
    assert!(!line.contains("overdue") && line.contains("soon"), "{line}");
    let (_, csv) = hana.get("/console/queue.csv").await;
    assert!(
        csv.contains(&format!("{number},2037-11-01,2037-12-01,")),
        "{csv}"
    );

    // 00:30 on December 2 in New York: the due date has ended.
    verifier.clock.advance(90 * 60);
    assert_eq!(hana.sign_in().await, StatusCode::OK);
    let (_, queue) = hana.get("/console").await;
    let line = row(&queue, &number);
    assert!(
        line.contains("2037-12-01") && line.contains("overdue"),
        "{line}"
    );
    assert!(queue.contains("Overdue: <strong>1</strong>"), "{queue}");
}

#[tokio::test]
async fn an_extension_is_refused_once_the_original_deadline_has_passed() {
    let verifier = TestVerifier::start().await;
    let numbers = Requester::new(&verifier).register_and_sign(2).await;
    let mut hana = StaffClient::enrolled(&verifier, "hana@example.org", Role::Specialist).await;
    let extend = |number: &str| format!("/console/requests/{number}/extension");
    let fields = [
        ("days", "30"),
        ("reason", "records are in off-site storage"),
    ];

    // On day 29 the extension is within the original 30 days.
    verifier.clock.advance(29 * DAY);
    assert_eq!(hana.sign_in().await, StatusCode::OK);
    let (status, body) = hana.form(&extend(&numbers[0]), &fields).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");

    // On day 31 the other request is overdue: an extension would hide that.
    verifier.clock.advance(2 * DAY);
    assert_eq!(hana.sign_in().await, StatusCode::OK);
    let (status, page) = hana.form(&extend(&numbers[1]), &fields).await;
    assert_eq!(status, StatusCode::CONFLICT, "{page}");
    assert!(
        page.contains("the original deadline (") && page.contains("has passed"),
        "the page says why:\n{page}"
    );
    assert!(page.contains("164.524(b)(2)(ii)"), "{page}");

    // Nothing changed: no extension, no notice, still overdue.
    let (_, detail) = hana.get(&format!("/console/requests/{}", numbers[1])).await;
    assert!(!detail.contains("(extended)"), "{detail}");
    assert!(!detail.contains("Notice of extension"), "{detail}");
    assert!(
        detail.contains("id=\"extension-closed\"") && !detail.contains("id=\"extension-form\""),
        "the page offers no extension:\n{detail}"
    );
    let (_, queue) = hana.get("/console").await;
    assert!(queue.contains("Overdue: <strong>1</strong>"), "{queue}");
    assert!(row(&queue, &numbers[1]).contains("overdue"));
    assert!(!row(&queue, &numbers[0]).contains("overdue"));
}

#[tokio::test]
async fn a_configuration_change_moves_no_due_date_of_a_request_already_received() {
    // IT has shortened the deadline to a state's 10 days and set the zone.
    let verifier = TestVerifier::start_changed(|config| {
        config.sites[0].deadline_days = Some(10);
        config.sites[0].time_zone = Some(Zone::named("Pacific/Kiritimati").expect("zone"));
    })
    .await;
    let numbers = Requester::new(&verifier).register_and_sign(3).await;
    let (before, after, legacy) = (&numbers[0], &numbers[1], &numbers[2]);
    let read = |number: &str| {
        let (store, number) = (verifier.store.clone(), number.to_owned());
        async move {
            let s = store.submission(&number).await.expect("read");
            s.expect("stored")
        }
    };
    let new = read(after).await;
    assert_eq!(
        (new.deadline_days, new.time_zone.as_deref()),
        (Some(10), Some("Pacific/Kiritimati")),
        "the terms are recorded at receipt"
    );
    // `before` was received under the old file (30 days, UTC); `legacy`
    // before the terms were recorded at all.
    for (number, days, zone) in [(before, Some(30), Some("UTC")), (legacy, None, None)] {
        sqlx::query(
            "UPDATE submissions SET deadline_days = $1, time_zone = $2 WHERE request_number = $3",
        )
        .bind(days)
        .bind(zone)
        .bind(number)
        .execute(verifier.store.pool())
        .await
        .expect("terms at receipt");
    }
    let due = |zone: &Zone, received: i64, days: i64| {
        let deadline = zone.deadline(received, days).expect("deadline");
        deadline.date.to_string()
    };
    let kiritimati = Zone::named("Pacific/Kiritimati").expect("zone");
    let old_due = due(&Zone::utc(), read(before).await.received_at, 30);
    let new_due = due(&kiritimati, new.received_at, 10);
    let legacy_due = due(&kiritimati, read(legacy).await.received_at, 10);

    let hana = StaffClient::enrolled(&verifier, "hana@example.org", Role::Specialist).await;
    let (_, queue) = hana.get("/console").await;
    let old_row = row(&queue, before);
    assert!(
        old_row.contains(&old_due),
        "30 days, UTC: {old_due}\n{old_row}"
    );
    assert!(!old_row.contains(&new_due), "{old_row}");
    assert!(row(&queue, after).contains(&new_due), "10 days: {new_due}");
    assert!(
        row(&queue, legacy).contains(&legacy_due),
        "current settings"
    );
    let (_, detail) = hana.get(&format!("/console/requests/{before}")).await;
    assert!(
        detail.contains(&format!("<dt>Due</dt><dd>{old_due}")),
        "{detail}"
    );
}
