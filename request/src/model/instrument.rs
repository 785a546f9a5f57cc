//! The legal instrument a request's answers make.

use serde::{Deserialize, Serialize};

use super::{RecordsRequest, SensitiveCategory};

/// Which legal instrument the signed statement is.
///
/// - Records to the requester: [`Instrument::RightOfAccess`] (45 CFR 164.524),
///   for the patient and for personal representatives alike.
/// - An electronic copy to a person or organisation the requester names:
///   [`Instrument::Directive`] (164.524(c)(3)(ii); since *Ciox v. Azar* only
///   electronic copies), unless Part 2 records are included.
/// - Anything else sent to a third party (paper, or Part 2 records, which need
///   a 42 CFR 2.31 consent): [`Instrument::Authorization`] (164.508(c)).
///
/// Psychotherapy notes need an authorization of their own
/// ([`RecordsRequest::has_psychotherapy_authorization`]): asked for alone
/// ([`RecordsRequest::is_psychotherapy_notes_only`]) the request is that
/// [`Instrument::Authorization`], even to the requester (the right of access
/// excludes them). Documents signed before this rule combined them with other
/// records: one of the three instruments with the separate authorization on top.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Instrument {
    /// Right of access: records to the requester.
    RightOfAccess,
    /// Signed written directive to send an electronic copy to a third party.
    Directive,
    /// HIPAA authorization (and Part 2 consent) with every required element.
    Authorization,
}

impl Instrument {
    /// The stable id: `right_of_access`, `directive` or `authorization`.
    pub fn id(self) -> &'static str {
        match self {
            Instrument::RightOfAccess => "right_of_access",
            Instrument::Directive => "directive",
            Instrument::Authorization => "authorization",
        }
    }

    pub(crate) fn for_request(req: &RecordsRequest) -> Instrument {
        if req.is_psychotherapy_notes_only() {
            return Instrument::Authorization;
        }
        let part2 = req
            .scope
            .sensitive
            .contains(&SensitiveCategory::SubstanceUse);
        match &req.recipient {
            None => Instrument::RightOfAccess,
            Some(_) if req.delivery.method.is_electronic() && !part2 => Instrument::Directive,
            Some(_) => Instrument::Authorization,
        }
    }
}
