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
}
