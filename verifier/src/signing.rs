//! Signing a request: the passkey assertion's challenge is derived from the
//! document digest, so the signature covers exactly what the requester saw.

use axum::http::HeaderMap;
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use recordpass_request::{
    DOCUMENT_FORMAT, Digest, Nonce, SignedDocument, SiteIdentity,
    api::{FinishSigning, SigningStarted, StartSigning, Submitted},
    signing_challenge, signing_challenge_b64,
};
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{AuthenticationResult, Passkey};

use crate::{
    AppState, Error,
    config::Site,
    console::workflow::RequestState,
    evidence::{ClientInfo, SigningEvidence},
    passkeys::{count_use, from_json, to_json},
    returning::session::RequesterSession,
    routes::check_origin,
    store::{Ceremony, CeremonyKind, Store, Submission},
    tokens::{random_nonce, request_number},
    uploads,
    webhooks::{self, EventType},
};

/// What a signing ceremony is for.
#[derive(Serialize, Deserialize)]
struct SigningContext {
    credential_id: String,
    requester_id: String,
    /// Canonical document bytes (UTF-8).
    document: String,
    digest: Digest,
    nonce: Nonce,
    /// The client's idempotency key, if it sent one.
    #[serde(default)]
    idempotency_key: Option<String>,
}

/// Checks the shape of a client's idempotency key.
fn check_idempotency_key(key: Option<&str>) -> Result<(), Error> {
    let ok = |k: &str| {
        (16..=64).contains(&k.len())
            && k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    match key {
        Some(k) if !ok(k) => Err(Error::MalformedJson(
            "idempotency_key: 16 to 64 characters of A-Z a-z 0-9 - _".into(),
        )),
        _ => Ok(()),
    }
}

/// Validates the request, renders the document and starts an assertion whose
/// challenge is the document's signing challenge.
///
/// A returning requester signs in first and sends their session: the
/// credential must then be one of theirs, on this site. Either way the
/// passkey is already bound to a verified address, so no new email check.
pub async fn start(
    state: &AppState,
    site: &Site,
    body: StartSigning,
    session: Option<&RequesterSession>,
) -> Result<SigningStarted, Error> {
    check_idempotency_key(body.idempotency_key.as_deref())?;
    if let Some(format) = body.format.as_deref().filter(|f| *f != DOCUMENT_FORMAT) {
        // The web team needs to know: every requester on that page is turned away.
        tracing::warn!(
            site = %site.id,
            widget_format = %format.chars().filter(char::is_ascii_graphic).take(64).collect::<String>(),
            verifier_format = DOCUMENT_FORMAT,
            "a page embeds an outdated widget release: give its web team the current snippet"
        );
        return Err(Error::WidgetOutdated);
    }
    let today = state.clock.now().date();
    let request = body
        .request
        .validate_for(today, &crate::site_info::offer(site))
        .map_err(Error::InvalidRequest)?;
    let key = state
        .store
        .passkey(&body.credential_id)
        .await?
        .ok_or(Error::CredentialUnknown)?;
    if session.is_some_and(|s| s.requester_id != key.requester_id || s.site_id != site.id) {
        return Err(Error::CredentialUnknown);
    }
    if !key.email.eq_ignore_ascii_case(&request.requester.email) {
        return Err(Error::EmailMismatch);
    }
    if !request.requester.attachments.is_empty() {
        let mut conn = state.store.pool().acquire().await?;
        // Signed again after a lost answer: the finish returns the submission
        // stored under this key (or 409), which already claimed the files.
        let idempotency_key = body.idempotency_key.as_deref();
        if !stored_under(&mut conn, &key.requester_id, idempotency_key).await? {
            let attachments = &request.requester.attachments;
            let missing =
                uploads::missing(&mut conn, &site.id, attachments, state.clock.unix()).await?;
            if !missing.is_empty() {
                return Err(Error::InvalidRequest(missing));
            }
        }
    }
    let passkey: Passkey = from_json(&key.passkey)?;
    let site_identity = SiteIdentity {
        id: site.id.clone(),
        name: site.name.clone(),
    };
    let document = SignedDocument::new(site_identity, request, body.lang);
    let digest = document.digest();
    let nonce = random_nonce();
    let (options, ceremony_state) = state
        .passkeys
        .start_signing(&passkey, signing_challenge(&digest, &nonce))?;
    let canonical = String::from_utf8(document.canonical_bytes())
        .map_err(|e| Error::Internal(format!("canonical document: {e}")))?;
    let context = SigningContext {
        credential_id: key.credential_id,
        requester_id: key.requester_id,
        document: canonical,
        digest,
        nonce,
        idempotency_key: body.idempotency_key,
    };
    let ceremony_id = state
        .open_ceremony(
            CeremonyKind::Signing,
            &site.id,
            ceremony_state,
            to_json(&context)?,
        )
        .await?;
    Ok(SigningStarted {
        ceremony_id,
        document,
        digest,
        nonce,
        options,
    })
}

/// True if `requester_id` has a submission stored under idempotency `key`.
async fn stored_under(
    conn: &mut crate::db::Connection,
    requester_id: &str,
    key: Option<&str>,
) -> Result<bool, Error> {
    let Some(key) = key else {
        return Ok(false);
    };
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM submissions WHERE requester_id = $1 AND idempotency_key = $2",
    )
    .bind(requester_id)
    .bind(key)
    .fetch_one(&mut *conn)
    .await?;
    Ok(count > 0)
}

