//! Outgoing webhooks through real HTTP: a receiver started here on
//! `127.0.0.1:0` that checks nothing itself but records every request, so the
//! tests can recompute signatures, count attempts and read the payloads.
//! (Run on both backends: `RECORDPASS_TEST_DATABASE=postgres` for PostgreSQL.)

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::post,
};
use hmac::{Hmac, Mac};
use recordpass_tests::TestVerifier;
use recordpass_verifier::{console::Role, retention};
use serde_json::Value;
use sha2::Sha256;
use sqlx::Row;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::net::TcpListener;

use crate::{
    client::{Requester, ana_request, site_origin},
    console::{StaffClient, submitted},
};

/// The secret the endpoint and the verifier share.
const SECRET: &str = "whsec-test-0123456789abcdef0123456789abcdef";

/// One request the receiver got, and what it answered.
#[derive(Clone, Debug)]
struct Received {
    headers: HeaderMap,
    body: Bytes,
    answered: StatusCode,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }

    fn event_id(&self) -> String {
        self.json()["id"].as_str().expect("id").to_owned()
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("{name} header"))
            .to_str()
            .expect("ascii")
    }
}

#[derive(Default)]
struct Log {
    received: Vec<Received>,
    tries: HashMap<String, usize>,
}

/// How the receiver answers.
#[derive(Clone)]
struct Behaviour {
    log: Arc<Mutex<Log>>,
    fail_first: usize,
    delay: Duration,
}

