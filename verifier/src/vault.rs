//! Encryption at rest for the personal data the verifier stores.
//!
//! Each sealed value is kept as text, `rp1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>`,
//! encrypted with AES-256-GCM under a key from the keyring (`[encryption]` in the
//! configuration). The associated data names the column and the row the value belongs
//! to, so a sealed value copied to another row or column no longer opens. The key id
//! travels with the value: keys rotate by adding a new one, making it active, and
//! running `recordpass-verifier rotate-key`, which re-seals old values in batches.
//!
//! Patient names are not searchable in sealed form; the queue finds them through a
//! keyed blind index ([`Vault::name_tokens`]): HMAC-SHA256 of each normalised word
//! under a key derived from each data key, so the index rotates with the keys and
//! reveals nothing without them.

use aes_gcm::{
    Aes256Gcm, Nonce,
    aead::{Aead, AeadInOut, KeyInit, Payload},
};
use base64::{
    Engine as _,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::{collections::BTreeSet, fmt, path::Path};
use zeroize::Zeroizing;

use crate::Error;

const PREFIX: &str = "rp1";
const NONCE_LEN: usize = 12;
/// Bytes the AES-GCM tag adds to a sealed value: a buffer for
/// [`Vault::seal_owned`] with this much spare capacity is never reallocated.
pub const TAG_LEN: usize = 16;
// The nonce's base64 ends on a whole group, so the nonce and the ciphertext
// may be encoded one after the other (`seal_with_nonce`).
const _: () = assert!(NONCE_LEN.is_multiple_of(3));
const KEY_LEN: usize = 32;

/// What a sealed value is, bound into its associated data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// `submissions.document` (row: request number).
    Document,
    /// `submission_evidence.client_ip` (row: request number).
    ClientIp,
    /// `submission_evidence.user_agent` (row: request number).
    UserAgent,
    /// `requesters.email` (row: requester id).
    RequesterEmail,
    /// `email_verifications.email` (row: verification id).
    VerificationEmail,
    /// `ceremonies.context` (row: ceremony id).
    CeremonyContext,
    /// `request_events.text` (row: request number).
    EventText,
    /// `uploads.name` (row: upload id).
    UploadName,
    /// `uploads.content`, the file's bytes (row: upload id).
    UploadContent,
    /// `legal_holds.reason` (row: request number).
    HoldReason,
}

impl Field {
    /// Every sealed column, for key rotation.
    pub const ALL: [Field; 10] = [
        Field::Document,
        Field::ClientIp,
        Field::UserAgent,
        Field::RequesterEmail,
        Field::VerificationEmail,
        Field::CeremonyContext,
        Field::EventText,
        Field::UploadName,
        Field::UploadContent,
        Field::HoldReason,
    ];

    /// `table.column`.
    pub fn column(self) -> &'static str {
        match self {
            Field::Document => "submissions.document",
            Field::ClientIp => "submission_evidence.client_ip",
            Field::UserAgent => "submission_evidence.user_agent",
            Field::RequesterEmail => "requesters.email",
            Field::VerificationEmail => "email_verifications.email",
            Field::CeremonyContext => "ceremonies.context",
            Field::EventText => "request_events.text",
            Field::UploadName => "uploads.name",
            Field::UploadContent => "uploads.content",
            Field::HoldReason => "legal_holds.reason",
        }
    }

    fn aad(self, row: &str) -> Vec<u8> {
        format!("recordpass:{}:{row}", self.column()).into_bytes()
    }
}

/// One data key.
struct DataKey {
    id: String,
    cipher: Aes256Gcm,
    /// HMAC key for the blind index, derived from the data key; wiped on drop
    /// (the AES key schedule is wiped by aes-gcm's `zeroize` feature).
    index_key: Zeroizing<[u8; 32]>,
}

/// The keyring: every key that may have sealed a stored value, and the active one
/// new values are sealed with.
pub struct Vault {
    keys: Vec<DataKey>,
    active: usize,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault")
            .field("keys", &self.key_ids())
            .field("active", &self.active_id())
            .finish()
    }
}

