//! The browser's WebAuthn calls.
//!
//! Safari only allows `navigator.credentials.*` directly inside a user's
//! click, so each ceremony is split in two: [`start_create`] / [`start_get`]
//! run synchronously in the click handler with options fetched beforehand, and
//! [`created`] / [`asserted`] await the returned promise afterwards.
//!
//! Options and credentials stay browser objects: the verifier's JSON (WebAuthn
//! names, binary fields as base64url) is turned into what the browser takes by
//! decoding the binary fields, and back by encoding them. The widget never
//! reads anything else in them, so it links no typed copy of WebAuthn's model.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use js_sys::{Array, ArrayBuffer, Function, JSON, Object, Promise, Reflect, Uint8Array};
use serde::{Deserialize, Deserializer};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::verify::Challenge;

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
    /// Anything else, including options the browser cannot take.
    Failed,
}

/// WebAuthn options as the verifier sent them (`{"publicKey": {…}}`), parsed
/// by the browser; decodable only from the API client's JSON.
#[derive(Clone, Debug)]
pub struct Options(JsValue);

impl<'de> Deserialize<'de> for Options {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde_wasm_bindgen::preserve::deserialize(d).map(Options)
    }
}

impl Challenge for Options {
    /// `publicKey.challenge`, decoded.
    fn challenge(&self) -> Option<Vec<u8>> {
        let public_key = Reflect::get(&self.0, &"publicKey".into()).ok()?;
        let challenge = Reflect::get(&public_key, &"challenge".into()).ok()?;
        URL_SAFE_NO_PAD.decode(challenge.as_string()?).ok()
    }
}

impl Options {
    /// A copy the browser takes: without `null` members (absent options, which
    /// WebIDL would read as the string "null"), and with the binary fields
    /// `paths` name (under `publicKey`; `[]` maps over an array) as `Uint8Array`s.
    fn for_browser(&self, paths: &[&[&str]]) -> Option<JsValue> {
        let mut drop_null = |_, value: JsValue| Ok((!value.is_null()).then_some(value));
        let text = JSON::stringify_with_replacer_func(&self.0, &mut drop_null, None).ok()?;
        let copy = JSON::parse(&text.as_string()?).ok()?;
        let public_key = Reflect::get(&copy, &"publicKey".into()).ok()?;
        for path in paths {
            decode_at(&public_key, path)?;
        }
        Some(copy)
    }
}

/// Replaces the base64url string at `path` below `parent` by its bytes;
/// a missing optional array is fine.
fn decode_at(parent: &JsValue, path: &[&str]) -> Option<()> {
    match path {
        [] => None,
        [key] => {
            let text = Reflect::get(parent, &(*key).into()).ok()?.as_string()?;
            let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
            Reflect::set(parent, &(*key).into(), &Uint8Array::from(&bytes[..])).ok()?;
            Some(())
        }
        [key, "[]", rest @ ..] => {
            let items = Reflect::get(parent, &(*key).into()).ok()?;
            if items.is_undefined() || items.is_null() {
                return Some(());
            }
            Array::from(&items)
                .iter()
                .try_for_each(|item| decode_at(&item, rest))
        }
        [key, rest @ ..] => decode_at(&Reflect::get(parent, &(*key).into()).ok()?, rest),
    }
}

/// A new credential or an assertion, as the JSON object the verifier reads
/// (`RegisterPublicKeyCredential` / `PublicKeyCredential` in webauthn-rs).
pub struct Credential(Object);

impl Credential {
    /// The object to send as `credential`.
    pub fn as_object(&self) -> &Object {
        &self.0
    }
}

/// True when this page can use WebAuthn at all.
pub fn supported() -> bool {
    web_sys::window().is_some_and(|w| {
        w.is_secure_context()
            && Reflect::get(&w, &JsValue::from_str("PublicKeyCredential"))
                .is_ok_and(|v| v.is_function())
    })
}

/// Calls `navigator.credentials.create()`; call it in the click handler.
pub fn start_create(options: &Options) -> Result<Promise, PasskeyError> {
    let options = options
        .for_browser(&[
            &["challenge"],
            &["user", "id"],
            &["excludeCredentials", "[]", "id"],
        ])
        .ok_or(PasskeyError::Failed)?;
    credentials()?
        .create_with_options(options.unchecked_ref())
        .map_err(|e| classify(&e, PasskeyError::CreateCancelled))
}

/// Calls `navigator.credentials.get()`; call it in the click handler.
pub fn start_get(options: &Options) -> Result<Promise, PasskeyError> {
    let options = options
        .for_browser(&[&["challenge"], &["allowCredentials", "[]", "id"]])
        .ok_or(PasskeyError::Failed)?;
    credentials()?
        .get_with_options(options.unchecked_ref())
        .map_err(|e| classify(&e, PasskeyError::SignCancelled))
}

/// Awaits a [`start_create`] promise.
pub async fn created(promise: Promise) -> Result<Credential, PasskeyError> {
    let credential = credential(promise, PasskeyError::CreateCancelled).await?;
    // Of the extension results, passkeys only ask for `credProps`.
    let extensions = Object::new();
    let cred_props = Reflect::get(&credential, &"getClientExtensionResults".into())
        .ok()
        .and_then(|get| get.dyn_into::<Function>().ok())
        .and_then(|get| get.call0(&credential).ok())
        .and_then(|results| Reflect::get(&results, &"credProps".into()).ok())
        .filter(JsValue::is_object);
    if let Some(cred_props) = cred_props {
        set(&extensions, "credProps", &cred_props)?;
    }
    to_json(
        &credential,
        &["attestationObject", "clientDataJSON"],
        &extensions,
    )
}

/// Awaits a [`start_get`] promise.
pub async fn asserted(promise: Promise) -> Result<Credential, PasskeyError> {
    let credential = credential(promise, PasskeyError::SignCancelled).await?;
    to_json(
        &credential,
        &[
            "authenticatorData",
            "clientDataJSON",
            "signature",
            "userHandle",
        ],
        &Object::new(),
    )
}

/// `{id, rawId, response: {fields…}, type, extensions}` with binary values as
/// base64url; absent or null response fields are left out.
fn to_json(
    credential: &web_sys::PublicKeyCredential,
    fields: &[&str],
    extensions: &Object,
) -> Result<Credential, PasskeyError> {
    let raw_id = base64url(&credential.raw_id()).ok_or(PasskeyError::Failed)?;
    let response = credential.response();
    let json_response = Object::new();
    for field in fields {
        let value = Reflect::get(&response, &(*field).into()).map_err(|_| PasskeyError::Failed)?;
        if let Some(buffer) = value.dyn_ref::<ArrayBuffer>() {
            set(
                &json_response,
                field,
                &base64url(buffer).ok_or(PasskeyError::Failed)?.into(),
            )?;
        }
    }
    let json = Object::new();
    set(&json, "id", &raw_id.clone().into())?;
    set(&json, "rawId", &raw_id.into())?;
    set(&json, "response", &json_response)?;
    set(&json, "type", &"public-key".into())?;
    set(&json, "extensions", extensions)?;
    Ok(Credential(json))
}

fn base64url(buffer: &ArrayBuffer) -> Option<String> {
    Some(URL_SAFE_NO_PAD.encode(Uint8Array::new(buffer).to_vec()))
}

fn set(object: &Object, key: &str, value: &JsValue) -> Result<(), PasskeyError> {
    Reflect::set(object, &key.into(), value)
        .map(drop)
        .map_err(|_| PasskeyError::Failed)
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
