//! The work queue: every request with its legal due date, soonest first;
//! counts per status; filters; search; and the same view as CSV.
//!
//! Request facts come only from [`SignedDocument::summary`], which stays
//! stable while the request model grows.

use askama::Template;
use axum::{
    Extension, Form,
    extract::State,
    http::{HeaderValue, Method, header},
    response::{IntoResponse, Response},
};
use recordpass_request::{DocumentSummary, SignedDocument};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeSet;

use super::{
    audit,
    pages::{PageError, harden, render},
    session::Staff,
    workflow::{RequestState, Status, load_all},
};
use crate::{
    AppState, Error,
    config::Site,
    holds,
    store::Submission,
    zone::{Deadline, Zone},
};

const DAY: i64 = 24 * 60 * 60;
/// HIPAA's limit, when the site sets no shorter one.
pub const DEFAULT_DEADLINE_DAYS: i64 = 30;
/// "Due soon" means due within this many days.
pub const DUE_SOON_DAYS: i64 = 7;

/// Days HIM has to act on `s`: its site's `deadline_days` when it was
/// received (recorded with it), or for a request received before that was
/// recorded the site's current setting (HIPAA's 30 by default).
fn deadline_days(state: &AppState, s: &Submission) -> i64 {
    s.deadline_days.unwrap_or_else(|| {
        state
            .config
            .site(&s.site_id)
            .map_or(DEFAULT_DEADLINE_DAYS, Site::days_to_act)
    })
}

/// The time zone `s`'s dates are counted and shown in: its site's zone when
/// it was received (recorded with it), else the site's current zone. A later
/// change of `time_zone` moves no due date of a request already received.
pub fn zone(state: &AppState, s: &Submission) -> Zone {
    let configured = state.config.zone_of(&s.site_id);
    match s.time_zone.as_deref() {
        Some(name) if name != configured.name() => Zone::named(name).unwrap_or(configured),
        _ => configured,
    }
}

/// When `s` must be acted on: its deadline (30 days by default) plus the
/// extension, if one was taken, in calendar days of its time zone ([`zone`])
/// from the local day of receipt ([`Zone::deadline`]).
pub fn due(state: &AppState, s: &Submission, st: &RequestState) -> Result<Deadline, Error> {
    let days = deadline_days(state, s) + st.extension_days.unwrap_or(0);
    zone(state, s).deadline(s.received_at, days)
}

/// The deadline of `s` without any extension: the original time limit, within
/// which an extension and its notice must be given (164.524(b)(2)(ii)).
pub fn original_due(state: &AppState, s: &Submission) -> Result<Deadline, Error> {
    zone(state, s).deadline(s.received_at, deadline_days(state, s))
}

/// One line of the queue.
pub struct Item {
    /// Request number.
    pub number: String,
    /// Receipt date in the site's zone (`YYYY-MM-DD`).
    pub received: String,
    /// When it is due.
    pub due: Deadline,
    /// Status.
    pub status: Status,
    /// Facts from the signed document.
    pub summary: DocumentSummary,
    /// Open and past due: the due date has ended in the site's zone.
    pub overdue: bool,
    /// Open and due within [`DUE_SOON_DAYS`].
    pub due_soon: bool,
    /// On legal hold ([`crate::holds`]).
    pub held: bool,
}

impl Item {
    /// `YYYY-MM-DD` receipt date, local to the site.
    pub fn received(&self) -> String {
        self.received.clone()
    }

    /// `YYYY-MM-DD` due date, local to the site.
    pub fn due(&self) -> String {
        self.due.date.to_string()
    }
}

/// Queue filters (`GET /console?status=…&due=soon|overdue&sensitive=1&held=1`; a
/// search, `q`, only in a `POST` body: see [`super::search_from_body_only`]).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Filter {
    /// Only this status.
    #[serde(default)]
    pub status: String,
    /// `soon` or `overdue`.
    #[serde(default)]
    pub due: String,
    /// `1`: only requests with a sensitive category.
    #[serde(default)]
    pub sensitive: String,
    /// `1`: only requests on legal hold.
    #[serde(default)]
    pub held: String,
    /// Part of a request number, or whole words of the patient's name (any case,
    /// accents optional), matched through the blind index.
    #[serde(default)]
    pub q: String,
}

impl Filter {
    /// Request numbers whose patient name has every word of the search.
    async fn name_hits(&self, state: &AppState) -> Result<BTreeSet<String>, Error> {
        if self.q.trim().is_empty() {
            return Ok(BTreeSet::new());
        }
        state.store.search_patient_name(&self.q).await
    }

    fn keeps(&self, item: &Item, name_hits: &BTreeSet<String>) -> bool {
        let q = self.q.trim().to_lowercase();
        (self.status.is_empty() || item.status.as_str() == self.status)
            && match self.due.as_str() {
                "soon" => item.due_soon,
                "overdue" => item.overdue,
                _ => true,
            }
            && (self.sensitive != "1" || item.summary.sensitive)
            && (self.held != "1" || item.held)
            && (q.is_empty()
                || item.number.to_lowercase().contains(&q)
                || name_hits.contains(&item.number))
    }
}

