//! Prometheus metrics, served by [`router`] on their own listen address
//! (`metrics_listen`; `127.0.0.1:9464` unless configured or `"off"`, see `docs/operations.md`).
//!
//! Labels are route templates, methods, statuses, ceremony kinds, stable
//! error codes, request statuses and delivery outcomes: never a path
//! value, request number, address or anything a requester typed.

use axum::{
    Router,
    extract::{MatchedPath, Request, State},
    http::{HeaderValue, Method, header},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
};
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};
use recordpass_request::api::ErrorCode;
use std::{sync::Arc, time::Instant};

use crate::{AppState, Error, console::queue};

/// The OpenMetrics text format Prometheus scrapes.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Route label of requests no route matched (404s from the fallback).
const UNMATCHED: &str = "(unmatched)";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

/// A passkey or email ceremony whose outcomes are counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ceremony {
    /// Checking an emailed code (`POST /api/v1/email-codes/{id}/verify`).
    EmailCode,
    /// Finishing passkey creation.
    Registration,
    /// Finishing a signature.
    Signing,
    /// Finishing a returning requester's sign-in.
    SignIn,
}

impl Ceremony {
    fn label(self) -> &'static str {
        match self {
            Ceremony::EmailCode => "email_code",
            Ceremony::Registration => "registration",
            Ceremony::Signing => "signing",
            Ceremony::SignIn => "sign_in",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CeremonyLabels {
    ceremony: &'static str,
    /// `ok`, or the stable error code that refused it.
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: String,
}

/// Outcome label of an email delivery.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeliveryLabels {
    /// `sent` or `failed`.
    pub outcome: &'static str,
}

/// Email deliveries by outcome; owned by the mailer, registered here.
pub type Deliveries = Family<DeliveryLabels, Counter>;

type Latency = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// Every metric the verifier exports.
pub struct Metrics {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_duration: Latency,
    ceremonies: Family<CeremonyLabels, Counter>,
    submissions: Counter,
    submission_commits: Counter,
    queue: Family<StatusLabels, Gauge>,
    overdue: Gauge,
    webhook_backlog: Gauge,
    upload_buffer: Gauge,
}

fn latency_histogram() -> Histogram {
    // 5 ms to ~10 s.
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        0.005, 2.0, 12,
    ))
}

impl Metrics {
    /// Registers every metric, including the mailer's `deliveries` and the
    /// webhook worker's counters.
    pub fn new(deliveries: &Deliveries, webhooks: &crate::webhooks::Counters) -> Metrics {
        let metrics = Metrics {
            registry: Registry::with_prefix("recordpass"),
            http_requests: Family::default(),
            http_duration: Family::new_with_constructor(latency_histogram),
            ceremonies: Family::default(),
            submissions: Counter::default(),
            submission_commits: Counter::default(),
            queue: Family::default(),
            overdue: Gauge::default(),
            webhook_backlog: Gauge::default(),
            upload_buffer: Gauge::default(),
        };
        metrics.registered(deliveries, webhooks)
    }

