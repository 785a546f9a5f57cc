//! The accounting of disclosures (45 CFR 164.528): every request whose
//! instrument sends records to a third party (a directive or an
//! authorization) and that was fulfilled, with the date of disclosure, the
//! recipient and their address, what was disclosed and why; filtered by
//! patient name (blind index) and date range; as a page and as CSV.

use askama::Template;
use axum::{
    Extension, Form,
    extract::State,
    http::{HeaderValue, Method, header},
    response::{IntoResponse, Response},
};
use recordpass_request::{Instrument, Lang, SignedDocument};
use serde::Deserialize;
use serde_json::json;
use sqlx::Row;
use std::collections::BTreeMap;

use super::{
    audit,
    pages::{PageError, harden, render},
    queue::csv_field,
    session::Staff,
};
use crate::{AppState, Error};

/// One disclosure.
pub struct Disclosure {
    /// Request number.
    pub number: String,
    /// When the request was fulfilled (unix seconds).
    pub disclosed_at: i64,
    /// That day in the site's time zone (`YYYY-MM-DD`).
    pub day: String,
    /// The patient.
    pub patient_name: String,
    /// Who received the records.
    pub recipient_name: String,
    /// Where they were sent.
    pub recipient_address: String,
    /// What was disclosed.
    pub description: String,
    /// Why.
    pub purpose: String,
    /// `directive` or `authorization`.
    pub instrument: &'static str,
}

impl Disclosure {
    /// `YYYY-MM-DD` date of disclosure, local to the site.
    pub fn date(&self) -> String {
        self.day.clone()
    }
}

/// Report filters (`?from=YYYY-MM-DD&to=YYYY-MM-DD`; a search, `q`, only in
/// a `POST` body, as for the queue: [`super::search_from_body_only`]).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Filter {
    /// Whole words of the patient's name (any case, accents optional), or part of a request number.
    #[serde(default)]
    pub q: String,
    /// First day of disclosure, inclusive.
    #[serde(default)]
    pub from: String,
    /// Last day of disclosure, inclusive.
    #[serde(default)]
    pub to: String,
}

impl Filter {
    fn checked_date(s: &str) -> Result<(), Error> {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        if s.is_empty() || time::Date::parse(s, format).is_ok() {
            Ok(())
        } else {
            Err(Error::InvalidRequest(vec![]))
        }
    }
}

/// What the request disclosed, in plain English.
fn description(doc: &SignedDocument) -> String {
    let scope = &doc.request.scope;
    let kinds: Vec<&str> = scope
        .record_kinds
        .iter()
        .map(|k| k.label(Lang::En))
        .collect();
    // Psychotherapy notes asked for alone name no record kind.
    let mut text = kinds.join(", ");
    if !text.is_empty() {
        text.push_str("; ");
    }
    if scope.all_dates {
        text.push_str("all dates");
    } else {
        let ranges: Vec<String> = scope
            .date_ranges
            .iter()
            .map(|r| format!("{} to {}", r.start, r.end))
            .collect();
        text.push_str(&format!("dates {}", ranges.join(", ")));
    }
    if !scope.sensitive.is_empty() {
        let sensitive: Vec<&str> = scope.sensitive.iter().map(|s| s.label(Lang::En)).collect();
        text.push_str(&format!("; including {}", sensitive.join(", ")));
    }
    text
}

/// Every disclosure matching `filter`, newest first.
pub async fn disclosures(state: &AppState, filter: &Filter) -> Result<Vec<Disclosure>, Error> {
    Filter::checked_date(&filter.from)?;
    Filter::checked_date(&filter.to)?;
    let fulfilled: BTreeMap<String, i64> = sqlx::query(
        "SELECT request_number, MAX(at) AS at FROM request_events
         WHERE kind = 'status' AND status = 'fulfilled' GROUP BY request_number",
    )
    .fetch_all(state.store.pool())
    .await?
    .iter()
    .map(|r| (r.get("request_number"), r.get("at")))
    .collect();
    let q = filter.q.trim().to_lowercase();
    let hits = if q.is_empty() {
        Default::default()
    } else {
        state.store.search_patient_name(&q).await?
    };
    let mut out = Vec::new();
    for s in state.store.submissions().await? {
        let Some(&at) = fulfilled.get(&s.request_number) else {
            continue;
        };
        let doc: SignedDocument = serde_json::from_str(&s.document)
            .map_err(|e| Error::Internal(format!("stored document: {e}")))?;
        let instrument = doc.request.instrument();
        let Some(recipient) = doc.request.recipient.as_ref() else {
            continue;
        };
        if instrument == Instrument::RightOfAccess {
            continue;
        }
        let date = super::queue::zone(state, &s).date_text(at);
        let kept = (filter.from.is_empty() || date >= filter.from)
            && (filter.to.is_empty() || date <= filter.to)
            && (q.is_empty()
                || s.request_number.to_lowercase().contains(&q)
                || hits.contains(&s.request_number));
        if !kept {
            continue;
        }
        let purpose = match doc.request.authorization.purpose.trim() {
            "" => "at the request of the individual".to_owned(),
            p => p.to_owned(),
        };
        out.push(Disclosure {
            number: s.request_number.clone(),
            disclosed_at: at,
            day: date,
            patient_name: doc.request.patient.legal_name.clone(),
            recipient_name: recipient.name.clone(),
            recipient_address: recipient.send_to.clone(),
            description: description(&doc),
            purpose,
            instrument: instrument.id(),
        });
    }
    out.sort_by_key(|d| std::cmp::Reverse(d.disclosed_at));
    Ok(out)
}

#[derive(Template)]
#[template(path = "console/disclosures.html")]
struct DisclosuresPage<'a> {
    staff: &'a Staff,
    filter: Filter,
    rows: Vec<Disclosure>,
}

/// `GET` or `POST /console/disclosures`: the report (a search only by
/// `POST`); audited as a view.
pub async fn page(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    method: Method,
    Form(mut filter): Form<Filter>,
) -> Result<Response, PageError> {
    super::search_from_body_only(&method, &mut filter.q);
    let rows = disclosures(&state, &filter).await?;
    let event = audit::Event {
        actor: &staff.email,
        action: "view_disclosures",
        target: "",
        detail: json!({"rows": rows.len(), "from": filter.from, "to": filter.to}),
    };
    audit::record(&state, event).await?;
    render(&DisclosuresPage {
        staff: &staff,
        filter,
        rows,
    })
}

/// `GET` or `POST /console/disclosures.csv`: the filtered report as CSV (a
/// search only by `POST`); audited as an export.
pub async fn csv(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    method: Method,
    Form(mut filter): Form<Filter>,
) -> Result<Response, PageError> {
    super::search_from_body_only(&method, &mut filter.q);
    let rows = disclosures(&state, &filter).await?;
    let mut out = String::from(
        "date_of_disclosure,request_number,patient_name,recipient_name,recipient_address,description,purpose,instrument\r\n",
    );
    for d in &rows {
        let fields = [
            d.date(),
            d.number.clone(),
            d.patient_name.clone(),
            d.recipient_name.clone(),
            d.recipient_address.clone(),
            d.description.clone(),
            d.purpose.clone(),
            d.instrument.to_owned(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    let event = audit::Event {
        actor: &staff.email,
        action: "export_disclosures_csv",
        target: "",
        detail: json!({"rows": rows.len(), "from": filter.from, "to": filter.to}),
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
        HeaderValue::from_static("attachment; filename=\"recordpass-disclosures.csv\""),
    );
    Ok(harden(response))
}
