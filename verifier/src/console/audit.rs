//! The audit trail: append-only (triggers refuse UPDATE and DELETE) and
//! hash-chained, `hash = SHA-256(prev_hash ‖ event)` in hex, where `event` is
//! the RFC 8785 JSON of `{seq, at, actor, action, target, detail}`. Events
//! name requests by number and never carry patient details.
//!
//! The chain has no key: someone who can write the tables (and drops the
//! triggers) can rewrite a row and every hash after it, or cut rows off the
//! end, and the chain alone still adds up. What catches them is an
//! [`Anchor`], a `seq:hash` kept outside the database: the verifier logs the
//! chain's head every purge interval ([`log_head`]), `audit verify` prints it,
//! and `audit verify --anchor` checks the chain against anchors kept elsewhere.

use askama::Template;
use axum::{
    Extension,
    extract::{Query, State},
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use recordpass_request::to_canonical_json;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use sqlx::Row;

use super::{
    pages::{PageError, render},
    session::Staff,
};
use crate::{AppState, Error, Store, db};

/// `prev_hash` of the first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened, for [`append`].
pub struct Event<'a> {
    /// Who: a staff email, `requester`, `cli`, or `retention` (the background purge).
    pub actor: &'a str,
    /// What, e.g. `sign_in`, `view`, `export`, `status_change`, `staff_invite`.
    pub action: &'a str,
    /// What it was done to: a request number or staff email; empty if none.
    pub target: &'a str,
    /// Extra facts (no patient details).
    pub detail: Value,
}

/// A row's position and hash, kept outside the database (`SEQ:HASH`): the
/// chain is rewritten or cut if its row `seq` no longer has that hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anchor {
    /// The row's position.
    pub seq: i64,
    /// Its hash, lower-case hex.
    pub hash: String,
}

impl std::fmt::Display for Anchor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

impl std::str::FromStr for Anchor {
    type Err = String;

    fn from_str(s: &str) -> Result<Anchor, String> {
        let bad = || {
            format!("an anchor is SEQ:HASH (64 hex digits), as `audit verify` prints it; got {s:?}")
        };
        let (seq, hash) = s.trim().split_once(':').ok_or_else(bad)?;
        let seq = seq
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(bad)?;
        let hex = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
        hex.then(|| Anchor {
            seq,
            hash: hash.to_ascii_lowercase(),
        })
        .ok_or_else(bad)
    }
}

fn chain_hash(prev: &str, event: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(event);
    hex::encode(h.finalize())
}

