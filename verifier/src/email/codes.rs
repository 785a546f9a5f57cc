//! One-time codes: drawn uniformly from 000000–999999 with a CSPRNG, stored
//! only as an HMAC under a server key, compared in constant time.

use std::{fmt, path::Path};

use hmac::{Hmac, Mac};
use rand::{Rng as _, RngCore as _};
use sha2::Sha256;
use subtle::ConstantTimeEq as _;

use crate::Error;

/// A 6-digit code. `Debug` does not show it, so it cannot reach a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Code(String);

impl Code {
    /// A fresh code from the thread's CSPRNG (ChaCha, seeded by the OS).
    pub fn generate() -> Code {
        Code(format!("{:06}", rand::rng().random_range(0..1_000_000u32)))
    }

    /// The digits, for the email.
    pub fn digits(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Code(******)")
    }
}

/// The server key codes are hashed with; never stored in the database.
pub struct CodeKey([u8; 32]);

impl CodeKey {
    /// Reads a key file of at least 32 bytes; longer keys are hashed down.
    pub fn load(path: &Path) -> Result<CodeKey, Error> {
        let bytes = std::fs::read(path)
            .map_err(|e| Error::Config(format!("cannot read {}: {e}", path.display())))?;
        let bytes = bytes.trim_ascii();
        if bytes.len() < 32 {
            return Err(Error::Config(format!(
                "{} must hold at least 32 bytes of key",
                path.display()
            )));
        }
        Ok(CodeKey(<Sha256 as sha2::Digest>::digest(bytes).into()))
    }

    /// A key for this process only.
    pub fn random() -> CodeKey {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        CodeKey(key)
    }

    /// HMAC-SHA256 of the code, bound to its verification id.
    pub fn hash(&self, verification_id: &str, code: &str) -> Vec<u8> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(b"recordpass-email-code-v1\0");
        mac.update(verification_id.as_bytes());
        mac.update(b"\0");
        mac.update(code.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// Whether `code` hashes to `stored`, in time independent of where they differ.
    pub fn matches(&self, verification_id: &str, code: &str, stored: &[u8]) -> bool {
        let well_formed = code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit());
        let equal: bool = self.hash(verification_id, code).ct_eq(stored).into();
        well_formed && equal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_and_hidden_from_debug() {
        for _ in 0..200 {
            let code = Code::generate();
            assert_eq!(code.digits().len(), 6);
            assert!(code.digits().bytes().all(|b| b.is_ascii_digit()));
            assert!(!format!("{code:?}").contains(code.digits()));
        }
    }

    #[test]
    fn hashes_depend_on_key_id_and_code() {
        let key = CodeKey::random();
        let stored = key.hash("id1", "123456");
        assert!(key.matches("id1", "123456", &stored));
        assert!(!key.matches("id1", "123457", &stored));
        assert!(!key.matches("id2", "123456", &stored));
        assert!(!CodeKey::random().matches("id1", "123456", &stored));
        assert!(!key.matches("id1", "12345", &key.hash("id1", "12345")));
    }
}