/// Every request, soonest due first (final ones last).
pub async fn items(state: &AppState) -> Result<Vec<Item>, Error> {
    let states = load_all(state).await?;
    let held = holds::numbers(&state.store).await?;
    let now = state.clock.unix();
    let fresh = RequestState::received();
    let mut items = Vec::new();
    for s in state.store.submissions().await? {
        let doc: SignedDocument = serde_json::from_str(&s.document)
            .map_err(|e| Error::Internal(format!("stored document: {e}")))?;
        let st = states.get(&s.request_number).unwrap_or(&fresh);
        let due = due(state, &s, st)?;
        let open = !st.status.is_final();
        let left = due.ends_at - now;
        items.push(Item {
            number: s.request_number.clone(),
            received: zone(state, &s).date_text(s.received_at),
            due,
            status: st.status,
            summary: doc.summary(),
            overdue: open && due.passed(now),
            due_soon: open && !due.passed(now) && left <= DUE_SOON_DAYS * DAY,
            held: held.contains(&s.request_number),
        });
    }
    items.sort_by_key(|i| (i.status.is_final(), i.due.ends_at));
    Ok(items)
}

struct Count {
    status: Status,
    count: usize,
}

#[derive(Template)]
#[template(path = "console/queue.html")]
struct QueuePage<'a> {
    staff: &'a Staff,
    filter: Filter,
    counts: Vec<Count>,
    overdue: usize,
    items: Vec<Item>,
    statuses: [Status; 6],
}

/// Request numbers a name search's audit event lists at most.
pub const AUDITED_HITS: usize = 100;

/// `GET /console`: the queue; `POST /console`: the same with a search
/// ([`super::search_from_body_only`]). Audited as `view_queue` with the filter (a name
/// search only as `searched`, never its words) and, for a search, the numbers
/// of the requests it showed: looking someone up leaves a trace.
pub async fn page(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    method: Method,
    Form(mut filter): Form<Filter>,
) -> Result<Response, PageError> {
    super::search_from_body_only(&method, &mut filter.q);
    let all = items(&state).await?;
    let counts = Status::ALL
        .into_iter()
        .map(|status| Count {
            status,
            count: all.iter().filter(|i| i.status == status).count(),
        })
        .collect();
    let overdue = all.iter().filter(|i| i.overdue).count();
    let hits = filter.name_hits(&state).await?;
    let items: Vec<Item> = all.into_iter().filter(|i| filter.keeps(i, &hits)).collect();
    let searched = !filter.q.trim().is_empty();
    let mut detail = json!({
        "rows": items.len(),
        "status": filter.status,
        "due": filter.due,
        "sensitive": filter.sensitive == "1",
        "held": filter.held == "1",
        "searched": searched,
    });
    if searched {
        let shown: Vec<&str> = items
            .iter()
            .take(AUDITED_HITS)
            .map(|i| i.number.as_str())
            .collect();
        detail["requests"] = json!(shown);
    }
    let event = audit::Event {
        actor: &staff.email,
        action: "view_queue",
        target: "",
        detail,
    };
    audit::record(&state, event).await?;
    render(&QueuePage {
        staff: &staff,
        filter,
        counts,
        overdue,
        items,
        statuses: Status::ALL,
    })
}

/// `GET` or `POST /console/queue.csv`: the filtered queue as CSV (a search
/// only by `POST`); audited as an export.
pub async fn csv(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    method: Method,
    Form(mut filter): Form<Filter>,
) -> Result<Response, PageError> {
    super::search_from_body_only(&method, &mut filter.q);
    let hits = filter.name_hits(&state).await?;
    let items: Vec<Item> = items(&state)
        .await?
        .into_iter()
        .filter(|i| filter.keeps(i, &hits))
        .collect();
    let mut out = String::from(
        "request_number,received,due,status,patient_name,date_of_birth,instrument,sensitive\r\n",
    );
    for i in &items {
        let fields = [
            i.number.as_str(),
            &i.received(),
            &i.due(),
            i.status.as_str(),
            &i.summary.patient_name,
            &i.summary.date_of_birth,
            i.summary.instrument,
            if i.summary.sensitive { "yes" } else { "no" },
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    let event = audit::Event {
        actor: &staff.email,
        action: "export_queue_csv",
        target: "",
        detail: json!({"rows": items.len()}),
    };
    audit::record(&state, event).await?;
    let mut response = out.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"recordpass-queue.csv\""),
    );
    Ok(harden(response))
}

/// One CSV field (RFC 4180 quoting), defused against formula injection: a
/// value a spreadsheet would evaluate (`= + - @`, tab, CR) gets a leading `'`.
pub fn csv_field(value: &str) -> String {
    let defused = match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_owned(),
    };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("Ana"), "Ana");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("+1"), "'+1");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
    }
}
