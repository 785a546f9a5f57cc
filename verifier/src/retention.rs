//! Retention: what the verifier deletes, and when.
//!
//! - **Transient state** (expired passkey ceremonies, email codes, staff sessions and
//!   enrolment links, old rate-limit events) is purged by a background task while the
//!   verifier serves, every `[retention] purge_interval_secs`.
//! - **Unclaimed uploads** (proof-of-authority files no signed request named) go with
//!   the transient state once they expire ([`crate::uploads::UPLOAD_TTL_SECS`]).
//! - **Signed requests** are kept for `[retention] signed_request_days` (default and
//!   minimum six years, [`crate::config::SIX_YEARS_DAYS`]) after they were closed
//!   (fulfilled, denied or withdrawn), and an authorization also that long after it
//!   expired (the date it was last in effect, 45 CFR 164.530(j)(2)); only then are
//!   they removed, with their evidence, timeline and index entries and uploaded files,
//!   by `recordpass-verifier purge` (`--dry-run` lists what would go):
//!   destroying records is an operator's decision, never automatic, and a request on
//!   legal hold ([`crate::holds`]) is never purged.
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
//!   `[webhook_delivery] keep_delivered_days` after delivery, unless their request is
//!   on legal hold; failed ones stay for an admin to see and retry, until their
//!   request is purged.
//! - **The audit trail** is never purged: it is hash-chained and append-only.

use serde_json::json;

use crate::{Error, Store, config::Config, console::audit, db, vault::Field};

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

/// Why a closed request past `[retention] signed_request_days` is not purged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kept {
    /// A legal hold is in force ([`crate::holds`]).
    LegalHold,
    /// It is (or holds) an authorization, kept six years from the date it was
    /// last in effect, its expiration (45 CFR 164.508, 164.530(j)(2)): purged
    /// from `purgeable_from` (unix seconds) on.
    AuthorizationInEffect {
        /// The signed expiration date.
        expires_on: String,
        /// When retention, counted from the expiration, has passed.
        purgeable_from: i64,
    },
    /// The stored document cannot be read, so its expiration is unknown: kept
    /// (and logged) rather than guessed.
    Unreadable(&'static str),
}

impl std::fmt::Display for Kept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Kept::LegalHold => write!(f, "legal hold"),
            Kept::AuthorizationInEffect {
                expires_on,
                purgeable_from,
            } => write!(
                f,
                "authorization expiring {expires_on}, kept until {}",
                crate::clock::rfc3339(*purgeable_from)
                    .map(|t| t[..10].to_owned())
                    .unwrap_or_else(|| purgeable_from.to_string())
            ),
            Kept::Unreadable(why) => write!(f, "document unreadable: {why}"),
        }
    }
}

/// What [`purge_signed`] did (or, on a dry run, would do).
#[derive(Debug, Default)]
pub struct SignedPurge {
    /// Only counted and listed; nothing deleted.
    pub dry_run: bool,
    /// The request numbers purged (or that would be), in order.
    pub purged: Vec<String>,
    /// Closed requests past retention counted from closing, kept, and why.
    pub kept: Vec<(String, Kept)>,
    /// Rows per table.
    pub report: Report,
}

impl std::fmt::Display for SignedPurge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let verb = if self.dry_run {
            "would purge"
        } else {
            "purged"
        };
        for number in &self.purged {
            writeln!(f, "{verb}: {number}")?;
        }
        for (number, why) in &self.kept {
            writeln!(f, "keep: {number} ({why})")?;
        }
        write!(f, "{}", self.report)
    }
}

/// The start of the day after `expires_on` (`YYYY-MM-DD`, UTC), the end of
/// the last day an authorization was in effect, in unix seconds.
fn end_of_day(expires_on: &str) -> Result<i64, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let day = time::Date::parse(expires_on, format)
        .map_err(|e| format!("expiration {expires_on:?}: {e}"))?;
    let next = day.next_day().ok_or("expiration out of range")?;
    Ok(next.midnight().assume_utc().unix_timestamp())
}

/// When the retention period of a request closed at `closed_at` starts:
/// the closing, or for an authorization (the main instrument, or the separate
/// one for psychotherapy notes) the end of its expiration day if that is
/// later: 164.530(j)(2) counts six years "from the date of its creation or
/// the date when it last was in effect, whichever is later". The model has
/// no revocation (a withdrawn request is not taken as one), so an
/// authorization counts as in effect until it expires.
fn retention_starts(
    request: &recordpass_request::RecordsRequest,
    closed_at: i64,
) -> Result<i64, String> {
    if !request.needs_authorization_terms() {
        return Ok(closed_at);
    }
    Ok(end_of_day(&request.authorization.expires_on)?.max(closed_at))
}

/// Closed requests whose closing is at or before `$1`, with their closing
/// time, sealed document and any legal hold. Retention counts from the
/// closing (the disclosure or denial, the last change of `request_state`),
/// not from receipt: a request answered months after it arrived keeps its
/// accounting of disclosures for the full period after the answer.
const CLOSED_BEFORE: &str = "SELECT s.request_number, s.document, r.updated_at,
         h.request_number AS held
     FROM submissions s
     JOIN request_state r ON r.request_number = s.request_number
     LEFT JOIN legal_holds h ON h.request_number = s.request_number
     WHERE r.updated_at <= $1 AND r.status IN ('fulfilled', 'denied', 'withdrawn')
     ORDER BY s.request_number";

