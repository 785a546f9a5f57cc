//! `recordpass-verifier rotate-key`: re-seals every stored value that is not
//! sealed with the active key (or not sealed at all, if it was written before
//! encryption at rest), and counts which key seals each value ([`census`]:
//! `rotate-key --check`, and the final pass that proves a rotation finished).
//!
//! Each column is read in pages by its primary key with plain reads, outside
//! any write transaction, and only the start of each value (its key id) is
//! read to decide. The values that need it are then read in full, re-sealed in
//! memory, and written in batches of short transactions (on SQLite, on this
//! process's writer's turn), each update a compare-and-set: a value that
//! changed since it was read is left alone, and the column is read again from
//! the start to pick it up. Every batch commits, so an interrupted run resumes
//! when started again. Patient-name index entries are rebuilt under the active
//! key in the same transaction as their document.

use recordpass_request::SignedDocument;
use sqlx::{Row as _, any::AnyRow};
use std::{
    collections::{BTreeMap, HashMap},
    fmt::Write as _,
};

use crate::{
    Error, Store,
    vault::{Field, Vault},
};

/// Where a sealed field lives.
struct Column {
    field: Field,
    table: &'static str,
    /// The table's primary key, which pages are read by.
    key: &'static str,
    /// Whether `key` is an integer (else text).
    int_key: bool,
    /// Column holding the row name bound into the sealed value.
    row: &'static str,
    column: &'static str,
}

impl Column {
    fn of(field: Field) -> Column {
        let (table, key, row, column) = match field {
            Field::Document => (
                "submissions",
                "request_number",
                "request_number",
                "document",
            ),
            Field::ClientIp => (
                "submission_evidence",
                "request_number",
                "request_number",
                "client_ip",
            ),
            Field::UserAgent => (
                "submission_evidence",
                "request_number",
                "request_number",
                "user_agent",
            ),
            Field::RequesterEmail => ("requesters", "id", "id", "email"),
            Field::VerificationEmail => ("email_verifications", "id", "id", "email"),
            Field::CeremonyContext => ("ceremonies", "id", "id", "context"),
            Field::UploadName => ("uploads", "id", "id", "name"),
            Field::UploadContent => ("uploads", "id", "id", "content"),
            Field::HoldReason => ("legal_holds", "request_number", "request_number", "reason"),
            Field::EventText => ("request_events", "id", "request_number", "text"),
        };
        Column {
            field,
            table,
            key,
            int_key: field == Field::EventText,
            row,
            column,
        }
    }

    /// Up to `limit` rows after `after` (from the start if `None`), in key
    /// order: key, row name, and the first `head` characters of the value.
    async fn page(
        &self,
        store: &Store,
        after: Option<&Key>,
        limit: usize,
        head: usize,
    ) -> Result<Vec<Entry>, Error> {
        let sql = format!(
            "SELECT {key} AS k, {row} AS r, substr({col}, 1, {head}) AS h FROM {table}
             WHERE {col} IS NOT NULL {after} ORDER BY {key} LIMIT {limit}",
            key = self.key,
            row = self.row,
            col = self.column,
            table = self.table,
            after = if after.is_some() {
                format!("AND {} > $1", self.key)
            } else {
                String::new()
            },
        );
        let mut query = sqlx::query(&sql);
        if let Some(after) = after {
            query = after.bind(query);
        }
        let rows = query.fetch_all(store.pool()).await?;
        Ok(rows
            .iter()
            .map(|r| Entry {
                key: self.key_of(r),
                row: r.get("r"),
                head: r.get("h"),
            })
            .collect())
    }

    fn key_of(&self, r: &AnyRow) -> Key {
        if self.int_key {
            Key::Int(r.get("k"))
        } else {
            Key::Text(r.get("k"))
        }
    }
}

/// A row's primary key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Int(i64),
    Text(String),
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

impl Key {
    fn bind<'q>(&'q self, query: Query<'q>) -> Query<'q> {
        match self {
            Key::Int(id) => query.bind(*id),
            Key::Text(id) => query.bind(id.as_str()),
        }
    }
}

/// One row as a page reads it.
struct Entry {
    key: Key,
    row: String,
    /// The start of the stored value: enough for its key id.
    head: String,
}

/// Characters of each value a page reads: `rp1:<key id>:` for any key id of
/// up to 250 characters.
const HEAD: usize = 256;
/// Rows per page read.
const PAGE: usize = 1000;
/// Most uploaded files re-sealed per transaction (each up to 10 MiB, held
/// twice while it is re-sealed).
const UPLOAD_BATCH: u32 = 4;
/// Most times one run reads a column again for values that changed under it.
const PASSES: u32 = 3;

/// What one column's rotation did.
#[derive(Debug, PartialEq, Eq)]
pub struct ColumnReport {
    /// `table.column`.
    pub column: &'static str,
    /// Values re-sealed with the active key.
    pub resealed: u64,
    /// Whether the whole column was gone through (else the batch budget ran
    /// out first, and the next run continues).
    pub complete: bool,
}

