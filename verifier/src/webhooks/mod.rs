//! Outgoing webhooks: an event per new submission, status change and
//! extension, for downstream release-of-information or EHR systems.
//!
//! - **Durable outbox.** [`Webhooks::enqueue`] inserts one delivery row per
//!   subscribed endpoint inside the caller's transaction (the one that stores
//!   the submission or the status change), so an event exists exactly when
//!   the change it reports was committed.
//! - **Least data.** The payload ([`Payload`]) carries the request number,
//!   status, instrument, dates, document digest and a console link; never the
//!   patient's name, date of birth or email. Receivers fetch details through
//!   their own authorised channel.
//! - **Delivery** ([`worker`]): each instance claims due rows with a lease,
//!   `POST`s them signed ([`signature`]) and retries with exponential backoff
//!   and jitter up to `[webhook_delivery] max_attempts`; every attempt is
//!   logged (status code or error class, duration, never a response body).
//!   Delivery is at least once: receivers deduplicate on the event id.

pub mod outbox;
pub mod signature;
pub mod worker;

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family},
};
use serde::{Deserialize, Serialize};
use std::{path::Path, time::Duration};
use webauthn_rs::prelude::Url;

use recordpass_request::SignedDocument;

use crate::{
    AppState, Error,
    config::{Config, Webhook, WebhookDelivery, is_local_host},
    console::workflow::{RequestState, Status},
    db,
    store::Submission,
};

/// Smallest signing secret accepted, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    /// A signed request was stored.
    #[serde(rename = "submission.received")]
    SubmissionReceived,
    /// HIM moved a request to another status.
    #[serde(rename = "request.status_changed")]
    RequestStatusChanged,
    /// HIM took the one extension of the deadline.
    #[serde(rename = "request.extended")]
    RequestExtended,
}

impl EventType {
    /// Every event type.
    pub const ALL: [EventType; 3] = [
        EventType::SubmissionReceived,
        EventType::RequestStatusChanged,
        EventType::RequestExtended,
    ];

    /// The name in payloads and configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::SubmissionReceived => "submission.received",
            EventType::RequestStatusChanged => "request.status_changed",
            EventType::RequestExtended => "request.extended",
        }
    }
}

/// Default of `[[webhooks]] events`: all of them.
pub fn all_event_types() -> Vec<EventType> {
    EventType::ALL.to_vec()
}

/// The JSON body sent (documented in `docs/operations.md`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    /// Event id (`evt_` and a UUID); the same on every retry and in the
    /// `Idempotency-Key` header.
    pub id: String,
    /// Event type.
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// When the change was committed (RFC 3339, UTC).
    pub occurred_at: String,
    /// The request it is about.
    pub data: RequestFacts,
}

/// The facts about a request a payload carries: no personal data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestFacts {
    /// The request number quoted to the requester.
    pub request_number: String,
    /// Workflow status after the change (`received`, `in_review`, …).
    pub status: String,
    /// Status before a `request.status_changed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_status: Option<String>,
    /// `right_of_access`, `directive` or `authorization`.
    pub instrument: String,
    /// Receipt time (RFC 3339, UTC).
    pub received_at: String,
    /// Legal due date (`YYYY-MM-DD`, a calendar day in the site's time zone),
    /// after any extension.
    pub due_date: String,
    /// SHA-256 of the signed document, hex.
    pub document_digest: String,
    /// The request's page in the staff console (staff sign-in required).
    pub console_url: String,
}

/// An event about to be enqueued.
pub struct Event {
    /// Type.
    pub event_type: EventType,
    /// Facts.
    pub data: RequestFacts,
}

/// Enqueues an `event_type` event about request `s` (now in state `st`;
/// `previous` status for a status change) in the caller's transaction, if
/// any endpoint subscribes to it; call [`Webhooks::wake`] after the commit.
pub async fn request_event(
    state: &AppState,
    conn: &mut db::Connection,
    event_type: EventType,
    s: &Submission,
    st: &RequestState,
    previous: Option<Status>,
) -> Result<(), Error> {
    if !state.webhooks.subscribed(event_type) {
        return Ok(());
    }
    let doc: SignedDocument = serde_json::from_str(&s.document)
        .map_err(|e| Error::Internal(format!("stored document: {e}")))?;
    let due = crate::console::queue::due(state, s, st)?;
    let data = RequestFacts {
        request_number: s.request_number.clone(),
        status: st.status.as_str().to_owned(),
        previous_status: previous.map(|p| p.as_str().to_owned()),
        instrument: doc.summary().instrument.to_owned(),
        received_at: rfc3339(s.received_at),
        due_date: due.date.to_string(),
        document_digest: s.digest.clone(),
        console_url: format!(
            "{}/console/requests/{}",
            state.config.console_origin(),
            s.request_number
        ),
    };
    let event = Event { event_type, data };
    state.webhooks.enqueue(conn, event, state.clock.now()).await
}

