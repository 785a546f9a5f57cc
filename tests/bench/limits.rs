//! The machine's limits, measured in the same run as the load: P-256 ECDSA
//! verifications per second on one core (RustCrypto `p256`, what webauthn-rs
//! verifies assertions with) and durable SQLite commits per second (WAL,
//! `synchronous = FULL`, as the verifier's store opens it): one row per
//! commit, and rows per second when rows are grouped into commits as the
//! verifier's group commit does.

use std::str::FromStr;
use std::time::{Duration, Instant};

use p256::ecdsa::{
    DerSignature, Signature, SigningKey, VerifyingKey,
    signature::{Signer, Verifier},
};
use sqlx::{
    ConnectOptions, Connection,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous},
};

use crate::stats::median;
use recordpass_tests::user::Error;

/// What a WebAuthn assertion signature covers: authenticator data (37 bytes)
/// followed by the SHA-256 of clientDataJSON.
const SIGNED_LEN: usize = 37 + 32;

/// Median over `runs` of single-thread P-256 verifications per second; each
/// verification parses the DER signature as webauthn-rs does.
pub fn p256_verifications_per_second(runs: usize, each: Duration) -> Result<f64, Error> {
    let key = SigningKey::from_slice(&[0x42; 32]).map_err(|e| e.to_string())?;
    let verifying = VerifyingKey::from(&key);
    let message = [0x5a_u8; SIGNED_LEN];
    let signature: Signature = key.sign(&message);
    let der = DerSignature::from(signature);
    let der = der.as_bytes().to_vec();
    let rates: Result<Vec<f64>, Error> = (0..runs)
        .map(|_| {
            rate(each, || {
                let signature = Signature::from_der(&der).map_err(|e| e.to_string())?;
                verifying
                    .verify(&message, &signature)
                    .map_err(|e| e.to_string())
            })
        })
        .collect();
    Ok(median(&rates?))
}

/// Median over `runs` of rows made durable per second by sequential commits of
/// `rows_per_commit` one-row `INSERT`s each (a transaction of one row for 1)
/// into a fresh database in `dir`.
pub async fn sqlite_rows_per_second(
    dir: &std::path::Path,
    rows_per_commit: u32,
    runs: usize,
    each: Duration,
) -> Result<f64, Error> {
    let name = format!("commits-{rows_per_commit}.db");
    let url = format!("sqlite://{}", dir.join(name).display());
    let mut conn = SqliteConnectOptions::from_str(&url)
        .map_err(|e| e.to_string())?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .connect()
        .await
        .map_err(|e| e.to_string())?;
    sqlx::query("CREATE TABLE rows (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)")
        .execute(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
    let payload = vec![0x5a_u8; 1024];
    let mut rates = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let mut rows = 0_u32;
        while rows == 0 || start.elapsed() < each {
            let mut tx = conn.begin().await.map_err(|e| e.to_string())?;
            for _ in 0..rows_per_commit {
                sqlx::query("INSERT INTO rows (payload) VALUES (?)")
                    .bind(&payload)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            tx.commit().await.map_err(|e| e.to_string())?;
            rows += rows_per_commit;
        }
        rates.push(f64::from(rows) / start.elapsed().as_secs_f64());
    }
    conn.close().await.map_err(|e| e.to_string())?;
    Ok(median(&rates))
}

/// Calls `op` until `each` has passed (at least once); calls per second.
fn rate(each: Duration, mut op: impl FnMut() -> Result<(), Error>) -> Result<f64, Error> {
    let start = Instant::now();
    let mut calls = 0_u32;
    while calls == 0 || start.elapsed() < each {
        op()?;
        calls += 1;
    }
    Ok(f64::from(calls) / start.elapsed().as_secs_f64())
}
