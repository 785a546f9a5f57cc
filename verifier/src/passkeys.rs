//! Passkey ceremonies (webauthn-rs), with the signing challenge bound to a document digest.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::Value;
use webauthn_rs::prelude::{
    AuthenticationResult, CreationChallengeResponse, Credential, DiscoverableAuthentication,
    Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, RequestChallengeResponse, Uuid, Webauthn, WebauthnBuilder,
};

use webauthn_rs_proto::ResidentKeyRequirement;

use crate::{Config, Error, db, store::Store};

/// The relying party: creates passkeys and checks signatures made with them.
pub struct Passkeys {
    webauthn: Webauthn,
}

impl Passkeys {
    /// Builds the relying party from the configured RP ID and every site origin.
    pub fn new(config: &Config) -> Result<Passkeys, Error> {
        let origins = config.all_origins();
        let first = origins
            .first()
            .ok_or_else(|| Error::Config("no site origins".into()))?;
        let mut builder = WebauthnBuilder::new(&config.relying_party.id, first)
            .map_err(|e| Error::Config(format!("relying party: {e}")))?
            .rp_name(&config.relying_party.name);
        for origin in &origins[1..] {
            builder = builder.append_allowed_origin(origin);
        }
        let webauthn = builder
            .build()
            .map_err(|e| Error::Config(format!("relying party: {e}")))?;
        Ok(Passkeys { webauthn })
    }

    /// Starts creating a passkey (user verification required); returns browser
    /// options and the state to store.
    pub fn start_registration(
        &self,
        user_id: Uuid,
        email: &str,
        display_name: &str,
    ) -> Result<(CreationChallengeResponse, String), Error> {
        let (mut options, state) = self
            .webauthn
            .start_passkey_registration(user_id, email, display_name, None)
            .map_err(Error::PasskeyRejected)?;
        // Prefer a discoverable credential, so a returning requester can sign
        // in without typing; webauthn-rs asks for a non-resident one and does
        // not check residency at finish, so only the browser options change.
        if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
            selection.resident_key = Some(ResidentKeyRequirement::Preferred);
        }
        Ok((options, to_json(&state)?))
    }

    /// Verifies the browser's new credential against the stored state.
    pub fn finish_registration(
        &self,
        credential: &RegisterPublicKeyCredential,
        state: &str,
    ) -> Result<Passkey, Error> {
        let state: PasskeyRegistration = from_json(state)?;
        self.webauthn
            .finish_passkey_registration(credential, &state)
            .map_err(Error::PasskeyRejected)
    }

    /// Starts an assertion with `passkey` whose challenge is exactly `challenge`
    /// (the document's signing challenge) instead of a random one.
    ///
    /// webauthn-rs generates challenges itself, so both the browser options and
    /// the serialised state are rewritten; `webauthn-rs` is pinned with `=` and
    /// the integration tests prove the rewritten state verifies.
    pub fn start_signing(
        &self,
        passkey: &Passkey,
        challenge: [u8; 32],
    ) -> Result<(RequestChallengeResponse, String), Error> {
        let (mut options, state) = self
            .webauthn
            .start_passkey_authentication(std::slice::from_ref(passkey))
            .map_err(Error::PasskeyRejected)?;
        options.public_key.challenge = challenge.to_vec();
        let mut state = serde_json::to_value(&state).map_err(internal)?;
        let slot = state
            .pointer_mut("/ast/challenge")
            .ok_or_else(|| Error::Internal("webauthn-rs state layout changed".into()))?;
        *slot = Value::String(URL_SAFE_NO_PAD.encode(challenge));
        // Round-trip now so a layout change fails here, not at finish.
        let state: PasskeyAuthentication = serde_json::from_value(state).map_err(internal)?;
        Ok((options, to_json(&state)?))
    }

    /// Verifies an assertion against the stored state (origin, RP ID hash,
    /// challenge, user verification, signature).
    pub fn finish_signing(
        &self,
        credential: &PublicKeyCredential,
        state: &str,
    ) -> Result<AuthenticationResult, Error> {
        let state: PasskeyAuthentication = from_json(state)?;
        self.webauthn
            .finish_passkey_authentication(credential, &state)
            .map_err(Error::PasskeyRejected)
    }
}

