//! The signed-in requester's own requests: the status list and the signed
//! receipt (the sealed evidence bundle). Only their own: any other number is
//! `404`, exactly like a number that does not exist.
//!
//! Downloading a receipt is audited every time. Viewing the status list is
//! audited at most once per requester and site per [`LIST_AUDIT_SECS`] (per
//! instance): the first view shows what the requester saw, and a client
//! polling the list does not append an audit row per poll.

use recordpass_request::{
    RequestStatus, SignedDocument,
    api::{HospitalMessage, LocalizedText, MyRequest, MyRequests},
};
use serde_json::json;
use sqlx::Row;
use std::{collections::HashMap, sync::Mutex};

use super::session::RequesterSession;
use crate::{
    AppState, Error,
    console::{audit, detail, queue, workflow},
    db,
    evidence::{Bundle, Reader, to_pretty_json},
    store::Submission,
};

/// A requester's status-list views are audited at most once per this many seconds.
pub const LIST_AUDIT_SECS: i64 = 5 * 60;

/// Remembered views forget requesters once they hold this many.
const FORGET_ABOVE: usize = 10_000;

/// When each requester's status list was last audited, by requester and site
/// (in memory: each instance keeps its own).
#[derive(Debug, Default)]
pub struct ListViews {
    audited: Mutex<HashMap<(String, String), i64>>,
}

impl ListViews {
    /// Whether a view by `who` at `now` is to be audited (and if so, counts it
    /// as audited): none audited in the last [`LIST_AUDIT_SECS`].
    fn due(&self, who: &RequesterSession, now: i64) -> bool {
        let mut audited = self
            .audited
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if audited.len() > FORGET_ABOVE {
            audited.retain(|_, at| now - *at < LIST_AUDIT_SECS);
        }
        let key = (who.requester_id.clone(), who.site_id.clone());
        match audited.get(&key) {
            Some(at) if now - at < LIST_AUDIT_SECS => false,
            _ => {
                audited.insert(key, now);
                true
            }
        }
    }
}

/// Every request `who` signed on their site, newest first. Access is logged
/// (site and count only) and audited (the first view in [`LIST_AUDIT_SECS`]).
pub async fn list(state: &AppState, who: &RequesterSession) -> Result<MyRequests, Error> {
    let submissions = state
        .store
        .submissions_of(&who.requester_id, &who.site_id)
        .await?;
    let mut conn = state.store.pool().acquire().await?;
    let mut messages = messages(state, &mut conn, who).await?;
    let mut states =
        workflow::load_for_requester(&mut conn, &who.requester_id, &who.site_id).await?;
    let mut requests = Vec::with_capacity(submissions.len());
    for s in &submissions {
        let st = states
            .remove(&s.request_number)
            .unwrap_or_else(workflow::RequestState::received);
        let mut request = item(state, s, &st)?;
        request.messages = messages.remove(&s.request_number).unwrap_or_default();
        requests.push(request);
    }
    drop(conn);
    if state.list_views.due(who, state.clock.unix()) {
        let event = audit::Event {
            actor: "requester",
            action: "requester_view_status",
            target: &who.requester_id,
            detail: json!({"site": who.site_id, "requests": requests.len()}),
        };
        audit::record(state, event).await?;
    }
    tracing::info!(site = %who.site_id, count = requests.len(), "requester viewed their requests");
    Ok(MyRequests { requests })
}

fn item(state: &AppState, s: &Submission, st: &workflow::RequestState) -> Result<MyRequest, Error> {
    let doc: SignedDocument = serde_json::from_str(&s.document)
        .map_err(|e| Error::Internal(format!("stored document: {e}")))?;
    let summary = doc.summary();
    let status: RequestStatus = st.status;
    let due = queue::due(state, s, st)?;
    let received = crate::clock::rfc3339(s.received_at)
        .ok_or_else(|| Error::Internal("stored receipt time out of range".into()))?;
    Ok(MyRequest {
        request_number: s.request_number.clone(),
        instrument: summary.instrument.to_owned(),
        patient_name: summary.patient_name,
        relationship: doc.request.requester.role,
        received_at: received,
        status,
        status_label: LocalizedText {
            en: status.requester_label(recordpass_request::Lang::En).into(),
            es: status.requester_label(recordpass_request::Lang::Es).into(),
        },
        due_date: due.date.to_string(),
        receipt_available: true,
        messages: Vec::new(),
    })
}

/// The status changes and extension notices (never staff notes or identity
/// matching) of every request `who` signed on their site, unsealed, oldest
/// first, by request number: one query however many requests there are.
async fn messages(
    state: &AppState,
    conn: &mut db::Connection,
    who: &RequesterSession,
) -> Result<HashMap<String, Vec<HospitalMessage>>, Error> {
    let rows = sqlx::query(
        "SELECT e.request_number, e.at, e.text FROM request_events e
         JOIN submissions s ON s.request_number = e.request_number
         WHERE s.requester_id = $1 AND s.site_id = $2 AND e.kind IN ('status', 'extension')
         ORDER BY e.id",
    )
    .bind(&who.requester_id)
    .bind(&who.site_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut by_request: HashMap<String, Vec<HospitalMessage>> = HashMap::new();
    for r in &rows {
        let number: String = r.get("request_number");
        let at = crate::clock::rfc3339(r.get("at"))
            .ok_or_else(|| Error::Internal("stored event time out of range".into()))?;
        let text =
            state
                .store
                .vault()
                .open(crate::vault::Field::EventText, &number, r.get("text"))?;
        by_request
            .entry(number)
            .or_default()
            .push(HospitalMessage { at, text });
    }
    Ok(by_request)
}

/// The sealed evidence bundle of `number`, if `who` signed it; audited.
pub async fn receipt(
    state: &AppState,
    who: &RequesterSession,
    number: &str,
) -> Result<String, Error> {
    let owned = state
        .store
        .submission(number)
        .await?
        .is_some_and(|s| s.requester_id == who.requester_id && s.site_id == who.site_id);
    if !owned {
        return Err(Error::NotFound);
    }
    let bundle: Bundle = detail::export(state, number, Reader::Requester).await?;
    let event = audit::Event {
        actor: "requester",
        action: "requester_receipt_download",
        target: number,
        detail: json!({"sealed_at": bundle.seal.sealed_at}),
    };
    audit::record(state, event).await?;
    tracing::info!(site = %who.site_id, number, "requester downloaded a receipt");
    to_pretty_json(&bundle)
}
