//! Proof-of-authority files: stored sealed when uploaded, claimed by the signed
//! request that names them (same transaction as the submission), deleted when
//! unclaimed after [`UPLOAD_TTL_SECS`] or with their request by `purge`.
//!
//! Who may upload: anyone on a page of a configured site (the `Origin` check,
//! as for every requester `POST`), because the widget uploads at the "who is
//! asking" step, before the email is verified. What bounds the disk instead:
//! the file checks ([`recordpass_request::upload::check_file`], nothing is
//! stored for a refused file), the flood guard, [`UPLOADS_PER_CLIENT`] stored
//! files per client address and hour, [`MAX_PENDING_BYTES`] of unclaimed files
//! in all, and the expiry of unclaimed files.
//!
//! What bounds the memory: [`crate::upload_intake`]. Bodies being received
//! hold at most `[limits] upload_buffer_mib` (default 32) in all, one body per
//! client address, each reserved from its `Content-Length` before it is read
//! (no room: `503` `unavailable` with `Retry-After` at once, nothing kept or
//! stored). A received body waits for one of the `[limits] uploads_in_flight`
//! turns (default 1) to be checked, sealed and written here. One upload holds
//! about four times its file at its peak, while it is written: the body is
//! read into one buffer of its declared length and sealed in place
//! ([`crate::vault::Vault::seal_owned`]: the plain bytes are overwritten, and
//! freed once encoded), then the sealed text (base64, 4/3 of the file) is
//! handed to the database driver, which keeps its own copy, and SQLite makes
//! two more (the bound value and the record). So the peak is about the idle
//! process (17 MiB release) + the buffer (32 MiB, the body being written
//! included) + 3 × each file being written (30 MiB): about 80 MiB, under the
//! 100 MB budget; `cargo xtask bench` measures 16 clients each sending a
//! 9 MiB file at once (docs/benchmarks.md).

use recordpass_request::{
    Digest, Field as RequestField, FieldError, Problem, SignedDocument,
    api::Uploaded,
    upload::{Attachment, MediaType, check_file},
};
use sha2::{Digest as _, Sha256};
use sqlx::{Row as _, any::AnyRow};

use crate::{
    AppState, Error,
    config::Site,
    db,
    limits::{self, ClientAddr, Window},
    store::UnixTime,
    tokens::random_token,
    vault::{Field, Vault},
};

/// How long an upload waits for a signed request to claim it (24 hours).
pub const UPLOAD_TTL_SECS: i64 = 24 * 60 * 60;

/// Files one client address may store per hour.
pub const UPLOADS_PER_CLIENT: Window = Window {
    max: 20,
    secs: 60 * 60,
};

/// `Retry-After` of an upload refused because the upload buffer is full or its
/// client is already sending one: most files arrive and are stored within seconds.
pub const BUSY_RETRY_AFTER_SECS: u64 = 2;

/// Unclaimed bytes the verifier holds at most, across all clients (2 GiB);
/// beyond it uploads are refused with `429` until some expire or are claimed.
pub const MAX_PENDING_BYTES: i64 = 2 * 1024 * 1024 * 1024;

/// Checks the file and stores it sealed. A refused file leaves no trace.
///
/// Takes the bytes: they are sealed in place, so the plain file is gone
/// before the database write (give `bytes` [`crate::vault::TAG_LEN`] spare
/// capacity to seal without reallocating).
pub async fn store(
    state: &AppState,
    site: &Site,
    client: ClientAddr,
    name: &str,
    declared: &str,
    bytes: Vec<u8>,
) -> Result<Uploaded, Error> {
    let media_type = check_file(name, declared, &bytes).map_err(Error::File)?;
    let attachment = Attachment::describe(name, media_type, &bytes);
    if !attachment.is_plausible() {
        return Err(Error::File(
            recordpass_request::upload::FileProblem::Mismatch,
        ));
    }
    let id = random_token();
    let vault = state.store.vault();
    let sealed_name = vault.seal(Field::UploadName, &id, &attachment.name)?;
    let sealed_content = vault.seal_owned(Field::UploadContent, &id, bytes)?;
    let now = state.clock.unix();

    let _turn = state.store.writer_turn().await;
    let mut tx = state.store.begin().await?;
    let bucket = limits::bucket(state.store.vault(), "upload-client", &client.0.to_string());
    limits::take(&mut tx, &bucket, UPLOADS_PER_CLIENT, now).await?;
    // One sum at a time, so two uploads cannot both fit under the cap.
    limits::lock(&mut tx, "upload-pending-bytes").await?;
    // PostgreSQL sums BIGINT as NUMERIC: cast back so both backends answer an integer.
    let pending: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM uploads
         WHERE request_number IS NULL AND expires_at > $1",
    )
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    if pending + attachment.size as i64 > MAX_PENDING_BYTES {
        tx.commit().await?;
        tracing::warn!("unclaimed uploads are at their limit; refusing more");
        return Err(Error::RateLimited {
            retry_after_secs: 600,
        });
    }
    sqlx::query(
        "INSERT INTO uploads (id, site_id, sha256, media_type, size, name, content, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&id)
    .bind(&site.id)
    .bind(attachment.sha256.to_hex())
    .bind(media_type.mime())
    .bind(attachment.size as i64)
    .bind(&sealed_name)
    // By value: the driver keeps its own copy, this one is freed at once.
    .bind(sealed_content)
    .bind(now)
    .bind(now + UPLOAD_TTL_SECS)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Uploaded {
        upload_id: id,
        attachment,
        expires_in_secs: UPLOAD_TTL_SECS as u64,
    })
}

