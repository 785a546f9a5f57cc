//! Creating a passkey bound to the requester's email address.

use axum::http::HeaderMap;
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use recordpass_request::{
    api::{FinishRegistration, Registered, RegistrationStarted, StartRegistration},
    validate_name,
};
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::Uuid;

use crate::{
    AppState, Error,
    config::Site,
    email::verification,
    evidence::registered_aaguid,
    passkeys::{from_json, to_json},
    routes::check_origin,
    store::{Ceremony, CeremonyKind, StoredPasskey},
};

/// What a registration ceremony is for.
#[derive(Serialize, Deserialize)]
struct RegistrationContext {
    requester_id: Uuid,
    email: String,
    /// The email verification whose token [`finish`] uses up.
    #[serde(default)]
    verification_id: String,
}

/// Checks the email token and name, stores the ceremony and returns browser
/// options. The passkey is bound to the address the token proves.
pub async fn start(
    state: &AppState,
    site: &Site,
    body: &StartRegistration,
) -> Result<RegistrationStarted, Error> {
    let name = validate_name(&body.display_name).map_err(|e| Error::InvalidRequest(vec![e]))?;
    let verification::VerifiedEmail {
        verification_id,
        email,
    } = verification::check_token(state, &site.id, &body.email_token).await?;
    let requester_id = Uuid::new_v4();
    let (options, ceremony_state) =
        state
            .passkeys
            .start_registration(requester_id, &email, &name)?;
    let context = to_json(&RegistrationContext {
        requester_id,
        email,
        verification_id,
    })?;
    let ceremony_id = state
        .open_ceremony(
            CeremonyKind::Registration,
            &site.id,
            ceremony_state,
            context,
        )
        .await?;
    Ok(RegistrationStarted {
        ceremony_id,
        options,
    })
}

/// Consumes the ceremony, verifies the new credential and binds it, using up
/// the email token in the same transaction. A failed verification still uses
/// the ceremony up (but not the token).
pub async fn finish(
    state: &AppState,
    ceremony_id: &str,
    headers: &HeaderMap,
    body: &FinishRegistration,
) -> Result<Registered, Error> {
    let now = state.clock.unix();
    let mut tx = state.store.begin().await?;
    let ceremony = state
        .store
        .take_ceremony(&mut tx, ceremony_id, CeremonyKind::Registration, now)
        .await?
        .ok_or(Error::CeremonyExpired)?;
    let verified = verify(state, &ceremony, headers, body);
    let (key, verification_id) = match verified {
        Ok(key) => key,
        Err(e) => {
            tx.commit().await?;
            return Err(e);
        }
    };
    let email_verified_at = match verification::consume(&mut tx, &verification_id, now).await {
        Ok(at) => at,
        Err(e) => {
            tx.commit().await?;
            return Err(e);
        }
    };
    state.store.add_passkey(&mut tx, &key, now).await?;
    verification::record(&mut tx, &key.requester_id, email_verified_at).await?;
    tx.commit().await?;
    tracing::info!(site = %ceremony.site_id, "passkey registered");
    Ok(Registered {
        credential_id: key.credential_id,
    })
}

fn verify(
    state: &AppState,
    ceremony: &Ceremony,
    headers: &HeaderMap,
    body: &FinishRegistration,
) -> Result<(StoredPasskey, String), Error> {
    let site = state
        .config
        .site(&ceremony.site_id)
        .ok_or(Error::UnknownSite)?;
    check_origin(headers, site)?;
    let context: RegistrationContext = from_json(&ceremony.context)?;
    let passkey = state
        .passkeys
        .finish_registration(&body.credential, &ceremony.state)?;
    let key = StoredPasskey {
        credential_id: URL_SAFE_NO_PAD.encode(passkey.cred_id()),
        requester_id: context.requester_id.to_string(),
        email: context.email,
        passkey: to_json(&passkey)?,
        aaguid: registered_aaguid(&body.credential.response.attestation_object),
    };
    Ok((key, context.verification_id))
}
