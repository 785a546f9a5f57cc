//! The verifier's seal: an Ed25519 key that signs exported evidence bundles,
//! so HIM and auditors can tell a bundle came from this verifier unaltered.
//!
//! The key comes from `seal_key_file` (PKCS#8 PEM) when configured; otherwise
//! one is generated at first start and kept in the database (demo only).

use base64::{Engine as _, engine::general_purpose::STANDARD};
use ed25519_dalek::{
    Signature, Signer as _, SigningKey, VerifyingKey,
    pkcs8::{
        DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey,
        spki::der::pem::LineEnding,
    },
};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::{Config, Error, Store};

/// Name of the seal algorithm in bundles and at the well-known URL.
pub const SEAL_ALG: &str = "Ed25519";

/// Path where a running verifier publishes its seal public key.
pub const SEAL_KEY_PATH: &str = "/.well-known/recordpass-seal-key";

/// The private seal key.
pub struct SealKey {
    signing: SigningKey,
    public: SealPublicKey,
}

/// A seal public key, as published and as embedded in bundles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealPublicKey {
    key: VerifyingKey,
}

/// The JSON served at [`SEAL_KEY_PATH`].
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct PublishedSealKey {
    /// First 16 hex digits of SHA-256 of the SubjectPublicKeyInfo DER.
    pub key_id: String,
    /// Always [`SEAL_ALG`].
    pub alg: String,
    /// SubjectPublicKeyInfo, PEM (`openssl pkeyutl -pubin -inkey`).
    pub public_key_pem: String,
    /// The raw 32-byte Ed25519 public key, standard base64.
    pub public_key_b64: String,
}

impl SealKey {
    /// A fresh random key.
    pub fn generate() -> SealKey {
        let mut seed = [0u8; 32];
        rand::rng().fill_bytes(&mut seed);
        SealKey::from_signing(SigningKey::from_bytes(&seed))
    }

    fn from_signing(signing: SigningKey) -> SealKey {
        let public = SealPublicKey {
            key: signing.verifying_key(),
        };
        SealKey { signing, public }
    }

    /// Parses a PKCS#8 PEM private key (`openssl genpkey -algorithm ed25519`).
    pub fn from_pkcs8_pem(pem: &str) -> Result<SealKey, Error> {
        SigningKey::from_pkcs8_pem(pem)
            .map(SealKey::from_signing)
            .map_err(|e| Error::Config(format!("seal key: not an Ed25519 PKCS#8 PEM key: {e}")))
    }

    /// The private key as PKCS#8 PEM.
    pub fn to_pkcs8_pem(&self) -> Result<String, Error> {
        self.signing
            .to_pkcs8_pem(LineEnding::LF)
            .map(|pem| pem.to_string())
            .map_err(|e| Error::Internal(format!("seal key encoding: {e}")))
    }

    /// Loads the configured key file, or else the key kept in the database,
    /// generating and storing one on first use.
    pub async fn load(config: &Config, store: &Store) -> Result<SealKey, Error> {
        if let Some(path) = &config.seal_key_file {
            let pem = std::fs::read_to_string(path).map_err(|e| {
                Error::Config(format!("cannot read seal key {}: {e}", path.display()))
            })?;
            return SealKey::from_pkcs8_pem(&pem);
        }
        if config.email.mode == crate::config::EmailMode::Smtp {
            // Production (real email): anyone with a copy of the database could
            // seal bundles that verify, so the evidence proves less than it says.
            tracing::warn!(
                "seal_key_file is not set: evidence bundles are sealed with a key \
                 kept in the database (for demos); see docs/security.md"
            );
        }
        let fresh = SealKey::generate();
        let pem = store
            .seal_key_or_insert(&fresh.public.key_id(), &fresh.to_pkcs8_pem()?)
            .await?;
        SealKey::from_pkcs8_pem(&pem)
    }

    /// The public half.
    pub fn public(&self) -> &SealPublicKey {
        &self.public
    }

    /// Ed25519 signature over `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }
}

impl SealPublicKey {
    /// Parses a SubjectPublicKeyInfo PEM.
    pub fn from_pem(pem: &str) -> Result<SealPublicKey, Error> {
        VerifyingKey::from_public_key_pem(pem.trim())
            .map(|key| SealPublicKey { key })
            .map_err(|e| Error::Evidence(format!("not an Ed25519 public key PEM: {e}")))
    }

    /// SubjectPublicKeyInfo DER.
    pub fn spki_der(&self) -> Vec<u8> {
        // Encoding a valid 32-byte key into a fixed DER template cannot fail.
        self.key
            .to_public_key_der()
            .map(|d| d.into_vec())
            .unwrap_or_default()
    }

    /// SubjectPublicKeyInfo PEM.
    pub fn to_pem(&self) -> String {
        self.key
            .to_public_key_pem(LineEnding::LF)
            .unwrap_or_default()
    }

    /// First 16 hex digits of SHA-256 of [`SealPublicKey::spki_der`].
    pub fn key_id(&self) -> String {
        hex::encode(Sha256::digest(self.spki_der()))[..16].to_owned()
    }

    /// What the well-known URL serves.
    pub fn published(&self) -> PublishedSealKey {
        PublishedSealKey {
            key_id: self.key_id(),
            alg: SEAL_ALG.to_owned(),
            public_key_pem: self.to_pem(),
            public_key_b64: STANDARD.encode(self.key.as_bytes()),
        }
    }

    /// True when `signature` is this key's Ed25519 signature over `message`
    /// (strict verification: no malleable or small-order encodings).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        Signature::from_slice(signature)
            .is_ok_and(|sig| self.key.verify_strict(message, &sig).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_sign() {
        let key = SealKey::generate();
        let pem = key.to_pkcs8_pem().expect("pem");
        let again = SealKey::from_pkcs8_pem(&pem).expect("parses");
        assert_eq!(again.public(), key.public());
        let public = SealPublicKey::from_pem(&key.public().to_pem()).expect("public pem");
        let sig = key.sign(b"bundle");
        assert!(public.verify(b"bundle", &sig));
        assert!(!public.verify(b"bundlf", &sig));
        assert_eq!(public.key_id().len(), 16);
        assert_eq!(public.published().alg, "Ed25519");
    }
}
