//! The widget's own check of what the verifier asks it to sign.

use recordpass_request::api::SigningStarted;
use recordpass_request::{SignedDocument, signing_challenge};

/// WebAuthn request options whose challenge can be read.
pub trait Challenge {
    /// The challenge bytes, if the options are well-formed.
    fn challenge(&self) -> Option<Vec<u8>>;
}

/// True when the verifier's signing ceremony covers exactly `local`, the
/// document the requester reviewed: same document, a well-formed one, the
/// same digest, and a WebAuthn challenge derived from that digest.
pub fn signs_exactly(local: &SignedDocument, started: &SigningStarted<impl Challenge>) -> bool {
    let digest = local.digest();
    started.document == *local
        && started.document.is_well_formed()
        && started.digest == digest
        && started.options.challenge().as_deref()
            == Some(&signing_challenge(&digest, &started.nonce)[..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use recordpass_request::{Lang, Nonce, RecordKind, examples};

    const NONCE: Nonce = Nonce([7; 32]);

    struct Options(Option<Vec<u8>>);

    impl Challenge for Options {
        fn challenge(&self) -> Option<Vec<u8>> {
            self.0.clone()
        }
    }

    fn document() -> SignedDocument {
        SignedDocument::new(examples::site(), examples::self_access(), Lang::Es)
    }

    fn started(document: &SignedDocument, challenge: Option<[u8; 32]>) -> SigningStarted<Options> {
        SigningStarted {
            ceremony_id: "c1".into(),
            document: document.clone(),
            digest: document.digest(),
            nonce: NONCE,
            options: Options(challenge.map(Vec::from)),
        }
    }

    #[test]
    fn accepts_the_honest_ceremony() {
        let doc = document();
        let ok = started(&doc, Some(signing_challenge(&doc.digest(), &NONCE)));
        assert!(signs_exactly(&doc, &ok));
    }

    #[test]
    fn refuses_edited_documents_digests_and_challenges() {
        let doc = document();
        let challenge = Some(signing_challenge(&doc.digest(), &NONCE));

        let mut edited = started(&doc, challenge);
        edited
            .document
            .request
            .scope
            .record_kinds
            .push(RecordKind::Billing);
        assert!(!signs_exactly(&doc, &edited));

        let mut other_digest = started(&doc, challenge);
        other_digest.digest = recordpass_request::Digest::of(b"something else");
        assert!(!signs_exactly(&doc, &other_digest));

        let wrong_challenge = started(
            &doc,
            Some(signing_challenge(&doc.digest(), &Nonce([8; 32]))),
        );
        assert!(!signs_exactly(&doc, &wrong_challenge));
        assert!(!signs_exactly(&doc, &started(&doc, None)));

        let mut restated = started(&doc, challenge);
        restated
            .document
            .statement
            .push_str(" And my neighbour's records.");
        assert!(!signs_exactly(&doc, &restated));
    }
}
