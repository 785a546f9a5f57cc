//! The human-readable statement the requester reads and signs, one module per
//! instrument, in English and Spanish. Paragraphs are separated by blank lines.
//!
//! The exact text becomes part of the signed document, so changing a template
//! changes digests: bump [`crate::DOCUMENT_FORMAT`] when you do.

mod access;
mod authorization;
mod common;
mod directive;
mod esign;

pub use esign::esign_disclosure;

use crate::{Instrument, Lang, RecordsRequest, SiteIdentity};

/// Renders the statement for a normalised request, in `lang`.
pub fn render_statement(site: &SiteIdentity, req: &RecordsRequest, lang: Lang) -> String {
    let c = common::Context { site, req, lang };
    let mut paragraphs = match req.instrument() {
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
