//! The document that is signed: site, language, request and statement.

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::fmt;

use crate::statement::{Edition, render_edition};
use crate::{Lang, RecordsRequest, render_statement, to_canonical_json};

/// Format tag of [`SignedDocument`]; bump it when the model or statements change.
pub const DOCUMENT_FORMAT: &str = "recordpass.request.v3";

/// The hospital (site) the request is addressed to.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteIdentity {
    /// The site id configured in the verifier and used in the embed snippet.
    pub id: String,
    /// The hospital's name as the requester sees it.
    pub name: String,
}

/// Exactly what the requester sees on the review screen and signs.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedDocument {
    /// Always [`DOCUMENT_FORMAT`].
    pub format: String,
    /// Who the request is addressed to.
    pub site: SiteIdentity,
    /// The language the statement was shown in.
    pub lang: Lang,
    /// The normalised request.
    pub request: RecordsRequest,
    /// The statement text, rendered by [`render_statement`].
    pub statement: String,
}

impl SignedDocument {
    /// Builds the document for an already validated (normalised) request.
    pub fn new(site: SiteIdentity, request: RecordsRequest, lang: Lang) -> SignedDocument {
        let statement = render_statement(&site, &request, lang);
        SignedDocument {
            format: DOCUMENT_FORMAT.to_owned(),
            site,
            lang,
            request,
            statement,
        }
    }

    /// True when this document is exactly what [`SignedDocument::new`] renders
    /// (or rendered, in an earlier format this release still knows) for its
    /// own site, request and language (nothing was edited in transit).
    pub fn is_well_formed(&self) -> bool {
        let Some(edition) = Edition::of(&self.format) else {
            return false;
        };
        self.request == self.request.normalized()
            && self.statement == render_edition(&self.site, &self.request, self.lang, edition)
    }

    /// The few facts staff tools list and search by. Keep this stable when the
    /// request model grows: consoles and exports read requests through it.
    pub fn summary(&self) -> DocumentSummary {
        let request = &self.request;
        DocumentSummary {
            patient_name: request.patient.legal_name.clone(),
            date_of_birth: request.patient.date_of_birth.clone(),
            requester_email: request.requester.email.clone(),
            instrument: request.instrument().id(),
            sensitive: !request.scope.sensitive.is_empty(),
        }
    }

    /// The canonical bytes that are hashed.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        // Serialising plain structs of strings and enums cannot fail.
        to_canonical_json(self).unwrap_or_default()
    }

    /// SHA-256 of [`SignedDocument::canonical_bytes`].
    pub fn digest(&self) -> Digest {
        Digest::of(&self.canonical_bytes())
    }
}

/// What staff tools show about a request in lists (see [`SignedDocument::summary`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DocumentSummary {
    /// The patient's legal name.
    pub patient_name: String,
    /// The patient's date of birth, `YYYY-MM-DD`.
    pub date_of_birth: String,
    /// Where the requester receives messages.
    pub requester_email: String,
    /// Legal instrument: `right_of_access`, `directive` or `authorization`
    /// ([`crate::Instrument::id`]). Psychotherapy notes, asked for alone, are
    /// an `authorization` (documents signed before combined them with another
    /// instrument, as a separate authorization); `sensitive` is then true.
    pub instrument: &'static str,
    /// Whether any sensitive category (Part 2, psychotherapy notes, HIV/STI, mental health, genetic) is included.
    pub sensitive: bool,
}

/// A SHA-256 digest, shown and serialised as lower-case hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    /// SHA-256 of `bytes`.
    pub fn of(bytes: &[u8]) -> Digest {
        Digest(Sha256::digest(bytes).into())
    }

    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The first 16 hex digits: the short "fingerprint" shown to requesters and HIM.
    pub fn fingerprint(&self) -> String {
        self.to_hex()[..16].to_owned()
    }

    /// Parses 64 hex digits.
    pub fn from_hex(s: &str) -> Option<Digest> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).ok()?;
        Some(Digest(out))
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.to_hex())
    }
}