/// Records the request; answers 500 to the first `fail_first` requests of
/// each event id, 200 after that, each after `delay`.
async fn receive(State(b): State<Behaviour>, headers: HeaderMap, body: Bytes) -> StatusCode {
    tokio::time::sleep(b.delay).await;
    let id = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["id"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let mut log = b.log.lock().expect("log");
    let tries = log.tries.entry(id).or_default();
    *tries += 1;
    let answered = if *tries <= b.fail_first {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    };
    log.received.push(Received {
        headers,
        body,
        answered,
    });
    answered
}

/// A webhook endpoint that answers 500 to the first `fail_first` requests of
/// each event, then 200, each after `delay`.
struct Receiver {
    url: String,
    log: Arc<Mutex<Log>>,
}

impl Receiver {
    async fn start(fail_first: usize) -> Receiver {
        Receiver::start_slow(fail_first, Duration::ZERO).await
    }

    async fn start_slow(fail_first: usize, delay: Duration) -> Receiver {
        let log = Arc::new(Mutex::new(Log::default()));
        let behaviour = Behaviour {
            log: log.clone(),
            fail_first,
            delay,
        };
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(behaviour);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, log }
    }

    fn all(&self) -> Vec<Received> {
        self.log.lock().expect("log").received.clone()
    }

    fn accepted(&self) -> Vec<Received> {
        self.all()
            .into_iter()
            .filter(|r| r.answered == StatusCode::OK)
            .collect()
    }

    /// Waits until `n` requests were accepted.
    async fn wait_accepted(&self, n: usize) -> Vec<Received> {
        for _ in 0..300 {
            let accepted = self.accepted();
            if accepted.len() >= n {
                return accepted;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{n} deliveries not accepted: {:#?}", self.all());
    }
}

/// A verifier sending every event to `url`, retrying fast, with the secret
/// file kept in `dir`.
async fn verifier_for(url: &str, max_attempts: u32, dir: &tempfile::TempDir) -> TestVerifier {
    let secret_file = dir.path().join("webhook.key");
    std::fs::write(&secret_file, format!("{SECRET}\n")).expect("secret written");
    TestVerifier::start_with_sections(&format!(
        "[[webhooks]]\nurl = \"{url}\"\nsecret_file = \"{}\"\n\
         [webhook_delivery]\ntimeout_secs = 2\nmax_attempts = {max_attempts}\n\
         retry_base_ms = 100\nretry_max_ms = 300\npoll_interval_ms = 50\n",
        secret_file.display()
    ))
    .await
}

/// Checks `Recordpass-Signature: t=…,v1=…` the way a receiver does.
fn assert_signed(r: &Received) {
    let value = r.header("recordpass-signature");
    let (t, v1) = value
        .split_once(',')
        .and_then(|(t, v)| Some((t.strip_prefix("t=")?, v.strip_prefix("v1=")?)))
        .unwrap_or_else(|| panic!("signature header {value}"));
    let age = time::OffsetDateTime::now_utc().unix_timestamp() - t.parse::<i64>().expect("t");
    assert!((0..60).contains(&age), "timestamp {t} is fresh");
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(format!("{t}.").as_bytes());
    mac.update(&r.body);
    let expected = hex::encode(mac.finalize().into_bytes());
    assert_eq!(v1, expected, "HMAC-SHA256 of t.body");
}

/// `(state, attempts)` of the delivery of `event_id`, and its logged attempts.
async fn delivery(verifier: &TestVerifier, event_id: &str) -> (String, i64, i64) {
    let row = sqlx::query(
        "SELECT d.state, d.attempts, (SELECT COUNT(*) FROM webhook_attempts a
             WHERE a.delivery_id = d.id) AS logged
         FROM webhook_deliveries d WHERE d.event_id = $1",
    )
    .bind(event_id)
    .fetch_one(verifier.store.pool())
    .await
    .expect("delivery row");
    (row.get("state"), row.get("attempts"), row.get("logged"))
}

/// [`delivery`] once it is no longer pending (the attempt is recorded
/// after the receiver answers).
async fn settled(verifier: &TestVerifier, event_id: &str) -> (String, i64, i64) {
    for _ in 0..200 {
        let now = delivery(verifier, event_id).await;
        if now.0 != "pending" {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    delivery(verifier, event_id).await
}

async fn deliveries_of(verifier: &TestVerifier, number: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM webhook_deliveries WHERE request_number = $1")
        .bind(number)
        .fetch_one(verifier.store.pool())
        .await
        .expect("count")
}

pub(crate) async fn metric(verifier: &TestVerifier, series: &str) -> f64 {
    let text = reqwest::get(&verifier.metrics_url)
        .await
        .expect("scraped")
        .text()
        .await
        .expect("body");
    text.lines()
        .filter_map(|l| l.rsplit_once(' '))
        .find(|(s, _)| *s == series)
        .map_or(0.0, |(_, v)| v.parse().expect("number"))
}

#[tokio::test]
async fn a_submission_is_delivered_signed_once_after_two_failures_and_a_status_change_sends_another()
 {
    let receiver = Receiver::start(2).await;
    let dir = tempfile::tempdir().expect("dir");
    let verifier = verifier_for(&receiver.url, 5, &dir).await;
    let number = submitted(&verifier).await;

    let accepted = receiver.wait_accepted(1).await;
    let all = receiver.all();
    assert_eq!(all.len(), 3, "two 500s, then accepted: {all:#?}");
    assert_eq!(accepted.len(), 1);
    let event_id = accepted[0].event_id();
    for r in &all {
        assert_signed(r);
        assert_eq!(r.event_id(), event_id, "one event id across retries");
        assert_eq!(r.header("idempotency-key"), event_id);
        assert_eq!(r.body, all[0].body, "the same body on every attempt");
        assert_eq!(r.header("content-type"), "application/json");
    }
    let payload = accepted[0].json();
    assert_eq!(payload["type"], "submission.received");
    let data = &payload["data"];
    assert_eq!(data["request_number"], number.as_str());
    assert_eq!(data["status"], "received");
    assert_eq!(data["instrument"], "right_of_access");
    let stored = verifier
        .store
        .submission(&number)
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(data["document_digest"], stored.digest.as_str());
    assert!(
        data["console_url"]
            .as_str()
            .expect("link")
            .ends_with(&format!("/console/requests/{number}"))
    );
    assert_eq!(data["due_date"].as_str().map(str::len), Some(10));
    // Least data: nothing that identifies the patient or the requester.
    let request = ana_request();
    let body = String::from_utf8_lossy(&accepted[0].body).into_owned();
    for personal in [
        request.patient.legal_name.as_str(),
        request.patient.date_of_birth.as_str(),
        request.requester.email.as_str(),
    ] {
        assert!(!body.contains(personal), "{personal:?} in {body}");
    }

    // The delivery log: 3 attempts, delivered; the admin page shows it.
    assert_eq!(
        settled(&verifier, &event_id).await,
        ("delivered".to_owned(), 3, 3)
    );
    // Backoff follows `retry_base_ms` (100, doubling, jitter up to half).
    let times: Vec<i64> = sqlx::query_scalar(
        "SELECT a.at_ms FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
         WHERE d.event_id = $1 ORDER BY a.at_ms",
    )
    .bind(&event_id)
    .fetch_all(verifier.store.pool())
    .await
    .expect("attempt times");
    let gaps = [times[1] - times[0], times[2] - times[1]];
    eprintln!("webhook retry gaps: {gaps:?} ms");
    assert!(
        (50..2000).contains(&gaps[0]) && (100..2000).contains(&gaps[1]),
        "{gaps:?}"
    );
    let admin = StaffClient::enrolled(&verifier, "admin@example.org", Role::Admin).await;
    let (status, page) = admin.get("/console/webhooks").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains(&event_id) && page.contains("delivered"),
        "{page}"
    );
    assert!(
        page.contains("HTTP 200") && page.contains("127.0.0.1"),
        "{page}"
    );

    // A status change in the console is a second event.
    let hana = StaffClient::enrolled(&verifier, "hana@example.org", Role::Specialist).await;
    let path = format!("/console/requests/{number}/status");
    let (status, _) = hana.form(&path, &[("to", "in_review")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let accepted = receiver.wait_accepted(2).await;
    let change = accepted[1].json();
    assert_signed(&accepted[1]);
    assert_eq!(change["type"], "request.status_changed");
    assert_ne!(change["id"], payload["id"]);
    assert_eq!(change["data"]["status"], "in_review");
    assert_eq!(change["data"]["previous_status"], "received");
    assert_eq!(change["data"]["request_number"], number.as_str());
    let change_id = accepted[1].event_id();
    assert_eq!(settled(&verifier, &change_id).await.0, "delivered");

    // A refused change commits nothing, so it sends nothing.
    let (status, _) = hana.form(&path, &[("to", "received")]).await;
    assert!(status.is_client_error(), "{status}");
    assert_eq!(deliveries_of(&verifier, &number).await, 2);
    assert_eq!(
        metric(
            &verifier,
            r#"recordpass_webhook_deliveries_total{outcome="delivered"}"#
        )
        .await,
        2.0
    );
    assert_eq!(
        metric(&verifier, "recordpass_webhook_delivery_failures_total").await,
        4.0
    );
    assert_eq!(metric(&verifier, "recordpass_webhook_backlog").await, 0.0);

    // Delivered events go with the background purge after `keep_delivered_days` (30).
    let purge = |days: i64| {
        let now = verifier.clock.unix() + days * 24 * 60 * 60;
        retention::purge_transient(&verifier.store, &verifier.config, now)
    };
    let report = purge(29).await.expect("purged");
    assert!(
        report.tables.contains(&("webhook_deliveries", 0)),
        "{report}"
    );
    let report = purge(31).await.expect("purged");
    assert!(
        report.tables.contains(&("webhook_deliveries", 2)),
        "{report}"
    );
    assert_eq!(deliveries_of(&verifier, &number).await, 0);
    let attempts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_attempts")
        .fetch_one(verifier.store.pool())
        .await
        .expect("count");
    assert_eq!(attempts, 0, "attempt logs go with their deliveries");
}

#[tokio::test]
async fn an_unreachable_endpoint_ends_failed_after_max_attempts_and_can_be_retried() {
    // A port nobody listens on.
    let closed = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hook", closed.local_addr().expect("addr"));
    drop(closed);
    let dir = tempfile::tempdir().expect("dir");
    let verifier = verifier_for(&url, 3, &dir).await;
    let number = submitted(&verifier).await;

    let failed = r#"recordpass_webhook_deliveries_total{outcome="failed"}"#;
    let event_id: String =
        sqlx::query_scalar("SELECT event_id FROM webhook_deliveries WHERE request_number = $1")
            .bind(&number)
            .fetch_one(verifier.store.pool())
            .await
            .expect("event");
    assert_eq!(
        settled(&verifier, &event_id).await,
        ("failed".to_owned(), 3, 3)
    );
    let errors: Vec<String> = sqlx::query_scalar(
        "SELECT a.error FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
         WHERE d.event_id = $1",
    )
    .bind(&event_id)
    .fetch_all(verifier.store.pool())
    .await
    .expect("attempts");
    assert_eq!(errors, vec!["connect"; 3]);
    assert_eq!(metric(&verifier, failed).await, 1.0);
    assert_eq!(
        metric(&verifier, "recordpass_webhook_delivery_failures_total").await,
        3.0
    );
    assert_eq!(metric(&verifier, "recordpass_webhook_backlog").await, 0.0);

    // An admin retries it now: three more attempts, failing the same way.
    let admin = StaffClient::enrolled(&verifier, "admin@example.org", Role::Admin).await;
    let (_, page) = admin.get("/console/webhooks").await;
    assert!(
        page.contains("failed") && page.contains("Retry now"),
        "{page}"
    );
    let id: String = sqlx::query_scalar("SELECT id FROM webhook_deliveries WHERE event_id = $1")
        .bind(&event_id)
        .fetch_one(verifier.store.pool())
        .await
        .expect("id");
    let (status, _) = admin
        .form(&format!("/console/webhooks/{id}/retry"), &[])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        settled(&verifier, &event_id).await,
        ("failed".to_owned(), 3, 6)
    );
    assert_eq!(metric(&verifier, failed).await, 2.0);
    let (status, _) = admin
        .form("/console/webhooks/no-such-delivery/retry", &[])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Failed deliveries stay for admins to see, whatever their age.
    let later = verifier.clock.unix() + 365 * 24 * 60 * 60;
    retention::purge_transient(&verifier.store, &verifier.config, later)
        .await
        .expect("purged");
    assert_eq!(deliveries_of(&verifier, &number).await, 1);
}

#[tokio::test]
async fn two_instances_on_one_database_deliver_each_event_once() {
    // Every event fails once, so its retry falls due while both instances
    // poll; each answer takes longer than several polls.
    let receiver = Receiver::start_slow(1, Duration::from_millis(200)).await;
    let dir = tempfile::tempdir().expect("dir");
    let one = verifier_for(&receiver.url, 5, &dir).await;
    let two = one.another_instance().await;
    let mut ana = Requester::new(&one);
    let on_two = Requester::new(&two);
    let credential_id = ana.register("ana@example.org").await;
    const EVENTS: usize = 6;
    for i in 0..EVENTS {
        // Stored (and enqueued) by one instance or the other.
        let request = ana_request();
        let started = if i % 2 == 0 {
            ana.signing(&request, &credential_id).await
        } else {
            on_two.signing(&request, &credential_id).await
        };
        let assertion = ana.assert_from(site_origin(), &started);
        let id = &started.ceremony_id;
        let (status, body) = if i % 2 == 0 {
            on_two.finish_signing(id, &assertion).await
        } else {
            ana.finish_signing(id, &assertion).await
        };
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    receiver.wait_accepted(EVENTS).await;
    // Both workers keep polling: give a second delivery time to show up.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let all = receiver.all();
    let mut per_event: HashMap<String, (usize, usize)> = HashMap::new();
    for r in &all {
        let seen = per_event.entry(r.event_id()).or_default();
        seen.0 += 1;
        seen.1 += usize::from(r.answered == StatusCode::OK);
    }
    assert_eq!(per_event.len(), EVENTS, "{all:#?}");
    assert!(
        per_event.values().all(|seen| *seen == (2, 1)),
        "one failed and one accepted attempt per event: {per_event:?}"
    );
    for id in per_event.keys() {
        assert_eq!(
            settled(&one, id).await,
            ("delivered".to_owned(), 2, 2),
            "{id}"
        );
    }
}

#[tokio::test]
async fn an_instance_that_does_not_know_an_endpoint_leaves_its_deliveries_to_one_that_does() {
    // A rolling configuration change: `two` sends to another endpoint, so its
    // worker runs, but it must not claim (and fail) what `one` enqueued. Each
    // event fails once, so its retry falls due while both instances poll.
    let receiver = Receiver::start(1).await;
    let elsewhere = Receiver::start(0).await;
    let dir = tempfile::tempdir().expect("dir");
    let one = verifier_for(&receiver.url, 3, &dir).await;
    let url: url::Url = elsewhere.url.parse().expect("url");
    let two = one
        .another_instance_with(|config| config.webhooks[0].url = url)
        .await;
    const EVENTS: usize = 4;
    Requester::new(&one).register_and_sign(EVENTS).await;
    receiver.wait_accepted(EVENTS).await;
    // Both workers keep polling: give a wrong claim time to show up.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let states: Vec<String> = sqlx::query_scalar("SELECT state FROM webhook_deliveries")
        .fetch_all(two.store.pool())
        .await
        .expect("states");
    assert_eq!(states, vec!["delivered"; EVENTS], "{:#?}", receiver.all());
    assert!(elsewhere.all().is_empty());
    let attempts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_attempts")
        .fetch_one(one.store.pool())
        .await
        .expect("attempts");
    assert_eq!(
        attempts,
        2 * EVENTS as i64,
        "a failed and a delivered attempt each, none by the instance without the endpoint"
    );
}

#[tokio::test]
async fn retrying_a_delivery_while_it_is_being_sent_is_refused() {
    // The retry would reset the attempts, then the attempt under way would
    // record its own outcome over it: refused while the lease is held.
    let receiver = Receiver::start_slow(0, Duration::from_millis(1500)).await;
    let dir = tempfile::tempdir().expect("dir");
    let verifier = verifier_for(&receiver.url, 3, &dir).await;
    let admin = StaffClient::enrolled(&verifier, "admin@example.org", Role::Admin).await;
    Requester::new(&verifier).register_and_sign(1).await;
    let leased = || async {
        sqlx::query_scalar::<_, String>(
            "SELECT id FROM webhook_deliveries WHERE lease_until_ms IS NOT NULL",
        )
        .fetch_optional(verifier.store.pool())
        .await
        .expect("delivery")
    };
    let mut id = None;
    for _ in 0..100 {
        id = leased().await;
        if id.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let id = id.expect("an attempt under way");
    let (status, page) = admin
        .form(&format!("/console/webhooks/{id}/retry"), &[])
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{page}");
    receiver.wait_accepted(1).await;
    let mut row = (String::new(), 0);
    for _ in 0..100 {
        row = sqlx::query_as("SELECT state, attempts FROM webhook_deliveries WHERE id = $1")
            .bind(&id)
            .fetch_one(verifier.store.pool())
            .await
            .expect("delivery");
        if row.0 == "delivered" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        row,
        ("delivered".to_owned(), 1_i64),
        "the one attempt stands"
    );
}

#[tokio::test]
async fn a_bad_webhook_configuration_stops_the_verifier_naming_the_key() {
    let verifier = TestVerifier::start().await;
    let dir = tempfile::tempdir().expect("dir");
    let base = std::fs::read_to_string(&verifier.config_path).expect("config");
    let good_secret = dir.path().join("good.key");
    let short_secret = dir.path().join("short.key");
    std::fs::write(&good_secret, SECRET).expect("secret");
    std::fs::write(&short_secret, "too-short").expect("secret");
    let run_with = |url: &str, secret: &std::path::Path| {
        let path = dir.path().join("recordpass.toml");
        let hook = format!(
            "[[webhooks]]\nurl = \"{url}\"\nsecret_file = \"{}\"\n",
            secret.display()
        );
        std::fs::write(&path, format!("{base}\n{hook}")).expect("config written");
        let mut cmd = recordpass_tests::verifier_cli();
        cmd.arg("--config").arg(&path).args(["purge", "--dry-run"]);
        crate::evidence::run(&mut cmd)
    };
    let (ok, out) = run_with("https://roi.example.org/in", &good_secret);
    assert!(ok, "{out}");
    let (ok, out) = run_with("http://roi.example.org/in", &good_secret);
    assert!(!ok && out.contains("webhooks.url"), "{out}");
    let (ok, out) = run_with("https://roi.example.org/in", &short_secret);
    assert!(!ok && out.contains("webhooks.secret_file"), "{out}");
    assert!(
        !out.contains("too-short"),
        "the secret is never printed: {out}"
    );
}
