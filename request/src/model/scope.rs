//! Which records, from when, and which sensitive categories.

use serde::{Deserialize, Serialize};

use super::{RecordKind, SensitiveCategory};

/// One period of care, both ends included.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DateRange {
    /// First day, `YYYY-MM-DD`.
    pub start: String,
    /// Last day, `YYYY-MM-DD`.
    pub end: String,
}

/// What is asked for.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scope {
    /// Record kinds: at least one, each once, in [`RecordKind::ALL`] order.
    pub record_kinds: Vec<RecordKind>,
    /// Records from every date; when false, [`Scope::date_ranges`] applies.
    pub all_dates: bool,
    /// One or more periods, when not [`Scope::all_dates`].
    pub date_ranges: Vec<DateRange>,
    /// Sensitive categories explicitly opted in, each once, in [`SensitiveCategory::ALL`] order.
    pub sensitive: Vec<SensitiveCategory>,
}

impl Default for Scope {
    fn default() -> Scope {
        Scope {
            record_kinds: Vec::new(),
            all_dates: true,
            date_ranges: Vec::new(),
            sensitive: Vec::new(),
        }
    }
}

impl Scope {
    pub(crate) fn normalized(&self) -> Scope {
        let mut record_kinds = self.record_kinds.clone();
        record_kinds.sort();
        record_kinds.dedup();
        let mut sensitive = self.sensitive.clone();
        sensitive.sort();
        sensitive.dedup();
        let date_ranges = if self.all_dates {
            Vec::new()
        } else {
            self.date_ranges
                .iter()
                .map(|r| DateRange {
                    start: r.start.trim().to_owned(),
                    end: r.end.trim().to_owned(),
                })
                .collect()
        };
        Scope {
            record_kinds,
            all_dates: self.all_dates,
            date_ranges,
            sensitive,
        }
    }
}