/// Verifies the assertion against the ceremony, then consumes the ceremony and
/// stores the submission in one transaction (shared with other finishes
/// waiting at the same time: [`crate::group_commit`]). Returns `(submission, true)` when
/// newly stored, and `(submission, false)` when the same assertion is retried
/// after success (or the document was already stored under its idempotency key).
///
/// The signature is checked before the write transaction begins, so
/// verifications run in parallel and the database's single writer (SQLite) is
/// held only for the few statements that consume and store ([`store`]); a
/// failed verification still uses the ceremony up.
pub async fn finish(
    state: &AppState,
    ceremony_id: &str,
    headers: &HeaderMap,
    client: &ClientInfo,
    body: &FinishSigning,
) -> Result<(Submitted, bool), Error> {
    let now = state.clock.unix();
    let Some(ceremony) = state
        .store
        .peek_ceremony(ceremony_id, CeremonyKind::Signing, now)
        .await?
    else {
        return retried(state, ceremony_id, body).await.map(|s| (s, false));
    };
    let context: SigningContext = from_json(&ceremony.context)?;
    let stored = {
        let mut conn = state.store.pool().acquire().await?;
        Store::passkey_json(&mut conn, &context.credential_id).await?
    };
    let verified = stored.ok_or(Error::CredentialUnknown).and_then(|stored| {
        let passkey: Passkey = from_json(&stored.passkey)?;
        let (submission, result) = verify(state, &ceremony, context, headers, body, now)?;
        let evidence = SigningEvidence::capture(
            client,
            &passkey,
            stored.aaguid,
            &submission.authenticator_data,
            Some(&state.config.relying_party.id),
        )?;
        let document = serde_json::from_str(&submission.document)
            .map_err(|e| Error::Internal(format!("ceremony document: {e}")))?;
        Ok(Verified {
            submission,
            document,
            result,
            evidence,
            passkey_as_read: stored.passkey,
        })
    });

    let finish = Finish {
        ceremony_id: ceremony_id.to_owned(),
        now,
        verified,
    };
    match state.finishes.store(state, finish).await? {
        Stored::New(submission) => {
            state.webhooks.wake();
            tracing::info!(site = %submission.site_id, number = %submission.request_number, "request signed and stored");
            Ok((submitted(&submission)?, true))
        }
        Stored::Earlier(original) => Ok((original, false)),
        // A concurrent finish of the same ceremony consumed it first.
        Stored::Consumed => retried(state, ceremony_id, body).await.map(|s| (s, false)),
    }
}

