//! Random identifiers: ceremony ids, nonces and request numbers.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::{Rng, RngCore};

/// 256 random bits, base64url: ceremony ids and nonces.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A fresh signing-ceremony nonce.
pub fn random_nonce() -> recordpass_request::Nonce {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    recordpass_request::Nonce(bytes)
}

/// Crockford base32 without I, L, O, U: easy to read aloud on the phone.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A request number such as `RP-7K3M-9QXD` (40 random bits).
pub fn request_number() -> String {
    let mut rng = rand::rng();
    let mut pick = || ALPHABET[rng.random_range(0..32)] as char;
    let a: String = (0..4).map(|_| pick()).collect();
    let b: String = (0..4).map(|_| pick()).collect();
    format!("RP-{a}-{b}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_numbers_are_well_formed_and_vary() {
        let n = request_number();
        assert_eq!(n.len(), 12);
        assert!(n.starts_with("RP-") && n.as_bytes()[7] == b'-');
        assert!(
            n.chars()
                .filter(|c| *c != '-')
                .skip(2)
                .all(|c| ALPHABET.contains(&(c as u8)))
        );
        assert_ne!(request_number(), request_number());
        assert_eq!(random_token().len(), 43);
    }
}