/// Appends `event` at `now` inside the caller's transaction, which holds the
/// log's write lock from here on ([`db::lock_audit_log`]); were two writers to
/// race for the same `seq`, the primary key would stop one, so the chain never forks.
pub async fn append(conn: &mut db::Connection, now: i64, event: Event<'_>) -> Result<(), Error> {
    db::lock_audit_log(conn).await?;
    let last = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut *conn)
        .await?;
    let (seq, prev) = match last {
        Some(r) => (r.get::<i64, _>("seq") + 1, r.get::<String, _>("hash")),
        None => (1, GENESIS.to_owned()),
    };
    let value = json!({
        "seq": seq, "at": now, "actor": event.actor, "action": event.action,
        "target": event.target, "detail": event.detail,
    });
    let bytes = to_canonical_json(&value).map_err(|e| Error::Internal(format!("audit: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| Error::Internal(format!("audit: {e}")))?;
    sqlx::query("INSERT INTO audit_log (seq, prev_hash, event, hash) VALUES ($1, $2, $3, $4)")
        .bind(seq)
        .bind(&prev)
        .bind(&text)
        .bind(chain_hash(&prev, text.as_bytes()))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Appends one event in its own transaction, on the writer's turn
/// ([`crate::store::Store::writer_turn`]).
pub async fn record(state: &AppState, event: Event<'_>) -> Result<(), Error> {
    let _turn = state.store.writer_turn().await;
    let mut tx = state.store.begin().await?;
    append(&mut tx, state.clock.unix(), event).await?;
    tx.commit().await?;
    Ok(())
}

/// Appends one event done from the command line on the server: actor `cli`,
/// with the operating-system user who ran it (`SUDO_USER`, else `USER`) in
/// `detail.os_user`; in its own transaction, on the writer's turn.
pub async fn record_cli(
    store: &Store,
    now: i64,
    action: &str,
    target: &str,
    mut detail: Value,
) -> Result<(), Error> {
    let user = std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_default();
    detail["os_user"] = json!(user.chars().take(64).collect::<String>());
    let _turn = store.writer_turn().await;
    let mut tx = store.begin().await?;
    let event = Event {
        actor: "cli",
        action,
        target,
        detail,
    };
    append(&mut tx, now, event).await?;
    tx.commit().await?;
    Ok(())
}

/// A stored audit row.
#[derive(Clone, Debug)]
pub struct AuditRow {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// Previous row's hash.
    pub prev_hash: String,
    /// Canonical event JSON.
    pub event: String,
    /// This row's hash.
    pub hash: String,
}

/// The outcome of [`verify`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every row links to the one before and hashes correctly.
    Intact {
        /// Rows checked.
        rows: i64,
    },
    /// The first row that does not.
    Broken {
        /// Its `seq`.
        seq: i64,
        /// What is wrong with it.
        reason: String,
    },
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verdict::Intact { rows } => write!(f, "audit chain intact: {rows} events"),
            Verdict::Broken { seq, reason } => {
                write!(f, "AUDIT CHAIN BROKEN at seq {seq}: {reason}")
            }
        }
    }
}

/// Every row, oldest first.
pub async fn rows(state: &AppState) -> Result<Vec<AuditRow>, Error> {
    rows_in(state.store.pool()).await
}

async fn rows_in(pool: &db::Pool) -> Result<Vec<AuditRow>, Error> {
    let rows = sqlx::query("SELECT seq, prev_hash, event, hash FROM audit_log ORDER BY seq")
        .fetch_all(pool)
        .await?;
    Ok(rows
        .iter()
        .map(|r| AuditRow {
            seq: r.get("seq"),
            prev_hash: r.get("prev_hash"),
            event: r.get("event"),
            hash: r.get("hash"),
        })
        .collect())
}

/// Checks the whole chain and names the first broken link.
pub async fn verify(store: &crate::Store) -> Result<Verdict, Error> {
    verify_against(store, &[]).await
}

/// Checks the whole chain, then each of `anchors` against it, and names the
/// first broken link or anchor.
pub async fn verify_against(store: &crate::Store, anchors: &[Anchor]) -> Result<Verdict, Error> {
    let rows = rows_in(store.pool()).await?;
    Ok(match check_chain(&rows) {
        Verdict::Intact { .. } => check_anchors(&rows, anchors),
        broken => broken,
    })
}

/// The chain's last row, `None` while it is empty.
pub async fn head(store: &crate::Store) -> Result<Option<Anchor>, Error> {
    let row = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        .fetch_optional(store.pool())
        .await?;
    Ok(row.map(|r| Anchor {
        seq: r.get("seq"),
        hash: r.get("hash"),
    }))
}

/// Logs the chain's head if it moved since `last` (the background task calls
/// this every purge interval): the log, kept apart from the database, then
/// holds anchors for `audit verify --anchor`. Returns the head.
pub async fn log_head(store: &crate::Store, last: Option<Anchor>) -> Option<Anchor> {
    match head(store).await {
        Ok(Some(head)) if Some(&head) != last.as_ref() => {
            tracing::info!(anchor = %head, "audit chain head");
            Some(head)
        }
        Ok(_) => last,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the audit chain's head");
            last
        }
    }
}

