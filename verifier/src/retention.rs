//! Retention: what the verifier deletes, and when.
//!
//! - **Transient state** (expired passkey ceremonies, email codes, staff sessions and
//!   enrolment links, old rate-limit events) is purged by a background task while the
//!   verifier serves, every `[retention] purge_interval_secs`.
//! - **Unclaimed uploads** (proof-of-authority files no signed request named) go with
//!   the transient state once they expire ([`crate::uploads::UPLOAD_TTL_SECS`]).
//! - **Signed requests** are kept for `[retention] signed_request_days` (default six
//!   years) after they were closed (fulfilled, denied or withdrawn), and only then removed, with their evidence, timeline and
//!   index entries and uploaded files, by `recordpass-verifier purge` (`--dry-run` shows what would go):
//!   destroying records is an operator's decision (legal holds), never automatic.
//!   Requests still open are never purged. A requester all of whose signed requests
//!   are purged goes too, with their passkeys and sessions (data minimisation).
//! - **Requesters who never signed** go with the transient state, with their
//!   passkeys, once `[retention] unsigned_requester_days` have passed since their
//!   latest activity (requester row, email confirmation, passkey created or last
//!   used): an identity held for no request (data minimisation). One with a
//!   session or a signing ceremony still in flight stays (the expired ones are
//!   purged first, in the same transaction); uploads and email codes name no
//!   requester. Each run that removes some appends a `purge` event with the
//!   count to the audit trail. Someone removed this way who comes back simply
//!   registers again.
//! - **Delivered webhooks** (with their attempt logs) go with the transient state
//!   `[webhook_delivery] keep_delivered_days` after delivery; failed ones stay for
//!   an admin to see and retry, until their request is purged.
//! - **The audit trail** is never purged: it is hash-chained and append-only.

use serde_json::json;

use crate::{Error, Store, config::Config, console::audit, vault::Field};

/// Rows that a purge deletes (or would delete), per table.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// `(table, rows)`, in deletion order.
    pub tables: Vec<(&'static str, u64)>,
}

impl Report {
    /// Total rows.
    pub fn total(&self) -> u64 {
        self.tables.iter().map(|(_, n)| n).sum()
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (table, rows) in &self.tables {
            writeln!(f, "{table}: {rows}")?;
        }
        Ok(())
    }
}

/// One kind of row to delete: `scope` is a `WHERE` condition on `table` with
/// `$1` the cut-off time.
struct Rule {
    table: &'static str,
    scope: &'static str,
}

/// Signed requests closed before `$1`. Retention counts from the closing
/// (the disclosure or denial, the last change of `request_state`), not from
/// receipt: a request answered months after it arrived keeps its accounting of
/// disclosures for the full period after the answer.
const EXPIRED_REQUESTS: &str = "SELECT s.request_number FROM submissions s
     JOIN request_state r ON r.request_number = s.request_number
     WHERE r.updated_at <= $1 AND r.status IN ('fulfilled', 'denied', 'withdrawn')
     ORDER BY s.request_number";

/// What hangs off a signed request, children first so foreign keys hold
/// (webhook attempts go with their deliveries, `ON DELETE CASCADE`).
const SIGNED_REQUEST_TABLES: [&str; 8] = [
    "signing_answers",
    "webhook_deliveries",
    "uploads",
    "patient_name_tokens",
    "submission_evidence",
    "request_events",
    "request_state",
    "submissions",
];

/// Transient state, each with its own cut-off expression of `$1` (now).
const TRANSIENT: [(Rule, Cutoff); 9] = [
    (
        Rule {
            table: "ceremonies",
            scope: "expires_at <= $1",
        },
        Cutoff::Now,
    ),
    (
        Rule {
            table: "signing_answers",
            scope: "expires_at <= $1",
        },
        Cutoff::Now,
    ),
    (
        Rule {
            table: "staff_ceremonies",
            scope: "expires_at <= $1",
        },
        Cutoff::Now,
    ),
    (
        Rule {
            table: "email_verifications",
            scope: "expires_at <= $1 AND (token_expires_at IS NULL OR token_expires_at <= $1)",
        },
        Cutoff::Now,
    ),
    (
        Rule {
            table: "uploads",
            scope: "request_number IS NULL AND expires_at <= $1",
        },
        Cutoff::Now,
    ),
    (
        Rule {
            table: "staff_invites",
            scope: "expires_at <= $1",
        },
        Cutoff::Now,
    ),
    (
        Rule {
            table: "staff_sessions",
            scope: "last_seen_at <= $1",
        },
        Cutoff::SessionIdle,
    ),
    (
        Rule {
            table: "requester_sessions",
            scope: "last_seen_at <= $1",
        },
        Cutoff::RequesterIdle,
    ),
    (
        Rule {
            table: "rate_limit_events",
            scope: "at <= $1",
        },
        Cutoff::RateLimitWindow,
    ),
];

/// How far before now a transient rule's cut-off lies.
#[derive(Clone, Copy)]
enum Cutoff {
    Now,
    SessionIdle,
    RequesterIdle,
    RateLimitWindow,
}

