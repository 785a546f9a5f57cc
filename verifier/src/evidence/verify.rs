//! Offline verification of a bundle: every link from the document bytes to the
//! passkey signature and the seal, each reported as a named check.

use base64::{Engine as _, engine::general_purpose::STANDARD};
use recordpass_request::{Digest, Nonce, SIGNING_LABEL, SignedDocument, signing_challenge_b64};
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use std::fmt;

use super::{
    AuthenticatorData, BUNDLE_FORMAT, Bundle, PasskeyPublicKey, keys::pem_decode, sealed_bytes,
};
use crate::seal::SealPublicKey;

/// One named check and its outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// Stable name, e.g. `passkey_signature`.
    pub name: &'static str,
    /// Whether it held.
    pub ok: bool,
    /// What was checked, or why it failed.
    pub detail: String,
}

/// The outcome of [`verify_bundle`].
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Every check, in order.
    pub checks: Vec<Check>,
    /// Caveats that are not failures.
    pub notes: Vec<String>,
}

impl Report {
    /// True when every check held.
    pub fn ok(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.ok)
    }

    /// Names of the checks that failed.
    pub fn failed(&self) -> Vec<&'static str> {
        self.checks
            .iter()
            .filter(|c| !c.ok)
            .map(|c| c.name)
            .collect()
    }

    fn push(&mut self, name: &'static str, result: Result<String, String>) {
        let (ok, detail) = match result {
            Ok(d) => (true, d),
            Err(d) => (false, d),
        };
        self.checks.push(Check { name, ok, detail });
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.checks {
            writeln!(
                f,
                "{} {:<20} {}",
                if c.ok { "✓" } else { "✗" },
                c.name,
                c.detail
            )?;
        }
        for n in &self.notes {
            writeln!(f, "! {n}")?;
        }
        let failed = self.failed();
        if failed.is_empty() {
            write!(f, "bundle verified: {} checks passed", self.checks.len())
        } else {
            write!(f, "BUNDLE NOT VERIFIED: {} failed", failed.join(", "))
        }
    }
}

/// Checks a bundle file's bytes. `pinned` is the seal key the auditor obtained
/// from the verifier's well-known URL; without it the seal only proves
/// integrity relative to the key embedded in the bundle.
pub fn verify_bundle(json: &[u8], pinned: Option<&SealPublicKey>) -> Report {
    let mut report = Report::default();
    let parsed = serde_json::from_slice::<Value>(json)
        .map_err(|e| format!("not JSON: {e}"))
        .and_then(|raw| {
            serde_json::from_value::<Bundle>(raw.clone())
                .map(|b| (raw, b))
                .map_err(|e| format!("not a {BUNDLE_FORMAT} bundle: {e}"))
        })
        .and_then(|(raw, b)| match b.format == BUNDLE_FORMAT {
            true => Ok((raw, b)),
            false => Err(format!("unknown format {:?}", b.format)),
        });
    let (raw, b) = match parsed {
        Ok(v) => v,
        Err(e) => {
            report.push("format", Err(e));
            return report;
        }
    };
    report.push("format", Ok(BUNDLE_FORMAT.into()));
    let doc = b.document.canonical.as_bytes();
    report.push("document_bytes", document_bytes(&b));
    report.push("document_digest", document_digest(&b, doc));
    report.push("document_well_formed", document_well_formed(&b, doc));
    let client_data = STANDARD
        .decode(&b.webauthn.client_data_json_b64)
        .unwrap_or_default();
    let auth_data = STANDARD
        .decode(&b.webauthn.authenticator_data_b64)
        .unwrap_or_default();
    report.push("challenge", challenge(&b, doc, &client_data));
    report.push("client_data", client_data_checks(&b, &client_data));
    let auth = AuthenticatorData::parse(&auth_data);
    report.push("rp_id_hash", rp_id_hash(&b, auth));
    report.push("user_flags", user_flags(&b, auth));
    let key = passkey_key(&b);
    report.push(
        "public_key",
        key.as_ref()
            .map(|k| format!("{} key, COSE and SPKI agree", k.alg))
            .map_err(Clone::clone),
    );
    report.push(
        "passkey_signature",
        passkey_signature(&b, key.ok(), &auth_data, &client_data),
    );
    let sealed = sealed_bytes(&raw).map_err(|e| e.to_string());
    let signature = b
        .seal
        .signature_b64
        .as_deref()
        .and_then(|s| STANDARD.decode(s).ok())
        .unwrap_or_default();
    report.push("seal", seal(&b, sealed.as_deref(), &signature));
    match pinned {
        Some(key) => report.push("seal_key_pinned", seal_pinned(&b, key, sealed.as_deref(), &signature)),
        None => report.notes.push(format!(
            "seal checked only against the key inside the bundle; fetch {} and pass --seal-key to pin it",
            b.seal.public_key_url
        )),
    }
    report
}

