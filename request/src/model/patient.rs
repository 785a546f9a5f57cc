//! Whose records: enough for HIM to match the chart.

use serde::{Deserialize, Serialize};

use super::{collapse_whitespace, normalize_email};

/// A postal address (United States).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Address {
    /// Street and number, apartment.
    pub street: String,
    /// City or town.
    pub city: String,
    /// State or territory.
    pub state: String,
    /// ZIP code.
    pub postal_code: String,
}

impl Address {
    pub(crate) fn normalized(&self) -> Address {
        Address {
            street: collapse_whitespace(&self.street),
            city: collapse_whitespace(&self.city),
            state: collapse_whitespace(&self.state),
            postal_code: collapse_whitespace(&self.postal_code),
        }
    }

    /// True when nothing was entered.
    pub fn is_empty(&self) -> bool {
        self.street.is_empty()
            && self.city.is_empty()
            && self.state.is_empty()
            && self.postal_code.is_empty()
    }

    /// One line: `street, city, state postal_code`.
    pub fn one_line(&self) -> String {
        format!(
            "{}, {}, {} {}",
            self.street, self.city, self.state, self.postal_code
        )
    }
}

/// The patient whose records are asked for.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Patient {
    /// Full legal name.
    pub legal_name: String,
    /// Other names the records may be under (maiden name, earlier legal names).
    pub former_names: Vec<String>,
    /// Date of birth, `YYYY-MM-DD`.
    pub date_of_birth: String,
    /// Home address (optional, helps HIM find the chart).
    pub address: Address,
    /// Phone number (optional).
    pub phone: String,
    /// Email address (optional).
    pub email: String,
    /// Medical record number, if known (optional).
    pub mrn: String,
}

impl Patient {
    pub(crate) fn normalized(&self) -> Patient {
        let former_names = self
            .former_names
            .iter()
            .map(|n| collapse_whitespace(n))
            .filter(|n| !n.is_empty())
            .collect();
        Patient {
            legal_name: collapse_whitespace(&self.legal_name),
            former_names,
            date_of_birth: self.date_of_birth.trim().to_owned(),
            address: self.address.normalized(),
            phone: collapse_whitespace(&self.phone),
            email: normalize_email(&self.email),
            mrn: collapse_whitespace(&self.mrn),
        }
    }
}
