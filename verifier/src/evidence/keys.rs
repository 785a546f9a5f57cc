//! Passkey public keys: COSE_Key bytes, SubjectPublicKeyInfo, signature checks.
//!
//! webauthn-rs =0.6.2 accepts ES256, ES384 and RS256 credentials; so do these.

use base64::{Engine as _, engine::general_purpose::STANDARD};
use p256::pkcs8::{DecodePublicKey as _, EncodePublicKey as _};
use rsa::signature::Verifier as _;
use webauthn_rs::prelude::{COSEAlgorithm, COSEKey, COSEKeyType, ECDSACurve};

use crate::Error;

/// A passkey public key in the two standard encodings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasskeyPublicKey {
    /// `ES256`, `ES384` or `RS256`.
    pub alg: &'static str,
    /// COSE_Key, CTAP2 canonical CBOR.
    pub cose: Vec<u8>,
    /// SubjectPublicKeyInfo DER.
    pub spki_der: Vec<u8>,
}

fn bad(what: &str) -> Error {
    Error::Evidence(format!("public key: {what}"))
}

impl PasskeyPublicKey {
    /// Encodes a webauthn-rs key.
    pub fn from_cose_key(key: &COSEKey) -> Result<PasskeyPublicKey, Error> {
        let (alg, cose, spki) = match (&key.type_, &key.key) {
            (COSEAlgorithm::ES256, COSEKeyType::EC_EC2(ec))
                if ec.curve == ECDSACurve::SECP256R1 =>
            {
                let point = [&[4u8][..], &ec.x, &ec.y].concat();
                let pk =
                    p256::PublicKey::from_sec1_bytes(&point).map_err(|_| bad("P-256 point"))?;
                (
                    "ES256",
                    ec2_cose(-7, 1, &ec.x, &ec.y),
                    pk.to_public_key_der(),
                )
            }
            (COSEAlgorithm::ES384, COSEKeyType::EC_EC2(ec))
                if ec.curve == ECDSACurve::SECP384R1 =>
            {
                let point = [&[4u8][..], &ec.x, &ec.y].concat();
                let pk =
                    p384::PublicKey::from_sec1_bytes(&point).map_err(|_| bad("P-384 point"))?;
                (
                    "ES384",
                    ec2_cose(-35, 2, &ec.x, &ec.y),
                    pk.to_public_key_der(),
                )
            }
            (COSEAlgorithm::RS256, COSEKeyType::RSA(k)) => {
                let n = rsa::BoxedUint::from_be_slice_vartime(&k.n);
                let e = rsa::BoxedUint::from_be_slice_vartime(&k.e);
                let pk = rsa::RsaPublicKey::new(n, e).map_err(|_| bad("RSA parameters"))?;
                ("RS256", rsa_cose(&k.n, &k.e), pk.to_public_key_der())
            }
            (alg, _) => return Err(bad(&format!("unsupported algorithm {alg:?}"))),
        };
        let spki_der = spki.map_err(|e| bad(&e.to_string()))?.into_vec();
        Ok(PasskeyPublicKey {
            alg,
            cose,
            spki_der,
        })
    }

    /// Decodes COSE_Key bytes with webauthn-rs's own parser, then re-encodes.
    pub fn from_cose_bytes(bytes: &[u8]) -> Result<PasskeyPublicKey, Error> {
        let value: serde_cbor_2::Value =
            serde_cbor_2::from_slice(bytes).map_err(|_| bad("COSE_Key is not CBOR"))?;
        let key = COSEKey::try_from(&value).map_err(|e| bad(&format!("COSE_Key: {e}")))?;
        PasskeyPublicKey::from_cose_key(&key)
    }

    /// SubjectPublicKeyInfo PEM.
    pub fn spki_pem(&self) -> String {
        pem("PUBLIC KEY", &self.spki_der)
    }

    /// True when `signature` verifies over `message` with this key
    /// (`openssl dgst -sha256 -verify` semantics).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let der = &self.spki_der;
        match self.alg {
            "ES256" => p256::ecdsa::VerifyingKey::from_public_key_der(der)
                .ok()
                .zip(p256::ecdsa::Signature::from_der(signature).ok())
                .is_some_and(|(k, s)| k.verify(message, &s).is_ok()),
            "ES384" => p384::ecdsa::VerifyingKey::from_public_key_der(der)
                .ok()
                .zip(p384::ecdsa::Signature::from_der(signature).ok())
                .is_some_and(|(k, s)| k.verify(message, &s).is_ok()),
            "RS256" => rsa::RsaPublicKey::from_public_key_der(der)
                .ok()
                .zip(rsa::pkcs1v15::Signature::try_from(signature).ok())
                .is_some_and(|(k, s)| {
                    rsa::pkcs1v15::VerifyingKey::<rsa::sha2::Sha256>::new(k)
                        .verify(message, &s)
                        .is_ok()
                }),
            _ => false,
        }
    }
}

