//! `recordpass-verifier rotate-key`: re-seals every stored value that is not
//! sealed with the active key (or not sealed at all, if it was written before
//! encryption at rest), in batches that each commit, so an interrupted run
//! resumes where it stopped when started again. Patient-name index entries are
//! rebuilt under the active key in the same transaction as their document.

use recordpass_request::SignedDocument;
use sqlx::Row as _;

use crate::{
    Error, Store,
    vault::{Field, Vault},
};

/// Where a sealed field lives.
struct Column {
    field: Field,
    table: &'static str,
    /// Expression that identifies one row, as text.
    key: &'static str,
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
            Field::EventText => (
                "request_events",
                "CAST(id AS TEXT)",
                "request_number",
                "text",
            ),
        };
        Column {
            field,
            table,
            key,
            row,
            column,
        }
    }
}

/// Most uploaded files re-sealed per transaction.
const UPLOAD_BATCH: u32 = 8;

/// What one column's rotation did.
#[derive(Debug, PartialEq, Eq)]
pub struct ColumnReport {
    /// `table.column`.
    pub column: &'static str,
    /// Values re-sealed with the active key.
    pub resealed: u64,
}

/// Re-seals up to `batch` values per transaction, for at most `max_batches`
/// batches in all (`None`: until done). Returns what was done per column and
/// whether anything is left.
pub async fn rotate(
    store: &Store,
    batch: u32,
    max_batches: Option<u32>,
) -> Result<(Vec<ColumnReport>, bool), Error> {
    let vault = store.vault();
    let mut budget = max_batches;
    let mut reports = Vec::new();
    for field in Field::ALL {
        let column = Column::of(field);
        // Files are up to 10 MiB each: keep a batch's memory bounded.
        let batch = if field == Field::UploadContent {
            batch.min(UPLOAD_BATCH)
        } else {
            batch
        };
        let mut report = ColumnReport {
            column: field.column(),
            resealed: 0,
        };
        loop {
            if budget == Some(0) {
                reports.push(report);
                return Ok((reports, true));
            }
            let done = rotate_batch(store, vault, &column, batch).await?;
            budget = budget.map(|b| b - 1);
            report.resealed += done;
            if done < u64::from(batch) {
                break;
            }
        }
        reports.push(report);
    }
    Ok((reports, false))
}

/// Re-seals one batch of `column`; returns how many values it re-sealed.
async fn rotate_batch(store: &Store, vault: &Vault, c: &Column, batch: u32) -> Result<u64, Error> {
    let mut tx = store.begin().await?;
    let select = format!(
        "SELECT {key} AS k, {row} AS r, {col} AS v FROM {table}
         WHERE {col} IS NOT NULL AND substr({col}, 1, length($1)) <> $1
         ORDER BY {key} LIMIT $2",
        key = c.key,
        row = c.row,
        col = c.column,
        table = c.table,
    );
    let rows = sqlx::query(&select)
        .bind(vault.current_prefix())
        .bind(i64::from(batch))
        .fetch_all(&mut *tx)
        .await?;
    let update = format!(
        "UPDATE {table} SET {col} = $1 WHERE {key} = $2 AND {col} = $3",
        table = c.table,
        col = c.column,
        key = c.key,
    );
    for r in &rows {
        let (key, row, old): (String, String, String) = (r.get("k"), r.get("r"), r.get("v"));
        let plain = if Vault::is_sealed(&old) {
            vault.open_bytes(c.field, &row, &old)?
        } else {
            old.clone().into_bytes()
        };
        sqlx::query(&update)
            .bind(vault.seal_bytes(c.field, &row, &plain)?)
            .bind(&key)
            .bind(&old)
            .execute(&mut *tx)
            .await?;
        if c.field == Field::Document {
            let doc: SignedDocument = serde_json::from_slice(&plain)
                .map_err(|e| Error::Internal(format!("stored document of {row}: {e}")))?;
            let tokens = vault.name_tokens(&doc.summary().patient_name);
            store.index_name(&mut tx, &row, &tokens).await?;
        }
    }
    tx.commit().await?;
    Ok(rows.len() as u64)
}
