//! Legal holds: a records manager keeps a signed request from every purge
//! while litigation, an audit or an investigation may need it
//! (`recordpass-verifier hold add NUMBER --reason TEXT`, `hold remove NUMBER`,
//! `hold list`, or an admin on the console's request page,
//! [`crate::console::legal_hold`]; both call [`place`] and [`lift`]). A held
//! request stays with everything that hangs off it (evidence, timeline,
//! files, webhook deliveries) and so does its requester;
//! [`crate::retention`] skips it, and the foreign key from `legal_holds` to
//! `submissions` refuses to delete it should a purge ever miss the hold.
//!
//! The reason is sealed (a matter reference may name people) and kept only
//! while the hold is; placing and lifting are audited with the request number,
//! who and when, never the reason.

use serde_json::json;
use sqlx::Row as _;

use crate::{Error, Store, console::audit, db, vault::Field};

/// Longest reason, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// One legal hold in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hold {
    /// The held request.
    pub request_number: String,
    /// Why, as the records manager wrote it (matter or case reference).
    pub reason: String,
    /// Who placed it: `cli`, or a staff email.
    pub placed_by: String,
    /// When (unix seconds).
    pub placed_at: i64,
}

/// The reason as stored: runs of whitespace (line breaks too) become one
/// space. Refused when empty, longer than [`MAX_REASON_CHARS`] or holding
/// control characters; [`place`] checks it, and the console calls it to put
/// the message next to the reason field.
pub fn reason(text: &str) -> Result<String, Error> {
    let reason = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if reason.is_empty() {
        return Err(refused(
            "a legal hold needs a reason (a matter or case reference)",
        ));
    }
    let chars = reason.chars().count();
    if chars > MAX_REASON_CHARS {
        return Err(refused(&format!(
            "the reason is longer than {MAX_REASON_CHARS} characters (it has {chars})"
        )));
    }
    if reason.chars().any(char::is_control) {
        return Err(refused(
            "the reason must be plain text (no control characters)",
        ));
    }
    Ok(reason)
}

/// Places a hold on signed request `number` for `actor` (`cli` or a staff
/// email), audited as `legal_hold_placed`. Refused, changing nothing, for a
/// bad [`reason`], a request that does not exist (or was purged) and one
/// already on hold.
pub async fn place(
    store: &Store,
    now: i64,
    actor: &str,
    number: &str,
    reason: &str,
) -> Result<Hold, Error> {
    let reason = self::reason(reason)?;
    let mut tx = store.begin().await?;
    // Two people placing (or lifting) at once are serialised: the second sees
    // the first's hold (on SQLite `BEGIN IMMEDIATE` already does this).
    db::lock_audit_log(&mut tx).await?;
    let exists: Option<String> =
        sqlx::query_scalar("SELECT request_number FROM submissions WHERE request_number = $1")
            .bind(number)
            .fetch_optional(&mut *tx)
            .await?;
    if exists.is_none() {
        return Err(refused(&format!("there is no signed request {number}")));
    }
    if let Some(held) = find(store, &mut tx, number).await? {
        return Err(refused(&format!(
            "{number} is already on legal hold (placed by {} at {})",
            held.placed_by,
            crate::clock::rfc3339(held.placed_at).unwrap_or_default()
        )));
    }
    sqlx::query(
        "INSERT INTO legal_holds (request_number, reason, placed_by, placed_at)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(number)
    .bind(store.vault().seal(Field::HoldReason, number, &reason)?)
    .bind(actor)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let event = audit::Event {
        actor,
        action: "legal_hold_placed",
        target: number,
        detail: json!({}),
    };
    audit::append(&mut tx, now, event).await?;
    tx.commit().await?;
    Ok(Hold {
        request_number: number.to_owned(),
        reason,
        placed_by: actor.to_owned(),
        placed_at: now,
    })
}

/// Lifts the hold on `number` (the request is again purged once its retention
/// has passed), audited as `legal_hold_lifted`; returns the hold lifted.
/// Refused, changing nothing, if `number` is not on hold.
pub async fn lift(store: &Store, now: i64, actor: &str, number: &str) -> Result<Hold, Error> {
    let mut tx = store.begin().await?;
    db::lock_audit_log(&mut tx).await?;
    let Some(held) = find(store, &mut tx, number).await? else {
        return Err(refused(&format!("{number} is not on legal hold")));
    };
    sqlx::query("DELETE FROM legal_holds WHERE request_number = $1")
        .bind(number)
        .execute(&mut *tx)
        .await?;
    let event = audit::Event {
        actor,
        action: "legal_hold_lifted",
        target: number,
        detail: json!({"placed_by": held.placed_by, "placed_at": held.placed_at}),
    };
    audit::append(&mut tx, now, event).await?;
    tx.commit().await?;
    Ok(held)
}

/// Every hold in force, oldest first.
pub async fn list(store: &Store) -> Result<Vec<Hold>, Error> {
    let rows = sqlx::query(&format!("{SELECT_HOLD} ORDER BY placed_at, request_number"))
        .fetch_all(store.pool())
        .await?;
    rows.iter().map(|r| from_row(store, r)).collect()
}

/// The numbers of the requests on hold (for the queue's flag).
pub async fn numbers(store: &Store) -> Result<std::collections::HashSet<String>, Error> {
    let numbers: Vec<String> = sqlx::query_scalar("SELECT request_number FROM legal_holds")
        .fetch_all(store.pool())
        .await?;
    Ok(numbers.into_iter().collect())
}

/// The hold on `number`, if there is one.
pub async fn of(store: &Store, number: &str) -> Result<Option<Hold>, Error> {
    let mut conn = store.pool().acquire().await?;
    find(store, &mut conn, number).await
}

const SELECT_HOLD: &str = "SELECT request_number, reason, placed_by, placed_at FROM legal_holds";

async fn find(
    store: &Store,
    conn: &mut db::Connection,
    number: &str,
) -> Result<Option<Hold>, Error> {
    let row = sqlx::query(&format!("{SELECT_HOLD} WHERE request_number = $1"))
        .bind(number)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(|r| from_row(store, r)).transpose()
}

fn from_row(store: &Store, r: &sqlx::any::AnyRow) -> Result<Hold, Error> {
    let request_number: String = r.get("request_number");
    let reason = store
        .vault()
        .open(Field::HoldReason, &request_number, r.get("reason"))?;
    Ok(Hold {
        reason,
        placed_by: r.get("placed_by"),
        placed_at: r.get("placed_at"),
        request_number,
    })
}

/// A hold command that cannot be carried out (bad input; nothing changed).
fn refused(why: &str) -> Error {
    Error::InvalidTransition(why.to_owned())
}

#[cfg(test)]
mod tests {
    use super::{MAX_REASON_CHARS, reason};

    #[test]
    fn a_reason_is_squeezed_and_refused_when_empty_too_long_or_not_plain_text() {
        assert_eq!(
            reason("  Chen v. Riverside,\r\n\tmatter 2026-114 ").ok(),
            Some("Chen v. Riverside, matter 2026-114".to_owned())
        );
        let longest = "é".repeat(MAX_REASON_CHARS);
        assert_eq!(reason(&longest).ok(), Some(longest.clone()));
        let refusal = |text: &str| reason(text).err().map(|e| e.to_string());
        assert!(refusal(" \n ").is_some_and(|e| e.contains("needs a reason")));
        assert!(
            refusal(&format!("{longest}x"))
                .is_some_and(|e| e.contains("longer than 500 characters (it has 501)"))
        );
        assert!(refusal("matter\u{0}1").is_some_and(|e| e.contains("plain text")));
    }
}