/// Applies a verified assertion to the passkey as it is stored *now* (inside
/// the write transaction): the new signature counter and backup state.
///
/// webauthn-rs compares the counter with the copy taken when the ceremony
/// started, so two ceremonies started together and finished out of order slip
/// past it. A counter that does not move forward from the stored value means
/// two authenticators share one key (a cloned or extracted credential): the
/// use is refused. Authenticators that always report 0 (most synced passkeys)
/// have no counter to check.
pub fn record_use(passkey: &mut Passkey, result: &AuthenticationResult) -> Result<(), Error> {
    let stored = Credential::from(passkey.clone()).counter;
    let used = result.counter();
    if (used > 0 || stored > 0) && used <= stored {
        tracing::warn!(
            stored,
            used,
            "passkey signature counter did not advance: possible cloned authenticator"
        );
        return Err(Error::CounterRegressed);
    }
    passkey.update_credential(result);
    Ok(())
}

/// Saves a verified use of a passkey (signing or sign-in) inside the caller's
/// write transaction: [`record_use`] applied to the state read before verifying
/// (`as_read`), stored by one compare-and-set statement; if another use was
/// stored in between, applied again to the state as it is now, until it
/// sticks. Concurrent uses (on PostgreSQL, other transactions) therefore leave
/// the highest counter stored. `Ok(Err(_))`: the counter did not advance.
pub async fn count_use(
    conn: &mut db::Connection,
    credential_id: &str,
    as_read: &str,
    result: &AuthenticationResult,
    now: i64,
) -> Result<Result<(), Error>, Error> {
    let mut as_read = as_read.to_owned();
    loop {
        let mut passkey: Passkey = from_json(&as_read)?;
        // A stored counter only moves forward: a use refused against the state
        // read before is refused against any later one.
        if let Err(e) = record_use(&mut passkey, result) {
            return Ok(Err(e));
        }
        let updated = to_json(&passkey)?;
        if Store::touch_passkey_if(conn, credential_id, &as_read, &updated, now).await? {
            return Ok(Ok(()));
        }
        as_read = Store::passkey_json(conn, credential_id)
            .await?
            .ok_or(Error::CredentialUnknown)?
            .passkey;
    }
}

/// Sign-in of a returning requester: a discoverable-credential assertion.
impl Passkeys {
    /// Starts an assertion with empty `allowCredentials` and user verification
    /// required, so the browser offers any passkey it holds for this RP ID.
    /// webauthn-rs marks it `mediation: conditional` (autofill UI); the widget
    /// asks on a button press instead, so that is removed.
    pub fn start_sign_in(&self) -> Result<(RequestChallengeResponse, String), Error> {
        let (mut options, state) = self
            .webauthn
            .start_discoverable_authentication()
            .map_err(Error::PasskeyRejected)?;
        options.mediation = None;
        Ok((options, to_json(&state)?))
    }

    /// Verifies a sign-in assertion made with `passkey` (found by the
    /// assertion's credential id): RP ID hash, origin, challenge, user
    /// verification, signature and counter.
    pub fn finish_sign_in(
        &self,
        credential: &PublicKeyCredential,
        state: &str,
        passkey: &Passkey,
    ) -> Result<AuthenticationResult, Error> {
        let state: DiscoverableAuthentication = from_json(state)?;
        self.webauthn
            .finish_discoverable_authentication_v2(credential, state, passkey)
            .map_err(Error::PasskeyRejected)
    }
}

fn internal(e: serde_json::Error) -> Error {
    Error::Internal(format!("ceremony state: {e}"))
}

/// Serialises stored state.
pub fn to_json<T: serde::Serialize>(value: &T) -> Result<String, Error> {
    serde_json::to_string(value).map_err(internal)
}

/// Parses stored state.
pub fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, Error> {
    serde_json::from_str(text).map_err(internal)
}
