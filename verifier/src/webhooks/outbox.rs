//! The outbox tables (`webhook_deliveries`, `webhook_attempts`): enqueue,
//! claim with a lease, record an attempt, list, retry and purge. Portable SQL:
//! several instances on one PostgreSQL database claim each row once.

use sqlx::Row;

use super::Payload;
use crate::{Error, Store, db, tokens::random_token};

/// Where a delivery stands.
pub const PENDING: &str = "pending";
/// Accepted by the endpoint (2xx).
pub const DELIVERED: &str = "delivered";
/// Given up after `max_attempts`, or its endpoint is no longer configured.
pub const FAILED: &str = "failed";

/// Inserts one pending delivery of `payload` to `endpoint`.
pub async fn insert(
    conn: &mut db::Connection,
    payload: &Payload,
    endpoint: &str,
    body: &str,
    now: time::OffsetDateTime,
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, event_id, event_type, request_number, endpoint,
             payload, created_at, state, attempts, next_attempt_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9)",
    )
    .bind(random_token())
    .bind(&payload.id)
    .bind(payload.event_type.as_str())
    .bind(&payload.data.request_number)
    .bind(endpoint)
    .bind(body)
    .bind(now.unix_timestamp())
    .bind(PENDING)
    .bind(super::unix_ms(now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A delivery this instance holds the lease of.
#[derive(Clone, Debug)]
pub struct Claimed {
    /// Row id.
    pub id: String,
    /// Event id.
    pub event_id: String,
    /// Event type.
    pub event_type: String,
    /// Configured URL.
    pub endpoint: String,
    /// Body to send.
    pub payload: String,
    /// Attempts so far, this one included.
    pub attempts: i64,
    /// The lease this instance holds (unix ms).
    pub lease_until_ms: i64,
}

/// Ids of pending deliveries due at `now_ms` that nobody holds, oldest first.
///
/// Only deliveries to `endpoints` (the URLs this instance is configured
/// with): during a rolling configuration change, an instance that does not
/// know an endpoint yet leaves its deliveries to one that does.
pub async fn due(
    store: &Store,
    now_ms: i64,
    limit: i64,
    endpoints: &[&str],
) -> Result<Vec<String>, Error> {
    if endpoints.is_empty() {
        return Ok(Vec::new());
    }
    let known: Vec<String> = (4..4 + endpoints.len()).map(|n| format!("${n}")).collect();
    let sql = format!(
        "SELECT id FROM webhook_deliveries
         WHERE state = $1 AND next_attempt_ms <= $2
           AND (lease_until_ms IS NULL OR lease_until_ms < $2)
           AND endpoint IN ({})
         ORDER BY next_attempt_ms LIMIT $3",
        known.join(", ")
    );
    let mut query = sqlx::query_scalar(&sql)
        .bind(PENDING)
        .bind(now_ms)
        .bind(limit);
    for endpoint in endpoints {
        query = query.bind(*endpoint);
    }
    Ok(query.fetch_all(store.pool()).await?)
}

/// Takes the lease of delivery `id` until `lease_until_ms` and counts the
/// attempt, if it is still pending, due and free: of several instances
/// racing for a row, exactly one gets `Some`.
pub async fn claim(
    store: &Store,
    id: &str,
    now_ms: i64,
    lease_until_ms: i64,
) -> Result<Option<Claimed>, Error> {
    let _turn = store.writer_turn().await;
    let taken = sqlx::query(
        "UPDATE webhook_deliveries SET lease_until_ms = $1, attempts = attempts + 1
         WHERE id = $2 AND state = $3 AND next_attempt_ms <= $4
           AND (lease_until_ms IS NULL OR lease_until_ms < $4)",
    )
    .bind(lease_until_ms)
    .bind(id)
    .bind(PENDING)
    .bind(now_ms)
    .execute(store.pool())
    .await?
    .rows_affected();
    if taken != 1 {
        return Ok(None);
    }
    let row = sqlx::query(
        "SELECT id, event_id, event_type, endpoint, payload, attempts
         FROM webhook_deliveries WHERE id = $1",
    )
    .bind(id)
    .fetch_one(store.pool())
    .await?;
    Ok(Some(Claimed {
        id: row.get("id"),
        event_id: row.get("event_id"),
        event_type: row.get("event_type"),
        endpoint: row.get("endpoint"),
        payload: row.get("payload"),
        attempts: row.get("attempts"),
        lease_until_ms,
    }))
}

/// What one attempt came to.
#[derive(Clone, Debug)]
pub struct Attempt {
    /// Start (unix ms).
    pub at_ms: i64,
    /// HTTP status, when the endpoint answered.
    pub status_code: Option<u16>,
    /// Error class (`timeout`, `connect`, `http_status`, …), when it failed.
    pub error: Option<&'static str>,
    /// Duration.
    pub duration_ms: i64,
}

/// The delivery's next state after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Accepted.
    Delivered,
    /// Try again at this unix ms.
    RetryAt(i64),
    /// Gave up.
    Failed,
}

/// Logs `attempt` and moves the delivery on, releasing the lease, in one
/// transaction. Returns false when the lease had passed to another instance
/// (the attempt is still logged; the row is left to the holder).
pub async fn record(
    store: &Store,
    claimed: &Claimed,
    attempt: &Attempt,
    next: Next,
    now: i64,
) -> Result<bool, Error> {
    let _turn = store.writer_turn().await;
    let mut tx = store.begin().await?;
    sqlx::query(
        "INSERT INTO webhook_attempts (id, delivery_id, at_ms, status_code, error, duration_ms)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(random_token())
    .bind(&claimed.id)
    .bind(attempt.at_ms)
    .bind(attempt.status_code.map(i64::from))
    .bind(attempt.error)
    .bind(attempt.duration_ms)
    .execute(&mut *tx)
    .await?;
    let (state, next_ms, finished) = match next {
        Next::Delivered => (DELIVERED, attempt.at_ms, Some(now)),
        Next::RetryAt(ms) => (PENDING, ms, None),
        Next::Failed => (FAILED, attempt.at_ms, Some(now)),
    };
    let moved = sqlx::query(
        "UPDATE webhook_deliveries SET state = $1, next_attempt_ms = $2, lease_until_ms = NULL,
             last_status = $3, last_error = $4, finished_at = $5
         WHERE id = $6 AND lease_until_ms = $7",
    )
    .bind(state)
    .bind(next_ms)
    .bind(attempt.status_code.map(i64::from))
    .bind(attempt.error)
    .bind(finished)
    .bind(&claimed.id)
    .bind(claimed.lease_until_ms)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(moved == 1)
}

/// Pending deliveries (the backlog gauge).
pub async fn pending(store: &Store) -> Result<i64, Error> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM webhook_deliveries WHERE state = $1")
            .bind(PENDING)
            .fetch_one(store.pool())
            .await?,
    )
}

