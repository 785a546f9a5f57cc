//! Rate limits: an in-memory flood guard (per instance, per client address)
//! on every API request and every console `POST`, and counted limits kept in
//! the database so that every instance shares them.

use std::{
    net::{IpAddr, Ipv6Addr, SocketAddr},
    num::NonZeroU32,
    sync::Arc,
};

use sha2::{Digest as _, Sha256};

use crate::{
    AppState, Error, config::Limits, db, evidence::ClientInfo, store::UnixTime, vault::Vault,
};
use axum::{
    extract::{ConnectInfo, FromRequestParts, Request, State},
    http::{Extensions, HeaderMap, Method, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};
use governor::{
    DefaultKeyedRateLimiter, Quota, RateLimiter,
    clock::{Clock as _, DefaultClock},
};

/// Keyed limiters forget idle clients once they track this many.
const FORGET_ABOVE: usize = 10_000;

/// The client's network address, as the rate limits key it: IPv4 addresses
/// whole, IPv6 addresses by their /64 (what one subscriber usually gets).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientAddr(pub IpAddr);

impl ClientAddr {
    /// Keys `ip` (IPv4-mapped IPv6 counts as IPv4).
    pub fn new(ip: IpAddr) -> ClientAddr {
        match ip.to_canonical() {
            IpAddr::V6(v6) => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                ClientAddr(IpAddr::V6(Ipv6Addr::from(segments)))
            }
            v4 => ClientAddr(v4),
        }
    }

    /// The client of a request: the peer, or with `trust_forwarded_for` the
    /// address the proxy recorded (the same rule as the evidence uses). The peer
    /// needs `into_make_service_with_connect_info::<SocketAddr>()` ([`crate::serve`]).
    pub fn of(
        extensions: &Extensions,
        headers: &HeaderMap,
        trust_forwarded_for: bool,
    ) -> Result<ClientAddr, Error> {
        let peer = extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
        ClientInfo::from_parts(peer, headers, trust_forwarded_for)
            .ip
            .and_then(|ip| ip.parse().ok())
            .map(ClientAddr::new)
            .ok_or_else(|| Error::Internal("no client address: serve with connect info".into()))
    }
}

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<ClientAddr, Error> {
        ClientAddr::of(
            &parts.extensions,
            &parts.headers,
            state.config.trust_forwarded_for,
        )
    }
}

/// Generic flood protection: every API request (reads too: a signed-in
/// requester's reads refresh a session and may append to the audit log) and
/// the console's `POST`s.
pub struct FloodGuard {
    /// `POST`s (every method but `GET` and `HEAD`).
    writes: DefaultKeyedRateLimiter<ClientAddr>,
    /// `GET`s and `HEAD`s, counted apart with the same quota, so that reading
    /// one's requests does not use up what signing a new one needs.
    reads: DefaultKeyedRateLimiter<ClientAddr>,
    trust_forwarded_for: bool,
}

impl FloodGuard {
    /// A guard allowing `limits.posts_burst` at once and `limits.posts_per_second`
    /// sustained, for reads and for writes each.
    pub fn new(limits: &Limits, trust_forwarded_for: bool) -> FloodGuard {
        let per_second = NonZeroU32::new(limits.posts_per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(limits.posts_burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_second(per_second).allow_burst(burst);
        FloodGuard {
            writes: RateLimiter::keyed(quota),
            reads: RateLimiter::keyed(quota),
            trust_forwarded_for,
        }
    }

    /// `Err` with the seconds to wait when `client` is over its quota for
    /// requests of this `method`.
    pub fn check(&self, client: ClientAddr, method: &Method) -> Result<(), Error> {
        let limiter = if method == Method::GET || method == Method::HEAD {
            &self.reads
        } else {
            &self.writes
        };
        if limiter.len() > FORGET_ABOVE {
            limiter.retain_recent();
        }
        limiter.check_key(&client).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            Error::RateLimited {
                retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            }
        })
    }

    /// [`FloodGuard::check`] for the client `request` comes from.
    fn check_request(&self, request: &Request) -> Result<(), Error> {
        let client = ClientAddr::of(
            request.extensions(),
            request.headers(),
            self.trust_forwarded_for,
        )?;
        self.check(client, request.method())
    }
}