fn rfc3339(unix: i64) -> String {
    crate::clock::rfc3339(unix).unwrap_or_default()
}

/// A configured endpoint with its secret loaded.
pub struct Endpoint {
    /// Where events go.
    pub url: Url,
    secret: Vec<u8>,
    events: Vec<EventType>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("url", &self.url.as_str())
            .field("events", &self.events)
            .finish_non_exhaustive()
    }
}

/// Delivery outcome label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// `delivered` or `failed` (gave up).
    pub outcome: &'static str,
}

/// Counters the worker moves; registered by [`crate::metrics`].
#[derive(Clone, Debug, Default)]
pub struct Counters {
    /// Deliveries finished, by outcome.
    pub deliveries: Family<OutcomeLabels, Counter>,
    /// Attempts that failed (error or non-2xx answer), retried or not.
    pub attempt_failures: Counter,
}

/// The configured endpoints, the HTTP client that reaches them, and the
/// delivery settings.
pub struct Webhooks {
    endpoints: Vec<Endpoint>,
    /// Delivery settings.
    pub settings: WebhookDelivery,
    client: reqwest::Client,
    wake: tokio::sync::Notify,
    /// Counters for `/metrics`.
    pub counters: Counters,
}

impl Webhooks {
    /// Loads each endpoint's secret and builds the client (no redirects
    /// followed, `timeout_secs` per attempt).
    pub fn new(config: &Config) -> Result<Webhooks, Error> {
        check_config(&config.webhooks, &config.webhook_delivery)?;
        let endpoints = config
            .webhooks
            .iter()
            .map(|w| {
                Ok(Endpoint {
                    url: w.url.clone(),
                    secret: read_secret(&w.secret_file)?,
                    events: w.events.clone(),
                })
            })
            .collect::<Result<_, Error>>()?;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(config.webhook_delivery.timeout_secs))
            .user_agent(concat!("Recordpass-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Config(format!("webhook HTTP client: {e}")))?;
        Ok(Webhooks {
            endpoints,
            settings: config.webhook_delivery.clone(),
            client,
            wake: tokio::sync::Notify::new(),
            counters: Counters::default(),
        })
    }

    /// Whether any endpoint is configured.
    pub fn is_enabled(&self) -> bool {
        !self.endpoints.is_empty()
    }

    /// Whether any endpoint receives `event_type`.
    pub fn subscribed(&self, event_type: EventType) -> bool {
        self.endpoints
            .iter()
            .any(|e| e.events.contains(&event_type))
    }

    /// The endpoint configured with `url`, if it still is.
    pub fn endpoint(&self, url: &str) -> Option<&Endpoint> {
        self.endpoints.iter().find(|e| e.url.as_str() == url)
    }

    /// The URLs of the configured endpoints, as deliveries name them.
    pub fn endpoint_urls(&self) -> Vec<&str> {
        self.endpoints.iter().map(|e| e.url.as_str()).collect()
    }

    /// Inserts `event` for each endpoint subscribed to its type, in the
    /// caller's transaction; call [`Webhooks::wake`] after it commits.
    pub async fn enqueue(
        &self,
        conn: &mut db::Connection,
        event: Event,
        now: time::OffsetDateTime,
    ) -> Result<(), Error> {
        let targets: Vec<&Endpoint> = self
            .endpoints
            .iter()
            .filter(|e| e.events.contains(&event.event_type))
            .collect();
        if targets.is_empty() {
            return Ok(());
        }
        let payload = Payload {
            id: format!("evt_{}", uuid::Uuid::new_v4().simple()),
            event_type: event.event_type,
            occurred_at: rfc3339(now.unix_timestamp()),
            data: event.data,
        };
        let body = serde_json::to_string(&payload)
            .map_err(|e| Error::Internal(format!("webhook payload: {e}")))?;
        for endpoint in targets {
            outbox::insert(conn, &payload, endpoint.url.as_str(), &body, now).await?;
        }
        Ok(())
    }

    /// Tells this instance's worker that new events were committed.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

fn read_secret(path: &Path) -> Result<Vec<u8>, Error> {
    let bad =
        |why: String| Error::Config(format!("webhooks.secret_file {}: {why}", path.display()));
    let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let secret = bytes.trim_ascii().to_vec();
    if secret.len() < MIN_SECRET_BYTES {
        return Err(bad(format!(
            "the secret must be at least {MIN_SECRET_BYTES} bytes"
        )));
    }
    Ok(secret)
}

/// Checks `[[webhooks]]` and `[webhook_delivery]` (including that each
/// secret file is readable and long enough), naming the key at fault.
pub fn check_config(webhooks: &[Webhook], delivery: &WebhookDelivery) -> Result<(), Error> {
    let mut seen = std::collections::HashSet::new();
    for w in webhooks {
        let url = &w.url;
        let local = url.host_str().is_some_and(is_local_host);
        if url.scheme() != "https" && !(url.scheme() == "http" && local) {
            return Err(Error::Config(format!(
                "webhooks.url {url}: https is required (http only for localhost)"
            )));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Error::Config(format!(
                "webhooks.url {}: no user name or password in the URL",
                url.host_str().unwrap_or_default()
            )));
        }
        if !seen.insert(url.as_str()) {
            return Err(Error::Config(format!(
                "webhooks.url {url} is configured twice"
            )));
        }
        if w.events.is_empty() {
            return Err(Error::Config(format!(
                "webhooks.events of {url}: list at least one event type (or leave it out for all)"
            )));
        }
        read_secret(&w.secret_file)?;
    }
    let d = delivery;
    for (key, value) in [
        ("timeout_secs", d.timeout_secs),
        ("max_attempts", u64::from(d.max_attempts)),
        ("retry_base_ms", d.retry_base_ms),
        ("retry_max_ms", d.retry_max_ms),
        ("poll_interval_ms", d.poll_interval_ms),
        ("keep_delivered_days", u64::from(d.keep_delivered_days)),
    ] {
        if value == 0 {
            return Err(Error::Config(format!(
                "webhook_delivery.{key} must be positive"
            )));
        }
    }
    if d.retry_max_ms < d.retry_base_ms {
        return Err(Error::Config(
            "webhook_delivery.retry_max_ms must be at least retry_base_ms".into(),
        ));
    }
    Ok(())
}

/// Unix milliseconds of `t`.
pub fn unix_ms(t: time::OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(url: &str, secret: &Path) -> Webhook {
        Webhook {
            url: url.parse().expect("url"),
            secret_file: secret.to_owned(),
            events: all_event_types(),
        }
    }

    #[test]
    fn endpoints_need_https_off_this_machine_and_a_long_secret() {
        let dir = std::env::temp_dir().join(format!("rp-webhooks-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let good = dir.join("good");
        let short = dir.join("short");
        std::fs::write(&good, format!("{}\n", "k".repeat(32))).expect("write");
        std::fs::write(&short, "k".repeat(31)).expect("write");
        let d = WebhookDelivery::default();
        let check = |w: Webhook| check_config(&[w], &d).map_err(|e| e.to_string());
        assert!(check(hook("https://roi.example.org/in", &good)).is_ok());
        assert!(check(hook("http://127.0.0.1:9/in", &good)).is_ok());
        assert!(check(hook("http://localhost:9/in", &good)).is_ok());
        let err = check(hook("http://roi.example.org/in", &good)).unwrap_err();
        assert!(
            err.contains("webhooks.url") && err.contains("https"),
            "{err}"
        );
        let err = check(hook("https://u:p@roi.example.org/in", &good)).unwrap_err();
        assert!(err.contains("user name"), "{err}");
        let err = check(hook("https://roi.example.org/in", &short)).unwrap_err();
        assert!(
            err.contains("webhooks.secret_file") && err.contains("32"),
            "{err}"
        );
        let err = check(hook("https://roi.example.org/in", &dir.join("none"))).unwrap_err();
        assert!(err.contains("webhooks.secret_file"), "{err}");
        let zero = WebhookDelivery {
            max_attempts: 0,
            ..WebhookDelivery::default()
        };
        let err = check_config(&[], &zero).unwrap_err().to_string();
        assert!(err.contains("webhook_delivery.max_attempts"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn event_types_have_their_documented_names() {
        for t in EventType::ALL {
            assert_eq!(
                serde_json::to_value(t).expect("json"),
                serde_json::Value::from(t.as_str())
            );
        }
    }
}
