//! The printable "request and certificate of completion" PDF, for offices
//! whose release-of-information system is still paper-bound: the statement
//! exactly as signed, the digest and signature details, the evidence
//! re-verified at export time, the seal key and the timeline.
//!
//! The PDF is a readable copy; the sealed evidence bundle stays the proof
//! (`docs/evidence.md` says how to check it without Recordpass).

use axum::{
    Extension,
    extract::{Path, State},
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use recordpass_request::SignedDocument;
use serde_json::json;

use super::{
    audit,
    detail::{Entry, export, history},
    pages::{self, PageError, harden},
    session::Staff,
    workflow,
};
use crate::{
    AppState,
    evidence::{Bundle, Reader, Report, to_pretty_json, verify_bundle},
};

use super::pdf::Document;

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// Everything the certificate shows, gathered at export time.
pub struct Certificate<'a> {
    /// The signed document.
    pub doc: &'a SignedDocument,
    /// The freshly sealed evidence bundle.
    pub bundle: &'a Bundle,
    /// Its re-verification, pinned to this verifier's seal key.
    pub report: &'a Report,
    /// Receipt time, as shown (the site's zone; the bundle keeps UTC).
    pub received: &'a str,
    /// Current status, as shown.
    pub status: &'a str,
    /// Receipt, status changes, extension, identity matching.
    pub timeline: &'a [Entry],
    /// Who exported it, and when.
    pub exported_by: &'a str,
    /// Export time, as shown.
    pub exported_at: &'a str,
}

impl Certificate<'_> {
    /// The PDF bytes.
    pub fn render(&self) -> Vec<u8> {
        let b = self.bundle;
        let number = &b.request_number;
        let mut pdf = Document::new(
            "Request and certificate of completion",
            &format!("{} - request {number}", b.site.name),
        );
        pdf.fact("Hospital", &b.site.name, false);
        pdf.fact("Request number", number, true);
        pdf.fact(
            "Instrument",
            pages::instrument_name(self.doc.request.instrument()),
            false,
        );
        pdf.fact("Patient", &self.doc.request.patient.legal_name, false);
        pdf.fact("Received", self.received, false);
        pdf.fact("Status", self.status, false);

        let lang = b.lang.tag();
        pdf.heading(&if super::pdf::prints_exactly(&b.statement) {
            format!("Statement, exactly as signed (language: {lang})")
        } else {
            format!(
                "Statement as signed (language: {lang}); characters this PDF's font lacks \
                 print as ?: the evidence bundle holds the exact text"
            )
        });
        pdf.mono(&b.statement);

        pdf.heading("Signature");
        pdf.fact(
            "Document digest (SHA-256 of the canonical JSON)",
            &b.digest.hex,
            true,
        );
        pdf.fact(
            "Challenge derivation",
            &format!(
                "{} with label \"{}\"",
                b.signing.construction, b.signing.label
            ),
            false,
        );
        pdf.fact("Nonce (base64url)", &b.signing.nonce_b64url, true);
        pdf.fact("Challenge (base64url)", &b.signing.challenge_b64url, true);
        let w = &b.webauthn;
        pdf.fact("Relying party", &w.rp_id, true);
        pdf.fact("Credential id (base64url)", &w.credential_id, true);
        pdf.fact(
            "Authenticator model (AAGUID)",
            w.aaguid.as_deref().unwrap_or("not attested"),
            true,
        );
        pdf.fact("Algorithm", &w.alg, false);
        pdf.fact(
            "Flags",
            &format!(
                "UP (user present) {}, UV (user verified) {}, BE (backup eligible) {}, BS (backed up) {}",
                yes_no(w.flags.up),
                yes_no(w.flags.uv),
                yes_no(w.flags.be),
                yes_no(w.flags.bs)
            ),
            false,
        );
        pdf.fact("Sign count", &w.sign_count.to_string(), false);
        let r = &b.requester;
        pdf.fact(
            "Requester email",
            &format!(
                "{} - {}",
                r.email_masked,
                r.email_verified_at
                    .as_deref()
                    .map_or("not verified".to_owned(), |at| format!("verified {at}"))
            ),
            false,
        );
        pdf.fact(
            "Client",
            &format!(
                "IP {}; user agent {}",
                b.context.client_ip.as_deref().unwrap_or("not recorded"),
                b.context.user_agent.as_deref().unwrap_or("not recorded")
            ),
            false,
        );
        pdf.fact("Identity assurance", &b.identity_assurance, false);

        pdf.heading(&format!(
            "Evidence re-verified at export: {}",
            if self.report.ok() {
                "VERIFIED"
            } else {
                "NOT VERIFIED"
            }
        ));
        for c in &self.report.checks {
            let mark = if c.ok { "pass" } else { "FAIL" };
            pdf.paragraph(&format!("[{mark}] {}: {}", c.name, c.detail));
        }
        pdf.fact(
            "Seal",
            &format!(
                "{} key {} published at {}; sealed {}",
                b.seal.alg, b.seal.key_id, b.seal.public_key_url, b.seal.sealed_at
            ),
            false,
        );

        pdf.heading("Timeline");
        for e in self.timeline {
            pdf.paragraph(&format!("{} - {} by {}: {}", e.at, e.kind, e.actor, e.text));
        }

        pdf.heading("How to verify independently");
        pdf.paragraph(&format!(
            "This PDF is a readable copy. The proof is the sealed evidence bundle \
             ({number}.evidence.json, \"Download evidence bundle\" in the console). \
             docs/evidence.md explains how to check it with standard tools and no \
             Recordpass software: recompute the SHA-256 digest of document.canonical, \
             derive the challenge from it, verify the passkey signature with the \
             credential's public key, and verify the seal with the key published at {}.",
            b.seal.public_key_url
        ));
        pdf.paragraph(&format!(
            "Exported by {} at {}.",
            self.exported_by, self.exported_at
        ));
        pdf.finish()
    }
}

/// `GET /console/requests/{number}/certificate.pdf`; audited as an export.
pub async fn download(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Path(number): Path<String>,
) -> Result<Response, PageError> {
    let (s, doc) = workflow::submission(&state, &number).await?;
    let mut conn = state
        .store
        .pool()
        .acquire()
        .await
        .map_err(crate::Error::from)?;
    let st = workflow::load(&mut conn, &number).await?;
    drop(conn);
    let bundle = export(&state, &number, Reader::Him).await?;
    let report = verify_bundle(
        to_pretty_json(&bundle)?.as_bytes(),
        Some(state.seal.public()),
    );
    let (timeline, _notes) = history(&state, &number, &s).await?;
    let zone = super::queue::zone(&state, &s);
    let bytes = Certificate {
        doc: &doc,
        bundle: &bundle,
        report: &report,
        received: &zone.time_text(s.received_at),
        status: st.status.label(),
        timeline: &timeline,
        exported_by: &staff.email,
        exported_at: &zone.time_text(state.clock.unix()),
    }
    .render();
    let event = audit::Event {
        actor: &staff.email,
        action: "export_certificate",
        target: &number,
        detail: json!({"evidence_verified": report.ok(), "sealed_at": bundle.seal.sealed_at}),
    };
    audit::record(&state, event).await?;
    let mut response = bytes.into_response();
    let disposition = format!("attachment; filename=\"{number}.certificate.pdf\"");
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(harden(response))
}
