//! Durable state: ceremonies, requesters, passkeys and submissions, in SQLite
//! or PostgreSQL ([`crate::db`]).
//!
//! Every write that acknowledges something to a client commits first (SQLite:
//! `synchronous = FULL` in WAL mode), so an acknowledged submission survives a crash.
//! Personal data is sealed with the [`Vault`] on the way in and opened on the way
//! out: the signed document, the requester's email, the client's address and user
//! agent, and ceremony context never reach the database in clear.

use sha2::{Digest as _, Sha256};
use sqlx::{Row, any::AnyRow};

use crate::{
    Error,
    db::{self, Backend},
    evidence::SigningEvidence,
    vault::{Field, Vault},
};
use recordpass_request::SignedDocument;
use std::{collections::BTreeSet, sync::Arc};

/// Unix time in seconds; passed in so expiry is testable.
pub type UnixTime = i64;

/// Handle to the database.
#[derive(Clone, Debug)]
pub struct Store {
    pool: db::Pool,
    /// Where ceremony state is written ([`db::connect_light`]); `None`: `pool`.
    light: Option<db::Pool>,
    backend: Backend,
    vault: Arc<Vault>,
    /// See [`Store::writer_turn`].
    writer: Arc<tokio::sync::Mutex<()>>,
}

/// What kind of passkey ceremony a row holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CeremonyKind {
    /// Passkey creation.
    Registration,
    /// Signing a request.
    Signing,
    /// A returning requester signing in (discoverable passkey).
    SignIn,
}

impl CeremonyKind {
    fn as_str(self) -> &'static str {
        match self {
            CeremonyKind::Registration => "registration",
            CeremonyKind::Signing => "signing",
            CeremonyKind::SignIn => "sign_in",
        }
    }
}

/// A stored ceremony.
#[derive(Clone, Debug)]
pub struct Ceremony {
    /// Random id handed to the client.
    pub id: String,
    /// Kind.
    pub kind: CeremonyKind,
    /// Site it belongs to.
    pub site_id: String,
    /// Serialised webauthn-rs state.
    pub state: String,
    /// Serialised context (what is being registered or signed).
    pub context: String,
    /// Creation time.
    pub created_at: UnixTime,
    /// Expiry time.
    pub expires_at: UnixTime,
}

/// A registered passkey and who it belongs to.
#[derive(Clone, Debug)]
pub struct StoredPasskey {
    /// Base64url credential id.
    pub credential_id: String,
    /// Owner.
    pub requester_id: String,
    /// The email the owner gave when creating it.
    pub email: String,
    /// Serialised webauthn-rs `Passkey`.
    pub passkey: String,
    /// Authenticator model from the registration's authenticator data, when
    /// the browser did not blank it.
    pub aaguid: Option<String>,
}

/// A passkey's current state, as the signing flow needs it.
#[derive(Clone, Debug)]
pub struct PasskeyState {
    /// Serialised webauthn-rs `Passkey`.
    pub passkey: String,
    /// See [`StoredPasskey::aaguid`].
    pub aaguid: Option<String>,
}

/// A signed request, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submission {
    /// Number quoted to the requester.
    pub request_number: String,
    /// Ceremony that produced it (idempotency key).
    pub ceremony_id: String,
    /// Site.
    pub site_id: String,
    /// Requester.
    pub requester_id: String,
    /// Credential that signed.
    pub credential_id: String,
    /// Canonical document bytes (UTF-8 JSON).
    pub document: String,
    /// SHA-256 of `document`, hex.
    pub digest: String,
    /// Ceremony nonce mixed into the challenge.
    pub nonce: String,
    /// Raw `clientDataJSON`.
    pub client_data_json: Vec<u8>,
    /// Raw `authenticatorData`.
    pub authenticator_data: Vec<u8>,
    /// Raw signature.
    pub signature: Vec<u8>,
    /// Whether the authenticator verified the user.
    pub user_verified: bool,
    /// Receipt time.
    pub received_at: UnixTime,
    /// The client's idempotency key, if it sent one.
    pub idempotency_key: Option<String>,
    /// The site's `deadline_days` at receipt (with the default, 30); `None`
    /// for requests received before it was recorded.
    pub deadline_days: Option<i64>,
    /// The site's `time_zone` at receipt (IANA name); `None` as above.
    pub time_zone: Option<String>,
}

