//! Staff sessions: a random cookie (kept only as SHA-256 in the database),
//! idle and absolute timeouts, and the guard every console route sits behind.

use axum::{
    body::{Body, to_bytes},
    extract::{Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, Method, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest as _, Sha256};
use sqlx::Row;
use subtle::ConstantTimeEq;

use super::{Access, Role, pages::PageError};
use crate::{AppState, Error, db, tokens::random_token};

/// Largest form or JSON body a console route reads.
const MAX_BODY: usize = 64 * 1024;

/// The signed-in staff member, put in request extensions by [`guard`].
#[derive(Clone, Debug)]
pub struct Staff {
    /// Staff id.
    pub id: String,
    /// Email address (shown, and the actor in the audit trail).
    pub email: String,
    /// Role.
    pub role: Role,
    /// The CSRF token forms must echo (derived from the session cookie).
    pub csrf: String,
}

/// Hex SHA-256 of a secret token: what the database keeps.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn csrf_for(token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"recordpass-csrf-v1\0");
    h.update(token.as_bytes());
    URL_SAFE_NO_PAD.encode(h.finalize())
}

/// The session cookie's name: `__Host-` prefixed when it is `Secure`.
pub fn cookie_name(state: &AppState) -> &'static str {
    if state.console.secure_cookies {
        "__Host-recordpass-staff"
    } else {
        "recordpass-staff"
    }
}

fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// `Set-Cookie` for a new session (or, with `None`, one that clears it).
pub fn set_cookie(state: &AppState, token: Option<&str>) -> HeaderValue {
    let secure = if state.console.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let (value, max_age) = match token {
        Some(t) => (t, state.config.console.max_session_secs),
        None => ("", 0),
    };
    let cookie = format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}",
        cookie_name(state)
    );
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Starts a session for `staff_id` at `now`; returns the cookie value.
pub async fn create(conn: &mut db::Connection, staff_id: &str, now: i64) -> Result<String, Error> {
    let token = random_token();
    sqlx::query(
        "INSERT INTO staff_sessions (token_hash, staff_id, created_at, last_seen_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(hash_token(&token))
    .bind(staff_id)
    .bind(now)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(token)
}

/// Ends the session whose cookie `headers` carry.
pub async fn end(state: &AppState, headers: &HeaderMap) -> Result<(), Error> {
    if let Some(token) = cookie_value(headers, cookie_name(state)) {
        sqlx::query("DELETE FROM staff_sessions WHERE token_hash = $1")
            .bind(hash_token(token))
            .execute(state.store.pool())
            .await?;
    }
    Ok(())
}

/// The staff member whose live session cookie `headers` carry; refreshes its idle timer.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Staff, Error> {
    let token = cookie_value(headers, cookie_name(state)).ok_or(Error::SignInRequired)?;
    let hash = hash_token(token);
    let now = state.clock.unix();
    let settings = &state.config.console;
    let row = sqlx::query(
        "SELECT s.id, s.email, s.role, x.created_at, x.last_seen_at
         FROM staff_sessions x JOIN staff s ON s.id = x.staff_id
         WHERE x.token_hash = $1 AND s.disabled_at IS NULL",
    )
    .bind(&hash)
    .fetch_optional(state.store.pool())
    .await?
    .ok_or(Error::SignInRequired)?;
    let created: i64 = row.get("created_at");
    let seen: i64 = row.get("last_seen_at");
    let idle = i64::try_from(settings.idle_timeout_secs).unwrap_or(i64::MAX);
    let max = i64::try_from(settings.max_session_secs).unwrap_or(i64::MAX);
    if now - seen > idle || now - created > max {
        sqlx::query("DELETE FROM staff_sessions WHERE token_hash = $1")
            .bind(&hash)
            .execute(state.store.pool())
            .await?;
        return Err(Error::SignInRequired);
    }
    sqlx::query("UPDATE staff_sessions SET last_seen_at = $1 WHERE token_hash = $2")
        .bind(now)
        .bind(&hash)
        .execute(state.store.pool())
        .await?;
    let role: String = row.get("role");
    Ok(Staff {
        id: row.get("id"),
        email: row.get("email"),
        role: Role::parse(&role).ok_or_else(|| Error::Internal("stored role".into()))?,
        csrf: csrf_for(token),
    })
}