/// Re-seals the values of `field` not sealed with the active key, up to
/// `batch` per transaction, spending one unit of `budget` (`None`: unlimited)
/// per transaction; stops when the budget is spent.
pub async fn rotate_column(
    store: &Store,
    field: Field,
    batch: u32,
    budget: &mut Option<u32>,
) -> Result<ColumnReport, Error> {
    let column = Column::of(field);
    // Files are up to 10 MiB each: keep a batch's memory bounded.
    let batch = if field == Field::UploadContent {
        batch.min(UPLOAD_BATCH)
    } else {
        batch
    };
    let batch = usize::try_from(batch.max(1)).unwrap_or(usize::MAX);
    let prefix = store.vault().current_prefix();
    let head = HEAD.max(prefix.len());
    let mut report = ColumnReport {
        column: field.column(),
        resealed: 0,
        complete: false,
    };
    for _ in 0..PASSES {
        let mut after = None;
        let mut changed = 0;
        loop {
            let page = column.page(store, after.as_ref(), PAGE, head).await?;
            let full = page.len() == PAGE;
            after = page.last().map(|e| e.key.clone());
            let stale: Vec<Entry> = page
                .into_iter()
                .filter(|e| !e.head.starts_with(&prefix))
                .collect();
            for chunk in stale.chunks(batch) {
                if *budget == Some(0) {
                    return Ok(report);
                }
                *budget = budget.map(|b| b - 1);
                let (resealed, skipped) = rotate_batch(store, &column, chunk).await?;
                report.resealed += resealed;
                changed += skipped;
            }
            if !full {
                break;
            }
        }
        if changed == 0 {
            break;
        }
    }
    // Whatever still changed under every pass is counted by the final check.
    report.complete = true;
    Ok(report)
}

/// A value re-sealed in memory, to be written if it has not changed.
struct Reseal {
    key: Key,
    row: String,
    old: String,
    new: String,
    /// Name-index tokens under the active key (documents only).
    tokens: Option<Vec<String>>,
}

/// Re-seals the values of `entries`: reads them in full and re-seals them
/// (plain reads), then writes them in one short transaction of compare-and-set
/// updates. Returns how many were re-sealed and how many had changed since
/// they were read (left for the next pass).
async fn rotate_batch(store: &Store, c: &Column, entries: &[Entry]) -> Result<(u64, u64), Error> {
    let vault = store.vault();
    let wanted: HashMap<&Key, &Entry> = entries.iter().map(|e| (&e.key, e)).collect();
    // At most a page's worth of placeholders.
    let placeholders: Vec<String> = (1..=entries.len()).map(|i| format!("${i}")).collect();
    let select = format!(
        "SELECT {key} AS k, {col} AS v FROM {table}
         WHERE {key} IN ({list}) AND {col} IS NOT NULL",
        key = c.key,
        col = c.column,
        table = c.table,
        list = placeholders.join(", "),
    );
    let mut query = sqlx::query(&select);
    for e in entries {
        query = e.key.bind(query);
    }
    let rows = query.fetch_all(store.pool()).await?;
    let mut reseals = Vec::with_capacity(entries.len());
    for r in rows {
        let key = c.key_of(&r);
        let Some(entry) = wanted.get(&key) else {
            continue;
        };
        let old: String = r.get("v");
        // Rewritten with the active key since the page was read.
        if vault.is_current(&old) {
            continue;
        }
        let plain = if Vault::is_sealed(&old) {
            vault.open_bytes(c.field, &entry.row, &old)?
        } else {
            old.clone().into_bytes()
        };
        let tokens = if c.field == Field::Document {
            let doc: SignedDocument = serde_json::from_slice(&plain)
                .map_err(|e| Error::Internal(format!("stored document of {}: {e}", entry.row)))?;
            Some(vault.name_tokens(&doc.summary().patient_name))
        } else {
            None
        };
        let new = vault.seal_owned(c.field, &entry.row, plain)?;
        reseals.push(Reseal {
            key,
            row: entry.row.clone(),
            old,
            new,
            tokens,
        });
    }
    if reseals.is_empty() {
        return Ok((0, 0));
    }
    let update = format!(
        "UPDATE {table} SET {col} = $1 WHERE {key} = $2 AND {col} = $3",
        table = c.table,
        col = c.column,
        key = c.key,
    );
    let (mut resealed, mut skipped) = (0, 0);
    let _turn = store.writer_turn().await;
    let mut tx = store.begin().await?;
    for s in &reseals {
        let done = s
            .key
            .bind(sqlx::query(&update).bind(s.new.as_str()))
            .bind(s.old.as_str())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            skipped += 1;
            continue;
        }
        resealed += 1;
        if let Some(tokens) = &s.tokens {
            store.index_name(&mut tx, &s.row, tokens).await?;
        }
    }
    tx.commit().await?;
    Ok((resealed, skipped))
}

/// How the values of one column are sealed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ColumnCensus {
    /// `table.column`.
    pub column: &'static str,
    /// Values per key id (whether or not the key is in the keyring).
    pub by_key: BTreeMap<String, u64>,
    /// Values not sealed at all (stored before encryption at rest).
    pub clear: u64,
}

