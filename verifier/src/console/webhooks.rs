//! `GET /console/webhooks`: the webhook delivery log for admins (event,
//! endpoint host, attempts, last answer, next attempt), and "retry now" for a
//! delivery that failed or is waiting (audited).

use askama::Template;
use axum::{
    Extension,
    extract::{Path, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

use super::{
    audit,
    pages::{PageError, render},
    session::Staff,
};
use crate::{
    AppState, Error,
    webhooks::{
        outbox::{self, PENDING},
        unix_ms,
    },
};

/// Deliveries listed, newest first.
const SHOWN: i64 = 200;

/// One delivery as the page shows it.
pub struct Shown {
    id: String,
    event_id: String,
    event_type: String,
    request_number: String,
    host: String,
    state: String,
    attempts: i64,
    last: String,
    next: String,
    created: String,
    retryable: bool,
}

#[derive(Template)]
#[template(path = "console/webhooks.html")]
struct WebhooksPage<'a> {
    staff: &'a Staff,
    endpoints: usize,
    rows: Vec<Shown>,
}

/// `GET /console/webhooks`.
pub async fn page(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
) -> Result<Response, PageError> {
    let zone = state.config.console_zone();
    let time_text = |unix: i64| zone.time_text(unix);
    let rows = outbox::list(&state.store, SHOWN)
        .await?
        .into_iter()
        .map(|d| {
            let host = webauthn_rs::prelude::Url::parse(&d.endpoint)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_default();
            let last = match (d.last_status, &d.last_error) {
                (Some(code), _) => format!("HTTP {code}"),
                (None, Some(e)) => e.clone(),
                (None, None) => "—".to_owned(),
            };
            let next = if d.state == PENDING {
                time_text(d.next_attempt_ms / 1000)
            } else {
                "—".to_owned()
            };
            Shown {
                retryable: d.state != outbox::DELIVERED,
                id: d.id,
                event_id: d.event_id,
                event_type: d.event_type,
                request_number: d.request_number,
                host,
                state: d.state,
                attempts: d.attempts,
                last,
                next,
                created: time_text(d.created_at),
            }
        })
        .collect();
    render(&WebhooksPage {
        staff: &staff,
        endpoints: state.config.webhooks.len(),
        rows,
    })
}

/// `POST /console/webhooks/{id}/retry`: due now, with a fresh count of attempts.
pub async fn retry(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let now = state.clock.now();
    let _turn = state.store.writer_turn().await;
    let mut tx = state.store.begin().await?;
    if !outbox::retry_now(&mut tx, &id, unix_ms(now)).await? {
        return Err(if outbox::in_flight(&mut tx, &id, unix_ms(now)).await? {
            Error::InvalidTransition(
                "it is being sent right now; reload the page in a moment".into(),
            )
        } else {
            Error::NotFound
        }
        .into());
    }
    let event = audit::Event {
        actor: &staff.email,
        action: "webhook_retry",
        target: &id,
        detail: json!({}),
    };
    audit::append(&mut tx, now.unix_timestamp(), event).await?;
    tx.commit().await?;
    state.webhooks.wake();
    Ok((
        StatusCode::SEE_OTHER,
        [(
            header::LOCATION,
            HeaderValue::from_static("/console/webhooks"),
        )],
    )
        .into_response())
}