/// A verified (or refused) finish, waiting to be stored ([`crate::group_commit`]).
pub struct Finish {
    ceremony_id: String,
    now: i64,
    /// What to store; or why the assertion was refused (the ceremony is used
    /// up all the same).
    verified: Result<Verified, Error>,
}

/// A verified assertion: the submission and its document, the verification
/// result (counter, flags), the evidence, and the passkey's stored state it
/// was verified with. Prepared before the writer's turn, which is serial.
struct Verified {
    submission: Submission,
    document: SignedDocument,
    result: AuthenticationResult,
    evidence: SigningEvidence,
    passkey_as_read: String,
}

/// What storing a [`Finish`] did.
pub enum Stored {
    /// Stored now.
    New(Box<Submission>),
    /// Signed again after a lost answer: the submission stored first stands.
    Earlier(Submitted),
    /// Another finish consumed the ceremony first.
    Consumed,
}

/// How storing a [`Finish`] ended; [`Finish::answer`] turns it into the reply
/// once the transaction has committed.
pub enum Outcome {
    /// Stored (or found stored before).
    Stored(Stored),
    /// Refused; the ceremony is used up all the same.
    Refused(Error),
    /// Refused for the reason the finish already carries (verification
    /// failed); the ceremony is used up all the same.
    RefusedAtVerification,
}

impl Finish {
    /// The reply to this finish, given how storing it ended.
    pub fn answer(self, outcome: Outcome) -> Result<Stored, Error> {
        match (outcome, self.verified) {
            (Outcome::Stored(stored), _) => Ok(stored),
            (Outcome::Refused(e), _) | (Outcome::RefusedAtVerification, Err(e)) => Err(e),
            (Outcome::RefusedAtVerification, Ok(_)) => Err(Error::Internal(
                "a verified finish was refused at verification".into(),
            )),
        }
    }
}

/// Consumes the ceremony and stores the submission on `conn`, inside the
/// caller's transaction (or savepoint). `Err` means roll this finish back;
/// an [`Outcome`] keeps its writes (a refusal still uses the ceremony up).
/// Takes the finish by reference: a batch that has to be rolled back is
/// stored again ([`crate::group_commit`]).
pub(crate) async fn store(
    state: &AppState,
    conn: &mut crate::db::Connection,
    finish: &Finish,
) -> Result<Outcome, Error> {
    let now = finish.now;
    if state
        .store
        .take_ceremony(conn, &finish.ceremony_id, CeremonyKind::Signing, now)
        .await?
        .is_none()
    {
        return Ok(Outcome::Stored(Stored::Consumed));
    }
    let Ok(verified) = &finish.verified else {
        return Ok(Outcome::RefusedAtVerification);
    };
    let mut submission = verified.submission.clone();
    let credential_id = &submission.credential_id;
    let counted = count_use(
        conn,
        credential_id,
        &verified.passkey_as_read,
        &verified.result,
        now,
    );
    if let Err(e) = counted.await? {
        return Ok(Outcome::Refused(e)); // the ceremony stays used up
    }
    if let Some(original) = state.store.idempotent_match(conn, &submission).await? {
        // Signed again after a lost answer: the first submission stands, and
        // stays this ceremony's answer should this answer be lost too.
        if original.digest != submission.digest {
            return Ok(Outcome::Refused(Error::IdempotencyKeyReused));
        }
        let (ceremony, number) = (&finish.ceremony_id, &original.request_number);
        let until = now + ANSWER_KEPT_SECS;
        Store::remember_answer(conn, ceremony, number, &submission.signature, until).await?;
        return Ok(Outcome::Stored(Stored::Earlier(submitted(&original)?)));
    }
    let document = &verified.document;
    while !state
        .store
        .insert_submission(conn, &submission, document)
        .await?
    {
        submission.request_number = request_number();
    }
    // Each file the document names is linked now, or nothing of this finish
    // is stored (the caller rolls it back).
    uploads::claim(conn, &submission.request_number, document, now).await?;
    state
        .store
        .insert_evidence(conn, &submission.request_number, &verified.evidence)
        .await?;
    webhooks::request_event(
        state,
        conn,
        EventType::SubmissionReceived,
        &submission,
        &RequestState::received(),
        None,
    )
    .await?;
    Ok(Outcome::Stored(Stored::New(Box::new(submission))))
}

