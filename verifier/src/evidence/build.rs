//! Building and sealing a bundle from what the verifier stored.

use base64::{Engine as _, engine::general_purpose::STANDARD};
use recordpass_request::{
    Digest, Nonce, SIGNING_LABEL, SignedDocument, signing_challenge_b64, to_canonical_json,
};
use serde_json::Value;
use webauthn_rs::prelude::Passkey;

use super::{
    AuthenticatorData, BUNDLE_FORMAT, Bundle, ClientInfo, ContextInfo, DigestInfo, DocumentBytes,
    PasskeyPublicKey, RequesterInfo, SealInfo, SigningEvidence, SigningInfo, VerifierInfo,
    WebauthnInfo,
};
use crate::{
    Error, Store,
    passkeys::from_json,
    seal::{SEAL_ALG, SEAL_KEY_PATH, SealKey},
    store::Submission,
};

/// The exporting verifier: relying party, public URL and seal key.
pub struct Exporter<'a> {
    /// Relying-party ID (its SHA-256 starts `authenticatorData`).
    pub rp_id: &'a str,
    /// Public base URL, e.g. `https://records.example-hospital.org`.
    pub public_url: &'a str,
    /// The key that seals bundles.
    pub seal: &'a SealKey,
    /// Who the bundle is for.
    pub reader: Reader,
}

/// Who a bundle is for. HIM's copies name the staff member who matched the
/// requester to a chart (the audit trail does too); the requester's own
/// receipt says only that HIM staff did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reader {
    /// HIM staff, auditors, the command line.
    Him,
    /// The requester, downloading their receipt.
    Requester,
}

/// What the verifier knows about the requester when exporting.
pub struct RequesterFacts {
    /// The email address the passkey is bound to.
    pub email: String,
    /// When that address was confirmed (unix seconds), if it was.
    pub email_verified_at: Option<i64>,
    /// HIM's record that the requester was matched to a chart, e.g.
    /// `identity matched to chart by hana@… 2026-…` (`by HIM staff` in the
    /// requester's receipt); `None` while not matched.
    pub chart_match: Option<String>,
}

impl Exporter<'_> {
    /// Loads submission `number` and everything captured with it, and seals a bundle.
    pub async fn export(&self, store: &Store, number: &str, now: i64) -> Result<Bundle, Error> {
        let submission = store
            .submission(number)
            .await?
            .ok_or_else(|| Error::Evidence(format!("no submission {number}")))?;
        let captured = match store.signing_evidence(number).await? {
            Some(captured) => captured,
            None => uncaptured(store, &submission).await?,
        };
        let email = store
            .requester_email(&submission.requester_id)
            .await?
            .ok_or_else(|| Error::Evidence("requester missing".into()))?;
        let requester = RequesterFacts {
            email,
            email_verified_at: store
                .requester_email_verified_at(&submission.requester_id)
                .await?,
            chart_match: store
                .chart_match(number)
                .await?
                .map(|(by, at)| {
                    let by = match self.reader {
                        Reader::Him => by,
                        Reader::Requester => "HIM staff".to_owned(),
                    };
                    Ok::<_, Error>(format!(
                        "identity matched to chart by {by} {}",
                        rfc3339(at)?
                    ))
                })
                .transpose()?,
        };
        self.build(&submission, &captured, &requester, now)
    }

    /// Builds and seals the bundle for a stored submission.
    pub fn build(
        &self,
        s: &Submission,
        captured: &SigningEvidence,
        requester: &RequesterFacts,
        now: i64,
    ) -> Result<Bundle, Error> {
        let document: SignedDocument = serde_json::from_str(&s.document)
            .map_err(|e| Error::Evidence(format!("stored document: {e}")))?;
        let digest =
            Digest::from_hex(&s.digest).ok_or_else(|| Error::Evidence("stored digest".into()))?;
        let nonce =
            Nonce::from_b64(&s.nonce).ok_or_else(|| Error::Evidence("stored nonce".into()))?;
        let key = PasskeyPublicKey::from_cose_bytes(&captured.public_key_cose)?;
        let auth = AuthenticatorData::parse(&s.authenticator_data)
            .ok_or_else(|| Error::Evidence("stored authenticatorData is short".into()))?;
        let flags = auth.flags();
        let email_verified_at = requester.email_verified_at.map(rfc3339).transpose()?;
        let mut bundle = Bundle {
            format: BUNDLE_FORMAT.to_owned(),
            request_number: s.request_number.clone(),
            site: document.site.clone(),
            received_at: rfc3339(s.received_at)?,
            document: DocumentBytes {
                canonical: s.document.clone(),
                b64: STANDARD.encode(s.document.as_bytes()),
            },
            digest: DigestInfo {
                alg: "SHA-256".into(),
                hex: digest.to_hex(),
            },
            statement: document.statement.clone(),
            lang: document.lang,
            signing: SigningInfo {
                label: SIGNING_LABEL.into(),
                construction: "SHA-256(label ‖ digest ‖ nonce)".into(),
                nonce_b64url: nonce.to_b64(),
                challenge_b64url: signing_challenge_b64(&digest, &nonce),
            },
            webauthn: WebauthnInfo {
                rp_id: captured.rp_id.as_deref().unwrap_or(self.rp_id).to_owned(),
                credential_id: s.credential_id.clone(),
                client_data_json_b64: STANDARD.encode(&s.client_data_json),
                authenticator_data_b64: STANDARD.encode(&s.authenticator_data),
                signature_b64: STANDARD.encode(&s.signature),
                public_key_cose_b64: STANDARD.encode(&key.cose),
                public_key_spki_pem: key.spki_pem(),
                alg: key.alg.to_owned(),
                flags,
                sign_count: auth.sign_count,
                aaguid: captured.aaguid.clone(),
            },
            requester: RequesterInfo {
                email_masked: mask_email(&requester.email),
                email_verified_at: email_verified_at.clone(),
            },
            context: ContextInfo {
                client_ip: captured.client_ip.clone(),
                user_agent: captured.user_agent.clone(),
            },
            identity_assurance: with_chart_match(
                identity_assurance(flags.uv, flags.be, email_verified_at.as_deref()),
                requester.chart_match.as_deref(),
            ),
            verifier: VerifierInfo {
                version: captured.verifier_version.clone(),
            },
            seal: SealInfo {
                alg: SEAL_ALG.into(),
                key_id: self.seal.public().key_id(),
                public_key_url: format!("{}{SEAL_KEY_PATH}", self.public_url.trim_end_matches('/')),
                public_key_pem: self.seal.public().to_pem(),
                sealed_at: rfc3339(now)?,
                signature_b64: None,
            },
        };
        let unsealed = serde_json::to_value(&bundle).map_err(|e| Error::Evidence(e.to_string()))?;
        let signature = self.seal.sign(&sealed_bytes(&unsealed)?);
        bundle.seal.signature_b64 = Some(STANDARD.encode(signature));
        Ok(bundle)
    }
}