/// Middleware: refuses every request over the client's quota with `429` and
/// `Retry-After` (the API under `/api/v1`).
pub async fn flood_guard(
    State(guard): State<Arc<FloodGuard>>,
    request: Request,
    next: Next,
) -> Response {
    match guard.check_request(&request) {
        Ok(()) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

/// Middleware: refuses `POST`s over the client's quota (the console, whose
/// pages staff read often from one hospital address).
pub async fn flood_guard_posts(
    State(guard): State<Arc<FloodGuard>>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() == Method::POST
        && let Err(e) = guard.check_request(&request)
    {
        return e.into_response();
    }
    next.run(request).await
}

/// A counted limit stored in the database.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    /// Events allowed per window.
    pub max: u32,
    /// Window length in seconds.
    pub secs: u64,
}

/// Bucket name for `what` (e.g. `"code-address"`) about `subject`: a keyed
/// hash ([`Vault::keyed_hash`]), so the table never holds an address, and a
/// copy of the database cannot confirm a guessed one (nor enumerate IPv4
/// clients) without the keyring.
pub fn bucket(vault: &Vault, what: &str, subject: &str) -> String {
    let hash = vault.keyed_hash("limit", &format!("{what}\0{subject}"));
    format!("{what}:{}", hex::encode(&hash[..16]))
}

/// Makes the caller's transaction the only one holding `name` until it ends,
/// so that a count it reads stays true until it commits. On PostgreSQL (READ
/// COMMITTED) a transaction-scoped advisory lock on a key derived from
/// `name`: without it two transactions each count without the other's
/// uncommitted insert and both insert. SQLite's writer is already alone.
pub async fn lock(conn: &mut db::Connection, name: &str) -> Result<(), Error> {
    if db::Backend::of(conn) == db::Backend::Postgres {
        let hash = Sha256::digest(format!("recordpass-lock-v1\0{name}"));
        let key = i64::from_be_bytes(hash[..8].try_into().expect("8 bytes"));
        // The function returns `void`, which the `Any` driver cannot decode.
        sqlx::query("SELECT 1 FROM (SELECT pg_advisory_xact_lock($1)) AS locked")
            .bind(key)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Records one event in `bucket` if fewer than `window.max` happened in the
/// last `window.secs`; otherwise `Err(RateLimited)` with when the oldest one
/// leaves the window. Call it inside a write transaction: it holds the
/// bucket's [`lock`] until that ends, so concurrent requests (on any
/// instance) cannot both take the last slot. Callers taking several buckets
/// take them in one order (client, then subject), so they cannot deadlock.
pub async fn take(
    conn: &mut db::Connection,
    bucket: &str,
    window: Window,
    now: UnixTime,
) -> Result<(), Error> {
    lock(conn, bucket).await?;
    let since = now - window.secs as i64;
    let taken = sqlx::query(
        "INSERT INTO rate_limit_events (bucket, at)
         SELECT $1, $2 WHERE (SELECT COUNT(*) FROM rate_limit_events
                              WHERE bucket = $1 AND at > $3) < $4",
    )
    .bind(bucket)
    .bind(now)
    .bind(since)
    .bind(i64::from(window.max))
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if taken == 1 {
        return Ok(());
    }
    Err(refusal(conn, bucket, since).await?)
}

/// `Err(RateLimited)`, as [`take`] would answer, if `bucket` is full, without
/// recording anything. It takes the bucket's [`lock`] like [`take`], so what
/// it found stays true until the transaction ends (a [`take`] after it in
/// the same transaction then succeeds).
pub async fn check(
    conn: &mut db::Connection,
    bucket: &str,
    window: Window,
    now: UnixTime,
) -> Result<(), Error> {
    lock(conn, bucket).await?;
    let since = now - window.secs as i64;
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM rate_limit_events WHERE bucket = $1 AND at > $2")
            .bind(bucket)
            .bind(since)
            .fetch_one(&mut *conn)
            .await?;
    if count < i64::from(window.max) {
        return Ok(());
    }
    Err(refusal(conn, bucket, since).await?)
}

/// The refusal for a full `bucket`: retry when its oldest event after `since`
/// leaves the window.
async fn refusal(conn: &mut db::Connection, bucket: &str, since: UnixTime) -> Result<Error, Error> {
    let oldest: Option<i64> =
        sqlx::query_scalar("SELECT MIN(at) FROM rate_limit_events WHERE bucket = $1 AND at > $2")
            .bind(bucket)
            .bind(since)
            .fetch_one(&mut *conn)
            .await?;
    let retry_after_secs = oldest.map_or(1, |at| (at - since).max(1) as u64);
    Ok(Error::RateLimited { retry_after_secs })
}

/// How long an event of any counted limit matters: the longest of their
/// windows (the codes', the wrong guesses', the uploads'). Older events are
/// purged ([`purge`], and `crate::retention` in the background).
pub fn longest_window_secs(limits: &Limits) -> u64 {
    [
        limits.codes_per_client_window_secs,
        limits.codes_per_address_window_secs,
        limits.wrong_codes_per_mailbox_window_secs,
        crate::uploads::UPLOADS_PER_CLIENT.secs,
    ]
    .into_iter()
    .max()
    .unwrap_or(0)
}

/// Drops events that no counted limit looks at any more
/// ([`longest_window_secs`]).
pub async fn purge(conn: &mut db::Connection, limits: &Limits, now: UnixTime) -> Result<(), Error> {
    let keep = i64::try_from(longest_window_secs(limits)).unwrap_or(i64::MAX / 2);
    sqlx::query("DELETE FROM rate_limit_events WHERE at <= $1")
        .bind(now - keep)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        let a = ClientAddr::new("2001:db8:1:2:aaaa::1".parse().expect("ip"));
        let b = ClientAddr::new("2001:db8:1:2:bbbb::2".parse().expect("ip"));
        let c = ClientAddr::new("2001:db8:1:3::1".parse().expect("ip"));
        assert_eq!(a, b);
        assert_ne!(a, c);
        let mapped = ClientAddr::new("::ffff:192.0.2.7".parse().expect("ip"));
        assert_eq!(mapped, ClientAddr("192.0.2.7".parse().expect("ip")));
    }

    #[test]
    fn the_flood_guard_allows_a_burst_then_says_when_to_retry() {
        let limits = Limits {
            posts_burst: 3,
            ..Limits::default()
        };
        let guard = FloodGuard::new(&limits, false);
        let client = ClientAddr("192.0.2.1".parse().expect("ip"));
        for _ in 0..3 {
            assert!(guard.check(client, &Method::POST).is_ok());
        }
        match guard.check(client, &Method::POST) {
            Err(Error::RateLimited { retry_after_secs }) => assert_eq!(retry_after_secs, 1),
            other => panic!("expected a rate limit, got {other:?}"),
        }
        assert!(
            guard
                .check(ClientAddr("192.0.2.2".parse().expect("ip")), &Method::POST)
                .is_ok()
        );
        // Reads have a quota of their own, as limited.
        for _ in 0..3 {
            assert!(guard.check(client, &Method::GET).is_ok());
        }
        assert!(guard.check(client, &Method::GET).is_err());
    }

    #[test]
    fn events_are_kept_for_the_longest_window_of_any_limit() {
        let limits = Limits {
            codes_per_client_window_secs: 600,
            codes_per_address_window_secs: 300,
            wrong_codes_per_mailbox_window_secs: 900,
            ..Limits::default()
        };
        assert_eq!(
            longest_window_secs(&limits),
            crate::uploads::UPLOADS_PER_CLIENT.secs,
            "the uploads' hour"
        );
        assert_eq!(longest_window_secs(&Limits::default()), 24 * 60 * 60);
    }

    #[test]
    fn buckets_are_keyed_and_do_not_contain_the_subject() {
        let vault = |id| Vault::parse(&Vault::new_key_line(id), None).expect("keyring");
        let (one, other) = (vault("k1"), vault("k2"));
        let b = bucket(&one, "code-address", "ana@example.org");
        assert!(b.starts_with("code-address:") && !b.contains("ana"));
        assert_eq!(b, bucket(&one, "code-address", "ana@example.org"));
        assert_ne!(b, bucket(&one, "code-address", "bob@example.org"));
        assert_ne!(b, bucket(&one, "code-client", "ana@example.org"));
        assert_ne!(
            b,
            bucket(&other, "code-address", "ana@example.org"),
            "keyed"
        );
    }
}