/// How long a ceremony answered with an earlier submission (same
/// idempotency key) keeps that answer for a retry of its finish.
pub const ANSWER_KEPT_SECS: i64 = 60 * 60;

/// A retry of an assertion that already succeeded gets the same answer,
/// whether this ceremony stored the submission or was answered with one an
/// earlier ceremony stored under the same idempotency key; anything else on a
/// used or expired ceremony is refused.
async fn retried(
    state: &AppState,
    ceremony_id: &str,
    body: &FinishSigning,
) -> Result<Submitted, Error> {
    let response = &body.credential.response;
    match state.store.submission_by_ceremony(ceremony_id).await? {
        Some(s)
            if s.signature == response.signature
                && s.client_data_json == response.client_data_json =>
        {
            submitted(&s)
        }
        Some(_) => Err(Error::CeremonyExpired),
        None => {
            let now = state.clock.unix();
            let answer = state
                .store
                .remembered_answer(ceremony_id, &response.signature, now);
            answer
                .await?
                .as_ref()
                .map_or(Err(Error::CeremonyExpired), submitted)
        }
    }
}

/// Checks origin, credential, assertion and challenge; returns the submission
/// to store and the verification result (counter, flags).
fn verify(
    state: &AppState,
    ceremony: &Ceremony,
    context: SigningContext,
    headers: &HeaderMap,
    body: &FinishSigning,
    now: i64,
) -> Result<(Submission, AuthenticationResult), Error> {
    let site = state
        .config
        .site(&ceremony.site_id)
        .ok_or(Error::UnknownSite)?;
    check_origin(headers, site)?;
    let credential = &body.credential;
    if URL_SAFE_NO_PAD.encode(&credential.raw_id) != context.credential_id {
        return Err(Error::CredentialUnknown);
    }
    let result = state.passkeys.finish_signing(credential, &ceremony.state)?;
    // Defence in depth: re-derive the challenge from the stored digest and nonce.
    let client_data: serde_json::Value =
        serde_json::from_slice(&credential.response.client_data_json)
            .map_err(|e| Error::Internal(format!("clientDataJSON after verification: {e}")))?;
    let expected = signing_challenge_b64(&context.digest, &context.nonce);
    if client_data["challenge"].as_str() != Some(expected.as_str()) || !result.user_verified() {
        return Err(Error::Internal(
            "assertion does not cover the document digest".into(),
        ));
    }
    let submission = Submission {
        request_number: request_number(),
        ceremony_id: ceremony.id.clone(),
        site_id: ceremony.site_id.clone(),
        requester_id: context.requester_id,
        credential_id: context.credential_id,
        document: context.document,
        digest: context.digest.to_hex(),
        nonce: context.nonce.to_b64(),
        client_data_json: credential.response.client_data_json.clone(),
        authenticator_data: credential.response.authenticator_data.clone(),
        signature: credential.response.signature.clone(),
        user_verified: result.user_verified(),
        received_at: now,
        idempotency_key: context.idempotency_key,
        // The deadline terms it is received under stay with it.
        deadline_days: Some(site.days_to_act()),
        time_zone: Some(site.zone().name().to_owned()),
    };
    Ok((submission, result))
}

fn submitted(s: &Submission) -> Result<Submitted, Error> {
    let received = crate::clock::rfc3339(s.received_at)
        .ok_or_else(|| Error::Internal("stored receipt time out of range".into()))?;
    let digest =
        Digest::from_hex(&s.digest).ok_or_else(|| Error::Internal("stored digest".into()))?;
    Ok(Submitted {
        request_number: s.request_number.clone(),
        digest,
        received_at: received,
    })
}
