//! The database backends: SQLite (embedded default) and PostgreSQL (several
//! instances behind a load balancer), chosen once at start-up by the
//! `database_url` scheme.
//!
//! Everything backend-specific lives here: connecting (SQLite pragmas, pool
//! sizes), the migration tree, and the few statements that must differ.
//! Other modules use sqlx's `Any` driver through the aliases below and write
//! portable SQL: `$1` placeholders (SQLite binds `$N` by number), `ON
//! CONFLICT`, `RETURNING`, integers instead of booleans.

use sqlx::{
    ConnectOptions as _, Executor as _,
    any::{AnyConnectOptions, AnyPoolOptions},
    migrate::Migrator,
    sqlite::SqliteConnectOptions,
};
use std::{str::FromStr, sync::LazyLock, time::Duration};

use crate::Error;

/// The database type every query runs against.
pub type Db = sqlx::Any;
/// A connection pool.
pub type Pool = sqlx::AnyPool;
/// One connection (or a transaction, through `&mut *tx`).
pub type Connection = sqlx::AnyConnection;
/// A transaction that owns its pooled connection.
pub type Transaction = sqlx::Transaction<'static, Db>;

/// Which database a URL or connection talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// `sqlite://path` (created if missing).
    Sqlite,
    /// `postgres://user@host/db` (or `postgresql://`).
    Postgres,
}

/// SQLite migrations, compiled in ([`tolerant`]).
static SQLITE_MIGRATOR: LazyLock<Migrator> =
    LazyLock::new(|| tolerant(sqlx::migrate!("../migrations/sqlite")));
/// PostgreSQL migrations, compiled in: the same schema, numbered alike.
static POSTGRES_MIGRATOR: LazyLock<Migrator> =
    LazyLock::new(|| tolerant(sqlx::migrate!("../migrations/postgres")));

/// Lets a release start on a database that a later release has already
/// migrated (migrations are additive): during a rolling upgrade, or a
/// rollback, instances of both releases share one database. It still applies
/// its own missing migrations, and `/readyz` checks them.
fn tolerant(mut migrator: Migrator) -> Migrator {
    migrator.set_ignore_missing(true);
    migrator
}

/// Per-connection SQLite settings: durable commits (an acknowledged write
/// survives a power cut), enforced foreign keys, and waiting for the write lock.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
    PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;";

/// The same for the one connection that writes ceremony state
/// ([`connect_light`]): its commits reach the WAL without an fsync of their
/// own (`synchronous = NORMAL`); the next durable commit's fsync covers them.
const SQLITE_LIGHT_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
    PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;";

impl Backend {
    /// The backend `url` names, from its scheme.
    pub fn of_url(url: &str) -> Result<Backend, Error> {
        let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
        match scheme {
            "sqlite" => Ok(Backend::Sqlite),
            "postgres" | "postgresql" => Ok(Backend::Postgres),
            _ => Err(Error::Config(
                "database_url must start with sqlite:// or postgres://".into(),
            )),
        }
    }

    /// The backend a connection talks to.
    pub fn of(conn: &Connection) -> Backend {
        match conn.backend_name() {
            "PostgreSQL" => Backend::Postgres,
            _ => Backend::Sqlite,
        }
    }

    /// This backend's migrations.
    pub fn migrator(self) -> &'static Migrator {
        match self {
            Backend::Sqlite => &SQLITE_MIGRATOR,
            Backend::Postgres => &POSTGRES_MIGRATOR,
        }
    }

    /// Connections each instance keeps at most. SQLite has one writer at a
    /// time anyway, and its reads are CPU work in this process (each
    /// connection a thread of its own): one per core plus the writer's, at
    /// least 3, as more only adds thread switches (8 on 2 cores: 0.8× the
    /// submissions/s of 3, docs/benchmarks.md). On PostgreSQL, instances ×
    /// this must stay below the server's `max_connections`.
    fn max_connections(self) -> u32 {
        match self {
            Backend::Sqlite => std::thread::available_parallelism()
                .map_or(1, |n| u32::try_from(n.get()).unwrap_or(u32::MAX))
                .saturating_add(1)
                .max(3),
            Backend::Postgres => 16,
        }
    }
}

/// Opens a pool on `url` and brings its schema up to date.
pub async fn connect(url: &str) -> Result<(Pool, Backend), Error> {
    sqlx::any::install_default_drivers();
    let backend = Backend::of_url(url)?;
    let pool = open_pool(url, backend, backend.max_connections(), SQLITE_PRAGMAS).await?;
    backend.migrator().run(&pool).await?;
    Ok((pool, backend))
}

