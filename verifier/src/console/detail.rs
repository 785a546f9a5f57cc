//! One request: the statement exactly as signed, an evidence panel that
//! re-verifies the sealed bundle on every view, the workflow forms, the
//! timeline and internal notes; and the evidence bundle download.

use askama::Template;
use axum::{
    Extension,
    extract::{Path, State},
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use recordpass_request::{DocumentSummary, SignedDocument};
use serde_json::json;
use sqlx::Row;

use super::{
    ADMIN_ROLES, REOPEN_ROLES, audit,
    expiry::{self, Expiry, Standing},
    legal_hold::Refusal,
    notices::{self, Review},
    pages::{self, PageError, harden, render},
    queue,
    session::Staff,
    workflow::{self, RequestState, Status},
};
use crate::{
    AppState, Error,
    evidence::{Bundle, Check, Exporter, Reader, to_pretty_json, verify_bundle},
    holds,
    store::Submission,
    uploads::{self, StoredFile},
    vault::Field,
};

/// One timeline entry.
pub struct Entry {
    /// When (`2026-05-01 14:03 UTC`).
    pub at: String,
    /// Who: a staff email, or `requester`.
    pub actor: String,
    /// `received`, `status`, `extension`, `identity` or `note`.
    pub kind: String,
    /// What happened, as shown.
    pub text: String,
}

/// The end of the request's authorization, as its facts show it.
pub struct AuthorizationEnd {
    /// The date as signed.
    pub expires_on: String,
    /// Why staff must look twice while the request is open: expired, or
    /// ending before the due date.
    pub warning: Option<&'static str>,
}

/// The rights text a denial adds, for each answer to "can it be reviewed?".
pub struct DenialRights {
    /// When the ground is reviewable.
    pub reviewable: String,
    /// When it is not.
    pub not_reviewable: String,
}

#[derive(Template)]
#[template(path = "console/detail.html")]
struct DetailPage<'a> {
    staff: &'a Staff,
    number: String,
    doc: SignedDocument,
    summary: DocumentSummary,
    /// The legal instrument, named for staff.
    instrument: &'static str,
    status: Status,
    next: &'static [Status],
    received: String,
    due: String,
    extended: bool,
    /// The original due date, when it has passed without an extension
    /// (none may be taken then).
    extension_closed: Option<String>,
    can_work: bool,
    verified: bool,
    checks: Vec<Check>,
    bundle: Bundle,
    chart_match: Option<String>,
    timeline: Vec<Entry>,
    notes: Vec<Entry>,
    /// The end of the authorization the request carries, if it carries one.
    authorization: Option<AuthorizationEnd>,
    /// The rights text a denial adds; `None` when the request's site is no
    /// longer configured (a denial is then refused).
    denial_rights: Option<DenialRights>,
    /// Whether the request may be denied now (the form then asks about review).
    deniable: bool,
    /// The answers to "can this denial be reviewed?".
    reviews: [Review; 2],
    /// Whether this staff member may reopen this request (denied) after review.
    can_reopen: bool,
    /// The requester's language, in English (the console's), for the notice fields.
    requester_language: &'static str,
    files: Vec<StoredFile>,
    /// The legal hold in force, as shown (who, when, why).
    legal_hold: Option<String>,
    /// Whether this staff member may place and lift legal holds.
    can_hold: bool,
    /// Why the last hold form was refused, if it was.
    hold_refusal: Option<Refusal>,
    max_reason_chars: usize,
}

/// The timeline (receipt, then status changes, the extension and identity
/// matching, oldest first) and the internal notes of `number`.
pub async fn history(
    state: &AppState,
    number: &str,
    s: &Submission,
) -> Result<(Vec<Entry>, Vec<Entry>), Error> {
    let rows = sqlx::query(
        "SELECT at, actor, kind, text FROM request_events WHERE request_number = $1 ORDER BY id",
    )
    .bind(number)
    .fetch_all(state.store.pool())
    .await?;
    let zone = super::queue::zone(state, s);
    let mut timeline = vec![Entry {
        at: zone.time_text(s.received_at),
        actor: "requester".into(),
        kind: "received".into(),
        text: format!(
            "Signed with a passkey and received (digest {}…)",
            &s.digest[..16]
        ),
    }];
    let mut notes = Vec::new();
    for r in rows {
        let entry = Entry {
            at: zone.time_text(r.get("at")),
            actor: r.get("actor"),
            kind: r.get("kind"),
            text: state
                .store
                .vault()
                .open(Field::EventText, number, r.get("text"))?,
        };
        if entry.kind == "note" {
            notes.push(entry);
        } else {
            timeline.push(entry);
        }
    }
    Ok((timeline, notes))
}

/// Builds and seals the evidence bundle of `number` now, for `reader`.
pub async fn export(state: &AppState, number: &str, reader: Reader) -> Result<Bundle, Error> {
    let public_url = state.config.public_base_url();
    let exporter = Exporter {
        rp_id: &state.config.relying_party.id,
        public_url: &public_url,
        seal: &state.seal,
        reader,
    };
    exporter
        .export(&state.store, number, state.clock.unix())
        .await
}

/// `GET /console/requests/{number}`.
pub async fn page(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Path(number): Path<String>,
) -> Result<Response, PageError> {
    show(&state, &staff, &number, None).await
}