/// Every console route's gate: Origin on state-changing requests, then for
/// staff routes no loading by another origin's page (403), a live session
/// (401), an allowed role (403) and, on state-changing requests, the
/// session's CSRF token (403).
pub async fn guard(
    State((state, access)): State<(AppState, Access)>,
    request: Request,
    next: Next,
) -> Response {
    let api = request.uri().path().starts_with("/console/api/");
    match check(&state, access, request).await {
        Ok(request) => next.run(request).await,
        Err(e) if api => e.into_response(),
        Err(e) => PageError(e).into_response(),
    }
}

async fn check(state: &AppState, access: Access, request: Request) -> Result<Request, Error> {
    let changes = !matches!(*request.method(), Method::GET | Method::HEAD);
    if changes && !same_origin(request.headers(), &state.console.origin) {
        return Err(Error::Forbidden);
    }
    let Access::Roles(roles) = access else {
        return Ok(request);
    };
    if loaded_by_another_origin(request.headers()) {
        tracing::info!("console: a staff page loaded from another origin refused");
        return Err(Error::Forbidden);
    }
    let staff = authenticate(state, request.headers()).await?;
    if !roles.contains(&staff.role) {
        tracing::info!(role = staff.role.as_str(), "console: role refused");
        return Err(Error::Forbidden);
    }
    let (mut parts, body) = request.into_parts();
    let body = if changes {
        let bytes = to_bytes(body, MAX_BODY)
            .await
            .map_err(|_| Error::PayloadTooLarge)?;
        let sent = parts
            .headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| form_field(&bytes, "csrf"));
        let ok = sent.is_some_and(|s| bool::from(s.as_bytes().ct_eq(staff.csrf.as_bytes())));
        if !ok {
            tracing::info!("console: CSRF token refused");
            return Err(Error::Forbidden);
        }
        Body::from(bytes)
    } else {
        body
    };
    parts.extensions.insert(staff);
    Ok(Request::from_parts(parts, body))
}

/// The request comes from the console's own pages: `Origin` is the console's,
/// or (form posts under `Referrer-Policy: no-referrer` send `Origin: null`)
/// the browser-set `Sec-Fetch-Site` says `same-origin`, which no page can forge.
fn same_origin(headers: &HeaderMap, console: &str) -> bool {
    match text(headers, header::ORIGIN) {
        Some(origin) if origin == console => true,
        None | Some("null") => text(headers, SEC_FETCH_SITE) == Some("same-origin"),
        Some(_) => false,
    }
}

/// Whether the browser says a staff route is being loaded by a page on
/// another origin other than by following a link (an image, a script, a
/// fetch, a frame). `SameSite=Strict` still sends the cookie from a sibling
/// subdomain (the same site), so such a page could keep a session's idle
/// timer running and write audit entries nobody asked for, without reading
/// the answer. Requests without fetch metadata (older browsers, tools) pass.
fn loaded_by_another_origin(headers: &HeaderMap) -> bool {
    let followed_link = text(headers, HeaderName::from_static("sec-fetch-mode"))
        == Some("navigate")
        && text(headers, HeaderName::from_static("sec-fetch-dest")) == Some("document");
    match text(headers, SEC_FETCH_SITE) {
        None | Some("same-origin" | "none") => false,
        Some(_) => !followed_link,
    }
}

/// Fetch metadata: how the page that made the request relates to the console.
const SEC_FETCH_SITE: HeaderName = HeaderName::from_static("sec-fetch-site");

/// Header `name`'s value, if present and text.
fn text(headers: &HeaderMap, name: HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}
