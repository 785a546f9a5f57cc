//! What can be asked for: record kinds (site-configured) and sensitive
//! categories (each a separate, explicit opt-in).

use serde::{Deserialize, Serialize};

use super::Lang;

/// Kinds of records a requester can ask for. Sites offer a subset (see
/// [`super::SiteOffer`]); new kinds are added at the end of [`RecordKind::ALL`].
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// The images themselves (DICOM files).
    ImagingFiles,
    /// Immunization history.
    Immunizations,
    /// Medication list.
    Medications,
    /// Itemized billing records.
    Billing,
    /// A full export of the electronic health information (EHI).
    EhiExport,
}

impl RecordKind {
    /// Every kind, in the order they are offered and rendered.
    pub const ALL: [RecordKind; 10] = [
        RecordKind::CompleteRecord,
        RecordKind::VisitNotes,
        RecordKind::DischargeSummaries,
        RecordKind::LabResults,
        RecordKind::ImagingReports,
        RecordKind::ImagingFiles,
        RecordKind::Immunizations,
        RecordKind::Medications,
        RecordKind::Billing,
        RecordKind::EhiExport,
    ];

    /// The stable snake_case id used in JSON and configuration (e.g. `lab_results`).
    pub fn id(self) -> &'static str {
        use RecordKind::*;
        match self {
            CompleteRecord => "complete_record",
            VisitNotes => "visit_notes",
            DischargeSummaries => "discharge_summaries",
            LabResults => "lab_results",
            ImagingReports => "imaging_reports",
            ImagingFiles => "imaging_files",
            Immunizations => "immunizations",
            Medications => "medications",
            Billing => "billing",
            EhiExport => "ehi_export",
        }
    }

    /// The kind with this [`RecordKind::id`].
    pub fn from_id(id: &str) -> Option<RecordKind> {
        RecordKind::ALL.into_iter().find(|k| k.id() == id)
    }

    /// True for kinds that concern medical images.
    pub fn is_imaging(self) -> bool {
        matches!(self, RecordKind::ImagingReports | RecordKind::ImagingFiles)
    }

    /// Plain-language label, also used in the signed statement.
    pub fn label(self, lang: Lang) -> &'static str {
        use RecordKind::*;
        match (lang, self) {
            (Lang::En, CompleteRecord) => "the complete medical record",
            (Lang::En, VisitNotes) => "visit notes",
            (Lang::En, DischargeSummaries) => "hospital discharge summaries",
            (Lang::En, LabResults) => "lab test results",
            (Lang::En, ImagingReports) => "imaging reports (X-ray, MRI, CT)",
            (Lang::En, ImagingFiles) => "imaging files (the images themselves)",
            (Lang::En, Immunizations) => "immunization records",
            (Lang::En, Medications) => "medication list",
            (Lang::En, Billing) => "itemized bills",
            (Lang::En, EhiExport) => "a full export of the electronic health information",
            (Lang::Es, CompleteRecord) => "el expediente médico completo",
            (Lang::Es, VisitNotes) => "notas de consultas",
            (Lang::Es, DischargeSummaries) => "resúmenes de alta del hospital",
            (Lang::Es, LabResults) => "resultados de laboratorio",
            (Lang::Es, ImagingReports) => {
                "informes de imágenes (radiografía, resonancia, tomografía)"
            }
            (Lang::Es, ImagingFiles) => "archivos de imágenes (las imágenes mismas)",
            (Lang::Es, Immunizations) => "registro de vacunas",
            (Lang::Es, Medications) => "lista de medicamentos",
            (Lang::Es, Billing) => "facturas detalladas",
            (Lang::Es, EhiExport) => {
                "una exportación completa de la información médica electrónica"
            }
        }
    }
}

/// Categories that federal or state law protects more strictly. None is ever
/// included unless the requester ticks it on its own.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SensitiveCategory {
    /// Substance-use disorder treatment records (42 CFR Part 2).
    SubstanceUse,
    /// Psychotherapy notes: always a separate authorization (45 CFR 164.508(b)(3)(ii)).
    PsychotherapyNotes,
    /// HIV and other sexually transmitted infection information.
    HivSti,
    /// Mental health records (other than psychotherapy notes).
    MentalHealth,
    /// Genetic testing results.
    Genetic,
}

impl SensitiveCategory {
    /// Every category, in the order they are offered and rendered.
    pub const ALL: [SensitiveCategory; 5] = [
        SensitiveCategory::SubstanceUse,
        SensitiveCategory::PsychotherapyNotes,
        SensitiveCategory::HivSti,
        SensitiveCategory::MentalHealth,
        SensitiveCategory::Genetic,
    ];

    /// The stable snake_case id used in JSON.
    pub fn id(self) -> &'static str {
        use SensitiveCategory::*;
        match self {
            SubstanceUse => "substance_use",
            PsychotherapyNotes => "psychotherapy_notes",
            HivSti => "hiv_sti",
            MentalHealth => "mental_health",
            Genetic => "genetic",
        }
    }

    /// Plain-language label, also used in the signed statement.
    pub fn label(self, lang: Lang) -> &'static str {
        use SensitiveCategory::*;
        match (lang, self) {
            (Lang::En, SubstanceUse) => {
                "substance-use disorder treatment records (protected by 42 CFR Part 2)"
            }
            (Lang::En, PsychotherapyNotes) => "psychotherapy notes",
            (Lang::En, HivSti) => "HIV and sexually transmitted infection information",
            (Lang::En, MentalHealth) => "mental health records",
            (Lang::En, Genetic) => "genetic testing results",
            (Lang::Es, SubstanceUse) => {
                "registros de tratamiento de trastornos por consumo de sustancias (protegidos por 42 CFR Parte 2)"
            }
            (Lang::Es, PsychotherapyNotes) => "notas de psicoterapia",
            (Lang::Es, HivSti) => "información sobre VIH e infecciones de transmisión sexual",
            (Lang::Es, MentalHealth) => "registros de salud mental",
            (Lang::Es, Genetic) => "resultados de pruebas genéticas",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_match_their_json_names() {
        for kind in RecordKind::ALL {
            assert_eq!(serde_json::to_value(kind).expect("serialises"), kind.id());
            assert_eq!(RecordKind::from_id(kind.id()), Some(kind));
        }
        for category in SensitiveCategory::ALL {
            assert_eq!(
                serde_json::to_value(category).expect("serialises"),
                category.id()
            );
        }
    }

    #[test]
    fn labels_are_translated() {
        for kind in RecordKind::ALL {
            assert_ne!(kind.label(Lang::En), kind.label(Lang::Es));
        }
        for category in SensitiveCategory::ALL {
            assert_ne!(category.label(Lang::En), category.label(Lang::Es));
        }
    }
}