impl Cutoff {
    fn at(self, config: &Config, now: i64) -> i64 {
        let secs = match self {
            Cutoff::Now => 0,
            Cutoff::SessionIdle => config.console.idle_timeout_secs,
            Cutoff::RequesterIdle => crate::returning::session::IDLE_TIMEOUT_SECS.unsigned_abs(),
            Cutoff::RateLimitWindow => crate::limits::longest_window_secs(&config.limits),
        };
        now - i64::try_from(secs).unwrap_or(i64::MAX / 2)
    }
}

/// Deletes expired transient state in one transaction (the background task).
pub async fn purge_transient(store: &Store, config: &Config, now: i64) -> Result<Report, Error> {
    let mut tx = store.begin().await?;
    let mut report = Report::default();
    for (rule, cutoff) in &TRANSIENT {
        let sql = format!("DELETE FROM {} WHERE {}", rule.table, rule.scope);
        let done = sqlx::query(&sql)
            .bind(cutoff.at(config, now))
            .execute(&mut *tx)
            .await?;
        report.tables.push((rule.table, done.rows_affected()));
    }
    let keep = i64::from(config.webhook_delivery.keep_delivered_days) * 24 * 60 * 60;
    let delivered = crate::webhooks::outbox::purge_delivered(&mut tx, now - keep).await?;
    report.tables.push(("webhook_deliveries", delivered));
    purge_unsigned_requesters(store, &mut tx, config, now, &mut report).await?;
    tx.commit().await?;
    Ok(report)
}

/// Requesters who never signed a request, hold no session, and whose
/// requester row, email verification and every passkey (created, last used)
/// date from `$1` or before.
const UNSIGNED_REQUESTERS: &str = "SELECT r.id FROM requesters r
     WHERE r.created_at <= $1 AND COALESCE(r.email_verified_at, 0) <= $1
       AND NOT EXISTS (SELECT 1 FROM submissions s WHERE s.requester_id = r.id)
       AND NOT EXISTS (SELECT 1 FROM requester_sessions x WHERE x.requester_id = r.id)
       AND NOT EXISTS (SELECT 1 FROM passkeys p WHERE p.requester_id = r.id
                       AND (p.created_at > $1 OR COALESCE(p.last_used_at, 0) > $1))
     ORDER BY r.id";

/// Deletes, with their passkeys, the requesters idle for
/// `[retention] unsigned_requester_days` who never signed
/// ([`UNSIGNED_REQUESTERS`]) and have no signing ceremony in flight; audits
/// how many (a count, nothing that identifies them). Runs after the expired
/// sessions and ceremonies are gone, in the same transaction.
async fn purge_unsigned_requesters(
    store: &Store,
    tx: &mut crate::db::Transaction,
    config: &Config,
    now: i64,
    report: &mut Report,
) -> Result<(), Error> {
    let days = i64::from(config.retention.unsigned_requester_days);
    let before = now - days * 24 * 60 * 60;
    let mut idle: Vec<String> = sqlx::query_scalar(UNSIGNED_REQUESTERS)
        .bind(before)
        .fetch_all(&mut **tx)
        .await?;
    if !idle.is_empty() {
        match signing_now(store, tx).await? {
            Some(signing) => idle.retain(|id| !signing.contains(id)),
            None => idle.clear(),
        }
    }
    let purged = purge_requesters(tx, &idle, false, report).await?;
    if purged > 0 {
        let event = audit::Event {
            actor: "retention",
            action: "purge",
            target: "requesters",
            detail: json!({
                "unsigned_requesters": purged,
                "inactive_before": before,
                "unsigned_requester_days": days,
            }),
        };
        audit::append(tx, now, event).await?;
    }
    Ok(())
}

/// Who a signing ceremony is for (the one field of its sealed context this
/// module needs; the rest is `crate::signing`'s).
#[derive(serde::Deserialize)]
struct Signer {
    requester_id: String,
}

/// The requesters with a signing ceremony still in flight (expired ones are
/// already purged), or `None` if a ceremony's context cannot be read: the
/// requester purge then waits for the next run rather than guess.
async fn signing_now(
    store: &Store,
    tx: &mut crate::db::Transaction,
) -> Result<Option<std::collections::BTreeSet<String>>, Error> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT id, context FROM ceremonies WHERE kind = 'signing'")
            .fetch_all(&mut **tx)
            .await?;
    let mut signing = std::collections::BTreeSet::new();
    for (id, sealed) in rows {
        let signer = store
            .vault()
            .open(Field::CeremonyContext, &id, &sealed)
            .and_then(|context| crate::passkeys::from_json::<Signer>(&context));
        match signer {
            Ok(signer) => signing.insert(signer.requester_id),
            Err(e) => {
                tracing::warn!(error = %e, "signing ceremony unreadable: requester purge skipped");
                return Ok(None);
            }
        };
    }
    Ok(Some(signing))
}

