//! The human-readable statement the requester reads and signs, one module per
//! instrument, in English and Spanish. Paragraphs are separated by blank lines.
//!
//! The exact text becomes part of the signed document, so changing a template
//! changes digests: bump [`crate::DOCUMENT_FORMAT`] when you do, and keep the
//! earlier wording behind an [`Edition`] so documents signed before still
//! verify (`format_tests` in `document.rs` checks every earlier format).

mod access;
mod authorization;
mod common;
mod directive;
mod esign;

pub use esign::esign_disclosure;

use crate::{DOCUMENT_FORMAT, Instrument, Lang, RecordsRequest, SiteIdentity};

/// The wording of the statements, one per document format still verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Edition {
    /// `recordpass.request.v2`.
    V2,
    /// `recordpass.request.v3`: plain-language authorization statements, an
    /// E-SIGN consent that no longer mentions a code, reviewed Spanish.
    V3,
}

impl Edition {
    /// The wording [`render_statement`] uses ([`DOCUMENT_FORMAT`]).
    pub(crate) const CURRENT: Edition = Edition::V3;

    /// The wording of documents in `format`, if this release knows it.
    pub(crate) fn of(format: &str) -> Option<Edition> {
        match format {
            "recordpass.request.v2" => Some(Edition::V2),
            DOCUMENT_FORMAT => Some(Edition::CURRENT),
            _ => None,
        }
    }
}

/// Renders the statement for a normalised request, in `lang`.
pub fn render_statement(site: &SiteIdentity, req: &RecordsRequest, lang: Lang) -> String {
    render_edition(site, req, lang, Edition::CURRENT)
}

/// Renders the statement as `edition` worded it.
pub(crate) fn render_edition(
    site: &SiteIdentity,
    req: &RecordsRequest,
    lang: Lang,
    edition: Edition,
) -> String {
    let c = common::Context {
        site,
        req,
        lang,
        edition,
    };
    let mut paragraphs = match req.instrument() {
        // Their own authorization is the whole statement.
        _ if req.is_psychotherapy_notes_only() => Vec::new(),
        Instrument::RightOfAccess => access::render(&c),
        Instrument::Directive => directive::render(&c),
        Instrument::Authorization => authorization::render(&c),
    };
    if req.has_psychotherapy_authorization() {
        paragraphs.extend(authorization::psychotherapy(&c));
    }
    paragraphs.push(c.consent());
    paragraphs.push(c.signature());
    paragraphs.join("\n\n")
}

#[cfg(test)]
mod tests;
