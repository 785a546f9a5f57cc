//! OpenAPI schemas for the types whose JSON form is not their Rust shape
//! (feature `openapi`, used by the verifier's `/openapi.json`; the widget's
//! wasm never compiles this).
//!
//! [`Digest`], [`Nonce`] and [`Field`] serialise as strings. The WebAuthn
//! types come from `webauthn-rs-proto` and follow the W3C JSON forms of
//! `PublicKeyCredentialCreationOptions`, `PublicKeyCredentialRequestOptions`
//! and `PublicKeyCredential`; only the members the verifier relies on are
//! required, and others are allowed, as browsers add new ones.

use std::borrow::Cow;
use utoipa::openapi::{
    ArrayBuilder, ObjectBuilder, RefOr, Schema, Type,
    schema::{AdditionalProperties, SchemaType},
};
use utoipa::{PartialSchema, ToSchema};

use crate::{Digest, Field, Nonce};

/// A string schema with a description, and a pattern when given.
fn string(description: &str, pattern: Option<&str>) -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .pattern(pattern)
        .build()
        .into()
}

/// An object with `properties` (name, schema, required), open to other members.
fn object(description: &str, properties: Vec<(&str, Schema, bool)>) -> Schema {
    let mut builder = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(description))
        .additional_properties(Some(AdditionalProperties::FreeForm(true)));
    for (name, schema, required) in properties {
        builder = builder.property(name, schema);
        if required {
            builder = builder.required(name);
        }
    }
    builder.build().into()
}

fn any_object(description: &str) -> Schema {
    object(description, Vec::new())
}

fn base64url(description: &str) -> Schema {
    string(description, Some("^[A-Za-z0-9_-]*={0,2}$"))
}

/// Implements [`ToSchema`] for a type whose schema is built by a function.
macro_rules! schema {
    ($ty:ty, $name:literal, $build:expr) => {
        impl PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                RefOr::T($build)
            }
        }
        impl ToSchema for $ty {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    };
}

schema!(
    Digest,
    "Digest",
    string(
        "SHA-256 of the document's canonical bytes: 64 lower-case hex digits.",
        Some("^[0-9a-f]{64}$")
    )
);

schema!(
    Nonce,
    "Nonce",
    string(
        "The 32-byte ceremony nonce, base64url without padding.",
        Some("^[A-Za-z0-9_-]{43}$")
    )
);

schema!(
    Field,
    "Field",
    string(
        "Path of the field in the request, e.g. `patient.date_of_birth` or \
         `scope.date_ranges[0].end`.",
        None
    )
);

/// `navigator.credentials.create` options (WebAuthn `CredentialCreationOptions`).
pub struct CreationOptions;

schema!(
    CreationOptions,
    "CreationOptions",
    object(
        "Options for `navigator.credentials.create` (WebAuthn JSON form).",
        vec![(
            "publicKey",
            object(
                "PublicKeyCredentialCreationOptions.",
                vec![
                    ("challenge", base64url("Base64url challenge."), true),
                    ("rp", any_object("The relying party."), true),
                    ("user", any_object("The user the passkey is for."), true),
                    (
                        "pubKeyCredParams",
                        ArrayBuilder::new()
                            .items(RefOr::T(any_object("An accepted algorithm.")))
                            .build()
                            .into(),
                        true,
                    ),
                ],
            ),
            true,
        )],
    )
);

/// `navigator.credentials.get` options (WebAuthn `CredentialRequestOptions`).
pub struct AssertionOptions;

schema!(
    AssertionOptions,
    "AssertionOptions",
    object(
        "Options for `navigator.credentials.get` (WebAuthn JSON form).",
        vec![(
            "publicKey",
            object(
                "PublicKeyCredentialRequestOptions.",
                vec![(
                    "challenge",
                    base64url("Base64url challenge: the signing challenge."),
                    true
                )],
            ),
            true,
        )],
    )
);

/// The credential `navigator.credentials.create` returned.
pub struct NewCredential;

schema!(
    NewCredential,
    "NewCredential",
    credential(
        "A new passkey (`PublicKeyCredential` with an attestation response).",
        vec![
            (
                "attestationObject",
                base64url("CBOR attestation object."),
                true,
            ),
            ("clientDataJSON", base64url("Client data JSON."), true),
            (
                "transports",
                ArrayBuilder::new()
                    .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
                    .items(RefOr::T(string("A transport hint.", None)))
                    .build()
                    .into(),
                false,
            ),
        ],
    )
);

/// The assertion `navigator.credentials.get` returned.
pub struct Assertion;

schema!(
    Assertion,
    "Assertion",
    credential(
        "A passkey signature (`PublicKeyCredential` with an assertion response).",
        vec![
            ("authenticatorData", base64url("Authenticator data."), true),
            ("clientDataJSON", base64url("Client data JSON."), true),
            ("signature", base64url("The signature."), true),
            (
                "userHandle",
                ObjectBuilder::new()
                    .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                    .description(Some("Base64url user handle, if any."))
                    .build()
                    .into(),
                false,
            ),
        ],
    )
);

/// A `PublicKeyCredential` in JSON form whose `response` has `response`.
fn credential(description: &str, response: Vec<(&str, Schema, bool)>) -> Schema {
    object(
        description,
        vec![
            ("id", base64url("Credential id, base64url."), true),
            ("rawId", base64url("Credential id, base64url."), true),
            ("type", string("Always `public-key`.", None), true),
            (
                "response",
                object("The authenticator's response.", response),
                true,
            ),
            ("extensions", any_object("Client extension outputs."), false),
        ],
    )
}
