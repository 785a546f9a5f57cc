//! Signing in with a discoverable passkey: the browser offers the passkeys it
//! holds for the relying party, the verifier finds the one used by its
//! credential id, checks the assertion with webauthn-rs and opens a session.

use axum::http::HeaderMap;
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use recordpass_request::api::{FinishSignIn, SignInStarted, SignedIn};
use serde_json::json;
use webauthn_rs::prelude::{AuthenticationResult, Passkey, Uuid, WebauthnError};

use super::session::{self, IDLE_TIMEOUT_SECS, MAX_SESSION_SECS, RequesterSession};
use crate::{
    AppState, Error,
    config::Site,
    console::audit,
    passkeys::{count_use, from_json},
    routes::check_origin,
    store::{CeremonyKind, StoredPasskey},
};

/// Stores a single-use sign-in ceremony and returns its browser options.
pub async fn start(state: &AppState, site: &Site) -> Result<SignInStarted, Error> {
    let (options, ceremony_state) = state.passkeys.start_sign_in()?;
    let ceremony_id = state
        .open_ceremony(CeremonyKind::SignIn, &site.id, ceremony_state, "{}".into())
        .await?;
    Ok(SignInStarted {
        ceremony_id,
        options,
    })
}

/// Every way an assertion can fail to sign someone in answers alike, so the
/// answer says nothing about which credential ids exist.
fn refused() -> Error {
    Error::PasskeyRejected(WebauthnError::CredentialNotFound)
}

/// Verifies the assertion against the passkey its credential id names (user
/// handle, origin, challenge, user verification, signature, counter), then, in
/// one write transaction, consumes the ceremony, applies the use to the stored
/// passkey with [`count_use`] (which refuses a counter that did not advance)
/// and opens a session. A failed verification still uses the ceremony up.
///
/// As for signing, everything that reads or verifies happens before the
/// writer's turn: on SQLite the transaction holds the single writer and one
/// pooled connection, and waits for nothing else.
pub async fn finish(
    state: &AppState,
    ceremony_id: &str,
    headers: &HeaderMap,
    body: &FinishSignIn,
) -> Result<SignedIn, Error> {
    let now = state.clock.unix();
    let ceremony = state
        .store
        .peek_ceremony(ceremony_id, CeremonyKind::SignIn, now)
        .await?
        .ok_or(Error::CeremonyExpired)?;
    let credential_id = URL_SAFE_NO_PAD.encode(&body.credential.raw_id);
    let verified = verify(state, &ceremony.site_id, &ceremony.state, headers, body).await;

    let _writer = state.store.writer_turn().await;
    let mut tx = state.store.begin().await?;
    if state
        .store
        .take_ceremony(&mut tx, ceremony_id, CeremonyKind::SignIn, now)
        .await?
        .is_none()
    {
        return Err(Error::CeremonyExpired); // a concurrent finish took it
    }
    let (key, result) = match verified {
        Ok(v) => v,
        Err(e) => {
            tx.commit().await?; // the ceremony is used up
            return Err(e);
        }
    };
    // The counter and backup flags, applied to the passkey as it is now, by
    // the rule signing uses too (two sign-ins finished out of order or at once).
    if let Err(e) = count_use(&mut tx, &credential_id, &key.passkey, &result, now).await? {
        tx.commit().await?; // the ceremony stays used up
        return Err(e);
    }
    let who = RequesterSession {
        requester_id: key.requester_id.clone(),
        site_id: ceremony.site_id.clone(),
        credential_id: credential_id.clone(),
    };
    let token = session::create(&mut tx, &who, now).await?;
    let event = audit::Event {
        actor: "requester",
        action: "requester_sign_in",
        target: &key.requester_id,
        detail: json!({"site": ceremony.site_id}),
    };
    audit::append(&mut tx, now, event).await?;
    tx.commit().await?;
    tracing::info!(site = %ceremony.site_id, "requester signed in");
    Ok(SignedIn {
        session_token: token,
        idle_timeout_secs: IDLE_TIMEOUT_SECS.unsigned_abs(),
        expires_in_secs: MAX_SESSION_SECS.unsigned_abs(),
        credential_id,
        email: key.email,
    })
}

/// Checks the assertion against the stored passkey its credential id names;
/// the passkey as read (its state is what [`count_use`] compares against) and
/// the verification result.
async fn verify(
    state: &AppState,
    site_id: &str,
    ceremony_state: &str,
    headers: &HeaderMap,
    body: &FinishSignIn,
) -> Result<(StoredPasskey, AuthenticationResult), Error> {
    let site = state.config.site(site_id).ok_or(Error::UnknownSite)?;
    check_origin(headers, site)?;
    let credential = &body.credential;
    let credential_id = URL_SAFE_NO_PAD.encode(&credential.raw_id);
    let key = state
        .store
        .passkey(&credential_id)
        .await?
        .ok_or_else(refused)?;
    // The authenticator's user handle must name the passkey's owner.
    let owner = Uuid::parse_str(&key.requester_id).map_err(|_| refused())?;
    let handle = credential
        .response
        .user_handle
        .as_ref()
        .ok_or_else(refused)?;
    if handle.as_slice() != owner.as_bytes() {
        return Err(refused());
    }
    let passkey: Passkey = from_json(&key.passkey)?;
    // A counter behind the stored one (webauthn-rs checks it against the
    // passkey as loaded here) is `passkey_counter_regressed`, as for
    // signing: only the holder of the key can get that far, so it tells
    // nobody else which credentials exist.
    let result = state
        .passkeys
        .finish_sign_in(credential, ceremony_state, &passkey)
        .map_err(|e| match e {
            Error::PasskeyRejected(
                WebauthnError::InvalidRPOrigin | WebauthnError::CredentialPossibleCompromise,
            ) => e,
            Error::PasskeyRejected(_) => refused(),
            other => other,
        })?;
    if !result.user_verified() {
        return Err(refused());
    }
    Ok((key, result))
}
