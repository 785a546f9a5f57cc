//! Binding a document digest to a WebAuthn challenge.
//!
//! ```text
//! challenge = SHA-256( "recordpass-sign-v1" ‖ digest (32 bytes) ‖ nonce (32 bytes) )
//! ```
//! The label is ASCII without a terminator; the two fixed-length fields follow it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::fmt;

use crate::Digest;

/// Domain-separation label at the start of the signing input.
pub const SIGNING_LABEL: &str = "recordpass-sign-v1";

/// The verifier's single-use 32-byte ceremony nonce; base64url in JSON.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Nonce(pub [u8; 32]);

impl Nonce {
    /// Base64url without padding.
    pub fn to_b64(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    /// Parses base64url of exactly 32 bytes.
    pub fn from_b64(s: &str) -> Option<Nonce> {
        URL_SAFE_NO_PAD.decode(s).ok()?.try_into().ok().map(Nonce)
    }
}

impl fmt::Debug for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nonce({})", self.to_b64())
    }
}

impl Serialize for Nonce {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_b64())
    }
}

impl<'de> Deserialize<'de> for Nonce {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Nonce::from_b64(&s)
            .ok_or_else(|| serde::de::Error::custom("expected base64url of 32 bytes"))
    }
}

/// The bytes whose SHA-256 is the challenge: label ‖ digest ‖ nonce.
pub fn signing_input(digest: &Digest, nonce: &Nonce) -> Vec<u8> {
    [SIGNING_LABEL.as_bytes(), &digest.0, &nonce.0].concat()
}

/// The 32-byte WebAuthn challenge for signing `digest` in the ceremony with `nonce`.
pub fn signing_challenge(digest: &Digest, nonce: &Nonce) -> [u8; 32] {
    Sha256::digest(signing_input(digest, nonce)).into()
}

/// [`signing_challenge`] as base64url without padding, as it appears in
/// `clientDataJSON.challenge`.
pub fn signing_challenge_b64(digest: &Digest, nonce: &Nonce) -> String {
    URL_SAFE_NO_PAD.encode(signing_challenge(digest, nonce))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_depends_on_digest_and_nonce() {
        let d1 = Digest::of(b"one");
        let d2 = Digest::of(b"two");
        let n = Nonce([1; 32]);
        let m = Nonce([2; 32]);
        assert_ne!(signing_challenge(&d1, &n), signing_challenge(&d2, &n));
        assert_ne!(signing_challenge(&d1, &n), signing_challenge(&d1, &m));
        let input = signing_input(&d1, &n);
        assert_eq!(input.len(), SIGNING_LABEL.len() + 64);
        assert!(input.starts_with(b"recordpass-sign-v1"));
        assert_eq!(signing_challenge_b64(&d1, &n).len(), 43);
    }

    #[test]
    fn nonces_round_trip_and_reject_wrong_lengths() {
        let n = Nonce([9; 32]);
        assert_eq!(Nonce::from_b64(&n.to_b64()), Some(n));
        let json = serde_json::to_string(&n).expect("serialises");
        assert_eq!(serde_json::from_str::<Nonce>(&json).expect("parses"), n);
        assert_eq!(Nonce::from_b64("AAAA"), None);
        assert!(serde_json::from_str::<Nonce>("\"not base64!\"").is_err());
    }
}
