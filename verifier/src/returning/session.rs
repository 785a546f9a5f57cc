//! Requester sessions: a random bearer token (only its SHA-256 is stored),
//! 15 minutes idle and 1 hour absolute. The widget runs on a hospital page of
//! another origin, so the token travels in `Authorization`, never a cookie,
//! and the widget keeps it in memory only.

use axum::http::{HeaderMap, header};
use sqlx::Row;

use crate::{AppState, Error, console::session::hash_token, db, tokens::random_token};

/// A session ends after this many seconds without a request.
pub const IDLE_TIMEOUT_SECS: i64 = 15 * 60;
/// A session ends this many seconds after sign-in.
pub const MAX_SESSION_SECS: i64 = 60 * 60;
/// The idle timer is written at most once per this many seconds, so a run
/// of requests makes one write, not one each (a session may end this much
/// before [`IDLE_TIMEOUT_SECS`] after its last request).
pub const REFRESH_SECS: i64 = 60;

/// The signed-in requester.
#[derive(Clone, Debug)]
pub struct RequesterSession {
    /// Requester id (the WebAuthn user handle).
    pub requester_id: String,
    /// Site signed in on.
    pub site_id: String,
    /// The passkey signed in with.
    pub credential_id: String,
}

/// Starts a session inside the sign-in transaction; returns the bearer token.
pub async fn create(
    conn: &mut db::Connection,
    session: &RequesterSession,
    now: i64,
) -> Result<String, Error> {
    let token = random_token();
    sqlx::query(
        "INSERT INTO requester_sessions (token_hash, requester_id, site_id, credential_id,
             created_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(hash_token(&token))
    .bind(&session.requester_id)
    .bind(&session.site_id)
    .bind(&session.credential_id)
    .bind(now)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(token)
}

/// The bearer token in `Authorization`, if any.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// Ends the live session whose token `headers` carry: signing out. No
/// token, an unknown one or an ended one answers `401 sign_in_required`, as
/// on the other `/me` routes.
pub async fn end(state: &AppState, headers: &HeaderMap) -> Result<(), Error> {
    authenticate(state, headers).await?;
    let token = bearer(headers).ok_or(Error::RequesterSignInRequired)?;
    let _turn = state.store.writer_turn().await;
    sqlx::query("DELETE FROM requester_sessions WHERE token_hash = $1")
        .bind(hash_token(token))
        .execute(state.store.pool())
        .await?;
    Ok(())
}

/// The live session `headers` carry (`401 sign_in_required` otherwise);
/// refreshes its idle timer (at most once per [`REFRESH_SECS`]). An expired
/// session is deleted.
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<RequesterSession, Error> {
    let token = bearer(headers).ok_or(Error::RequesterSignInRequired)?;
    let hash = hash_token(token);
    let now = state.clock.unix();
    let row = sqlx::query(
        "SELECT requester_id, site_id, credential_id, created_at, last_seen_at
         FROM requester_sessions WHERE token_hash = $1",
    )
    .bind(&hash)
    .fetch_optional(state.store.pool())
    .await?
    .ok_or(Error::RequesterSignInRequired)?;
    let created: i64 = row.get("created_at");
    let seen: i64 = row.get("last_seen_at");
    if now - seen > IDLE_TIMEOUT_SECS || now - created > MAX_SESSION_SECS {
        let _turn = state.store.writer_turn().await;
        sqlx::query("DELETE FROM requester_sessions WHERE token_hash = $1")
            .bind(&hash)
            .execute(state.store.pool())
            .await?;
        return Err(Error::RequesterSignInRequired);
    }
    if now - seen >= REFRESH_SECS {
        let _turn = state.store.writer_turn().await;
        sqlx::query("UPDATE requester_sessions SET last_seen_at = $1 WHERE token_hash = $2")
            .bind(now)
            .bind(&hash)
            .execute(state.store.pool())
            .await?;
    }
    Ok(RequesterSession {
        requester_id: row.get("requester_id"),
        site_id: row.get("site_id"),
        credential_id: row.get("credential_id"),
    })
}
