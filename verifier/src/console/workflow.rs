//! The request workflow: received → in review → needs information →
//! fulfilled / denied / withdrawn, one extension of up to 30 days, the
//! "identity matched to chart" record and internal notes. Every change is
//! audited and added to the timeline; status changes and the extension notice
//! are written in the requester's language ([`super::notices`]), shown on
//! their status page, and announced by an email with no health information.

use axum::{
    Extension, Form,
    extract::{Path, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use recordpass_request::{Lang, SignedDocument};
use serde::Deserialize;
use serde_json::json;
use sqlx::Row;
use std::collections::HashMap;

use super::{
    audit,
    expiry::{self, Expiry},
    notices::{self, Review},
    pages::PageError,
    session::Staff,
};
use crate::{
    AppState, Error, db,
    email::message::{Letter, escape},
    store::Submission,
    vault::{Field, Vault},
    webhooks::{self, EventType},
};

/// Where a request stands (shared with the requester's status page).
pub use recordpass_request::RequestStatus as Status;

/// The console's record of one request.
#[derive(Clone, Debug)]
pub struct RequestState {
    /// Current status.
    pub status: Status,
    /// Days added by the extension, if one was taken.
    pub extension_days: Option<i64>,
    /// Who matched the requester to a chart, and when.
    pub chart_match: Option<(String, i64)>,
}

impl RequestState {
    /// A request nothing has been recorded for yet.
    pub fn received() -> RequestState {
        RequestState {
            status: Status::Received,
            extension_days: None,
            chart_match: None,
        }
    }

    /// Reads a `request_state` row ([`COLUMNS`]).
    fn from_row(r: &sqlx::any::AnyRow) -> Result<RequestState, Error> {
        let at: Option<i64> = r.get("identity_matched_at");
        let by: Option<String> = r.get("identity_matched_by");
        Ok(RequestState {
            status: Status::parse(r.get("status"))
                .ok_or_else(|| Error::Internal("stored status".into()))?,
            extension_days: r.get("extension_days"),
            chart_match: by.zip(at),
        })
    }
}

/// The `request_state` columns [`RequestState::from_row`] reads.
const COLUMNS: &str = "st.request_number, st.status, st.extension_days, \
                       st.identity_matched_by, st.identity_matched_at";

/// Reads the state of `number` (`Received` when nothing was recorded).
pub async fn load(conn: &mut db::Connection, number: &str) -> Result<RequestState, Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM request_state st WHERE st.request_number = $1"
    ))
    .bind(number)
    .fetch_optional(&mut *conn)
    .await?;
    row.map_or(Ok(RequestState::received()), |r| RequestState::from_row(&r))
}

/// Reads the state of `number` in a transaction that is about to change it.
/// Every change appends to the audit log, so the transaction takes the log's
/// lock first ([`db::lock_audit_log`]): on PostgreSQL two staff acting on a
/// request at once are then serialised, and the second checks its change
/// against the first's result (SQLite's `BEGIN IMMEDIATE` already serialises
/// writers).
async fn load_to_change(tx: &mut db::Connection, number: &str) -> Result<RequestState, Error> {
    db::lock_audit_log(tx).await?;
    load(tx, number).await
}

/// Every recorded state, by request number (for the queue).
pub async fn load_all(state: &AppState) -> Result<HashMap<String, RequestState>, Error> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM request_state st"))
        .fetch_all(state.store.pool())
        .await?;
    by_number(&rows)
}

/// The recorded state of every request `requester_id` signed on `site_id`,
/// by request number, in one query (absent: nothing recorded yet, `Received`).
pub async fn load_for_requester(
    conn: &mut db::Connection,
    requester_id: &str,
    site_id: &str,
) -> Result<HashMap<String, RequestState>, Error> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM request_state st
         JOIN submissions s ON s.request_number = st.request_number
         WHERE s.requester_id = $1 AND s.site_id = $2"
    ))
    .bind(requester_id)
    .bind(site_id)
    .fetch_all(&mut *conn)
    .await?;
    by_number(&rows)
}

fn by_number(rows: &[sqlx::any::AnyRow]) -> Result<HashMap<String, RequestState>, Error> {
    rows.iter()
        .map(|r| Ok((r.get("request_number"), RequestState::from_row(r)?)))
        .collect()
}