/// One delivery as the console lists it.
#[derive(Clone, Debug)]
pub struct Listed {
    /// Row id.
    pub id: String,
    /// Event id.
    pub event_id: String,
    /// Event type.
    pub event_type: String,
    /// Request number.
    pub request_number: String,
    /// Configured URL.
    pub endpoint: String,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    /// Attempts so far.
    pub attempts: i64,
    /// HTTP status of the last answer.
    pub last_status: Option<i64>,
    /// Error class of the last attempt.
    pub last_error: Option<String>,
    /// Next attempt (unix ms), while pending.
    pub next_attempt_ms: i64,
    /// Enqueued (unix seconds).
    pub created_at: i64,
}

/// The newest `limit` deliveries.
pub async fn list(store: &Store, limit: i64) -> Result<Vec<Listed>, Error> {
    let rows = sqlx::query(
        "SELECT id, event_id, event_type, request_number, endpoint, state, attempts,
             last_status, last_error, next_attempt_ms, created_at
         FROM webhook_deliveries ORDER BY created_at DESC, event_id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| Listed {
            id: r.get("id"),
            event_id: r.get("event_id"),
            event_type: r.get("event_type"),
            request_number: r.get("request_number"),
            endpoint: r.get("endpoint"),
            state: r.get("state"),
            attempts: r.get("attempts"),
            last_status: r.get("last_status"),
            last_error: r.get("last_error"),
            next_attempt_ms: r.get("next_attempt_ms"),
            created_at: r.get("created_at"),
        })
        .collect())
}

/// Makes a failed or pending delivery due now with a fresh count of
/// attempts. Returns false when there is no such row, it was delivered, or an
/// attempt holds its lease (that attempt would record its outcome over this).
pub async fn retry_now(conn: &mut db::Connection, id: &str, now_ms: i64) -> Result<bool, Error> {
    let done = sqlx::query(
        "UPDATE webhook_deliveries SET state = $1, attempts = 0, next_attempt_ms = $2,
             finished_at = NULL
         WHERE id = $3 AND state IN ($1, $4)
           AND (lease_until_ms IS NULL OR lease_until_ms < $2)",
    )
    .bind(PENDING)
    .bind(now_ms)
    .bind(id)
    .bind(FAILED)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(done == 1)
}

/// Whether an attempt at delivery `id` holds its lease at `now_ms`.
pub async fn in_flight(conn: &mut db::Connection, id: &str, now_ms: i64) -> Result<bool, Error> {
    let leased: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM webhook_deliveries WHERE id = $1 AND lease_until_ms >= $2",
    )
    .bind(id)
    .bind(now_ms)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(leased.is_some())
}

/// Deletes deliveries delivered before `before` (unix seconds) with their
/// attempt logs, except those of requests on legal hold; returns the
/// deliveries deleted.
pub async fn purge_delivered(conn: &mut db::Connection, before: i64) -> Result<u64, Error> {
    const DONE: &str = "SELECT id FROM webhook_deliveries WHERE state = $1 AND finished_at <= $2
         AND request_number NOT IN (SELECT request_number FROM legal_holds)";
    sqlx::query(&format!(
        "DELETE FROM webhook_attempts WHERE delivery_id IN ({DONE})"
    ))
    .bind(DELIVERED)
    .bind(before)
    .execute(&mut *conn)
    .await?;
    Ok(sqlx::query(&format!(
        "DELETE FROM webhook_deliveries WHERE id IN ({DONE})"
    ))
    .bind(DELIVERED)
    .bind(before)
    .execute(&mut *conn)
    .await?
    .rows_affected())
}
