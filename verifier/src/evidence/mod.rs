//! Evidence bundles (`recordpass.evidence.v1`): everything HIM or an auditor
//! needs to prove a submission with standard tools, sealed by the verifier.
//! The format and a step-by-step OpenSSL check are in `docs/evidence.md`.

mod authdata;
mod build;
mod bundle;
mod capture;
mod keys;
mod verify;

pub use authdata::{AuthenticatorData, registered_aaguid};
pub use build::{
    Exporter, Reader, RequesterFacts, identity_assurance, mask_email, sealed_bytes, to_pretty_json,
    with_chart_match,
};
pub use bundle::*;
pub use capture::{ClientInfo, MAX_USER_AGENT, SigningEvidence};
pub use keys::PasskeyPublicKey;
pub use verify::{Check, Report, verify_bundle};