async fn save(
    conn: &mut db::Connection,
    number: &str,
    s: &RequestState,
    now: i64,
) -> Result<(), Error> {
    let (by, at) = s.chart_match.clone().unzip();
    sqlx::query(
        "INSERT INTO request_state (request_number, status, extension_days, identity_matched_by,
             identity_matched_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (request_number) DO UPDATE SET status = excluded.status,
             extension_days = excluded.extension_days,
             identity_matched_by = excluded.identity_matched_by,
             identity_matched_at = excluded.identity_matched_at, updated_at = excluded.updated_at",
    )
    .bind(number)
    .bind(s.status.as_str())
    .bind(s.extension_days)
    .bind(by)
    .bind(at)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Writes one timeline entry and its audit event, then commits: every staff
/// action on a request ends this way, in one transaction.
#[allow(clippy::too_many_arguments)]
async fn record_and_commit(
    mut tx: db::Transaction,
    vault: &Vault,
    number: &str,
    now: i64,
    staff: &Staff,
    kind: &str,
    status: Option<Status>,
    text: &str,
    action: &str,
    detail: serde_json::Value,
) -> Result<(), Error> {
    let sealed = vault.seal(Field::EventText, number, text)?;
    timeline(&mut tx, number, now, &staff.email, kind, status, &sealed).await?;
    let event = audit::Event {
        actor: &staff.email,
        action,
        target: number,
        detail,
    };
    audit::append(&mut tx, now, event).await?;
    tx.commit().await?;
    Ok(())
}

/// Appends a timeline entry; `sealed_text` is already sealed for `number`.
async fn timeline(
    conn: &mut db::Connection,
    number: &str,
    now: i64,
    actor: &str,
    kind: &str,
    status: Option<Status>,
    sealed_text: &str,
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO request_events (request_number, at, actor, kind, status, text)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(number)
    .bind(now)
    .bind(actor)
    .bind(kind)
    .bind(status.map(Status::as_str))
    .bind(sealed_text)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The submission and its signed document, or 404.
pub async fn submission(
    state: &AppState,
    number: &str,
) -> Result<(Submission, SignedDocument), Error> {
    let s = state
        .store
        .submission(number)
        .await?
        .ok_or(Error::NotFound)?;
    let doc: SignedDocument = serde_json::from_str(&s.document)
        .map_err(|e| Error::Internal(format!("stored document: {e}")))?;
    Ok((s, doc))
}

/// The status form.
#[derive(Deserialize)]
pub struct StatusForm {
    /// New status.
    pub to: String,
    /// Reasons (required to deny) or the message to the requester (needs information).
    #[serde(default)]
    pub text: String,
    /// For a denial (required): whether its ground may be reviewed, `yes` or
    /// `no` ([`Review::from_answer`]).
    #[serde(default)]
    pub reviewable: String,
}

/// `POST /console/requests/{number}/status`. Records are released
/// (Fulfilled) only while the request's authorization, if it carries one, is
/// in effect ([`Expiry`]); a denial says whether its ground may be reviewed.
pub async fn change_status(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Path(number): Path<String>,
    Form(form): Form<StatusForm>,
) -> Result<Response, PageError> {
    let (s, doc) = submission(&state, &number).await?;
    let to =
        Status::parse(&form.to).ok_or_else(|| Error::InvalidTransition("unknown status".into()))?;
    let text = form.text.trim();
    let now = state.clock.unix();
    let mut tx = state.store.begin().await?;
    let mut current = load_to_change(&mut tx, &number).await?;
    let from = current.status;
    if !from.next().contains(&to) {
        return Err(Error::InvalidTransition(format!(
            "{} cannot become {}",
            from.label(),
            to.label()
        ))
        .into());
    }
    let today = expiry::local_day(super::queue::zone(&state, &s).date(now)?)?;
    if to == Status::Fulfilled
        && let Some(why) = Expiry::of(&doc.request).and_then(|e| e.refusal(today))
    {
        return Err(Error::InvalidTransition(why).into());
    }
    let mut detail = json!({"from": from.as_str(), "to": to.as_str()});
    let entry = match to {
        Status::Denied if text.is_empty() => {
            return Err(Error::InvalidTransition("a denial needs its reasons".into()).into());
        }
        Status::NeedsInformation if text.is_empty() => {
            return Err(Error::InvalidTransition("say what information is needed".into()).into());
        }
        Status::Denied => {
            let review = Review::from_answer(&form.reviewable).ok_or_else(|| {
                Error::InvalidTransition(
                    "say whether the ground of this denial can be reviewed (yes or no)".into(),
                )
            })?;
            detail["reviewable"] = json!(review == Review::Reviewable);
            // The notice names the site's complaint contact as configured now.
            let site = state.config.site(&doc.site.id).ok_or(Error::UnknownSite)?;
            let complaints = notices::Complaints::of(site, doc.lang);
            notices::denial(doc.lang, &number, text, review, complaints)
        }
        _ => notices::status_change(doc.lang, to, text),
    };
    current.status = to;
    save(&mut tx, &number, &current, now).await?;
    let event = EventType::RequestStatusChanged;
    webhooks::request_event(&state, &mut tx, event, &s, &current, Some(from)).await?;
    record_and_commit(
        tx,
        state.store.vault(),
        &number,
        now,
        &staff,
        "status",
        Some(to),
        &entry,
        "status_change",
        detail,
    )
    .await?;
    state.webhooks.wake();
    notify(&state, &doc, &number);
    Ok(back_to(&number))
}

/// The reopen form.
#[derive(Deserialize)]
pub struct ReopenForm {
    /// The reviewing professional's decision, for the requester (in their language).
    pub text: String,
}

/// `POST /console/requests/{number}/reopen`: a denial the reviewing
/// professional overturned goes back in review (45 CFR 164.524(d)(4)), so
/// the decision can be carried out. The requester is sent the decision; the
/// change is audited as `reopened_after_review`. Admins and specialists.
pub async fn reopen(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Path(number): Path<String>,
    Form(form): Form<ReopenForm>,
) -> Result<Response, PageError> {
    let (s, doc) = submission(&state, &number).await?;
    let text = form.text.trim();
    if text.is_empty() || text.chars().count() > 4000 {
        return Err(Error::InvalidTransition(
            "write the reviewer's decision (1 to 4000 characters)".into(),
        )
        .into());
    }
    let now = state.clock.unix();
    let mut tx = state.store.begin().await?;
    let mut current = load_to_change(&mut tx, &number).await?;
    let from = current.status;
    let Some(to) = from.reopened() else {
        return Err(Error::InvalidTransition(format!(
            "only a denied request can be reopened after review; this one is {}",
            from.label()
        ))
        .into());
    };
    current.status = to;
    save(&mut tx, &number, &current, now).await?;
    let event = EventType::RequestStatusChanged;
    webhooks::request_event(&state, &mut tx, event, &s, &current, Some(from)).await?;
    let notice = notices::reopened(doc.lang, &number, text);
    let detail = json!({"from": from.as_str(), "to": to.as_str()});
    record_and_commit(
        tx,
        state.store.vault(),
        &number,
        now,
        &staff,
        "status",
        Some(to),
        &notice,
        "reopened_after_review",
        detail,
    )
    .await?;
    state.webhooks.wake();
    notify(&state, &doc, &number);
    Ok(back_to(&number))
}

/// The extension form.
#[derive(Deserialize)]
pub struct ExtensionForm {
    /// Days added, 1 to 30.
    pub days: i64,
    /// Why (goes into the written notice).
    pub reason: String,
}

/// `POST /console/requests/{number}/extension`: once per request, up to 30
/// days, before the original deadline has ended, with the written notice
/// 164.524(b)(2)(ii) requires added to the timeline.
pub async fn extend(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Path(number): Path<String>,
    Form(form): Form<ExtensionForm>,
) -> Result<Response, PageError> {
    let (s, doc) = submission(&state, &number).await?;
    let reason = form.reason.trim();
    if !(1..=30).contains(&form.days) || reason.is_empty() {
        return Err(
            Error::InvalidTransition("an extension is 1 to 30 days, with a reason".into()).into(),
        );
    }
    let now = state.clock.unix();
    let mut tx = state.store.begin().await?;
    let mut current = load_to_change(&mut tx, &number).await?;
    if current.extension_days.is_some() || current.status.is_final() {
        return Err(Error::InvalidTransition(
            "only one extension, and only while the request is open".into(),
        )
        .into());
    }
    // The notice must reach the requester within the original time limit
    // (164.524(b)(2)(ii)): after it, an extension would only hide that the
    // request is overdue.
    let original = super::queue::original_due(&state, &s)?;
    if original.passed(now) {
        return Err(Error::InvalidTransition(format!(
            "the original deadline ({}) has passed: an extension must be given, with its \
             written notice, before the deadline ends (45 CFR 164.524(b)(2)(ii)); the request \
             is overdue, respond to it now",
            original.date
        ))
        .into());
    }
    current.extension_days = Some(form.days);
    let due = super::queue::due(&state, &s, &current)?;
    let zone = super::queue::zone(&state, &s);
    let (received, due) = (zone.date_text(s.received_at), due.date.to_string());
    let notice = notices::extension(
        doc.lang,
        &notices::Extension {
            number: &number,
            received: &received,
            days: form.days,
            reason,
            due: &due,
        },
    );
    save(&mut tx, &number, &current, now).await?;
    let event = EventType::RequestExtended;
    webhooks::request_event(&state, &mut tx, event, &s, &current, None).await?;
    let detail = json!({"days": form.days});
    record_and_commit(
        tx,
        state.store.vault(),
        &number,
        now,
        &staff,
        "extension",
        None,
        &notice,
        "extension",
        detail,
    )
    .await?;
    state.webhooks.wake();
    notify(&state, &doc, &number);
    Ok(back_to(&number))
}

/// The identity form.
#[derive(Deserialize)]
pub struct IdentityForm {
    /// `yes` to record a match, anything else to clear it.
    pub matched: String,
}

/// `POST /console/requests/{number}/identity`: records (or clears) that HIM
/// matched the requester to the patient's chart.
pub async fn identity(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Path(number): Path<String>,
    Form(form): Form<IdentityForm>,
) -> Result<Response, PageError> {
    submission(&state, &number).await?;
    let matched = form.matched == "yes";
    let now = state.clock.unix();
    let mut tx = state.store.begin().await?;
    let mut current = load_to_change(&mut tx, &number).await?;
    current.chart_match = matched.then(|| (staff.email.clone(), now));
    save(&mut tx, &number, &current, now).await?;
    let text = if matched {
        "Identity matched to chart"
    } else {
        "Identity match withdrawn"
    };
    let detail = json!({"matched": matched});
    record_and_commit(
        tx,
        state.store.vault(),
        &number,
        now,
        &staff,
        "identity",
        None,
        text,
        "identity_match",
        detail,
    )
    .await?;
    Ok(back_to(&number))
}

/// The note form.
#[derive(Deserialize)]
pub struct NoteForm {
    /// Internal note (never shown to the requester).
    pub text: String,
}

/// `POST /console/requests/{number}/notes`.
pub async fn note(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Path(number): Path<String>,
    Form(form): Form<NoteForm>,
) -> Result<Response, PageError> {
    submission(&state, &number).await?;
    let text = form.text.trim();
    if text.is_empty() || text.chars().count() > 4000 {
        return Err(Error::InvalidTransition("a note is 1 to 4000 characters".into()).into());
    }
    let now = state.clock.unix();
    let tx = state.store.begin().await?;
    record_and_commit(
        tx,
        state.store.vault(),
        &number,
        now,
        &staff,
        "note",
        None,
        text,
        "note",
        json!({}),
    )
    .await?;
    Ok(back_to(&number))
}

/// `303 See Other` to the request page of `number` (after a change).
pub fn back_to(number: &str) -> Response {
    let location = format!("/console/requests/{number}");
    match HeaderValue::from_str(&location) {
        Ok(v) => (StatusCode::SEE_OTHER, [(header::LOCATION, v)]).into_response(),
        Err(_) => StatusCode::SEE_OTHER.into_response(),
    }
}

/// Emails the requester that request `number` changed, after the change is
/// committed and without waiting for the relay (a failure is logged and
/// counted, never the staff member's problem): the hospital's name, the
/// request number and a link to the status page, nothing else. Neither the
/// new status nor anything from the request is in it; the requester signs in
/// with their passkey to see those.
fn notify(state: &AppState, doc: &SignedDocument, number: &str) {
    let to = doc.summary().requester_email;
    let hospital = &doc.site.name;
    let link = state
        .config
        .site(&doc.site.id)
        .and_then(|site| site.status_url.as_ref())
        .map(status_link);
    let (subject, lines) = match doc.lang {
        Lang::Es => (
            "Su solicitud de registros médicos cambió de estado".to_owned(),
            [
                format!("Su solicitud de registros médicos {number} a {hospital} cambió de estado."),
                match &link {
                    Some(link) => format!("Para verla, entre con su llave de acceso (passkey) en: {link}"),
                    None => "Para verla, entre con su llave de acceso (passkey) en la página del hospital donde hizo la solicitud.".to_owned(),
                },
            ],
        ),
        Lang::En => (
            "Your medical records request changed status".to_owned(),
            [
                format!("Your medical records request {number} to {hospital} changed status."),
                match &link {
                    Some(link) => format!("To see it, sign in with your passkey at: {link}"),
                    None => "To see it, sign in with your passkey on the hospital page where you made the request.".to_owned(),
                },
            ],
        ),
    };
    let html_link = |line: &str| match &link {
        Some(link) => escape(line).replace(
            &escape(link),
            &format!("<a href=\"{0}\">{0}</a>", escape(link)),
        ),
        None => escape(line),
    };
    let html = format!(
        "<!DOCTYPE html>\r\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\r\n\
         <body><p>{first}</p>\r\n<p>{second}</p></body></html>\r\n",
        lang = doc.lang.tag(),
        title = escape(&subject),
        first = escape(&lines[0]),
        second = html_link(&lines[1]),
    );
    state.email.send_in_background(Letter {
        to,
        lang: doc.lang,
        subject,
        text: format!("{}\r\n\r\n{}\r\n", lines[0], lines[1]),
        html,
    });
}

/// `status_url` with the fragment that opens the widget's status view.
pub fn status_link(url: &webauthn_rs::prelude::Url) -> String {
    let mut url = url.clone();
    if url.fragment().is_none() {
        url.set_fragment(Some("recordpass-status"));
    }
    url.to_string()
}