/// Signed requests received before `now - signed_request_days` and closed:
/// counted (`dry_run`) or deleted with everything that hangs off them, in one
/// transaction that also appends a `purge` event to the audit trail.
pub async fn purge_signed(
    store: &Store,
    config: &Config,
    now: i64,
    dry_run: bool,
) -> Result<Report, Error> {
    let days = i64::from(config.retention.signed_request_days);
    let before = now - days * 24 * 60 * 60;
    let mut tx = store.begin().await?;
    let numbers: Vec<String> = sqlx::query_scalar(EXPIRED_REQUESTS)
        .bind(before)
        .fetch_all(&mut *tx)
        .await?;
    let requesters = left_without_requests(&mut tx, &numbers).await?;
    let mut report = Report::default();
    for table in SIGNED_REQUEST_TABLES {
        let verb = if dry_run { "SELECT COUNT(*)" } else { "DELETE" };
        let sql = format!("{verb} FROM {table} WHERE request_number = $1");
        let mut rows = 0;
        for number in &numbers {
            rows += if dry_run {
                let n: i64 = sqlx::query_scalar(&sql)
                    .bind(number)
                    .fetch_one(&mut *tx)
                    .await?;
                u64::try_from(n).unwrap_or(0)
            } else {
                sqlx::query(&sql)
                    .bind(number)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
            };
        }
        report.tables.push((table, rows));
    }
    purge_requesters(&mut tx, &requesters, dry_run, &mut report).await?;
    if dry_run {
        return Ok(report);
    }
    let purged = numbers.len();
    if purged > 0 {
        let event = audit::Event {
            actor: "cli",
            action: "purge",
            target: "submissions",
            detail: json!({
                "submissions": purged,
                "requesters": requesters.len(),
                "received_before": before,
                "retention_days": days,
            }),
        };
        audit::append(&mut tx, now, event).await?;
    }
    tx.commit().await?;
    Ok(report)
}

/// What identifies a requester, children first: their sessions, passkeys and
/// the requester row itself (with the sealed email address).
const REQUESTER_TABLES: [(&str, &str); 3] = [
    ("requester_sessions", "requester_id"),
    ("passkeys", "requester_id"),
    ("requesters", "id"),
];

/// The requesters every one of whose signed requests is among `numbers`
/// (about to be purged): nothing of theirs will be left to show them or to
/// sign in for. Requesters who never signed (still mid-way through their first
/// request) are not among them.
async fn left_without_requests(
    tx: &mut crate::db::Transaction,
    numbers: &[String],
) -> Result<Vec<String>, Error> {
    let purged: std::collections::BTreeSet<&str> = numbers.iter().map(String::as_str).collect();
    let mut candidates = std::collections::BTreeSet::new();
    for number in numbers {
        let owner: Option<String> =
            sqlx::query_scalar("SELECT requester_id FROM submissions WHERE request_number = $1")
                .bind(number)
                .fetch_optional(&mut **tx)
                .await?;
        candidates.extend(owner);
    }
    let mut gone = Vec::new();
    for requester in candidates {
        let theirs: Vec<String> =
            sqlx::query_scalar("SELECT request_number FROM submissions WHERE requester_id = $1")
                .bind(&requester)
                .fetch_all(&mut **tx)
                .await?;
        if theirs.iter().all(|n| purged.contains(n.as_str())) {
            gone.push(requester);
        }
    }
    Ok(gone)
}

/// Deletes (or counts, if `dry_run`) the sessions, passkeys and rows of the
/// requesters `gone` into `report`; returns the requester rows.
async fn purge_requesters(
    tx: &mut crate::db::Transaction,
    gone: &[String],
    dry_run: bool,
    report: &mut Report,
) -> Result<u64, Error> {
    let mut requesters = 0;
    for (table, column) in REQUESTER_TABLES {
        let verb = if dry_run { "SELECT COUNT(*)" } else { "DELETE" };
        let sql = format!("{verb} FROM {table} WHERE {column} = $1");
        let mut rows = 0;
        for requester in gone {
            rows += if dry_run {
                let n: i64 = sqlx::query_scalar(&sql)
                    .bind(requester)
                    .fetch_one(&mut **tx)
                    .await?;
                u64::try_from(n).unwrap_or(0)
            } else {
                sqlx::query(&sql)
                    .bind(requester)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected()
            };
        }
        report.tables.push((table, rows));
        requesters = rows; // `requesters` comes last
    }
    Ok(requesters)
}

/// Runs [`purge_transient`] every `[retention] purge_interval_secs` until the
/// process ends; failures are logged and retried at the next tick. Each tick
/// also logs the audit chain's head when it moved ([`audit::log_head`]).
pub async fn run_background(state: crate::AppState) {
    let every = std::time::Duration::from_secs(state.config.retention.purge_interval_secs.max(1));
    let mut ticks = tokio::time::interval(every);
    let mut head = None;
    loop {
        ticks.tick().await;
        head = audit::log_head(&state.store, head).await;
        match purge_transient(&state.store, &state.config, state.clock.unix()).await {
            Ok(report) if report.total() > 0 => {
                tracing::info!(rows = report.total(), "purged expired transient state");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "purge of expired transient state failed"),
        }
    }
}