impl Store {
    /// Opens the database at `url` (`sqlite://path`, created if needed, or
    /// `postgres://…`) and runs migrations; personal data is sealed with `vault`.
    pub async fn open(url: &str, vault: Arc<Vault>) -> Result<Store, Error> {
        let (pool, backend) = db::connect(url).await?;
        let light = db::connect_light(url, backend).await?;
        Ok(Store {
            pool,
            light,
            backend,
            vault,
            writer: Arc::default(),
        })
    }

    /// Which database this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// `/readyz`: the database answers a trivial query and has every embedded
    /// migration applied successfully.
    pub async fn check_ready(&self) -> Result<(), Error> {
        let not_ready =
            |what: &str, e: &dyn std::fmt::Display| Error::NotReady(format!("{what}: {e}"));
        sqlx::query_scalar::<_, i64>("SELECT 1")
            .fetch_one(&self.pool)
            .await
            .map_err(|e| not_ready("database", &e))?;
        let applied: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(&self.pool)
                .await
                .map_err(|e| not_ready("migrations", &e))?;
        let missing: Vec<i64> = self
            .backend
            .migrator()
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .map(|m| m.version)
            .filter(|v| !applied.contains(v))
            .collect();
        if !missing.is_empty() {
            return Err(Error::NotReady(format!(
                "migrations not applied: {missing:?}"
            )));
        }
        Ok(())
    }

    /// The keyring personal data is sealed with.
    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    /// Starts a transaction that writes ([`db::begin_write`]).
    pub async fn begin(&self) -> Result<db::Transaction, Error> {
        db::begin_write(&self.pool, self.backend).await
    }