/// The request page of `number` for `staff`, with why a hold form was
/// refused if it was; audited as a `view`.
pub async fn show(
    state: &AppState,
    staff: &Staff,
    number: &str,
    hold_refusal: Option<Refusal>,
) -> Result<Response, PageError> {
    let (s, doc) = workflow::submission(state, number).await?;
    let mut conn = state.store.pool().acquire().await.map_err(Error::from)?;
    let st: RequestState = workflow::load(&mut conn, number).await?;
    drop(conn);
    // Re-verify on every view: build the sealed bundle from what is stored and
    // check it exactly as an auditor would, pinned to this verifier's seal key.
    let bundle = export(state, number, Reader::Him).await?;
    let report = verify_bundle(
        to_pretty_json(&bundle)?.as_bytes(),
        Some(state.seal.public()),
    );
    let (timeline, notes) = history(state, number, &s).await?;
    let files = uploads::of_request(state, number, &doc).await?;
    let zone = super::queue::zone(state, &s);
    let legal_hold = holds::of(&state.store, number).await?.map(|h| {
        format!(
            "placed by {} on {}: {}",
            h.placed_by,
            zone.time_text(h.placed_at),
            h.reason
        )
    });
    let event = audit::Event {
        actor: &staff.email,
        action: "view",
        target: number,
        detail: json!({"evidence_verified": report.ok()}),
    };
    audit::record(state, event).await?;
    let denial_rights = state.config.site(&doc.site.id).map(|site| {
        let rights = |review| {
            notices::denial_rights(doc.lang, review, notices::Complaints::of(site, doc.lang))
        };
        DenialRights {
            reviewable: rights(Review::Reviewable),
            not_reviewable: rights(Review::NotReviewable),
        }
    });
    let requester_language = notices::language_name(doc.lang);
    let due = queue::due(state, &s, &st)?;
    let today = expiry::local_day(zone.date(state.clock.unix())?)?;
    let due_day = expiry::local_day(due.date)?;
    // Once the request is closed its authorization no longer matters to the
    // work: the date stays, the warnings go.
    let open = !st.status.is_final();
    let authorization = Expiry::of(&doc.request).map(|e| AuthorizationEnd {
        warning: match e.standing(today, due_day) {
            _ if !open => None,
            Standing::InEffect => None,
            Standing::EndsBeforeDue => Some(
                "ends before the due date: release the records while it is in effect, or a new \
                 signed authorization is needed",
            ),
            Standing::Expired => Some(
                "expired: records may not be released under it; a new signed authorization is \
                 needed",
            ),
        },
        expires_on: e.expires_on,
    });
    let page = DetailPage {
        number: number.to_owned(),
        summary: doc.summary(),
        instrument: pages::instrument_name(doc.request.instrument()),
        status: st.status,
        next: st.status.next(),
        received: zone.time_text(s.received_at),
        due: due.date.to_string(),
        extended: st.extension_days.is_some(),
        extension_closed: match queue::original_due(state, &s)? {
            due if st.extension_days.is_none() && due.passed(state.clock.unix()) => {
                Some(due.date.to_string())
            }
            _ => None,
        },
        can_work: super::WORK_ROLES.contains(&staff.role),
        verified: report.ok(),
        checks: report.checks,
        chart_match: st
            .chart_match
            .map(|(by, at)| format!("by {by}, {}", zone.time_text(at))),
        bundle,
        doc,
        timeline,
        notes,
        authorization,
        denial_rights,
        deniable: st.status.next().contains(&Status::Denied),
        reviews: Review::ALL,
        can_reopen: st.status.reopened().is_some() && REOPEN_ROLES.contains(&staff.role),
        requester_language,
        files,
        legal_hold,
        can_hold: ADMIN_ROLES.contains(&staff.role),
        hold_refusal,
        max_reason_chars: holds::MAX_REASON_CHARS,
        staff,
    };
    render(&page)
}

/// `GET /console/requests/{number}/bundle`: the sealed evidence bundle; audited.
pub async fn bundle(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Path(number): Path<String>,
) -> Result<Response, PageError> {
    workflow::submission(&state, &number).await?;
    let bundle = export(&state, &number, Reader::Him).await?;
    let event = audit::Event {
        actor: &staff.email,
        action: "export_bundle",
        target: &number,
        detail: json!({"sealed_at": bundle.seal.sealed_at}),
    };
    audit::record(&state, event).await?;
    let mut response = to_pretty_json(&bundle)?.into_response();
    let disposition = format!("attachment; filename=\"{number}.evidence.json\"");
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(harden(response))
}

/// `GET /console/requests/{number}/files/{id}`: one proof-of-authority file,
/// as an attachment of its detected type that no browser renders in place
/// (`nosniff`, `Content-Security-Policy: sandbox`); audited as an export.
pub async fn file(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Path((number, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let (_, doc) = workflow::submission(&state, &number).await?;
    let (name, media_type, bytes) = uploads::content(&state, &number, &doc, &id).await?;
    let event = audit::Event {
        actor: &staff.email,
        action: "export_file",
        target: &number,
        detail: json!({"file": id, "sha256": recordpass_request::Digest::of(&bytes).to_hex()}),
    };
    audit::record(&state, event).await?;
    // An ASCII-only, quote-free name for the header; the stored name may hold anything printable.
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!("attachment; filename=\"{ascii}\"");
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media_type.mime()),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    Ok(harden(response))
}
