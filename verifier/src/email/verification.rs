//! The verification flow, with every bit of state in the database:
//! send a code → verify it (at most [`MAX_ATTEMPTS`] guesses, and wrong ones
//! within the mailbox's budget across its codes) → a single-use token → used
//! up when the passkey registration finishes.

use recordpass_request::{
    api::{EmailCodeSent, EmailVerified, SendEmailCode, VerifyEmailCode},
    validate_email,
};
use sha2::{Digest as _, Sha256};
use sqlx::Row as _;

use super::{codes::Code, mailbox, message};
use crate::{
    AppState, Error,
    config::Site,
    db,
    limits::{self, ClientAddr, Window},
    store::UnixTime,
    tokens::random_token,
    vault::Field,
};

/// How long a code is valid.
pub const CODE_TTL_SECS: u64 = 10 * 60;
/// Wrong guesses allowed per code.
pub const MAX_ATTEMPTS: u32 = 5;
/// How long the proof of the address stays usable.
pub const TOKEN_TTL_SECS: u64 = 30 * 60;

/// A verified address, ready to bind a passkey to.
#[derive(Clone, Debug)]
pub struct VerifiedEmail {
    /// The verification row, consumed by [`consume`].
    pub verification_id: String,
    /// The address.
    pub email: String,
}