    fn registered(
        mut self,
        deliveries: &Deliveries,
        webhooks: &crate::webhooks::Counters,
    ) -> Metrics {
        let registry = &mut self.registry;
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route template and status",
            self.http_requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer HTTP requests, by method and route template",
            self.http_duration.clone(),
        );
        registry.register(
            "ceremonies",
            "Finished email-code, passkey-registration and signing ceremonies, by outcome \
             (ok or the error code)",
            self.ceremonies.clone(),
        );
        registry.register(
            "submissions",
            "Signed requests stored",
            self.submissions.clone(),
        );
        registry.register(
            "submission_commits",
            "Durable transactions that stored signature finishes (on SQLite several share one: \
             group commit)",
            self.submission_commits.clone(),
        );
        registry.register(
            "email_deliveries",
            "Emails (verification codes, status notices) handed to the relay (or demo outbox), by outcome",
            deliveries.clone(),
        );
        registry.register(
            "queue_requests",
            "Stored requests by workflow status, at scrape time",
            self.queue.clone(),
        );
        registry.register(
            "overdue_requests",
            "Open requests past their legal due date, at scrape time",
            self.overdue.clone(),
        );
        registry.register(
            "webhook_deliveries",
            "Webhook deliveries finished, by outcome (delivered, or failed after the last attempt)",
            webhooks.deliveries.clone(),
        );
        registry.register(
            "webhook_delivery_failures",
            "Webhook delivery attempts that failed (error or non-2xx answer), retried or not",
            webhooks.attempt_failures.clone(),
        );
        registry.register(
            "webhook_backlog",
            "Webhook deliveries pending (not yet delivered or given up), at scrape time",
            self.webhook_backlog.clone(),
        );
        registry.register(
            "upload_buffer_bytes",
            "Bytes reserved by upload bodies being received or waiting to be stored \
             (of [limits] upload_buffer_mib), at scrape time",
            self.upload_buffer.clone(),
        );
        self
    }

    /// Counts a finished ceremony: `ok`, or the code of the error that refused it.
    pub fn ceremony<T>(&self, ceremony: Ceremony, result: &Result<T, Error>) {
        let outcome = match result {
            Ok(_) => "ok".to_owned(),
            Err(e) => code_name(e.status_and_code().1),
        };
        self.ceremonies
            .get_or_create(&CeremonyLabels {
                ceremony: ceremony.label(),
                outcome,
            })
            .inc();
    }

    /// Counts a newly stored signed request.
    pub fn submission(&self) {
        self.submissions.inc();
    }

    /// Counts a committed transaction of signature finishes ([`crate::group_commit`]).
    pub fn submission_commit(&self) {
        self.submission_commits.inc();
    }

    /// The OpenMetrics text, with the queue gauges read now.
    async fn render(&self, state: &AppState) -> Result<String, Error> {
        let items = queue::items(state).await?;
        for status in crate::console::workflow::Status::ALL {
            let count = items.iter().filter(|i| i.status == status).count();
            self.queue
                .get_or_create(&StatusLabels {
                    status: status.as_str().to_owned(),
                })
                .set(i64::try_from(count).unwrap_or(i64::MAX));
        }
        let overdue = items.iter().filter(|i| i.overdue).count();
        self.overdue.set(i64::try_from(overdue).unwrap_or(i64::MAX));
        self.webhook_backlog
            .set(crate::webhooks::outbox::pending(&state.store).await?);
        self.upload_buffer
            .set(i64::try_from(state.uploads.reserved_bytes()).unwrap_or(i64::MAX));
        let mut text = String::new();
        encode(&mut text, &self.registry)
            .map_err(|e| Error::Internal(format!("metrics encoding: {e}")))?;
        Ok(text)
    }
}

/// `invalid_request`, … : the code as it appears in error bodies.
fn code_name(code: ErrorCode) -> String {
    serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Counts and times every request by method, route template and status.
pub async fn track(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, MatchedPath::as_str)
        .to_owned();
    let method = method_label(req.method()).to_owned();
    let start = Instant::now();
    let response = next.run(req).await;
    let labels = RouteLabels { method, route };
    metrics
        .http_duration
        .get_or_create(&labels)
        .observe(start.elapsed().as_secs_f64());
    metrics
        .http_requests
        .get_or_create(&HttpLabels {
            method: labels.method,
            route: labels.route,
            status: response.status().as_u16(),
        })
        .inc();
    response
}

/// Standard methods by name; anything else as `other`, so a client cannot
/// grow the label set.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}

/// `GET /metrics`, for the separate metrics listener only.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .fallback(|| async { Error::NotFound })
        .with_state(state)
}

async fn scrape(State(state): State<AppState>) -> Result<Response, Error> {
    let text = state.metrics.render(&state).await?;
    Ok((
        [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
        text,
    )
        .into_response())
}