impl Vault {
    /// Parses a keyring: one key per line, `<id> <base64 of 32 random bytes>`;
    /// blank lines and `#` comments are ignored. `active` names the key new values
    /// are sealed with (default: the last one).
    pub fn parse(text: &str, active: Option<&str>) -> Result<Vault, Error> {
        let bad = |msg: String| Error::Config(format!("encryption keyring: {msg}"));
        let mut keys: Vec<DataKey> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split_whitespace();
            let (Some(id), Some(b64), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err(bad(format!("line {}: expected `<id> <base64 key>`", n + 1)));
            };
            if !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                return Err(bad(format!(
                    "line {}: key ids use A-Z a-z 0-9 and -",
                    n + 1
                )));
            }
            let raw = STANDARD
                .decode(b64)
                .ok()
                .map(Zeroizing::new)
                .filter(|k| k.len() == KEY_LEN)
                .ok_or_else(|| bad(format!("line {}: the key must be 32 bytes, base64", n + 1)))?;
            if keys.iter().any(|k| k.id == id) {
                return Err(bad(format!("key id `{id}` appears twice")));
            }
            keys.push(DataKey::new(id, &raw)?);
        }
        let active = match active {
            Some(want) => keys
                .iter()
                .position(|k| k.id == want)
                .ok_or_else(|| bad(format!("active key `{want}` is not in the keyring")))?,
            None => keys
                .len()
                .checked_sub(1)
                .ok_or_else(|| bad("no keys".into()))?,
        };
        Ok(Vault { keys, active })
    }

    /// Reads a keyring file (see [`Vault::parse`]).
    pub fn load(path: &Path, active: Option<&str>) -> Result<Vault, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("[encryption] key_file {}: {e}", path.display())))?;
        Vault::parse(&text, active)
    }

    /// A new keyring line with a random key: `<id> <base64>`.
    pub fn new_key_line(id: &str) -> String {
        let mut key = [0u8; KEY_LEN];
        rand::rng().fill_bytes(&mut key);
        format!("{id} {}", STANDARD.encode(key))
    }

    /// The id of the key new values are sealed with.
    pub fn active_id(&self) -> &str {
        &self.keys[self.active].id
    }

    /// Every key id in the keyring.
    pub fn key_ids(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.id.as_str()).collect()
    }

    /// Encrypts `plaintext`, the `field` of row `row`, under the active key.
    pub fn seal(&self, field: Field, row: &str, plaintext: &str) -> Result<String, Error> {
        self.seal_bytes(field, row, plaintext.as_bytes())
    }

    /// [`Vault::seal`] for bytes; the envelope is the same.
    pub fn seal_bytes(&self, field: Field, row: &str, plaintext: &[u8]) -> Result<String, Error> {
        let mut buffer = Vec::with_capacity(plaintext.len() + TAG_LEN);
        buffer.extend_from_slice(plaintext);
        self.seal_owned(field, row, buffer)
    }

    /// [`Vault::seal_bytes`] for a buffer the caller gives up (an uploaded
    /// file): encrypted in place, so the plaintext is overwritten and only the
    /// sealed text is allocated beside it. Give it [`TAG_LEN`] spare capacity.
    pub fn seal_owned(&self, field: Field, row: &str, buffer: Vec<u8>) -> Result<String, Error> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        self.seal_with_nonce(field, row, buffer, nonce)
    }

    /// `rp1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>`.
    fn seal_with_nonce(
        &self,
        field: Field,
        row: &str,
        mut buffer: Vec<u8>,
        nonce: [u8; NONCE_LEN],
    ) -> Result<String, Error> {
        let key = &self.keys[self.active];
        let aad = field.aad(row);
        key.cipher
            .encrypt_in_place(&Nonce::from(nonce), &aad, &mut buffer)
            .map_err(|_| Error::Internal("encryption failed".into()))?;
        let encoded = base64::encoded_len(NONCE_LEN + buffer.len(), false)
            .ok_or_else(|| Error::Internal("sealed value too large".into()))?;
        let mut sealed = String::with_capacity(PREFIX.len() + key.id.len() + 2 + encoded);
        sealed.push_str(PREFIX);
        sealed.push(':');
        sealed.push_str(&key.id);
        sealed.push(':');
        URL_SAFE_NO_PAD.encode_string(nonce, &mut sealed);
        URL_SAFE_NO_PAD.encode_string(&buffer, &mut sealed);
        Ok(sealed)
    }

    /// [`Vault::seal`] for optional values.
    pub fn seal_opt(
        &self,
        field: Field,
        row: &str,
        plaintext: Option<&str>,
    ) -> Result<Option<String>, Error> {
        plaintext.map(|p| self.seal(field, row, p)).transpose()
    }

    /// Decrypts a value sealed by [`Vault::seal`] for the same field and row.
    pub fn open(&self, field: Field, row: &str, stored: &str) -> Result<String, Error> {
        let plain = self.open_bytes(field, row, stored)?;
        String::from_utf8(plain)
            .map_err(|_| Error::Internal(format!("sealed {} of {row}: not UTF-8", field.column())))
    }

    /// [`Vault::open`] for bytes sealed by [`Vault::seal_bytes`] (or [`Vault::seal`]).
    pub fn open_bytes(&self, field: Field, row: &str, stored: &str) -> Result<Vec<u8>, Error> {
        let corrupt =
            |why: &str| Error::Internal(format!("sealed {} of {row}: {why}", field.column()));
        let (key_id, body) = parse_sealed(stored).ok_or_else(|| corrupt("not sealed"))?;
        let key = self
            .keys
            .iter()
            .find(|k| k.id == key_id)
            .ok_or_else(|| corrupt(&format!("key `{key_id}` is not in the keyring")))?;
        let blob = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| corrupt("bad encoding"))?;
        if blob.len() < NONCE_LEN {
            return Err(corrupt("too short"));
        }
        let (nonce, ciphertext) = blob.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| corrupt("nonce"))?;
        let aad = field.aad(row);
        let plain = key
            .cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| corrupt("does not authenticate (wrong row, column or key)"))?;
        Ok(plain)
    }

    /// [`Vault::open`] for optional values.
    pub fn open_opt(
        &self,
        field: Field,
        row: &str,
        stored: Option<&str>,
    ) -> Result<Option<String>, Error> {
        stored.map(|s| self.open(field, row, s)).transpose()
    }

    /// Whether `stored` is sealed with the active key (else `rotate-key` re-seals it).
    pub fn is_current(&self, stored: &str) -> bool {
        parse_sealed(stored).is_some_and(|(id, _)| id == self.active_id())
    }

    /// The text every value sealed with the active key starts with. Compared
    /// exactly: key ids differ by case (`k1` and `K1` are two keys), which
    /// SQLite's `LIKE` would ignore.
    pub fn current_prefix(&self) -> String {
        format!("{PREFIX}:{}:", self.active_id())
    }

    /// The id of the key `stored` is sealed with (`None`: not sealed). Only the
    /// start of the value is looked at, so its first few hundred characters do.
    pub fn sealed_key_id(stored: &str) -> Option<&str> {
        parse_sealed(stored).map(|(id, _)| id)
    }

    /// Whether `stored` is a sealed value at all (values written before encryption
    /// was enabled are not, until `rotate-key` seals them).
    pub fn is_sealed(stored: &str) -> bool {
        parse_sealed(stored).is_some()
    }

    /// Blind-index tokens of a name under the active key: one per distinct word.
    pub fn name_tokens(&self, name: &str) -> Vec<String> {
        let key = &self.keys[self.active];
        name_words(name)
            .iter()
            .map(|w| key.token(w))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }

    /// HMAC-SHA256 of `value` under the index key of the keyring's *first* key,
    /// separated from the name index and other uses by `purpose`: a pseudonym
    /// that only holders of the keyring can compute. Making a new key active does
    /// not change it (new keys are appended); only removing the first key does.
    pub fn keyed_hash(&self, purpose: &str, value: &str) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&*self.keys[0].index_key)
            .expect("HMAC takes keys of any length");
        // A NUL never occurs in an indexed word, so no name token collides.
        mac.update(b"\0");
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(value.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// For each word of a search, its tokens under every key in the keyring (rows
    /// not yet rotated still match). Empty when the search has no words.
    pub fn search_tokens(&self, query: &str) -> Vec<Vec<String>> {
        name_words(query)
            .iter()
            .map(|w| self.keys.iter().map(|k| k.token(w)).collect())
            .collect()
    }
}