/// How every stored value is sealed, column by column ([`census`]).
#[derive(Debug, PartialEq, Eq)]
pub struct Census {
    /// One per sealed column, in [`Field::ALL`] order.
    pub columns: Vec<ColumnCensus>,
}

/// Counts, per column, the values sealed with each key id and those not
/// sealed: read-only, in pages outside any write transaction.
pub async fn census(store: &Store) -> Result<Census, Error> {
    let mut columns = Vec::new();
    for field in Field::ALL {
        let column = Column::of(field);
        let mut counts = ColumnCensus {
            column: field.column(),
            ..ColumnCensus::default()
        };
        let mut after = None;
        loop {
            let page = column.page(store, after.as_ref(), PAGE, HEAD).await?;
            for e in &page {
                match Vault::sealed_key_id(&e.head) {
                    Some(id) => *counts.by_key.entry(id.to_owned()).or_default() += 1,
                    // `rp1:` and a key id longer than the head.
                    None if e.head.len() >= HEAD && e.head.starts_with("rp1:") => {
                        *counts.by_key.entry("?".into()).or_default() += 1;
                    }
                    None => counts.clear += 1,
                }
            }
            if page.len() < PAGE {
                break;
            }
            after = page.last().map(|e| e.key.clone());
        }
        columns.push(counts);
    }
    Ok(Census { columns })
}

impl ColumnCensus {
    /// Values not sealed with key `active`.
    pub fn not_sealed_with(&self, active: &str) -> u64 {
        self.clear
            + self
                .by_key
                .iter()
                .filter(|(id, _)| *id != active)
                .map(|(_, n)| n)
                .sum::<u64>()
    }
}

impl Census {
    /// Values sealed with `id`, in all columns.
    pub fn sealed_with(&self, id: &str) -> u64 {
        self.columns.iter().filter_map(|c| c.by_key.get(id)).sum()
    }

    /// Values sealed with keys that are not in `vault`: they cannot be opened.
    pub fn not_in_keyring(&self, vault: &Vault) -> u64 {
        let ids = vault.key_ids();
        self.columns
            .iter()
            .flat_map(|c| &c.by_key)
            .filter(|(id, _)| !ids.contains(&id.as_str()))
            .map(|(_, n)| n)
            .sum()
    }

    /// Values not sealed with key `active`, in all columns.
    pub fn not_sealed_with(&self, active: &str) -> u64 {
        self.columns.iter().map(|c| c.not_sealed_with(active)).sum()
    }

    /// `rotate-key --check`: per column, the values sealed with each key of the
    /// keyring, with keys not in it, and not sealed; then per key whether it
    /// can be removed.
    pub fn report(&self, vault: &Vault) -> String {
        let active = vault.active_id();
        let ids = vault.key_ids();
        let mut out = format!("active key {active}; keyring: {}\n", ids.join(", "));
        for c in &self.columns {
            let mut parts: Vec<String> = ids
                .iter()
                .map(|id| format!("{id} {}", c.by_key.get(*id).copied().unwrap_or(0)))
                .collect();
            for (id, n) in c
                .by_key
                .iter()
                .filter(|(id, _)| !ids.contains(&id.as_str()))
            {
                parts.push(format!("{id} {n} (not in the keyring)"));
            }
            if c.clear > 0 {
                parts.push(format!("not sealed {}", c.clear));
            }
            let _ = writeln!(out, "{}: {}", c.column, parts.join(", "));
        }
        for id in ids.iter().filter(|id| **id != active) {
            let n = self.sealed_with(id);
            if n == 0 {
                let _ = writeln!(
                    out,
                    "key {id}: seals no value; it can be removed from the keyring"
                );
            } else {
                let _ = writeln!(
                    out,
                    "key {id}: seals {}; keep it until rotate-key has re-sealed them",
                    values(n)
                );
            }
        }
        let unknown = self.not_in_keyring(vault);
        if unknown > 0 {
            let _ = writeln!(
                out,
                "{} sealed with keys not in the keyring: they cannot be opened (put the \
                 missing key back)",
                values(unknown)
            );
        }
        out
    }

    /// The final pass of `rotate-key`: per column, the values not sealed with
    /// key `active`, then `done` only if there are none. Returns the text and
    /// how many values are left.
    pub fn final_check(&self, active: &str) -> (String, u64) {
        let mut out = format!("final check, values not sealed with key {active}:\n");
        for c in &self.columns {
            let _ = writeln!(out, "  {}: {}", c.column, c.not_sealed_with(active));
        }
        let left = self.not_sealed_with(active);
        if left == 0 {
            let _ = writeln!(out, "done: every stored value is sealed with key {active}");
        } else {
            let _ = writeln!(
                out,
                "not done: {} not sealed with key {active} (written after their column was \
                 re-sealed, by an instance whose active key is another one?): make sure every \
                 instance seals with {active}, then run rotate-key again",
                values(left)
            );
        }
        (out, left)
    }
}

/// "1 value", "2 values".
fn values(n: u64) -> String {
    if n == 1 {
        "1 value".into()
    } else {
        format!("{n} values")
    }
}
