//! The browser's WebAuthn calls.
//!
//! Safari only allows `navigator.credentials.*` directly inside a user's
//! click, so each ceremony is split in two: [`start_create`] / [`start_get`]
//! run synchronously in the click handler with options fetched beforehand, and
//! [`created`] / [`asserted`] await the returned promise afterwards.

use js_sys::Promise;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use webauthn_rs_proto::{
    CreationChallengeResponse, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse,
};

/// Why a passkey call did not produce a credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasskeyError {
    /// The requester closed the dialog while creating a passkey (or it timed out).
    CreateCancelled,
    /// The requester closed the dialog while signing (or it timed out).
    SignCancelled,
    /// The authenticator already holds a passkey for this account.
    AlreadyRegistered,
    /// WebAuthn is unavailable here (old browser, insecure context, blocked frame).
    Unsupported,
    /// Anything else.
    Failed,
}

/// True when this page can use WebAuthn at all.
pub fn supported() -> bool {
    web_sys::window().is_some_and(|w| {
        w.is_secure_context()
            && js_sys::Reflect::get(&w, &JsValue::from_str("PublicKeyCredential"))
                .is_ok_and(|v| v.is_function())
    })
}

/// Calls `navigator.credentials.create()`; call it in the click handler.
pub fn start_create(options: &CreationChallengeResponse) -> Result<Promise, PasskeyError> {
    let options: web_sys::CredentialCreationOptions = options.clone().into();
    credentials()?
        .create_with_options(&options)
        .map_err(|e| classify(&e, PasskeyError::CreateCancelled))
}

/// Calls `navigator.credentials.get()`; call it in the click handler.
pub fn start_get(options: &RequestChallengeResponse) -> Result<Promise, PasskeyError> {
    let options: web_sys::CredentialRequestOptions = options.clone().into();
    credentials()?
        .get_with_options(&options)
        .map_err(|e| classify(&e, PasskeyError::SignCancelled))
}

/// Awaits a [`start_create`] promise.
pub async fn created(promise: Promise) -> Result<RegisterPublicKeyCredential, PasskeyError> {
    Ok(credential(promise, PasskeyError::CreateCancelled)
        .await?
        .into())
}

/// Awaits a [`start_get`] promise.
pub async fn asserted(promise: Promise) -> Result<PublicKeyCredential, PasskeyError> {
    Ok(credential(promise, PasskeyError::SignCancelled)
        .await?
        .into())
}

fn credentials() -> Result<web_sys::CredentialsContainer, PasskeyError> {
    if !supported() {
        return Err(PasskeyError::Unsupported);
    }
    web_sys::window()
        .map(|w| w.navigator().credentials())
        .ok_or(PasskeyError::Unsupported)
}

async fn credential(
    promise: Promise,
    cancelled: PasskeyError,
) -> Result<web_sys::PublicKeyCredential, PasskeyError> {
    JsFuture::from(promise)
        .await
        .map_err(|e| classify(&e, cancelled))?
        .dyn_into::<web_sys::PublicKeyCredential>()
        .map_err(|_| PasskeyError::Failed)
}

/// Maps a WebAuthn `DOMException` to a [`PasskeyError`].
fn classify(error: &JsValue, cancelled: PasskeyError) -> PasskeyError {
    let name = error.dyn_ref::<web_sys::DomException>().map(|e| e.name());
    match name.as_deref() {
        Some("NotAllowedError" | "AbortError") => cancelled,
        Some("InvalidStateError") => PasskeyError::AlreadyRegistered,
        Some("NotSupportedError" | "SecurityError") => PasskeyError::Unsupported,
        _ => PasskeyError::Failed,
    }
}