impl Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Digest::from_hex(&s).ok_or_else(|| serde::de::Error::custom("expected 64 hex digits"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{RecordKind, examples};

    pub(crate) fn sample() -> SignedDocument {
        SignedDocument::new(examples::site(), examples::self_access(), Lang::En)
    }

    #[test]
    fn canonical_bytes_have_sorted_keys_and_round_trip() {
        let doc = sample();
        let bytes = doc.canonical_bytes();
        let text = std::str::from_utf8(&bytes).expect("utf8");
        assert!(text.starts_with(r#"{"format":"recordpass.request.v3","lang":"en","request":{"authorization":{"expires_on":"","purpose":""},"consent":{"electronic_records":true},"delivery":{"#));
        let back: SignedDocument = serde_json::from_slice(&bytes).expect("parses");
        assert_eq!(back, doc);
        assert_eq!(back.digest(), doc.digest());
    }

    #[test]
    fn digest_matches_an_independent_sha256() {
        // Regression anchor: the digest of the sample must equal `sha256sum` of its bytes,
        // computed here with the sha2 crate directly on the canonical text.
        let doc = sample();
        let expected = hex::encode(Sha256::digest(doc.canonical_bytes()));
        assert_eq!(doc.digest().to_hex(), expected);
        assert_eq!(Digest::from_hex(&expected), Some(doc.digest()));
    }

    #[test]
    fn any_edit_changes_the_digest_and_is_detected() {
        let doc = sample();
        let mut edited = doc.clone();
        edited.request.scope.record_kinds.push(RecordKind::Billing);
        assert_ne!(edited.digest(), doc.digest());
        assert!(
            !edited.is_well_formed(),
            "statement no longer matches the request"
        );
        let mut restated = doc.clone();
        restated.statement.push_str(" And everything else.");
        assert!(!restated.is_well_formed());
        assert!(doc.is_well_formed());
    }
}

#[cfg(test)]
mod summary_tests {
    use super::*;
    use crate::examples;

    #[test]
    fn summary_reports_the_instrument_and_sensitivity() {
        let site = examples::site();
        let cases = [
            (examples::self_access(), "right_of_access", false),
            (examples::parent_directive(), "directive", false),
            (
                examples::representative_authorization(),
                "authorization",
                true,
            ),
        ];
        for (request, instrument, sensitive) in cases {
            let doc = SignedDocument::new(site.clone(), request, Lang::En);
            let summary = doc.summary();
            assert_eq!(summary.patient_name, doc.request.patient.legal_name);
            assert_eq!(summary.date_of_birth, doc.request.patient.date_of_birth);
            assert_eq!(summary.requester_email, doc.request.requester.email);
            assert_eq!(summary.instrument, instrument);
            assert_eq!(summary.sensitive, sensitive);
        }
    }
}

#[cfg(test)]
mod format_tests {
    use super::*;
    use crate::examples;

    /// Every document format with what it stands for: SHA-256 over the
    /// canonical documents of every example in both languages (statements
    /// included). Append a line for a new format; never edit one.
    const HISTORY: &[(&str, &str)] = &[
        (
            "recordpass.request.v2",
            "ba800daef4d49ba5313b57ee6ac724d2807a9df42aeabc8214667c62ed83d6f9",
        ),
        (
            "recordpass.request.v3",
            "31041a67373446aa4b4ecf9519b5bddf9e9133d4b06ee58fe9a433062f194aa8",
        ),
    ];

    /// The requests the fingerprints stand for, as the examples were when
    /// each format was made: Maya's authorization then also asked for
    /// psychotherapy notes (with the separate authorization on top). New
    /// requests must ask for them alone, but documents signed that way still
    /// verify, so they stay here.
    pub(super) fn signed_examples() -> [RecordsRequest; 3] {
        let mut combined = examples::representative_authorization();
        combined
            .scope
            .sensitive
            .push(crate::SensitiveCategory::PsychotherapyNotes);
        [
            examples::self_access(),
            examples::parent_directive(),
            combined,
        ]
    }

    /// The example documents in `format`, as this release renders (or
    /// rendered) them.
    fn examples_in(format: &str) -> Vec<SignedDocument> {
        let edition = Edition::of(format).expect("a known format");
        let mut out = Vec::new();
        for request in signed_examples() {
            for lang in [Lang::En, Lang::Es] {
                let (site, request) = (examples::site(), request.normalized());
                let statement = render_edition(&site, &request, lang, edition);
                out.push(SignedDocument {
                    format: format.to_owned(),
                    site,
                    lang,
                    request,
                    statement,
                });
            }
        }
        out
    }

    fn fingerprint(format: &str) -> String {
        let mut all = Sha256::new();
        for doc in examples_in(format) {
            all.update(doc.canonical_bytes());
        }
        hex::encode(all.finalize())
    }

    #[test]
    fn documents_signed_in_every_earlier_format_still_render_and_verify_exactly() {
        for (format, expected) in HISTORY {
            assert_eq!(
                fingerprint(format),
                *expected,
                "{format} no longer renders as it did"
            );
            for doc in examples_in(format) {
                assert!(doc.is_well_formed(), "{format}: {}", doc.statement);
                let mut later = doc.clone();
                later.format = "recordpass.request.v999".into();
                assert!(!later.is_well_formed(), "an unknown format is refused");
            }
        }
        // A v2 statement is not a v3 one: the format picks the wording.
        let mut relabelled = examples_in("recordpass.request.v2").remove(0);
        relabelled.format = DOCUMENT_FORMAT.into();
        assert!(!relabelled.is_well_formed());
    }

    /// Parents may now attach proof of authority, so their files are kept in
    /// the request; without files a mother's or father's document is byte for
    /// byte what it was (SHA-256 of the canonical JSON, pinned from the
    /// release that dropped every parent's files).
    #[test]
    fn a_parent_without_files_signs_the_same_bytes_as_before() {
        let pinned = [
            (
                "father",
                Lang::En,
                "f2abd0f97525f7fe4aa860dae3fcc0d7357f4744cd0092d7ddfe89c00326df8e",
            ),
            (
                "padre",
                Lang::Es,
                "a9643d8def394bf316d53cd3ee3529237db14c4e1cfe3af447b7bf0f93ff4800",
            ),
            (
                "mother",
                Lang::En,
                "8c431894e712c1394261cb13c03fb161a4e5fe23db7ce072e50c6359cdd7dcd5",
            ),
            (
                "madre",
                Lang::Es,
                "4c4d953e67cd6cf8f790349141821ae2919d999f98572d6417cbf3fff6f020a4",
            ),
        ];
        for (relationship, lang, digest) in pinned {
            let mut request = examples::parent_directive();
            request.requester.relationship = relationship.into();
            let doc = SignedDocument::new(examples::site(), request.normalized(), lang);
            let json = String::from_utf8(doc.canonical_bytes()).expect("UTF-8");
            assert!(!json.contains("attachments"), "{json}");
            assert_eq!(doc.digest().to_hex(), digest, "{relationship}");
        }
    }

    #[test]
    fn a_change_to_what_is_signed_comes_with_a_new_document_format() {
        let built: Vec<SignedDocument> = signed_examples()
            .into_iter()
            .flat_map(|r| {
                [Lang::En, Lang::Es]
                    .map(|lang| SignedDocument::new(examples::site(), r.normalized(), lang))
            })
            .collect();
        assert_eq!(
            built,
            examples_in(DOCUMENT_FORMAT),
            "new() builds the current format"
        );
        let fingerprint = fingerprint(DOCUMENT_FORMAT);
        let formats: std::collections::HashSet<_> = HISTORY.iter().map(|(f, _)| f).collect();
        assert_eq!(
            formats.len(),
            HISTORY.len(),
            "a format names one document shape only"
        );
        assert_eq!(
            HISTORY.last().copied(),
            Some((DOCUMENT_FORMAT, fingerprint.as_str())),
            "the signed documents changed: a widget already on hospital pages would refuse what \
             this verifier builds. Give DOCUMENT_FORMAT a new value (those widgets are then told \
             to update; docs/operations.md, \"Upgrading\") and append it to HISTORY with this \
             fingerprint"
        );
    }
}