const UNCLAIMED: &str = "request_number IS NULL AND site_id = $1 AND sha256 = $2 AND size = $3
     AND media_type = $4 AND expires_at > $5";

/// Field errors for attachments of `doc` that no unclaimed, unexpired upload
/// to `site_id` matches (digest, size and type).
pub async fn missing(
    conn: &mut db::Connection,
    site_id: &str,
    attachments: &[Attachment],
    now: UnixTime,
) -> Result<Vec<FieldError>, Error> {
    let mut errors = Vec::new();
    for (i, a) in attachments.iter().enumerate() {
        let wanted = attachments[..=i].iter().filter(|b| *b == a).count() as i64;
        let found = unclaimed(conn, site_id, a, now).await?;
        if found < wanted {
            errors.push(not_uploaded(i));
        }
    }
    Ok(errors)
}

fn not_uploaded(i: usize) -> FieldError {
    FieldError {
        field: RequestField::RequesterAttachment(i),
        problem: Problem::FileNotUploaded,
    }
}

/// Tries to claim one attachment's file at most, when other finishes keep
/// taking the identical file a try picked ([`claim`]).
const CLAIM_TRIES: usize = 8;

/// Links one stored upload to `request_number` for each attachment of `doc`;
/// `Err(InvalidRequest)` if one is missing (the caller rolls back).
///
/// `request_number IS NULL` is repeated outside the subquery: on PostgreSQL
/// (READ COMMITTED) a finish that waited for another's row lock re-checks only
/// the outer condition on the row as committed, so without it both would
/// claim the same file. The one that waited then claims nothing although
/// another identical file may be unclaimed (two requesters uploaded the same
/// bytes): when a matching unclaimed file still exists, the claim is tried
/// again, each statement with a fresh snapshot, so it takes the next one.
/// On SQLite writers take turns, so nothing claims a file between the
/// subquery and the update, and no retry happens.
pub async fn claim(
    conn: &mut db::Connection,
    request_number: &str,
    doc: &SignedDocument,
    now: UnixTime,
) -> Result<(), Error> {
    for (i, a) in doc.request.requester.attachments.iter().enumerate() {
        let mut claimed = false;
        for _ in 0..CLAIM_TRIES {
            claimed = claim_one(conn, request_number, &doc.site.id, a, now).await?;
            if claimed || unclaimed(conn, &doc.site.id, a, now).await? == 0 {
                break;
            }
            tracing::debug!("another finish claimed an identical file first; trying the next");
        }
        if !claimed {
            return Err(Error::InvalidRequest(vec![not_uploaded(i)]));
        }
    }
    Ok(())
}

/// Links the oldest unclaimed upload matching `a` to `request_number`; false
/// if none was (none left, or another finish took the one picked).
async fn claim_one(
    conn: &mut db::Connection,
    request_number: &str,
    site_id: &str,
    a: &Attachment,
    now: UnixTime,
) -> Result<bool, Error> {
    let done = sqlx::query(&format!(
        "UPDATE uploads SET request_number = $6 WHERE request_number IS NULL AND id =
           (SELECT id FROM uploads WHERE {UNCLAIMED} ORDER BY created_at, id LIMIT 1)"
    ))
    .bind(site_id)
    .bind(a.sha256.to_hex())
    .bind(a.size as i64)
    .bind(a.media_type.mime())
    .bind(now)
    .bind(request_number)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(done == 1)
}