/// `POST /email-codes`: rate-limits, stores the hashed code, emails it.
/// The answer does not depend on the address beyond its syntax.
pub async fn send(
    state: &AppState,
    site: &Site,
    body: &SendEmailCode,
    client: ClientAddr,
) -> Result<EmailCodeSent, Error> {
    let email = validate_email(&body.email).map_err(|e| Error::InvalidRequest(vec![e]))?;
    let limits = &state.config.limits;
    let now = state.clock.unix();
    let mailbox = mailbox::key(&email);
    let mut tx = state.store.begin().await?;
    purge(&mut tx, now).await?;
    limits::purge(&mut tx, limits, now).await?;
    let per_client = Window {
        max: limits.codes_per_client,
        secs: limits.codes_per_client_window_secs,
    };
    limits::take(
        &mut tx,
        &limits::bucket(state.store.vault(), "code-client", &client.0.to_string()),
        per_client,
        now,
    )
    .await?;
    let wrong = WrongGuesses::of(state, &mailbox);
    limits::check(&mut tx, &wrong.bucket, wrong.window, now).await?;
    let per_address = Window {
        max: limits.codes_per_address,
        secs: limits.codes_per_address_window_secs,
    };
    limits::take(
        &mut tx,
        &limits::bucket(state.store.vault(), "code-address", &mailbox),
        per_address,
        now,
    )
    .await?;

    let id = random_token();
    let code = Code::generate();
    sqlx::query(
        "INSERT INTO email_verifications
             (id, site_id, email, code_hash, attempts_left, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(&site.id)
    .bind(
        state
            .store
            .vault()
            .seal(Field::VerificationEmail, &id, &email)?,
    )
    .bind(state.email.key.hash(&id, code.digits()))
    .bind(i64::from(MAX_ATTEMPTS))
    .bind(now)
    .bind(now + CODE_TTL_SECS as i64)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;

    let letter = message::verification(&email, &site.name, body.lang, &code, CODE_TTL_SECS / 60);
    state.email.send_in_background(letter);
    tracing::info!(site = %site.id, "email code sent");
    Ok(EmailCodeSent {
        verification_id: id,
        expires_in_secs: CODE_TTL_SECS,
    })
}

/// The wrong guesses a mailbox ([`mailbox::key`]) may make across all its
/// codes: `[limits] wrong_codes_per_mailbox` per window, a bucket of its own.
struct WrongGuesses {
    bucket: String,
    window: Window,
}

impl WrongGuesses {
    fn of(state: &AppState, mailbox: &str) -> WrongGuesses {
        let limits = &state.config.limits;
        WrongGuesses {
            bucket: limits::bucket(state.store.vault(), "code-wrong", mailbox),
            window: Window {
                max: limits.wrong_codes_per_mailbox,
                secs: limits.wrong_codes_per_mailbox_window_secs,
            },
        }
    }
}

/// `POST /email-codes/{id}/verify`. Each guess uses an attempt before it is
/// compared, in one statement, so parallel guesses cannot exceed the limit.
/// A wrong guess also takes from its mailbox's [`WrongGuesses`]; once they are
/// used up, no guess is compared (`429 rate_limited`, nothing changes), so a
/// mailbox's codes cannot be ground down by asking for new ones.
pub async fn verify(
    state: &AppState,
    id: &str,
    body: &VerifyEmailCode,
) -> Result<EmailVerified, Error> {
    let now = state.clock.unix();
    let mut tx = state.store.begin().await?;
    let guess = sqlx::query(
        "UPDATE email_verifications SET attempts_left = attempts_left - 1
         WHERE id = $1 AND attempts_left > 0 AND expires_at > $2 AND verified_at IS NULL
         RETURNING email, code_hash, attempts_left",
    )
    .bind(id)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(guess) = guess else {
        let attempts_left: Option<i64> = sqlx::query_scalar(
            "SELECT attempts_left FROM email_verifications
             WHERE id = $1 AND expires_at > $2 AND verified_at IS NULL",
        )
        .bind(id)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        return Err(match attempts_left {
            Some(left) if left <= 0 => Error::TooManyAttempts,
            _ => Error::CodeExpired,
        });
    };
    let email = state
        .store
        .vault()
        .open(Field::VerificationEmail, id, guess.get("email"))?;
    let wrong = WrongGuesses::of(state, &mailbox::key(&email));
    // Refused before the comparison; the attempt is rolled back with the rest.
    limits::check(&mut tx, &wrong.bucket, wrong.window, now).await?;
    let code_hash: Vec<u8> = guess.get("code_hash");
    let attempts_left = u32::try_from(guess.get::<i64, _>("attempts_left")).unwrap_or(0);
    if !state.email.key.matches(id, body.code.trim(), &code_hash) {
        limits::take(&mut tx, &wrong.bucket, wrong.window, now).await?;
        tx.commit().await?;
        return Err(if attempts_left == 0 {
            Error::TooManyAttempts
        } else {
            Error::CodeIncorrect { attempts_left }
        });
    }
    let token = random_token();
    sqlx::query(
        "UPDATE email_verifications SET verified_at = $1, token_hash = $2, token_expires_at = $3
         WHERE id = $4",
    )
    .bind(now)
    .bind(token_hash(&token))
    .bind(now + TOKEN_TTL_SECS as i64)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(EmailVerified {
        email_token: token,
        expires_in_secs: TOKEN_TTL_SECS,
    })
}

/// The address an unused, unexpired `token` proves, for `site_id`.
/// Several ceremonies may start with one token; only one can [`consume`] it.
pub async fn check_token(
    state: &AppState,
    site_id: &str,
    token: &str,
) -> Result<VerifiedEmail, Error> {
    let mut tx = state.store.begin().await?;
    let row = sqlx::query(
        "SELECT id, email FROM email_verifications
         WHERE token_hash = $1 AND token_expires_at > $2 AND site_id = $3",
    )
    .bind(token_hash(token))
    .bind(state.clock.unix())
    .bind(site_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Error::EmailNotVerified)?;
    let verification_id: String = row.get("id");
    let email =
        state
            .store
            .vault()
            .open(Field::VerificationEmail, &verification_id, row.get("email"))?;
    Ok(VerifiedEmail {
        verification_id,
        email,
    })
}

/// Uses up the token of `verification_id`, returning when the address was verified.
pub async fn consume(
    conn: &mut db::Connection,
    verification_id: &str,
    now: UnixTime,
) -> Result<UnixTime, Error> {
    sqlx::query_scalar(
        "DELETE FROM email_verifications
         WHERE id = $1 AND token_hash IS NOT NULL AND token_expires_at > $2
         RETURNING verified_at",
    )
    .bind(verification_id)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(Error::EmailNotVerified)
}

/// Records on the requester when their address was verified (evidence).
pub async fn record(
    conn: &mut db::Connection,
    requester_id: &str,
    verified_at: UnixTime,
) -> Result<(), Error> {
    sqlx::query("UPDATE requesters SET email_verified_at = $1 WHERE id = $2")
        .bind(verified_at)
        .bind(requester_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Drops codes and tokens that can no longer be used.
async fn purge(conn: &mut db::Connection, now: UnixTime) -> Result<(), Error> {
    sqlx::query(
        "DELETE FROM email_verifications
         WHERE expires_at <= $1 AND (token_expires_at IS NULL OR token_expires_at <= $1)",
    )
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(format!("recordpass-email-token-v1\0{token}")).to_vec()
}