fn document_bytes(b: &Bundle) -> Result<String, String> {
    match STANDARD.decode(&b.document.b64) {
        Ok(bytes) if bytes == b.document.canonical.as_bytes() => {
            Ok(format!("{} bytes; canonical and b64 agree", bytes.len()))
        }
        _ => Err("document.canonical and document.b64 differ".into()),
    }
}

fn document_digest(b: &Bundle, doc: &[u8]) -> Result<String, String> {
    let actual = Digest::of(doc).to_hex();
    if b.digest.alg == "SHA-256" && actual == b.digest.hex {
        Ok(format!("SHA-256 {actual}"))
    } else {
        Err(format!(
            "SHA-256 of the document is {actual}, bundle says {}",
            b.digest.hex
        ))
    }
}

fn document_well_formed(b: &Bundle, doc: &[u8]) -> Result<String, String> {
    let d: SignedDocument =
        serde_json::from_slice(doc).map_err(|e| format!("not a signed document: {e}"))?;
    if d.canonical_bytes() != doc {
        return Err("document is not in canonical (RFC 8785) form".into());
    }
    if !d.is_well_formed() {
        return Err("statement does not match the request it describes".into());
    }
    if d.statement != b.statement || d.lang != b.lang || d.site != b.site {
        return Err("bundle's statement, lang or site differ from the document".into());
    }
    Ok(format!("{}; statement matches the request", d.format))
}

fn challenge(b: &Bundle, doc: &[u8], client_data: &[u8]) -> Result<String, String> {
    let nonce = Nonce::from_b64(&b.signing.nonce_b64url).ok_or("nonce is not 32 bytes")?;
    if b.signing.label != SIGNING_LABEL {
        return Err(format!("unknown label {:?}", b.signing.label));
    }
    let expected = signing_challenge_b64(&Digest::of(doc), &nonce);
    let cd: Value =
        serde_json::from_slice(client_data).map_err(|_| "clientDataJSON is not JSON")?;
    if b.signing.challenge_b64url != expected {
        return Err("bundle's challenge is not SHA-256(label ‖ digest ‖ nonce)".into());
    }
    if cd["challenge"].as_str() != Some(expected.as_str()) {
        return Err("clientDataJSON.challenge is not SHA-256(label ‖ digest ‖ nonce)".into());
    }
    Ok(format!("clientDataJSON.challenge = {expected}"))
}

fn client_data_checks(b: &Bundle, client_data: &[u8]) -> Result<String, String> {
    let cd: Value =
        serde_json::from_slice(client_data).map_err(|_| "clientDataJSON is not JSON")?;
    if cd["type"] != "webauthn.get" {
        return Err(format!("type is {}, not webauthn.get", cd["type"]));
    }
    if cd["crossOrigin"] == true {
        return Err("signed in a cross-origin frame".into());
    }
    let origin = cd["origin"].as_str().unwrap_or_default();
    let host = url_host(origin).ok_or_else(|| format!("origin {origin:?} is not a URL"))?;
    let rp = &b.webauthn.rp_id;
    if host != *rp && !host.ends_with(&format!(".{rp}")) {
        return Err(format!("origin {origin} is outside rp_id {rp}"));
    }
    Ok(format!("webauthn.get from {origin}"))
}

/// The host of an `https://host[:port][/]` origin.
fn url_host(origin: &str) -> Option<&str> {
    let rest = origin.split_once("://")?.1;
    let authority = rest.split('/').next()?;
    Some(authority.rsplit_once(':').map_or(authority, |(h, _)| h))
}

