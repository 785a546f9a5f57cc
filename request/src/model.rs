//! The request a requester fills in.

use serde::{Deserialize, Serialize};

/// Languages the widget and the signed statement are offered in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Spanish.
    Es,
}

impl Lang {
    /// Every supported language, in menu order.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Es];

    /// BCP 47 tag, as used in `lang` attributes.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
        }
    }

    /// Picks a supported language from a BCP 47 tag such as `es-MX`; English otherwise.
    pub fn from_tag(tag: &str) -> Lang {
        let primary = tag.split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("es") {
            Lang::Es
        } else {
            Lang::En
        }
    }
}

/// Kinds of records a requester can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// The complete designated record set.
    CompleteRecord,
    /// Office and visit notes.
    VisitNotes,
    /// Discharge summaries.
    DischargeSummaries,
    /// Laboratory results.
    LabResults,
    /// Imaging reports (not the images).
    ImagingReports,
    /// Immunization history.
    Immunizations,
    /// Medication list.
    Medications,
    /// Itemized billing records.
    Billing,
}

impl RecordKind {
    /// Every kind, in the order they are offered and rendered.
    pub const ALL: [RecordKind; 8] = [
        RecordKind::CompleteRecord,
        RecordKind::VisitNotes,
        RecordKind::DischargeSummaries,
        RecordKind::LabResults,
        RecordKind::ImagingReports,
        RecordKind::Immunizations,
        RecordKind::Medications,
        RecordKind::Billing,
    ];

    /// The stable snake_case id used in JSON (e.g. `lab_results`).
    pub fn id(self) -> &'static str {
        use RecordKind::*;
        match self {
            CompleteRecord => "complete_record",
            VisitNotes => "visit_notes",
            DischargeSummaries => "discharge_summaries",
            LabResults => "lab_results",
            ImagingReports => "imaging_reports",
            Immunizations => "immunizations",
            Medications => "medications",
            Billing => "billing",
        }
    }

    /// Plain-language label.
    pub fn label(self, lang: Lang) -> &'static str {
        use RecordKind::*;
        match (lang, self) {
            (Lang::En, CompleteRecord) => "my complete medical record",
            (Lang::En, VisitNotes) => "visit notes",
            (Lang::En, DischargeSummaries) => "hospital discharge summaries",
            (Lang::En, LabResults) => "lab test results",
            (Lang::En, ImagingReports) => "imaging reports (X-ray, MRI, CT)",
            (Lang::En, Immunizations) => "immunization records",
            (Lang::En, Medications) => "medication list",
            (Lang::En, Billing) => "itemized bills",
            (Lang::Es, CompleteRecord) => "mi expediente médico completo",
            (Lang::Es, VisitNotes) => "notas de consultas",
            (Lang::Es, DischargeSummaries) => "resúmenes de alta del hospital",
            (Lang::Es, LabResults) => "resultados de laboratorio",
            (Lang::Es, ImagingReports) => {
                "informes de imágenes (radiografía, resonancia, tomografía)"
            }
            (Lang::Es, Immunizations) => "registro de vacunas",
            (Lang::Es, Medications) => "lista de medicamentos",
            (Lang::Es, Billing) => "facturas detalladas",
        }
    }
}

/// A right-of-access request (45 CFR 164.524) for the requester's own records,
/// delivered electronically to the requester's email address.
///
/// Construct it from user input, then call [`RecordsRequest::validate`], which
/// normalises it; only the normalised value is ever signed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordsRequest {
    /// The patient's full legal name.
    pub patient_name: String,
    /// Date of birth, `YYYY-MM-DD`.
    pub date_of_birth: String,
    /// Where the requester receives messages and the records.
    pub email: String,
    /// What is asked for: at least one kind, each once, in [`RecordKind::ALL`] order.
    pub records: Vec<RecordKind>,
}

impl RecordsRequest {
    /// The same request with whitespace collapsed, the email domain
    /// lower-cased, and record kinds de-duplicated and sorted.
    pub fn normalized(&self) -> RecordsRequest {
        let mut records = self.records.clone();
        records.sort();
        records.dedup();
        RecordsRequest {
            patient_name: collapse_whitespace(&self.patient_name),
            date_of_birth: self.date_of_birth.trim().to_owned(),
            email: normalize_email(&self.email),
            records,
        }
    }
}

pub(crate) fn collapse_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub(crate) fn normalize_email(s: &str) -> String {
    let s = s.trim();
    match s.rsplit_once('@') {
        Some((local, domain)) => format!("{local}@{}", domain.to_ascii_lowercase()),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_kind_ids_match_their_json_names() {
        for kind in RecordKind::ALL {
            assert_eq!(serde_json::to_value(kind).expect("serialises"), kind.id());
        }
    }
}