/// On SQLite, a second pool of one connection on the same database whose
/// commits skip their own fsync, for state that may be lost in a power cut
/// (ceremonies in flight: the requester starts again). `None` on PostgreSQL,
/// where [`light_commit`] makes a transaction's commit asynchronous instead,
/// and for an in-memory SQLite database (a second pool would not share it).
pub async fn connect_light(url: &str, backend: Backend) -> Result<Option<Pool>, Error> {
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    match backend {
        Backend::Sqlite if !in_memory => Ok(Some(
            open_pool(url, backend, 1, SQLITE_LIGHT_PRAGMAS).await?,
        )),
        _ => Ok(None),
    }
}

/// Makes the rest of the caller's PostgreSQL transaction commit without
/// waiting for its WAL flush (`synchronous_commit = off`, this transaction
/// only): a server crash may lose it, never corrupt anything. No-op on SQLite.
pub async fn light_commit(conn: &mut Connection) -> Result<(), Error> {
    if Backend::of(conn) == Backend::Postgres {
        conn.execute("SET LOCAL synchronous_commit = off").await?;
    }
    Ok(())
}

async fn open_pool(
    url: &str,
    backend: Backend,
    max_connections: u32,
    pragmas: &'static str,
) -> Result<Pool, Error> {
    let options = match backend {
        // Only the URL reaches the SQLite driver through `Any`: let it say
        // "create if missing"; the pragmas run on every new connection.
        Backend::Sqlite => {
            let sqlite = SqliteConnectOptions::from_str(url)?.create_if_missing(true);
            AnyConnectOptions::from_url(&sqlite.to_url_lossy())?
        }
        Backend::Postgres => AnyConnectOptions::from_str(url)?,
    };
    Ok(AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    conn.execute(pragmas).await?;
                }
                Ok(())
            })
        })
        .connect_with(options)
        .await?)
}

/// Begins a transaction that writes. SQLite takes the write lock up front
/// (`BEGIN IMMEDIATE`, waiting up to `busy_timeout`): a deferred transaction
/// that reads first fails at once if another writer commits before it writes.
/// PostgreSQL locks rows as it goes (READ COMMITTED).
pub async fn begin_write(pool: &Pool, backend: Backend) -> Result<Transaction, Error> {
    Ok(match backend {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await?,
        Backend::Postgres => pool.begin().await?,
    })
}

/// Makes the caller's transaction the only one appending to the hash-chained
/// `audit_log` until it ends, so two appends never read the same last row.
/// SQLite already serialises writers; PostgreSQL needs a table lock (readers
/// are not blocked).
pub async fn lock_audit_log(conn: &mut Connection) -> Result<(), Error> {
    if Backend::of(conn) == Backend::Postgres {
        conn.execute("LOCK TABLE audit_log IN EXCLUSIVE MODE")
            .await?;
    }
    Ok(())
}

/// Whether `e` is a conflict between concurrent transactions, worth a "try
/// again" rather than counting as a server fault: PostgreSQL serialisation
/// failure, deadlock or lock timeout; SQLite busy or locked (any extended code).
pub fn is_contention(e: &sqlx::Error) -> bool {
    let Some(code) = e.as_database_error().and_then(|db| db.code()) else {
        return false;
    };
    match code.as_ref() {
        "40001" | "40P01" | "55P03" => true,
        sqlite => sqlite
            .parse::<u32>()
            .is_ok_and(|c| matches!(c & 0xff, SQLITE_BUSY | SQLITE_LOCKED)),
    }
}

/// Whether `e` is PostgreSQL refusing text it cannot store (a NUL character,
/// SQLSTATE 22021), which SQLite stores: the client's input, not a fault.
pub fn is_unstorable_text(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|db| db.code())
        .is_some_and(|code| code == "22021")
}

/// SQLite's primary result codes for "another connection holds the lock".
const SQLITE_BUSY: u32 = 5;
const SQLITE_LOCKED: u32 = 6;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_scheme_picks_the_backend() {
        for (url, backend) in [
            ("sqlite://data/recordpass.db", Backend::Sqlite),
            ("sqlite::memory:", Backend::Sqlite),
            ("postgres://recordpass@db/recordpass", Backend::Postgres),
            (
                "postgresql://db/recordpass?sslmode=verify-full",
                Backend::Postgres,
            ),
        ] {
            assert_eq!(Backend::of_url(url).expect(url), backend);
        }
        for url in ["mysql://db/x", "recordpass.db", ""] {
            assert!(
                matches!(Backend::of_url(url), Err(Error::Config(_))),
                "{url}"
            );
        }
    }
}
