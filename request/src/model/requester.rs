//! Who is asking, and on what authority (45 CFR 164.502(g)).

use serde::{Deserialize, Serialize};

use super::{collapse_whitespace, normalize_email};
use crate::upload::{Attachment, sanitize_file_name};

/// The requester's relationship to the patient.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The patient, for their own records.
    #[default]
    #[serde(rename = "self")]
    Patient,
    /// A parent or guardian of a patient who is a minor.
    ParentOrGuardian,
    /// A legal representative (for example health care power of attorney).
    LegalRepresentative,
    /// The executor or administrator of a deceased patient's estate.
    Executor,
}

impl Role {
    /// Every role, in menu order.
    pub const ALL: [Role; 4] = [
        Role::Patient,
        Role::ParentOrGuardian,
        Role::LegalRepresentative,
        Role::Executor,
    ];

    /// The stable id used in JSON.
    pub fn id(self) -> &'static str {
        match self {
            Role::Patient => "self",
            Role::ParentOrGuardian => "parent_or_guardian",
            Role::LegalRepresentative => "legal_representative",
            Role::Executor => "executor",
        }
    }

    /// True for roles that act under a legal document (power of attorney,
    /// letters testamentary) that must be described.
    pub fn needs_authority(self) -> bool {
        matches!(self, Role::LegalRepresentative | Role::Executor)
    }
}

/// The person filling in and signing the request.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Requester {
    /// Their role.
    pub role: Role,
    /// Their full legal name (the patient's own for [`Role::Patient`]).
    pub name: String,
    /// For [`Role::ParentOrGuardian`]: "mother", "legal guardian", …
    pub relationship: String,
    /// For representatives and executors: what gives them authority,
    /// e.g. "health care power of attorney signed 2024-05-01".
    pub authority: String,
    /// Where they receive messages; must be the address their passkey was verified with.
    pub email: String,
    /// A phone number HIM can call with questions (optional).
    pub phone: String,
    /// For representatives and executors: uploaded proof of authority (power of
    /// attorney, letters testamentary, guardianship order). Left out of the JSON
    /// when empty, so documents without files hash as they always did.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

impl Requester {
    pub(crate) fn normalized(&self) -> Requester {
        let role = self.role;
        let keep = |yes: bool, s: &str| {
            if yes {
                collapse_whitespace(s)
            } else {
                String::new()
            }
        };
        Requester {
            role,
            name: collapse_whitespace(&self.name),
            relationship: keep(role == Role::ParentOrGuardian, &self.relationship),
            authority: keep(role.needs_authority(), &self.authority),
            email: normalize_email(&self.email),
            phone: collapse_whitespace(&self.phone),
            attachments: if role.needs_authority() {
                self.attachments
                    .iter()
                    .map(|a| Attachment {
                        name: sanitize_file_name(&a.name),
                        ..a.clone()
                    })
                    .collect()
            } else {
                Vec::new()
            },
        }
    }
}
