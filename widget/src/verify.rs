//! The widget's own check of what the verifier asks it to sign.

use recordpass_request::api::SigningStarted;
use recordpass_request::{SignedDocument, signing_challenge};

/// True when the verifier's signing ceremony covers exactly `local`, the
/// document the requester reviewed: same document, a well-formed one, the
/// same digest, and a WebAuthn challenge derived from that digest.
pub fn signs_exactly(local: &SignedDocument, started: &SigningStarted) -> bool {
    let digest = local.digest();
    started.document == *local
        && started.document.is_well_formed()
        && started.digest == digest
        && started.options.public_key.challenge == signing_challenge(&digest, &started.nonce)
}

#[cfg(test)]
mod tests {
    use super::*;
    use recordpass_request::{Lang, Nonce, RecordKind, examples, signing_challenge_b64};

    const NONCE: Nonce = Nonce([7; 32]);

    fn document() -> SignedDocument {
        SignedDocument::new(examples::site(), examples::self_access(), Lang::Es)
    }

    fn started(document: &SignedDocument, challenge_b64: &str) -> SigningStarted {
        serde_json::from_value(serde_json::json!({
            "ceremony_id": "c1",
            "document": document,
            "digest": document.digest(),
            "nonce": NONCE.to_b64(),
            "options": {"publicKey": {
                "challenge": challenge_b64,
                "rpId": "localhost",
                "allowCredentials": [],
                "userVerification": "required"
            }}
        }))
        .expect("valid SigningStarted")
    }

    #[test]
    fn accepts_the_honest_ceremony() {
        let doc = document();
        let ok = started(&doc, &signing_challenge_b64(&doc.digest(), &NONCE));
        assert!(signs_exactly(&doc, &ok));
    }

    #[test]
    fn refuses_edited_documents_digests_and_challenges() {
        let doc = document();
        let challenge = signing_challenge_b64(&doc.digest(), &NONCE);

        let mut edited = started(&doc, &challenge);
        edited
            .document
            .request
            .scope
            .record_kinds
            .push(RecordKind::Billing);
        assert!(!signs_exactly(&doc, &edited));

        let mut other_digest = started(&doc, &challenge);
        other_digest.digest = recordpass_request::Digest::of(b"something else");
        assert!(!signs_exactly(&doc, &other_digest));

        let wrong_challenge = started(&doc, &signing_challenge_b64(&doc.digest(), &Nonce([8; 32])));
        assert!(!signs_exactly(&doc, &wrong_challenge));

        let mut restated = started(&doc, &challenge);
        restated
            .document
            .statement
            .push_str(" And my neighbour's records.");
        assert!(!signs_exactly(&doc, &restated));
    }
}