/// How many unclaimed, unexpired uploads to `site_id` match `a` (as
/// committed now).
async fn unclaimed(
    conn: &mut db::Connection,
    site_id: &str,
    a: &Attachment,
    now: UnixTime,
) -> Result<i64, Error> {
    let found = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM uploads WHERE {UNCLAIMED}"))
        .bind(site_id)
        .bind(a.sha256.to_hex())
        .bind(a.size as i64)
        .bind(a.media_type.mime())
        .bind(now)
        .fetch_one(&mut *conn)
        .await?;
    Ok(found)
}

/// A file stored with a signed request, as the console lists it.
#[derive(Clone, Debug)]
pub struct StoredFile {
    /// Upload id.
    pub id: String,
    /// File name (opened).
    pub name: String,
    /// Detected type.
    pub media_type: MediaType,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 recorded at upload.
    pub sha256: String,
    /// True when the stored bytes hash to the digest an attachment of the
    /// signed document names, with the same size and type.
    pub matches_signed: bool,
}

impl StoredFile {
    /// The size for people.
    pub fn size_text(&self) -> String {
        recordpass_request::upload::size_text(self.size)
    }
}

/// The files claimed by `request_number`, each re-hashed and compared with `doc`.
pub async fn of_request(
    state: &AppState,
    request_number: &str,
    doc: &SignedDocument,
) -> Result<Vec<StoredFile>, Error> {
    let rows = sqlx::query(
        "SELECT id, sha256, media_type, size, name, content FROM uploads
         WHERE request_number = $1 ORDER BY created_at, id",
    )
    .bind(request_number)
    .fetch_all(state.store.pool())
    .await?;
    let vault = state.store.vault();
    let mut files = Vec::new();
    for r in rows {
        let id: String = r.get("id");
        let file = open(vault, doc, &id, &r)?;
        files.push(StoredFile {
            name: file.name,
            matches_signed: file.matches_signed,
            media_type: file.media_type,
            size: file.content.len() as u64,
            sha256: r.get("sha256"),
            id,
        });
    }
    Ok(files)
}

/// An `uploads` row (`media_type`, `name`, `content`) of a request signed
/// as `doc`, opened.
struct Opened {
    content: Vec<u8>,
    media_type: MediaType,
    /// The name to show: the signed attachment's (see [`open`]), else the
    /// stored one.
    name: String,
    /// Whether an attachment of `doc` is exactly these bytes (same digest,
    /// size and type).
    matches_signed: bool,
}

/// Opens upload `id`'s `row` of a request signed as `doc`.
///
/// The name is the one the request signed for these bytes: a claim matches
/// uploads by content alone, so the upload a request claimed may be an
/// identical file someone else sent under another name, which must not be
/// shown with this request.
fn open(vault: &Vault, doc: &SignedDocument, id: &str, row: &AnyRow) -> Result<Opened, Error> {
    let content = vault.open_bytes(Field::UploadContent, id, row.get("content"))?;
    let media_type = MediaType::from_mime(row.get("media_type"))
        .ok_or_else(|| Error::Internal(format!("upload {id}: stored type")))?;
    let digest = Digest(Sha256::digest(&content).into());
    let signed = doc.request.requester.attachments.iter().find(|a| {
        a.sha256 == digest && a.size == content.len() as u64 && a.media_type == media_type
    });
    let name = match signed {
        Some(a) => a.name.clone(),
        None => vault.open(Field::UploadName, id, row.get("name"))?,
    };
    Ok(Opened {
        matches_signed: signed.is_some(),
        content,
        media_type,
        name,
    })
}

/// One file of `request_number` (signed as `doc`): its name as signed (see
/// [`open`]; the stored one if none matches), type and bytes.
pub async fn content(
    state: &AppState,
    request_number: &str,
    doc: &SignedDocument,
    id: &str,
) -> Result<(String, MediaType, Vec<u8>), Error> {
    let row = sqlx::query(
        "SELECT media_type, name, content FROM uploads WHERE id = $1 AND request_number = $2",
    )
    .bind(id)
    .bind(request_number)
    .fetch_optional(state.store.pool())
    .await?
    .ok_or(Error::NotFound)?;
    let file = open(state.store.vault(), doc, id, &row)?;
    Ok((file.name, file.media_type, file.content))
}