/// Checks intact `rows` (oldest first) against `anchors`.
pub fn check_anchors(rows: &[AuditRow], anchors: &[Anchor]) -> Verdict {
    for anchor in anchors {
        let at = usize::try_from(anchor.seq - 1)
            .ok()
            .and_then(|i| rows.get(i));
        let reason = match at {
            None => "the anchor's row is gone: rows were cut off the end of the chain",
            Some(row) if row.hash != anchor.hash => {
                "the anchor's hash differs: the chain was rewritten up to this row"
            }
            Some(_) => continue,
        };
        return Verdict::Broken {
            seq: anchor.seq,
            reason: format!("{reason} (anchor {anchor})"),
        };
    }
    Verdict::Intact {
        rows: rows.len() as i64,
    }
}

/// Checks rows (oldest first): consecutive `seq`, each `prev_hash` the
/// previous `hash`, each `hash` recomputed, each event's `seq` its own.
pub fn check_chain(rows: &[AuditRow]) -> Verdict {
    let mut prev = GENESIS.to_owned();
    for (i, row) in rows.iter().enumerate() {
        let expected_seq = i as i64 + 1;
        let broken = |reason: &str| Verdict::Broken {
            seq: row.seq,
            reason: reason.to_owned(),
        };
        if row.seq != expected_seq {
            return broken(&format!("expected seq {expected_seq} (a row is missing)"));
        }
        if row.prev_hash != prev {
            return broken("prev_hash is not the previous row's hash");
        }
        if chain_hash(&prev, row.event.as_bytes()) != row.hash {
            return broken("hash does not match the event (the row was changed)");
        }
        let event_seq = serde_json::from_str::<Value>(&row.event)
            .ok()
            .and_then(|v| v["seq"].as_i64());
        if event_seq != Some(row.seq) {
            return broken("event's seq differs from the row's");
        }
        prev = row.hash.clone();
    }
    Verdict::Intact {
        rows: rows.len() as i64,
    }
}

/// One row as the audit page shows it.
pub struct Shown {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    target: String,
    detail: String,
    hash: String,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage<'a> {
    staff: &'a Staff,
    verdict: String,
    intact: bool,
    head: Option<Anchor>,
    rows: Vec<Shown>,
    /// `seq` to ask for the next older page from, if there is one.
    older: Option<i64>,
}

/// Events the audit page shows at once.
pub const PAGE_ROWS: usize = 200;

/// `?before=SEQ`: the page of events older than `SEQ`.
#[derive(serde::Deserialize)]
pub struct PageQuery {
    before: Option<i64>,
}

/// `GET /console/audit`: the state of the whole chain, its head anchor, and
/// [`PAGE_ROWS`] events, newest first (`?before=SEQ` for older ones).
pub async fn page(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Query(query): Query<PageQuery>,
) -> Result<Response, PageError> {
    let all = rows(&state).await?;
    let verdict = check_chain(&all);
    let before = query.before.unwrap_or(i64::MAX);
    let mut newest_first = all.iter().rev().filter(|r| r.seq < before);
    let shown: Vec<&AuditRow> = newest_first.by_ref().take(PAGE_ROWS).collect();
    let older = match newest_first.next() {
        Some(_) => shown.last().map(|r| r.seq),
        None => None,
    };
    let zone = state.config.console_zone();
    let rows = shown
        .into_iter()
        .map(|r| {
            let v: Value = serde_json::from_str(&r.event).unwrap_or(Value::Null);
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
            Shown {
                seq: r.seq,
                at: zone.time_text(v["at"].as_i64().unwrap_or_default()),
                actor: s("actor"),
                action: s("action"),
                target: s("target"),
                detail: v["detail"].to_string(),
                hash: r.hash.chars().take(16).collect(),
            }
        })
        .collect();
    render(&AuditPage {
        staff: &staff,
        intact: matches!(verdict, Verdict::Intact { .. }),
        verdict: verdict.to_string(),
        head: all.last().map(|r| Anchor {
            seq: r.seq,
            hash: r.hash.clone(),
        }),
        rows,
        older,
    })
}

