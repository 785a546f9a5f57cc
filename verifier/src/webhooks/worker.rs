//! The delivery worker: one background task per instance. It wakes when this
//! instance commits an event, or every `poll_interval_ms` (for events other
//! instances committed and for retries), claims due deliveries with a lease
//! ([`outbox::claim`]), sends them concurrently and records each attempt.

use rand::Rng as _;
use std::time::{Duration, Instant};
use tokio::{sync::watch, task::JoinSet};

use super::{
    Webhooks,
    outbox::{self, Attempt, Claimed, Next},
    signature, unix_ms,
};
use crate::AppState;

/// Deliveries claimed per round.
const BATCH: i64 = 16;

/// Runs until `stop` turns true; an attempt under way is finished (each is
/// bounded by `timeout_secs`) and recorded first.
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    if !state.webhooks.is_enabled() {
        return;
    }
    let every = Duration::from_millis(state.webhooks.settings.poll_interval_ms);
    while !*stop.borrow() {
        if let Err(e) = round(&state).await {
            tracing::warn!(error = %e, "webhook delivery round failed");
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = state.webhooks.wake.notified() => {}
            _ = stop.changed() => {}
        }
    }
}

/// Claims and sends what is due now; returns when every attempt is recorded.
async fn round(state: &AppState) -> Result<(), crate::Error> {
    let now_ms = unix_ms(state.clock.now());
    let lease_ms = i64::try_from(state.webhooks.settings.timeout_secs)
        .unwrap_or(i64::MAX / 4_000)
        .saturating_mul(1000)
        .saturating_add(30_000);
    let mut sending = JoinSet::new();
    let endpoints = state.webhooks.endpoint_urls();
    for id in outbox::due(&state.store, now_ms, BATCH, &endpoints).await? {
        if let Some(claimed) =
            outbox::claim(&state.store, &id, now_ms, now_ms.saturating_add(lease_ms)).await?
        {
            sending.spawn(deliver(state.clone(), claimed));
        }
    }
    while let Some(done) = sending.join_next().await {
        if let Err(e) = done {
            tracing::warn!(error = %e, "webhook delivery task failed");
        }
    }
    Ok(())
}

/// Error class of a delivery whose endpoint is no longer configured.
const ENDPOINT_REMOVED: &str = "endpoint_removed";

/// Sends `claimed` once: the status code if the endpoint answered, and the
/// error class unless it answered 2xx.
async fn send(
    hooks: &Webhooks,
    claimed: &Claimed,
    timestamp: i64,
) -> (Option<u16>, Option<&'static str>) {
    let Some(endpoint) = hooks.endpoint(&claimed.endpoint) else {
        return (None, Some(ENDPOINT_REMOVED));
    };
    let body = claimed.payload.as_bytes();
    let sent = hooks
        .client
        .post(endpoint.url.clone())
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(
            signature::HEADER,
            signature::header_value(&endpoint.secret, timestamp, body),
        )
        .header("Idempotency-Key", &claimed.event_id)
        .header("Recordpass-Event-Id", &claimed.event_id)
        .header("Recordpass-Event-Type", &claimed.event_type)
        .body(claimed.payload.clone())
        .send()
        .await;
    // The response body is never read: it could hold anything.
    match sent {
        Ok(r) if r.status().is_success() => (Some(r.status().as_u16()), None),
        Ok(r) => (Some(r.status().as_u16()), Some("http_status")),
        Err(e) => (None, Some(error_class(&e))),
    }
}

/// One attempt at `claimed`, then its record.
async fn deliver(state: AppState, claimed: Claimed) {
    let hooks = &state.webhooks;
    let at_ms = unix_ms(state.clock.now());
    let started = Instant::now();
    let (status_code, error) = send(hooks, &claimed, state.clock.unix()).await;
    let attempt = Attempt {
        at_ms,
        status_code,
        error,
        duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
    };
    let settings = &hooks.settings;
    let next = match error {
        None => Next::Delivered,
        Some(ENDPOINT_REMOVED) => Next::Failed,
        Some(_) if claimed.attempts >= i64::from(settings.max_attempts) => Next::Failed,
        Some(_) => Next::RetryAt(unix_ms(state.clock.now()).saturating_add(backoff_ms(
            settings.retry_base_ms,
            settings.retry_max_ms,
            claimed.attempts,
        ))),
    };
    if error.is_some() {
        hooks.counters.attempt_failures.inc();
    }
    let outcome = match next {
        Next::Delivered => Some("delivered"),
        Next::Failed => Some("failed"),
        Next::RetryAt(_) => None,
    };
    if let Some(outcome) = outcome {
        hooks
            .counters
            .deliveries
            .get_or_create(&super::OutcomeLabels { outcome })
            .inc();
    }
    match outbox::record(&state.store, &claimed, &attempt, next, state.clock.unix()).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!(event = %claimed.event_id, "webhook lease expired during the attempt")
        }
        Err(e) => {
            tracing::warn!(event = %claimed.event_id, error = %e, "webhook attempt not recorded")
        }
    }
    match (next, error) {
        (Next::Delivered, _) => {
            tracing::info!(event = %claimed.event_id, attempts = claimed.attempts, "webhook delivered");
        }
        (Next::Failed, e) => tracing::warn!(
            event = %claimed.event_id, attempts = claimed.attempts, error = e.unwrap_or_default(),
            "webhook delivery failed for good"
        ),
        (Next::RetryAt(_), e) => tracing::info!(
            event = %claimed.event_id, attempts = claimed.attempts, status = status_code,
            error = e.unwrap_or_default(), "webhook attempt failed; will retry"
        ),
    }
}

/// A short, data-free name for what went wrong.
fn error_class(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_request() {
        "request"
    } else {
        "other"
    }
}

/// Wait after attempt `attempts` failed: `base × 2^(attempts−1)`, capped at
/// `max`, of which a random half is taken off (jitter spreads the retries
/// of many events that failed together).
pub fn backoff_ms(base: u64, max: u64, attempts: i64) -> i64 {
    let exponent = u32::try_from(attempts.saturating_sub(1).clamp(0, 32)).unwrap_or(32);
    let full = base.saturating_mul(1u64 << exponent).min(max);
    let wait = full / 2 + rand::rng().random_range(0..=full / 2);
    i64::try_from(wait).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        for _ in 0..50 {
            let first = backoff_ms(1000, 60_000, 1);
            assert!((500..=1000).contains(&first), "{first}");
            let third = backoff_ms(1000, 60_000, 3);
            assert!((2000..=4000).contains(&third), "{third}");
            let late = backoff_ms(1000, 60_000, 40);
            assert!((30_000..=60_000).contains(&late), "{late}");
        }
    }
}