/// Parses the body of a PEM block with `label`.
pub fn pem_decode(label: &str, text: &str) -> Option<Vec<u8>> {
    let body = text
        .trim()
        .strip_prefix(&format!("-----BEGIN {label}-----"))?
        .strip_suffix(&format!("-----END {label}-----"))?;
    let b64: String = body.split_whitespace().collect();
    STANDARD.decode(b64).ok()
}

/// PEM with 64-character lines and a final newline, as OpenSSL writes it.
pub fn pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// CBOR head: major type and argument, shortest form.
fn head(out: &mut Vec<u8>, major: u8, arg: u64) {
    let m = major << 5;
    match arg {
        0..=23 => out.push(m | arg as u8),
        24..=0xff => out.extend([m | 24, arg as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend((arg as u16).to_be_bytes());
        }
        _ => {
            out.push(m | 26);
            out.extend((arg as u32).to_be_bytes());
        }
    }
}

fn int(out: &mut Vec<u8>, v: i64) {
    if v >= 0 {
        head(out, 0, v as u64);
    } else {
        head(out, 1, (-1 - v) as u64);
    }
}

fn bytes(out: &mut Vec<u8>, b: &[u8]) {
    head(out, 2, b.len() as u64);
    out.extend_from_slice(b);
}

/// `{1: 2 (EC2), 3: alg, -1: crv, -2: x, -3: y}`, keys in CTAP2 canonical order.
fn ec2_cose(alg: i64, crv: i64, x: &[u8], y: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(77);
    head(&mut out, 5, 5);
    for (k, v) in [(1, 2), (3, alg), (-1, crv)] {
        int(&mut out, k);
        int(&mut out, v);
    }
    int(&mut out, -2);
    bytes(&mut out, x);
    int(&mut out, -3);
    bytes(&mut out, y);
    out
}

/// `{1: 3 (RSA), 3: -257 (RS256), -1: n, -2: e}`.
fn rsa_cose(n: &[u8], e: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(n.len() + 16);
    head(&mut out, 5, 4);
    for (k, v) in [(1, 3), (3, -257)] {
        int(&mut out, k);
        int(&mut out, v);
    }
    int(&mut out, -1);
    bytes(&mut out, n);
    int(&mut out, -2);
    bytes(&mut out, e);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::{SigningKey, signature::Signer as _};
    use webauthn_rs::prelude::COSEEC2Key;

    #[test]
    fn es256_keys_round_trip_through_cose_and_verify_der_signatures() {
        let sk = SigningKey::from_slice(&[0x11; 32]).expect("scalar");
        let point = sk.verifying_key().to_sec1_point(false);
        let key = COSEKey {
            type_: COSEAlgorithm::ES256,
            key: COSEKeyType::EC_EC2(COSEEC2Key {
                curve: ECDSACurve::SECP256R1,
                x: point.x().expect("x").to_vec(),
                y: point.y().expect("y").to_vec(),
            }),
        };
        let pk = PasskeyPublicKey::from_cose_key(&key).expect("encodes");
        assert_eq!(pk.cose.len(), 77);
        assert_eq!(&pk.cose[..7], &[0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01]);
        assert_eq!(
            PasskeyPublicKey::from_cose_bytes(&pk.cose).expect("decodes"),
            pk
        );
        assert_eq!(
            pem_decode("PUBLIC KEY", &pk.spki_pem()),
            Some(pk.spki_der.clone())
        );
        let sig: p256::ecdsa::Signature = sk.sign(b"signed data");
        let der = sig.to_der();
        assert!(pk.verify(b"signed data", der.as_bytes()));
        assert!(!pk.verify(b"signed datb", der.as_bytes()));
    }

    #[test]
    fn cbor_heads_use_the_shortest_form() {
        let mut out = Vec::new();
        int(&mut out, -257);
        int(&mut out, -35);
        head(&mut out, 2, 256);
        assert_eq!(out, [0x39, 0x01, 0x00, 0x38, 0x22, 0x59, 0x01, 0x00]);
    }
}