/// `GET /console/audit.jsonl`: the whole chain as JSON Lines, one
/// `{seq, prev_hash, event, hash}` per row with `event` as the exact stored
/// string, so an auditor can recompute every link with any SHA-256 tool
/// (docs/him-guide.md). The export is recorded first, so the file ends with
/// its own entry.
pub async fn export(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
) -> Result<Response, PageError> {
    let event = Event {
        actor: &staff.email,
        action: "export_audit",
        target: "",
        detail: json!({}),
    };
    record(&state, event).await?;
    let mut out = String::new();
    for r in rows(&state).await? {
        let line =
            json!({"seq": r.seq, "prev_hash": r.prev_hash, "event": r.event, "hash": r.hash});
        out.push_str(&line.to_string());
        out.push('\n');
    }
    let mut response = out.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/jsonl; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"recordpass-audit.jsonl\""),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seq: i64, prev: &str, event: &str) -> AuditRow {
        AuditRow {
            seq,
            prev_hash: prev.to_owned(),
            event: event.to_owned(),
            hash: chain_hash(prev, event.as_bytes()),
        }
    }

    #[test]
    fn the_first_changed_row_is_named() {
        let a = row(1, GENESIS, r#"{"seq":1}"#);
        let b = row(2, &a.hash, r#"{"seq":2}"#);
        let c = row(3, &b.hash, r#"{"seq":3}"#);
        let good = vec![a, b, c];
        assert_eq!(check_chain(&good), Verdict::Intact { rows: 3 });
        let mut edited = good.clone();
        edited[1].event = r#"{"seq":2,"x":1}"#.into();
        assert!(matches!(
            check_chain(&edited),
            Verdict::Broken { seq: 2, .. }
        ));
        let mut dropped = good.clone();
        dropped.remove(1);
        assert!(matches!(
            check_chain(&dropped),
            Verdict::Broken { seq: 3, .. }
        ));
    }

    /// Rewritten from row 2 on, or cut after row 2: the chain alone still
    /// adds up, an anchor kept elsewhere does not.
    #[test]
    fn anchors_catch_a_rewritten_or_shortened_chain() {
        let a = row(1, GENESIS, r#"{"seq":1}"#);
        let b = row(2, &a.hash, r#"{"seq":2}"#);
        let c = row(3, &b.hash, r#"{"seq":3}"#);
        let head: Anchor = format!("3:{}", c.hash.to_uppercase())
            .parse()
            .expect("anchor");
        assert_eq!(head.hash, c.hash);
        let good = vec![a.clone(), b, c];
        assert_eq!(
            check_anchors(&good, std::slice::from_ref(&head)),
            Verdict::Intact { rows: 3 }
        );

        let b2 = row(2, &a.hash, r#"{"seq":2,"x":1}"#);
        let c2 = row(3, &b2.hash, r#"{"seq":3}"#);
        let rewritten = vec![a.clone(), b2, c2];
        assert_eq!(check_chain(&rewritten), Verdict::Intact { rows: 3 });
        let verdict = check_anchors(&rewritten, std::slice::from_ref(&head));
        assert!(verdict.to_string().contains("rewritten"), "{verdict}");

        let cut = good[..2].to_vec();
        assert_eq!(check_chain(&cut), Verdict::Intact { rows: 2 });
        let verdict = check_anchors(&cut, &[head]);
        assert!(
            matches!(&verdict, Verdict::Broken { seq: 3, reason } if reason.contains("cut off")),
            "{verdict}"
        );

        for bad in [
            "3",
            "0:ab",
            &format!("x:{}", a.hash),
            &format!("3:{}", &a.hash[1..]),
        ] {
            assert!(bad.parse::<Anchor>().is_err(), "{bad}");
        }
    }
}