impl DataKey {
    fn new(id: &str, raw: &[u8]) -> Result<DataKey, Error> {
        let cipher = Aes256Gcm::new_from_slice(raw)
            .map_err(|_| Error::Config("encryption key must be 32 bytes".into()))?;
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(raw).expect("HMAC takes keys of any length");
        mac.update(b"recordpass blind-index v1");
        Ok(DataKey {
            id: id.to_owned(),
            cipher,
            index_key: Zeroizing::new(mac.finalize().into_bytes().into()),
        })
    }

    fn token(&self, word: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&*self.index_key)
            .expect("HMAC takes keys of any length");
        mac.update(word.as_bytes());
        URL_SAFE_NO_PAD.encode(&mac.finalize().into_bytes()[..16])
    }
}

fn parse_sealed(stored: &str) -> Option<(&str, &str)> {
    let rest = stored.strip_prefix(PREFIX)?.strip_prefix(':')?;
    rest.split_once(':')
}

/// The words a name is indexed and searched by: lower case, accents removed
/// (so "José" matches "jose"), split on anything that is not a letter or digit.
pub fn name_words(name: &str) -> Vec<String> {
    name.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().flat_map(fold).collect())
        .collect()
}

/// Lower-cases and drops the accent of the Latin letters Spanish and English names use.
fn fold(c: char) -> impl Iterator<Item = char> {
    let base = match c {
        'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' | 'Á' | 'À' | 'Â' | 'Ä' | 'Ã' | 'Å' => 'a',
        'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => 'e',
        'í' | 'ì' | 'î' | 'ï' | 'Í' | 'Ì' | 'Î' | 'Ï' => 'i',
        'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'Ó' | 'Ò' | 'Ô' | 'Ö' | 'Õ' => 'o',
        'ú' | 'ù' | 'û' | 'ü' | 'Ú' | 'Ù' | 'Û' | 'Ü' => 'u',
        'ñ' | 'Ñ' => 'n',
        'ç' | 'Ç' => 'c',
        other => other,
    };
    base.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(active: Option<&str>) -> Vault {
        let text = format!(
            "# test keys\n{}\n{}\n",
            "k1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
            "k2 ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
        );
        Vault::parse(&text, active).unwrap()
    }

    #[test]
    fn keyed_hash_survives_a_new_active_key() {
        let before = ring(Some("k1")).keyed_hash("p", "a@example.org");
        let after = ring(Some("k2"));
        assert_eq!(after.keyed_hash("p", "a@example.org"), before);
        assert_ne!(after.keyed_hash("q", "a@example.org"), before);
    }

    #[test]
    fn files_seal_as_bytes_and_open_only_in_their_own_row_and_column() {
        let vault = ring(None);
        let bytes = [0x89, b'P', b'N', b'G', 0xFF, 0x00, 0xFE];
        let sealed = vault
            .seal_bytes(Field::UploadContent, "u1", &bytes)
            .unwrap();
        assert!(sealed.starts_with("rp1:k2:"));
        assert_eq!(
            vault
                .open_bytes(Field::UploadContent, "u1", &sealed)
                .unwrap(),
            bytes
        );
        assert!(
            vault
                .open_bytes(Field::UploadContent, "u2", &sealed)
                .is_err()
        );
        assert!(vault.open_bytes(Field::UploadName, "u1", &sealed).is_err());
        // Not UTF-8: the text API refuses it rather than mangling it.
        assert!(vault.open(Field::UploadContent, "u1", &sealed).is_err());
    }

    /// The envelope of the one-shot seal this vault used before sealing in
    /// place: values sealed either way are the same text, so stored files open.
    #[test]
    fn sealing_in_place_writes_the_same_envelope_as_the_one_shot_seal() {
        let vault = ring(None);
        let key = &vault.keys[vault.active];
        let nonce = [7u8; NONCE_LEN];
        for plaintext in [&b""[..], b"a", b"ab", b"abc", &[0xAB; 100_001][..]] {
            let aad = Field::UploadContent.aad("u1");
            let mut blob = nonce.to_vec();
            blob.extend(
                key.cipher
                    .encrypt(
                        &Nonce::from(nonce),
                        Payload {
                            msg: plaintext,
                            aad: &aad,
                        },
                    )
                    .unwrap(),
            );
            let one_shot = format!("{PREFIX}:{}:{}", key.id, URL_SAFE_NO_PAD.encode(blob));
            let in_place = vault
                .seal_with_nonce(Field::UploadContent, "u1", plaintext.to_vec(), nonce)
                .unwrap();
            assert_eq!(in_place, one_shot, "{} bytes", plaintext.len());
            assert_eq!(
                vault
                    .open_bytes(Field::UploadContent, "u1", &in_place)
                    .unwrap(),
                plaintext
            );
        }
    }

    #[test]
    fn seals_and_opens_bound_to_field_and_row() {
        let v = ring(None);
        assert_eq!(v.active_id(), "k2");
        let s = v.seal(Field::Document, "RP-1", "Ana Pérez").unwrap();
        assert!(s.starts_with("rp1:k2:"), "{s}");
        assert!(!s.contains("Ana"));
        assert_eq!(v.open(Field::Document, "RP-1", &s).unwrap(), "Ana Pérez");
        // Moved to another row or column, it no longer opens.
        assert!(v.open(Field::Document, "RP-2", &s).is_err());
        assert!(v.open(Field::EventText, "RP-1", &s).is_err());
        // Two seals of the same text differ (fresh nonce).
        assert_ne!(s, v.seal(Field::Document, "RP-1", "Ana Pérez").unwrap());
    }

    #[test]
    fn tampering_is_detected() {
        let v = ring(None);
        let s = v
            .seal(Field::RequesterEmail, "r1", "ana@example.org")
            .unwrap();
        let mut bytes = s.into_bytes();
        let last = bytes.len() - 3;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert!(v.open(Field::RequesterEmail, "r1", &tampered).is_err());
        assert!(
            v.open(Field::RequesterEmail, "r1", "ana@example.org")
                .is_err()
        );
    }

    #[test]
    fn old_keys_still_open_after_rotation() {
        let old = ring(Some("k1"));
        let s = old.seal(Field::ClientIp, "RP-1", "192.0.2.1").unwrap();
        let new = ring(None);
        assert!(!new.is_current(&s));
        assert!(old.is_current(&s));
        assert_eq!(new.open(Field::ClientIp, "RP-1", &s).unwrap(), "192.0.2.1");
        let without_k1 =
            Vault::parse("k2 ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=", None).unwrap();
        assert!(without_k1.open(Field::ClientIp, "RP-1", &s).is_err());
    }

    #[test]
    fn keyring_errors_are_specific() {
        let err = |t: &str, a: Option<&str>| Vault::parse(t, a).unwrap_err().to_string();
        assert!(err("", None).contains("no keys"));
        assert!(err("k1 c2hvcnQ=", None).contains("32 bytes"));
        assert!(err("k1", None).contains("expected"));
        assert!(
            err(
                "k1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
                Some("k9")
            )
            .contains("not in the keyring")
        );
        let line = Vault::new_key_line("2026-11");
        assert_eq!(Vault::parse(&line, None).unwrap().active_id(), "2026-11");
    }

    #[test]
    fn blind_index_matches_words_regardless_of_case_and_accents() {
        let v = ring(None);
        assert_eq!(
            name_words("José  María O'Neil-Núñez"),
            ["jose", "maria", "o", "neil", "nunez"]
        );
        let tokens = v.name_tokens("José María Núñez");
        let search = v.search_tokens("NUNEZ");
        assert_eq!(search.len(), 1);
        assert!(search[0].iter().any(|t| tokens.contains(t)));
        assert!(
            !v.search_tokens("nune")[0]
                .iter()
                .any(|t| tokens.contains(t))
        );
        // Tokens differ per key, and reveal nothing by themselves.
        let k1 = ring(Some("k1")).name_tokens("Nunez");
        assert_ne!(k1, v.name_tokens("Nunez"));
        assert!(search[0].contains(&k1[0]));
    }
}
