//! The `recordpass.evidence.v1` bundle: every field is documented in `docs/evidence.md`.
//!
//! Binary fields named `*_b64` are standard base64 with padding (`base64 -d`);
//! `*_b64url` and `credential_id` are base64url without padding, as in WebAuthn.

use recordpass_request::{Lang, SiteIdentity};
use serde::{Deserialize, Serialize};

/// Format tag of [`Bundle`].
pub const BUNDLE_FORMAT: &str = "recordpass.evidence.v1";

/// Everything needed to prove a submission offline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// Always [`BUNDLE_FORMAT`].
    pub format: String,
    /// The number quoted to the requester.
    pub request_number: String,
    /// The site the request was addressed to (copied from the document).
    pub site: SiteIdentity,
    /// When the verifier stored the request (RFC 3339, UTC).
    pub received_at: String,
    /// The exact signed bytes.
    pub document: DocumentBytes,
    /// SHA-256 of the document bytes.
    pub digest: DigestInfo,
    /// The statement the requester signed (copied from the document for reading).
    pub statement: String,
    /// The language it was shown in (copied from the document).
    pub lang: Lang,
    /// How the digest became the WebAuthn challenge.
    pub signing: SigningInfo,
    /// The passkey assertion, raw, with the public key that verifies it.
    pub webauthn: WebauthnInfo,
    /// Who signed, as far as the verifier knows.
    pub requester: RequesterInfo,
    /// Where the signature came from.
    pub context: ContextInfo,
    /// A plain summary for HIM of how far the requester's identity is established.
    pub identity_assurance: String,
    /// The software that verified and stored the request.
    pub verifier: VerifierInfo,
    /// The verifier's Ed25519 signature over the rest of the bundle.
    pub seal: SealInfo,
}

/// The canonical document, twice: readable and byte-exact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentBytes {
    /// The RFC 8785 JSON as a string: `jq -j .document.canonical` gives the exact bytes.
    pub canonical: String,
    /// The same bytes, standard base64.
    pub b64: String,
}

/// A digest and its algorithm.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestInfo {
    /// Always `SHA-256`.
    pub alg: String,
    /// Lower-case hex.
    pub hex: String,
}

/// The challenge construction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningInfo {
    /// Always `recordpass-sign-v1`.
    pub label: String,
    /// Always `SHA-256(label ‖ digest ‖ nonce)`.
    pub construction: String,
    /// The ceremony's 32-byte nonce.
    pub nonce_b64url: String,
    /// The resulting challenge, as in `clientDataJSON.challenge`.
    pub challenge_b64url: String,
}

/// The WebAuthn assertion and the credential's public key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebauthnInfo {
    /// The relying-party ID whose SHA-256 starts `authenticatorData`.
    pub rp_id: String,
    /// Credential id, base64url.
    pub credential_id: String,
    /// Raw `clientDataJSON`.
    pub client_data_json_b64: String,
    /// Raw `authenticatorData`.
    pub authenticator_data_b64: String,
    /// Raw signature (DER `ECDSA-Sig-Value` for ES256/ES384, PKCS#1 v1.5 for RS256).
    pub signature_b64: String,
    /// The credential public key as a COSE_Key (CTAP2 canonical CBOR).
    pub public_key_cose_b64: String,
    /// The same key as SubjectPublicKeyInfo PEM (`openssl dgst -verify`).
    pub public_key_spki_pem: String,
    /// `ES256`, `ES384` or `RS256`.
    pub alg: String,
    /// Flags from byte 32 of `authenticatorData`.
    pub flags: Flags,
    /// Signature counter from bytes 33..37 of `authenticatorData`.
    pub sign_count: u32,
    /// Authenticator model (AAGUID) reported at registration, if any.
    pub aaguid: Option<String>,
}

/// Passkey providers staff are likely to see, by AAGUID (from the community
/// list at github.com/passkeydeveloper/passkey-authenticator-aaguids).
const KNOWN_AUTHENTICATORS: [(&str, &str); 7] = [
    (
        "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4",
        "Google Password Manager",
    ),
    ("fbfc3007-154e-4ecc-8c0b-6e020557d7bd", "iCloud Keychain"),
    ("adce0002-35bc-c60a-648b-0b25f1f05503", "Chrome on Mac"),
    ("08987058-cadc-4b81-b6e1-30de50dcbe96", "Windows Hello"),
    ("9ddd1817-af5a-4672-a2b9-3e3dd95000a9", "Windows Hello"),
    ("bada5566-a7aa-401f-bd96-45619a55120d", "1Password"),
    ("d548826e-79b4-db40-a3d8-11116f7e8349", "Bitwarden"),
];

impl WebauthnInfo {
    /// The authenticator as staff should read it: a provider's name when the
    /// AAGUID is a known one, else the AAGUID, else "not reported".
    pub fn authenticator(&self) -> String {
        match self.aaguid.as_deref() {
            None => "not reported by the browser".to_owned(),
            Some(id) => match KNOWN_AUTHENTICATORS.iter().find(|(k, _)| *k == id) {
                Some((_, name)) => format!("{name} (AAGUID {id}, as the browser reported it)"),
                None => format!("AAGUID {id} (as the browser reported it)"),
            },
        }
    }
}

/// Authenticator data flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flags {
    /// User present (bit 0).
    pub up: bool,
    /// User verified: PIN or biometric (bit 2).
    pub uv: bool,
    /// Backup eligible: a synced passkey (bit 3).
    pub be: bool,
    /// Backed up (bit 4).
    pub bs: bool,
}

/// The requester.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequesterInfo {
    /// The passkey's email address, masked (`a***@example.org`).
    pub email_masked: String,
    /// When the email address was confirmed (RFC 3339), or null.
    pub email_verified_at: Option<String>,
}

/// Network context of the signing request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextInfo {
    /// Client IP address as seen by the verifier (or its trusted proxy).
    pub client_ip: Option<String>,
    /// `User-Agent` header, at most 512 characters.
    pub user_agent: Option<String>,
}

/// The verifier software.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifierInfo {
    /// Version of the verifier that stored the request.
    pub version: String,
}

/// The seal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealInfo {
    /// Always `Ed25519`.
    pub alg: String,
    /// First 16 hex digits of SHA-256 of the seal key's SubjectPublicKeyInfo DER.
    pub key_id: String,
    /// Where the verifier publishes the key: fetch it there to trust the seal.
    pub public_key_url: String,
    /// The seal public key (SubjectPublicKeyInfo PEM), for convenience only.
    pub public_key_pem: String,
    /// When the bundle was exported and sealed (RFC 3339, UTC).
    pub sealed_at: String,
    /// Ed25519 signature over the RFC 8785 JSON of the bundle without this field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_b64: Option<String>,
}