/// Evidence for a submission stored before evidence capture existed: the key
/// from the passkey record, no network context, no verifier version.
async fn uncaptured(store: &Store, s: &Submission) -> Result<SigningEvidence, Error> {
    let stored = store
        .passkey(&s.credential_id)
        .await?
        .ok_or_else(|| Error::Evidence("the signing passkey is no longer stored".into()))?;
    let passkey: Passkey = from_json(&stored.passkey)?;
    let mut evidence = SigningEvidence::capture(
        &ClientInfo::default(),
        &passkey,
        stored.aaguid,
        &s.authenticator_data,
        None,
    )?;
    evidence.verifier_version = "unknown (stored before evidence capture)".into();
    Ok(evidence)
}

/// The bytes the seal signs: RFC 8785 JSON of the bundle without `seal.signature_b64`.
pub fn sealed_bytes(bundle: &Value) -> Result<Vec<u8>, Error> {
    let mut value = bundle.clone();
    if let Some(seal) = value.get_mut("seal").and_then(Value::as_object_mut) {
        seal.remove("signature_b64");
    }
    to_canonical_json(&value).map_err(|e| Error::Evidence(format!("canonical JSON: {e}")))
}

/// The bundle as written to a file: indented JSON (the seal does not depend on layout).
pub fn to_pretty_json(bundle: &Bundle) -> Result<String, Error> {
    serde_json::to_string_pretty(bundle)
        .map(|s| s + "\n")
        .map_err(|e| Error::Evidence(e.to_string()))
}

/// `ana@example.org` → `a***@example.org`.
pub fn mask_email(email: &str) -> String {
    match email.rsplit_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

/// A plain summary for HIM of how far the requester's identity is established.
pub fn identity_assurance(uv: bool, be: bool, email_verified_at: Option<&str>) -> String {
    let passkey = if uv {
        "passkey with user verification (AAL2-equivalent)"
    } else {
        "passkey without user verification (AAL1-equivalent)"
    };
    let kind = if be {
        "synced passkey"
    } else {
        "device-bound passkey"
    };
    let email = match email_verified_at {
        Some(at) => format!("email verified {at}"),
        None => "email not verified".into(),
    };
    format!("{passkey}; {kind}; {email}; identity not yet matched to chart")
}

/// Replaces the assurance summary's "not yet matched" clause with HIM's match record.
pub fn with_chart_match(summary: String, chart_match: Option<&str>) -> String {
    match chart_match {
        Some(matched) => summary.replace("identity not yet matched to chart", matched),
        None => summary,
    }
}

pub(crate) fn rfc3339(unix: i64) -> Result<String, Error> {
    crate::clock::rfc3339(unix).ok_or_else(|| Error::Evidence(format!("time {unix} out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_masked_and_assurance_reads_plainly() {
        assert_eq!(mask_email("ana@example.org"), "a***@example.org");
        assert_eq!(mask_email("ñ@x.es"), "ñ***@x.es");
        assert_eq!(mask_email("nonsense"), "***");
        assert_eq!(
            identity_assurance(true, true, None),
            "passkey with user verification (AAL2-equivalent); synced passkey; \
             email not verified; identity not yet matched to chart"
        );
    }
}
