//! The request a requester fills in, as nested parts named for what they hold.
//!
//! Construct a [`RecordsRequest`] from user input, then call
//! [`RecordsRequest::validate`], which normalises it; only the normalised value
//! is ever signed. Normalising also drops answers that do not apply (a
//! relationship for a self request, an app name for mail delivery), so the
//! signed document holds only what the statement talks about.

mod delivery;
mod instrument;
mod kinds;
mod lang;
mod patient;
mod requester;
mod scope;

pub use delivery::{Authorization, Delivery, DeliveryMethod, Recipient};
pub use instrument::Instrument;
pub use kinds::{RecordKind, SensitiveCategory};
pub use lang::Lang;
pub use patient::{Address, Patient};
pub use requester::{Relationship, Requester, Role};
pub use scope::{DateRange, Scope};

use serde::{Deserialize, Serialize};

/// A complete records request: who asks, for whom, what, how it is delivered,
/// consent to electronic records and the typed signature.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecordsRequest {
    /// Who is asking, and on what authority.
    pub requester: Requester,
    /// Whose records.
    pub patient: Patient,
    /// Which records, from when, and which sensitive categories are opted in.
    pub scope: Scope,
    /// Format and delivery.
    pub delivery: Delivery,
    /// The person or organisation to send the records to, when not the requester.
    pub recipient: Option<Recipient>,
    /// Purpose and expiration, when the request is (or includes) an authorization.
    pub authorization: Authorization,
    /// Consent to electronic records and signatures (E-SIGN Act).
    pub consent: Consent,
    /// The requester's full name, typed as their signature.
    pub signature: String,
    /// The date the requester signs, `YYYY-MM-DD`.
    pub signed_on: String,
}

/// Consents the requester gives before signing.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Consent {
    /// Agreed to [`crate::esign_disclosure`]: records and signatures in electronic form.
    pub electronic_records: bool,
}

/// What a site offers, against which a request is checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteOffer {
    /// Record kinds the requester may choose.
    pub record_kinds: Vec<RecordKind>,
    /// Delivery methods the requester may choose.
    pub delivery_methods: Vec<DeliveryMethod>,
}

impl Default for SiteOffer {
    fn default() -> SiteOffer {
        SiteOffer {
            record_kinds: RecordKind::ALL.to_vec(),
            delivery_methods: DeliveryMethod::ALL.to_vec(),
        }
    }
}

impl RecordsRequest {
    /// The legal instrument these answers make (see [`Instrument`]).
    pub fn instrument(&self) -> Instrument {
        Instrument::for_request(self)
    }

    /// True when psychotherapy notes are asked for: they need their own,
    /// separate authorization (45 CFR 164.508(b)(3)(ii)).
    pub fn has_psychotherapy_authorization(&self) -> bool {
        self.scope
            .sensitive
            .contains(&SensitiveCategory::PsychotherapyNotes)
    }

    /// True when psychotherapy notes are all that is asked for: the request
    /// is then their authorization alone, the only way to ask for them now
    /// (documents signed before also combined them with other records).
    pub fn is_psychotherapy_notes_only(&self) -> bool {
        let s = &self.scope;
        self.has_psychotherapy_authorization()
            && s.record_kinds.is_empty()
            && s.sensitive
                .iter()
                .all(|c| *c == SensitiveCategory::PsychotherapyNotes)
    }

    /// True when an authorization (the main instrument or the separate one
    /// for psychotherapy notes) is part of the request, so purpose and
    /// expiration are needed.
    pub fn needs_authorization_terms(&self) -> bool {
        self.instrument() == Instrument::Authorization || self.has_psychotherapy_authorization()
    }

    /// The name of the person signing: the patient for self requests.
    pub fn signer_name(&self) -> &str {
        match self.requester.role {
            Role::Patient => &self.patient.legal_name,
            _ => &self.requester.name,
        }
    }

    /// The same request, whitespace collapsed, lists sorted and de-duplicated,
    /// and answers that do not apply to the choices made cleared.
    pub fn normalized(&self) -> RecordsRequest {
        let mut req = RecordsRequest {
            requester: self.requester.normalized(),
            patient: self.patient.normalized(),
            scope: self.scope.normalized(),
            delivery: self.delivery.normalized(),
            recipient: self.recipient.as_ref().map(Recipient::normalized),
            authorization: self.authorization.normalized(),
            consent: self.consent.clone(),
            signature: collapse_whitespace(&self.signature),
            signed_on: self.signed_on.trim().to_owned(),
        };
        if req.requester.role == Role::Patient {
            req.requester.name = req.patient.legal_name.clone();
        }
        if req.recipient.is_some() {
            // The recipient's address is where the records go.
            req.delivery.address = Address::default();
        }
        if !req.needs_authorization_terms() {
            req.authorization = Authorization::default();
        }
        req
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
