//! Who is asking, and on what authority (45 CFR 164.502(g)).

use serde::{Deserialize, Serialize};

use super::{Lang, collapse_whitespace, normalize_email};
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

    /// True for roles whose request may carry proof of authority: those that
    /// must ([`Role::needs_authority`]) and parents or guardians (a guardian
    /// must, a mother or father may: [`Requester::must_prove_authority`]).
    pub fn may_attach_proof(self) -> bool {
        self.needs_authority() || self == Role::ParentOrGuardian
    }
}

/// The relationships a parent or guardian chooses from; any other is typed.
///
/// The signed document keeps the words in the statement's language (for
/// example "mother" or "madre"), not an id: the statement reads naturally,
/// requests from API clients may name any relationship, and documents signed
/// before the choice list existed are unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relationship {
    /// The child's mother.
    Mother,
    /// The child's father.
    Father,
    /// A guardian appointed by a court.
    LegalGuardian,
}

impl Relationship {
    /// Every choice, in menu order.
    pub const ALL: [Relationship; 3] = [
        Relationship::Mother,
        Relationship::Father,
        Relationship::LegalGuardian,
    ];

    /// A stable id for element names and tests.
    pub fn id(self) -> &'static str {
        match self {
            Relationship::Mother => "mother",
            Relationship::Father => "father",
            Relationship::LegalGuardian => "legal_guardian",
        }
    }

    /// The words in the request, and so in the signed statement
    /// ("I, …, am the patient's mother", "Yo, …, soy madre del (de la) paciente").
    pub fn words(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Relationship::Mother, Lang::En) => "mother",
            (Relationship::Mother, Lang::Es) => "madre",
            (Relationship::Father, Lang::En) => "father",
            (Relationship::Father, Lang::Es) => "padre",
            (Relationship::LegalGuardian, Lang::En) => "legal guardian",
            (Relationship::LegalGuardian, Lang::Es) => "tutor(a) legal",
        }
    }

    /// The choice's label in a form.
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Relationship::Mother, Lang::En) => "Mother",
            (Relationship::Mother, Lang::Es) => "Madre",
            (Relationship::Father, Lang::En) => "Father",
            (Relationship::Father, Lang::Es) => "Padre",
            (Relationship::LegalGuardian, Lang::En) => "Legal guardian",
            (Relationship::LegalGuardian, Lang::Es) => "Tutor(a) legal",
        }
    }

    /// The choice whose words, in any language, `text` is (ignoring case and
    /// spacing); `None` for anything typed.
    pub fn recognise(text: &str) -> Option<Relationship> {
        let text = collapse_whitespace(text).to_lowercase();
        Relationship::ALL
            .into_iter()
            .find(|r| Lang::ALL.iter().any(|&lang| r.words(lang) == text))
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
    /// For [`Role::ParentOrGuardian`]: the relationship in the statement's
    /// language, e.g. "mother" or "madre" (a [`Relationship`]'s words), or as typed.
    pub relationship: String,
    /// For representatives and executors: what gives them authority,
    /// e.g. "health care power of attorney signed 2024-05-01".
    pub authority: String,
    /// Where they receive messages; must be the address their passkey was verified with.
    pub email: String,
    /// A phone number HIM can call with questions (optional).
    pub phone: String,
    /// Uploaded proof of authority (power of attorney, letters testamentary,
    /// guardianship order): required for representatives, executors and
    /// guardians, optional for a mother or father, dropped for a patient (see
    /// [`Requester::must_prove_authority`]). Left out of the JSON when empty, so
    /// documents without files hash as they always did.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

impl Requester {
    /// Puts a chosen [`Relationship`] in `lang`'s words, for a statement shown
    /// in `lang`; a typed relationship is kept as typed.
    pub fn relationship_in(&mut self, lang: Lang) {
        if let Some(chosen) = Relationship::recognise(&self.relationship) {
            self.relationship = chosen.words(lang).to_owned();
        }
    }

    /// True when the request must carry at least one file proving the
    /// requester's authority: representatives and executors, and a parent or
    /// guardian whose relationship is legal guardian or typed in their own
    /// words (anything but mother or father; a court order or custody paper
    /// is the proof). An empty relationship is reported as missing instead.
    pub fn must_prove_authority(&self) -> bool {
        match self.role {
            Role::ParentOrGuardian => {
                !self.relationship.trim().is_empty()
                    && !matches!(
                        Relationship::recognise(&self.relationship),
                        Some(Relationship::Mother | Relationship::Father)
                    )
            }
            role => role.needs_authority(),
        }
    }

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
            attachments: if role.may_attach_proof() {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{examples, render_statement};

    #[test]
    fn chosen_relationships_follow_the_statement_language_and_typed_ones_stay() {
        assert_eq!(
            Relationship::recognise("  Legal   GUARDIAN "),
            Some(Relationship::LegalGuardian)
        );
        assert_eq!(Relationship::recognise("madre"), Some(Relationship::Mother));
        assert_eq!(Relationship::recognise("stepmother"), None);

        let mut req = examples::parent_directive();
        req.requester.relationship = Relationship::Father.words(Lang::En).into();
        req.requester.relationship_in(Lang::Es);
        assert_eq!(req.requester.relationship, "padre");
        let es = render_statement(&examples::site(), &req, Lang::Es);
        assert!(
            es.contains("Yo, Luis Gómez, soy padre del (de la) paciente"),
            "{es}"
        );

        req.requester.relationship = "abuela con custodia".into();
        req.requester.relationship_in(Lang::En);
        assert_eq!(req.requester.relationship, "abuela con custodia");
    }
}
