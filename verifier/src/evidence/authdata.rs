//! The fixed 37-byte prefix of WebAuthn `authenticatorData`.

use super::Flags;

/// `rpIdHash (32) ‖ flags (1) ‖ signCount (4, big-endian)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthenticatorData {
    /// SHA-256 of the relying-party ID.
    pub rp_id_hash: [u8; 32],
    /// Raw flags byte.
    pub flags: u8,
    /// Signature counter.
    pub sign_count: u32,
}

impl AuthenticatorData {
    /// Parses the prefix; `None` when shorter than 37 bytes.
    pub fn parse(bytes: &[u8]) -> Option<AuthenticatorData> {
        let rp_id_hash = bytes.get(..32)?.try_into().ok()?;
        let flags = *bytes.get(32)?;
        let sign_count = u32::from_be_bytes(bytes.get(33..37)?.try_into().ok()?);
        Some(AuthenticatorData {
            rp_id_hash,
            flags,
            sign_count,
        })
    }

    /// The UP, UV, BE and BS bits.
    pub fn flags(&self) -> Flags {
        let bit = |n: u8| self.flags & (1 << n) != 0;
        Flags {
            up: bit(0),
            uv: bit(2),
            be: bit(3),
            bs: bit(4),
        }
    }
}

/// The AAGUID in a registration's `attestationObject` (CBOR map, `authData`
/// with attested credential data: bytes 37..53), formatted as a UUID. `None`
/// when absent, malformed, or all zeros (browsers blank it under
/// `attestation: "none"` unless the authenticator is a known passkey provider).
pub fn registered_aaguid(attestation_object: &[u8]) -> Option<String> {
    let value: serde_cbor_2::Value = serde_cbor_2::from_slice(attestation_object).ok()?;
    let serde_cbor_2::Value::Map(map) = value else {
        return None;
    };
    let auth_data = map.iter().find_map(|(k, v)| match (k, v) {
        (serde_cbor_2::Value::Text(k), serde_cbor_2::Value::Bytes(v)) if k == "authData" => Some(v),
        _ => None,
    })?;
    let attested = AuthenticatorData::parse(auth_data)?.flags & (1 << 6) != 0;
    let aaguid: [u8; 16] = auth_data.get(37..53)?.try_into().ok()?;
    (attested && aaguid != [0; 16]).then(|| uuid::Uuid::from_bytes(aaguid).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_flags_and_big_endian_counter() {
        let mut bytes = vec![7u8; 32];
        bytes.extend([0b0001_1101, 0, 0, 1, 2]);
        let ad = AuthenticatorData::parse(&bytes).expect("37 bytes");
        assert_eq!(ad.sign_count, 258);
        assert_eq!(
            ad.flags(),
            Flags {
                up: true,
                uv: true,
                be: true,
                bs: true
            }
        );
        assert_eq!(AuthenticatorData::parse(&bytes[..36]), None);
    }

    fn attestation_object(flags: u8, aaguid: [u8; 16]) -> Vec<u8> {
        let mut auth_data = vec![1u8; 32];
        auth_data.extend([flags, 0, 0, 0, 0]);
        auth_data.extend(aaguid);
        auth_data.extend([0, 2, 9, 9]); // credential id length and id
        let map = serde_cbor_2::Value::Map(
            [
                (
                    serde_cbor_2::Value::Text("fmt".into()),
                    serde_cbor_2::Value::Text("none".into()),
                ),
                (
                    serde_cbor_2::Value::Text("authData".into()),
                    serde_cbor_2::Value::Bytes(auth_data),
                ),
            ]
            .into_iter()
            .collect(),
        );
        serde_cbor_2::to_vec(&map).expect("cbor")
    }

    #[test]
    fn reads_the_registration_aaguid_unless_blank_or_absent() {
        let google = [
            0xea, 0x9b, 0x8d, 0x66, 0x4d, 0x01, 0x1d, 0x21, 0x3c, 0xe4, 0xb6, 0xb4, 0x8c, 0xb5,
            0x75, 0xd4,
        ];
        assert_eq!(
            registered_aaguid(&attestation_object(0b0100_0101, google)).as_deref(),
            Some("ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4")
        );
        assert_eq!(
            registered_aaguid(&attestation_object(0b0100_0101, [0; 16])),
            None
        );
        // No AT flag: there is no attested credential data to read.
        assert_eq!(
            registered_aaguid(&attestation_object(0b0000_0101, google)),
            None
        );
        assert_eq!(registered_aaguid(b"not cbor"), None);
    }
}
