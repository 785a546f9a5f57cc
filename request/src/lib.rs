//! The one definition of a Recordpass records request.
//!
//! Both the widget (compiled to wasm32) and the verifier use this crate, so the
//! fields, their validation, the canonical bytes, the digest and the
//! human-readable statement a requester signs can never drift apart.
//!
//! The signing chain, which anyone can re-check with standard tools
//! (see `docs/evidence.md`):
//!
//! 1. [`SignedDocument::canonical_bytes`]: RFC 8785 (JCS) JSON of the site,
//!    language, request and rendered statement.
//! 2. [`Digest`]: SHA-256 of those bytes, shown to the requester and to HIM.
//! 3. [`signing_challenge`]: SHA-256 of `"recordpass-sign-v1" ‖ digest ‖ nonce`,
//!    used as the WebAuthn challenge, so the passkey signature covers the digest.

pub mod api;
mod canonical;
mod document;
pub mod examples;
mod hidden;
mod model;
#[cfg(feature = "openapi")]
pub mod openapi;
mod signing;
mod statement;
mod status;
pub mod upload;
mod validate;

pub use canonical::to_canonical_json;
pub use document::{DOCUMENT_FORMAT, Digest, DocumentSummary, SignedDocument, SiteIdentity};
pub use model::{
    Address, Authorization, Consent, DateRange, Delivery, DeliveryMethod, Instrument, Lang,
    Patient, Recipient, RecordKind, RecordsRequest, Relationship, Requester, Role, Scope,
    SensitiveCategory, SiteOffer,
};
pub use signing::{Nonce, SIGNING_LABEL, signing_challenge, signing_challenge_b64, signing_input};
pub use statement::{esign_disclosure, render_statement};
pub use status::RequestStatus;
pub use validate::{
    AddressPart, Field, FieldError, Problem, age_on, parse_date, validate_email, validate_name,
};