/// Sorts the requests closed at or before `before` into those to purge (their
/// retention, counted from [`retention_starts`], is past) and those kept.
async fn plan(
    store: &Store,
    tx: &mut crate::db::Transaction,
    before: i64,
    retention_secs: i64,
) -> Result<(Vec<String>, Vec<(String, Kept)>), Error> {
    use sqlx::Row as _;
    let rows = sqlx::query(CLOSED_BEFORE)
        .bind(before)
        .fetch_all(&mut **tx)
        .await?;
    let (mut purge, mut kept) = (Vec::new(), Vec::new());
    for row in rows {
        let number: String = row.get("request_number");
        if row.get::<Option<String>, _>("held").is_some() {
            kept.push((number, Kept::LegalHold));
            continue;
        }
        // Only fixed reasons: a parse error could quote the document.
        let starts = store
            .vault()
            .open(Field::Document, &number, row.get("document"))
            .map_err(|_| "it does not open with this keyring")
            .and_then(|text| {
                serde_json::from_str::<recordpass_request::SignedDocument>(&text)
                    .map_err(|_| "not a signed document this version reads")
            })
            .and_then(|doc| {
                retention_starts(&doc.request, row.get("updated_at"))
                    .map(|at| (at, doc.request.authorization.expires_on))
                    .map_err(|_| "its expiration date does not parse")
            });
        match starts {
            Ok((at, _)) if at <= before => purge.push(number),
            Ok((at, expires_on)) => kept.push((
                number,
                Kept::AuthorizationInEffect {
                    expires_on,
                    purgeable_from: at + retention_secs,
                },
            )),
            Err(why) => {
                tracing::warn!(request = %number, error = %why, "kept by purge: document unreadable");
                kept.push((number, Kept::Unreadable(why)));
            }
        }
    }
    Ok((purge, kept))
}

/// Signed requests closed (fulfilled, denied or withdrawn) more than
/// `signed_request_days` ago, and for an authorization also expired that
/// long ago, unless on legal hold: listed and counted (`dry_run`) or deleted
/// with everything that hangs off them, in one transaction that also appends
/// a `purge` event to the audit trail.
pub async fn purge_signed(
    store: &Store,
    config: &Config,
    now: i64,
    dry_run: bool,
) -> Result<SignedPurge, Error> {
    let days = i64::from(config.retention.signed_request_days);
    let retention_secs = days * 24 * 60 * 60;
    let before = now - retention_secs;
    let mut tx = store.begin().await?;
    // The audit log's lock first, as placing a hold takes it: a hold placed
    // meanwhile is either in the plan or waits for the purge, never a
    // deadlock or a foreign-key failure halfway (PostgreSQL).
    db::lock_audit_log(&mut tx).await?;
    let (numbers, kept) = plan(store, &mut tx, before, retention_secs).await?;
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
    let done = SignedPurge {
        dry_run,
        purged: numbers,
        kept,
        report,
    };
    if dry_run {
        return Ok(done);
    }
    if !done.purged.is_empty() {
        let count = |f: fn(&Kept) -> bool| done.kept.iter().filter(|(_, k)| f(k)).count();
        // Retention counts from the closing: `closed_before`. Events written
        // before this name said `received_before`; they stay as they are (the
        // chain hashes them).
        let event = audit::Event {
            actor: "cli",
            action: "purge",
            target: "submissions",
            detail: json!({
                "submissions": done.purged.len(),
                "request_numbers": done.purged,
                "requesters": requesters.len(),
                "closed_before": before,
                "retention_days": days,
                "kept_on_legal_hold": count(|k| *k == Kept::LegalHold),
                "kept_authorizations_in_effect":
                    count(|k| matches!(k, Kept::AuthorizationInEffect { .. })),
                "kept_unreadable": count(|k| matches!(k, Kept::Unreadable(_))),
            }),
        };
        audit::append(&mut tx, now, event).await?;
    }
    tx.commit().await?;
    Ok(done)
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

#[cfg(test)]
mod tests {
    use super::{end_of_day, retention_starts};
    use recordpass_request::{SensitiveCategory, examples};

    const DAY: i64 = 24 * 60 * 60;

    #[test]
    fn an_authorization_counts_from_its_expiry_if_that_is_later_than_its_closing() {
        let expires = end_of_day("2027-11-26").expect("date");
        assert_eq!(expires, 1_827_273_600, "2027-11-27T00:00:00Z");
        let mut auth = examples::representative_authorization();
        auth.authorization.expires_on = "2027-11-26".into();
        assert_eq!(retention_starts(&auth, expires - 400 * DAY), Ok(expires));
        // Closed after it expired: the closing is later.
        assert_eq!(retention_starts(&auth, expires + DAY), Ok(expires + DAY));
        // A request for one's own records (no authorization) counts from closing,
        // unless it asks for psychotherapy notes, which need their own authorization.
        let mut access = examples::self_access();
        access.authorization.expires_on = "2099-01-01".into();
        assert_eq!(retention_starts(&access, 5), Ok(5));
        access.scope.sensitive = vec![SensitiveCategory::PsychotherapyNotes];
        assert!(retention_starts(&access, 5).expect("dated") > expires);
        // No readable expiration: no guess.
        auth.authorization.expires_on = "soon".into();
        assert!(retention_starts(&auth, 5).is_err());
    }
}