fn rp_id_hash(b: &Bundle, auth: Option<AuthenticatorData>) -> Result<String, String> {
    let auth = auth.ok_or("authenticatorData is shorter than 37 bytes")?;
    let expected: [u8; 32] = Sha256::digest(b.webauthn.rp_id.as_bytes()).into();
    if auth.rp_id_hash == expected {
        Ok(format!("SHA-256({:?})", b.webauthn.rp_id))
    } else {
        Err(format!(
            "authenticatorData is not for rp_id {:?}",
            b.webauthn.rp_id
        ))
    }
}

fn user_flags(b: &Bundle, auth: Option<AuthenticatorData>) -> Result<String, String> {
    let auth = auth.ok_or("authenticatorData is shorter than 37 bytes")?;
    let flags = auth.flags();
    if flags != b.webauthn.flags || auth.sign_count != b.webauthn.sign_count {
        return Err("bundle's flags or sign_count differ from authenticatorData".into());
    }
    if !(flags.up && flags.uv) {
        return Err(format!(
            "user present {} / verified {}: both are required",
            flags.up, flags.uv
        ));
    }
    Ok(format!(
        "UP and UV set (BE {}, BS {}, counter {})",
        flags.be, flags.bs, auth.sign_count
    ))
}

fn passkey_key(b: &Bundle) -> Result<PasskeyPublicKey, String> {
    let cose = STANDARD
        .decode(&b.webauthn.public_key_cose_b64)
        .map_err(|_| "public_key_cose_b64 is not base64")?;
    let key = PasskeyPublicKey::from_cose_bytes(&cose).map_err(|e| e.to_string())?;
    let spki = pem_decode("PUBLIC KEY", &b.webauthn.public_key_spki_pem)
        .ok_or("public_key_spki_pem is not a PUBLIC KEY PEM")?;
    if spki != key.spki_der {
        return Err("COSE and SPKI public keys differ".into());
    }
    if key.alg != b.webauthn.alg {
        return Err(format!("alg is {}, key is {}", b.webauthn.alg, key.alg));
    }
    Ok(key)
}

fn passkey_signature(
    b: &Bundle,
    key: Option<PasskeyPublicKey>,
    auth_data: &[u8],
    client_data: &[u8],
) -> Result<String, String> {
    let key = key.ok_or("no usable public key")?;
    let signature = STANDARD
        .decode(&b.webauthn.signature_b64)
        .map_err(|_| "signature_b64 is not base64")?;
    let signed = [auth_data, &Sha256::digest(client_data)[..]].concat();
    if key.verify(&signed, &signature) {
        Ok(format!(
            "{} over authenticatorData ‖ SHA-256(clientDataJSON), credential {}",
            key.alg,
            short(&b.webauthn.credential_id)
        ))
    } else {
        Err("the passkey signature does not verify".into())
    }
}

fn seal(b: &Bundle, sealed: Result<&[u8], &String>, signature: &[u8]) -> Result<String, String> {
    let key = SealPublicKey::from_pem(&b.seal.public_key_pem).map_err(|e| e.to_string())?;
    if key.key_id() != b.seal.key_id || b.seal.alg != "Ed25519" {
        return Err("seal key_id or alg does not match the embedded key".into());
    }
    if key.verify(sealed.map_err(Clone::clone)?, signature) {
        Ok(format!("Ed25519, key {}", b.seal.key_id))
    } else {
        Err("the seal does not verify: the bundle was altered after export".into())
    }
}

fn seal_pinned(
    b: &Bundle,
    key: &SealPublicKey,
    sealed: Result<&[u8], &String>,
    signature: &[u8],
) -> Result<String, String> {
    if key.key_id() != b.seal.key_id {
        return Err(format!(
            "sealed with key {}, not the pinned key {}",
            b.seal.key_id,
            key.key_id()
        ));
    }
    if key.verify(sealed.map_err(Clone::clone)?, signature) {
        Ok(format!("sealed by the pinned key {}", key.key_id()))
    } else {
        Err("the seal does not verify with the pinned key".into())
    }
}

fn short(s: &str) -> String {
    s.chars().take(16).collect::<String>() + if s.len() > 16 { "…" } else { "" }
}