    /// Stores a new ceremony (expired ones are ignored by every read and
    /// purged by [`crate::retention`]).
    ///
    /// The commit is light ([`db::connect_light`], [`db::light_commit`]): a
    /// power cut or database crash may lose a ceremony in flight (its finish
    /// then answers `410 ceremony_expired` and the requester starts again),
    /// which spares each submission an fsync. The finish that consumes the
    /// ceremony commits durably, and that flush covers this write too.
    pub async fn put_ceremony(&self, c: &Ceremony) -> Result<(), Error> {
        let insert = sqlx::query(
            "INSERT INTO ceremonies (id, kind, site_id, state, context, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&c.id)
        .bind(c.kind.as_str())
        .bind(&c.site_id)
        .bind(&c.state)
        .bind(self.vault.seal(Field::CeremonyContext, &c.id, &c.context)?)
        .bind(c.created_at)
        .bind(c.expires_at);
        let _turn = self.writer_turn().await;
        match &self.light {
            // SQLite: the statement commits on its own, one round trip on the
            // writer's turn instead of three (`BEGIN`, `INSERT`, `COMMIT`).
            Some(light) => {
                insert.execute(light).await?;
            }
            None => {
                let mut tx = db::begin_write(&self.pool, self.backend).await?;
                db::light_commit(&mut tx).await?;
                insert.execute(&mut *tx).await?;
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// Atomically removes and returns an unexpired ceremony: each can be used once.
    pub async fn take_ceremony(
        &self,
        conn: &mut db::Connection,
        id: &str,
        kind: CeremonyKind,
        now: UnixTime,
    ) -> Result<Option<Ceremony>, Error> {
        let row = sqlx::query(
            "DELETE FROM ceremonies WHERE id = $1 AND kind = $2 AND expires_at > $3
             RETURNING id, site_id, state, context, created_at, expires_at",
        )
        .bind(id)
        .bind(kind.as_str())
        .bind(now)
        .fetch_optional(&mut *conn)
        .await?;
        row.map(|r| self.ceremony_from_row(&r, kind)).transpose()
    }

    /// Reads an unexpired ceremony without consuming it (to verify before
    /// taking the write lock; [`Store::take_ceremony`] then consumes it).
    pub async fn peek_ceremony(
        &self,
        id: &str,
        kind: CeremonyKind,
        now: UnixTime,
    ) -> Result<Option<Ceremony>, Error> {
        let row = sqlx::query(
            "SELECT id, site_id, state, context, created_at, expires_at FROM ceremonies
             WHERE id = $1 AND kind = $2 AND expires_at > $3",
        )
        .bind(id)
        .bind(kind.as_str())
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| self.ceremony_from_row(&r, kind)).transpose()
    }

    fn ceremony_from_row(&self, r: &AnyRow, kind: CeremonyKind) -> Result<Ceremony, Error> {
        let id: String = r.get("id");
        let context = self
            .vault
            .open(Field::CeremonyContext, &id, r.get("context"))?;
        Ok(Ceremony {
            id,
            kind,
            site_id: r.get("site_id"),
            state: r.get("state"),
            context,
            created_at: r.get("created_at"),
            expires_at: r.get("expires_at"),
        })
    }

    /// Waits for this process's turn to write, on SQLite: its single writer is
    /// then handed over in order instead of through `busy_timeout`'s sleeps.
    /// PostgreSQL locks rows, so writers do not queue here (`None`).
    pub async fn writer_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.backend {
            Backend::Sqlite => Some(self.writer.lock().await),
            Backend::Postgres => None,
        }
    }

    /// The lock behind [`Store::writer_turn`], to hold past the caller's
    /// borrow ([`crate::group_commit`]); `None` on PostgreSQL.
    pub fn writer(&self) -> Option<Arc<tokio::sync::Mutex<()>>> {
        match self.backend {
            Backend::Sqlite => Some(self.writer.clone()),
            Backend::Postgres => None,
        }
    }

    /// Binds a new passkey to a new requester; refuses a credential id already bound.
    pub async fn add_passkey(
        &self,
        conn: &mut db::Connection,
        key: &StoredPasskey,
        now: UnixTime,
    ) -> Result<(), Error> {
        let taken = sqlx::query("SELECT 1 FROM passkeys WHERE credential_id = $1")
            .bind(&key.credential_id)
            .fetch_optional(&mut *conn)
            .await?;
        if taken.is_some() {
            return Err(Error::CredentialAlreadyRegistered);
        }
        sqlx::query("INSERT INTO requesters (id, email, created_at) VALUES ($1, $2, $3)")
            .bind(&key.requester_id)
            .bind(
                self.vault
                    .seal(Field::RequesterEmail, &key.requester_id, &key.email)?,
            )
            .bind(now)
            .execute(&mut *conn)
            .await?;
        sqlx::query(
            "INSERT INTO passkeys (credential_id, requester_id, passkey, created_at, aaguid)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&key.credential_id)
        .bind(&key.requester_id)
        .bind(&key.passkey)
        .bind(now)
        .bind(&key.aaguid)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// Looks up a passkey by credential id.
    pub async fn passkey(&self, credential_id: &str) -> Result<Option<StoredPasskey>, Error> {
        let row = sqlx::query(
            "SELECT p.credential_id, p.requester_id, r.email, p.passkey, p.aaguid
             FROM passkeys p JOIN requesters r ON r.id = p.requester_id
             WHERE p.credential_id = $1",
        )
        .bind(credential_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let requester_id: String = r.get("requester_id");
        let email = self
            .vault
            .open(Field::RequesterEmail, &requester_id, r.get("email"))?;
        Ok(Some(StoredPasskey {
            credential_id: r.get("credential_id"),
            requester_id,
            email,
            passkey: r.get("passkey"),
            aaguid: r.get("aaguid"),
        }))
    }

    /// A passkey's serialised state, read inside a transaction.
    pub async fn passkey_json(
        conn: &mut db::Connection,
        credential_id: &str,
    ) -> Result<Option<PasskeyState>, Error> {
        let row = sqlx::query("SELECT passkey, aaguid FROM passkeys WHERE credential_id = $1")
            .bind(credential_id)
            .fetch_optional(&mut *conn)
            .await?;
        Ok(row.map(|r| PasskeyState {
            passkey: r.get("passkey"),
            aaguid: r.get("aaguid"),
        }))
    }

    /// Saves a passkey's updated state (signature counter, backup flags) after
    /// use if its stored state is still `as_read`; `Ok(false)` (nothing
    /// written) if it has changed since ([`crate::passkeys::count_use`]).
    pub async fn touch_passkey_if(
        conn: &mut db::Connection,
        credential_id: &str,
        as_read: &str,
        passkey: &str,
        now: UnixTime,
    ) -> Result<bool, Error> {
        let done = sqlx::query(
            "UPDATE passkeys SET passkey = $1, last_used_at = $2
             WHERE credential_id = $3 AND passkey = $4",
        )
        .bind(passkey)
        .bind(now)
        .bind(credential_id)
        .bind(as_read)
        .execute(&mut *conn)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Inserts a submission (and the patient-name index entries of its
    /// `document`, the parsed `s.document`); `Ok(false)` when the request
    /// number is already taken.
    pub async fn insert_submission(
        &self,
        conn: &mut db::Connection,
        s: &Submission,
        doc: &SignedDocument,
    ) -> Result<bool, Error> {
        let done = sqlx::query(
            "INSERT INTO submissions (request_number, ceremony_id, site_id, requester_id,
                 credential_id, document, digest, nonce, client_data_json, authenticator_data,
                 signature, user_verified, received_at, idempotency_key, deadline_days, time_zone)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
             ON CONFLICT (request_number) DO NOTHING",
        )
        .bind(&s.request_number)
        .bind(&s.ceremony_id)
        .bind(&s.site_id)
        .bind(&s.requester_id)
        .bind(&s.credential_id)
        .bind(
            self.vault
                .seal(Field::Document, &s.request_number, &s.document)?,
        )
        .bind(&s.digest)
        .bind(&s.nonce)
        .bind(&s.client_data_json)
        .bind(&s.authenticator_data)
        .bind(&s.signature)
        .bind(i64::from(s.user_verified))
        .bind(s.received_at)
        .bind(&s.idempotency_key)
        .bind(s.deadline_days)
        .bind(&s.time_zone)
        .execute(&mut *conn)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        let tokens = self.vault.name_tokens(&doc.summary().patient_name);
        insert_name_tokens(conn, &s.request_number, &tokens).await?;
        Ok(true)
    }

    /// Replaces the patient-name index entries of submission `number`.
    pub(crate) async fn index_name(
        &self,
        conn: &mut db::Connection,
        number: &str,
        tokens: &[String],
    ) -> Result<(), Error> {
        sqlx::query("DELETE FROM patient_name_tokens WHERE request_number = $1")
            .bind(number)
            .execute(&mut *conn)
            .await?;
        insert_name_tokens(conn, number, tokens).await
    }

    /// Request numbers whose patient name contains every word of `query` (whole
    /// words, ignoring case and accents), found through the blind index.
    pub async fn search_patient_name(&self, query: &str) -> Result<BTreeSet<String>, Error> {
        let mut found: Option<BTreeSet<String>> = None;
        for alternatives in self.vault.search_tokens(query) {
            let placeholders: Vec<String> =
                (1..=alternatives.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT DISTINCT request_number FROM patient_name_tokens WHERE token IN ({})",
                placeholders.join(", ")
            );
            let mut q = sqlx::query_scalar::<_, String>(&sql);
            for token in &alternatives {
                q = q.bind(token);
            }
            let numbers: BTreeSet<String> = q.fetch_all(&self.pool).await?.into_iter().collect();
            found = Some(match found {
                None => numbers,
                Some(prev) => prev.intersection(&numbers).cloned().collect(),
            });
        }
        Ok(found.unwrap_or_default())
    }

    /// The stored submission with `s`'s requester and idempotency key, if `s` has
    /// one (read in the finishing transaction).
    pub async fn idempotent_match(
        &self,
        conn: &mut db::Connection,
        s: &Submission,
    ) -> Result<Option<Submission>, Error> {
        let Some(key) = &s.idempotency_key else {
            return Ok(None);
        };
        let row = sqlx::query(&format!(
            "{SELECT_SUBMISSION} WHERE requester_id = $1 AND idempotency_key = $2"
        ))
        .bind(&s.requester_id)
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?;
        row.as_ref()
            .map(|r| self.submission_from_row(r))
            .transpose()
    }

    /// Records that ceremony `ceremony_id`, finished with `signature`, was
    /// answered with the earlier submission `number` (same idempotency key),
    /// until `expires_at`, so a retry of that finish gets the same answer.
    pub async fn remember_answer(
        conn: &mut db::Connection,
        ceremony_id: &str,
        number: &str,
        signature: &[u8],
        expires_at: i64,
    ) -> Result<(), Error> {
        sqlx::query(
            "INSERT INTO signing_answers (ceremony_id, request_number, signature_sha256, expires_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(ceremony_id)
        .bind(number)
        .bind(hex::encode(Sha256::digest(signature)))
        .bind(expires_at)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// The submission ceremony `ceremony_id` was answered with by
    /// [`Store::remember_answer`], if it was finished with `signature` and the
    /// record has not expired.
    pub async fn remembered_answer(
        &self,
        ceremony_id: &str,
        signature: &[u8],
        now: i64,
    ) -> Result<Option<Submission>, Error> {
        let row = sqlx::query(&format!(
            "{SELECT_SUBMISSION} WHERE request_number = (SELECT request_number FROM signing_answers
                 WHERE ceremony_id = $1 AND signature_sha256 = $2 AND expires_at > $3)"
        ))
        .bind(ceremony_id)
        .bind(hex::encode(Sha256::digest(signature)))
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref()
            .map(|r| self.submission_from_row(r))
            .transpose()
    }

    /// The submission produced by a ceremony, if any (for idempotent retries).
    pub async fn submission_by_ceremony(
        &self,
        ceremony_id: &str,
    ) -> Result<Option<Submission>, Error> {
        let row = sqlx::query(&format!("{SELECT_SUBMISSION} WHERE ceremony_id = $1"))
            .bind(ceremony_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(|r| self.submission_from_row(r))
            .transpose()
    }

    /// The submissions `requester_id` signed on `site_id`, newest first.
    pub async fn submissions_of(
        &self,
        requester_id: &str,
        site_id: &str,
    ) -> Result<Vec<Submission>, Error> {
        let rows = sqlx::query(&format!(
            "{SELECT_SUBMISSION} WHERE requester_id = $1 AND site_id = $2
             ORDER BY received_at DESC, request_number"
        ))
        .bind(requester_id)
        .bind(site_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| self.submission_from_row(r)).collect()
    }

    /// All submissions, newest first.
    pub async fn submissions(&self) -> Result<Vec<Submission>, Error> {
        let rows = sqlx::query(&format!(
            "{SELECT_SUBMISSION} ORDER BY received_at DESC, request_number"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| self.submission_from_row(r)).collect()
    }

    /// Writes a consistent copy of the live SQLite database to the new file
    /// `path` (`VACUUM INTO`: one read transaction, so writers carry on).
    pub async fn backup(&self, path: &std::path::Path) -> Result<(), Error> {
        if self.backend == Backend::Postgres {
            return Err(Error::Config(
                "backup copies SQLite databases; for PostgreSQL use pg_dump (docs/operations.md)"
                    .into(),
            ));
        }
        if path.exists() {
            return Err(Error::Config(format!(
                "{} already exists: back up to a new file",
                path.display()
            )));
        }
        sqlx::query("VACUUM INTO $1")
            .bind(path.to_string_lossy().into_owned())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Number of rows in a table; for tests and diagnostics.
    pub async fn count(&self, table: Table) -> Result<i64, Error> {
        let sql = format!("SELECT COUNT(*) FROM {}", table.name());
        Ok(sqlx::query_scalar(&sql).fetch_one(&self.pool).await?)
    }
}

/// Adds the patient-name index entries of submission `number`, in one statement.
async fn insert_name_tokens(
    conn: &mut db::Connection,
    number: &str,
    tokens: &[String],
) -> Result<(), Error> {
    if tokens.is_empty() {
        return Ok(());
    }
    let rows: Vec<String> = (2..tokens.len() + 2)
        .map(|i| format!("($1, ${i})"))
        .collect();
    let sql = format!(
        "INSERT INTO patient_name_tokens (request_number, token) VALUES {}",
        rows.join(", ")
    );
    let mut insert = sqlx::query(&sql).bind(number);
    for token in tokens {
        insert = insert.bind(token);
    }
    insert.execute(&mut *conn).await?;
    Ok(())
}

/// Tables whose size can be asked for with [`Store::count`].
#[derive(Clone, Copy, Debug)]
pub enum Table {
    /// `ceremonies`.
    Ceremonies,
    /// `passkeys`.
    Passkeys,
    /// `submissions`.
    Submissions,
    /// `uploads`.
    Uploads,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Ceremonies => "ceremonies",
            Table::Passkeys => "passkeys",
            Table::Submissions => "submissions",
            Table::Uploads => "uploads",
        }
    }
}

const SELECT_SUBMISSION: &str = "SELECT request_number, ceremony_id, site_id, requester_id,
    credential_id, document, digest, nonce, client_data_json, authenticator_data, signature,
    user_verified, received_at, idempotency_key, deadline_days, time_zone FROM submissions";

impl Store {
    fn submission_from_row(&self, r: &AnyRow) -> Result<Submission, Error> {
        let request_number: String = r.get("request_number");
        let document = self
            .vault
            .open(Field::Document, &request_number, r.get("document"))?;
        Ok(Submission {
            request_number,
            ceremony_id: r.get("ceremony_id"),
            site_id: r.get("site_id"),
            requester_id: r.get("requester_id"),
            credential_id: r.get("credential_id"),
            document,
            digest: r.get("digest"),
            nonce: r.get("nonce"),
            client_data_json: r.get("client_data_json"),
            authenticator_data: r.get("authenticator_data"),
            signature: r.get("signature"),
            user_verified: r.get::<i64, _>("user_verified") != 0,
            received_at: r.get("received_at"),
            idempotency_key: r.get("idempotency_key"),
            deadline_days: r.get("deadline_days"),
            time_zone: r.get("time_zone"),
        })
    }
}

/// Evidence bundles: what is captured at signing, and the seal key.
impl Store {
    /// Stores the evidence captured with submission `number` (same transaction).
    pub async fn insert_evidence(
        &self,
        conn: &mut db::Connection,
        number: &str,
        e: &SigningEvidence,
    ) -> Result<(), Error> {
        sqlx::query(
            "INSERT INTO submission_evidence (request_number, client_ip, user_agent,
                 public_key_cose, aaguid, flags, sign_count, verifier_version, rp_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(number)
        .bind(
            self.vault
                .seal_opt(Field::ClientIp, number, e.client_ip.as_deref())?,
        )
        .bind(
            self.vault
                .seal_opt(Field::UserAgent, number, e.user_agent.as_deref())?,
        )
        .bind(&e.public_key_cose)
        .bind(&e.aaguid)
        .bind(i64::from(e.flags))
        .bind(i64::from(e.sign_count))
        .bind(&e.verifier_version)
        .bind(&e.rp_id)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// One submission by request number.
    pub async fn submission(&self, number: &str) -> Result<Option<Submission>, Error> {
        let row = sqlx::query(&format!("{SELECT_SUBMISSION} WHERE request_number = $1"))
            .bind(number)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(|r| self.submission_from_row(r))
            .transpose()
    }

    /// The evidence captured with submission `number`.
    pub async fn signing_evidence(&self, number: &str) -> Result<Option<SigningEvidence>, Error> {
        let row = sqlx::query(
            "SELECT client_ip, user_agent, public_key_cose, aaguid, flags, sign_count,
                 verifier_version, rp_id FROM submission_evidence WHERE request_number = $1",
        )
        .bind(number)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let flags: i64 = r.get("flags");
        let sign_count: i64 = r.get("sign_count");
        let corrupt = |what: &str| Error::Internal(format!("stored evidence: {what}"));
        Ok(Some(SigningEvidence {
            client_ip: self
                .vault
                .open_opt(Field::ClientIp, number, r.get("client_ip"))?,
            user_agent: self
                .vault
                .open_opt(Field::UserAgent, number, r.get("user_agent"))?,
            public_key_cose: r.get("public_key_cose"),
            aaguid: r.get("aaguid"),
            flags: u8::try_from(flags).map_err(|_| corrupt("flags"))?,
            sign_count: u32::try_from(sign_count).map_err(|_| corrupt("sign_count"))?,
            verifier_version: r.get("verifier_version"),
            rp_id: r.get("rp_id"),
        }))
    }

    /// The email address a requester gave when creating their passkey.
    pub async fn requester_email(&self, requester_id: &str) -> Result<Option<String>, Error> {
        let sealed: Option<String> =
            sqlx::query_scalar("SELECT email FROM requesters WHERE id = $1")
                .bind(requester_id)
                .fetch_optional(&self.pool)
                .await?;
        self.vault
            .open_opt(Field::RequesterEmail, requester_id, sealed.as_deref())
    }

    /// The seal key kept in the database: the first one stored, inserting
    /// `(key_id, pem)` if there is none yet. Safe when instances start
    /// together: on PostgreSQL they take turns on a lock (without it each
    /// would see no key, insert its own, and seal with a different key).
    pub async fn seal_key_or_insert(&self, key_id: &str, pem: &str) -> Result<String, Error> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let mut tx = self.begin().await?;
        crate::limits::lock(&mut tx, "seal-key").await?;
        sqlx::query(
            "INSERT INTO seal_keys (key_id, private_key, created_at)
             SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM seal_keys)",
        )
        .bind(key_id)
        .bind(pem)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let stored: String = sqlx::query_scalar(
            "SELECT private_key FROM seal_keys ORDER BY created_at, key_id LIMIT 1",
        )
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(stored)
    }
}

/// Facts the staff console adds to a submission, and raw access for its modules.
impl Store {
    /// The connection pool, for the console's own queries (`console/`).
    pub fn pool(&self) -> &db::Pool {
        &self.pool
    }

    /// When the requester confirmed their email address (unix seconds), if they did.
    pub async fn requester_email_verified_at(
        &self,
        requester_id: &str,
    ) -> Result<Option<i64>, Error> {
        let at: Option<Option<i64>> =
            sqlx::query_scalar("SELECT email_verified_at FROM requesters WHERE id = $1")
                .bind(requester_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(at.flatten())
    }

    /// Who matched submission `number`'s requester to a chart, and when (unix seconds).
    pub async fn chart_match(&self, number: &str) -> Result<Option<(String, i64)>, Error> {
        let row = sqlx::query(
            "SELECT identity_matched_by, identity_matched_at FROM request_state
             WHERE request_number = $1 AND identity_matched_at IS NOT NULL",
        )
        .bind(number)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| (r.get("identity_matched_by"), r.get("identity_matched_at"))))
    }
}
