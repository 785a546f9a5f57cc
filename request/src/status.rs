//! Where a records request stands in the hospital's workflow: the staff
//! console moves it, the requester's status page shows it in plain language.

use serde::{Deserialize, Serialize};

use crate::Lang;

/// Where a request stands.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    /// Signed and stored; nobody has started on it.
    Received,
    /// HIM is working on it.
    InReview,
    /// HIM asked the requester for something.
    NeedsInformation,
    /// Records released.
    Fulfilled,
    /// Refused, with reasons and review rights.
    Denied,
    /// The requester withdrew it.
    Withdrawn,
}

impl RequestStatus {
    /// Every status, in workflow order.
    pub const ALL: [RequestStatus; 6] = [
        RequestStatus::Received,
        RequestStatus::InReview,
        RequestStatus::NeedsInformation,
        RequestStatus::Fulfilled,
        RequestStatus::Denied,
        RequestStatus::Withdrawn,
    ];

    /// Stored (and API) name.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Received => "received",
            RequestStatus::InReview => "in_review",
            RequestStatus::NeedsInformation => "needs_information",
            RequestStatus::Fulfilled => "fulfilled",
            RequestStatus::Denied => "denied",
            RequestStatus::Withdrawn => "withdrawn",
        }
    }

    /// Staff name (the console is in English).
    pub fn label(self) -> &'static str {
        match self {
            RequestStatus::Received => "Received",
            RequestStatus::InReview => "In review",
            RequestStatus::NeedsInformation => "Needs information",
            RequestStatus::Fulfilled => "Fulfilled",
            RequestStatus::Denied => "Denied",
            RequestStatus::Withdrawn => "Withdrawn",
        }
    }

    /// What the requester reads on their status page, in `lang`.
    pub fn requester_label(self, lang: Lang) -> &'static str {
        use RequestStatus::*;
        match (lang, self) {
            (Lang::En, Received) => "Received: the hospital has your request",
            (Lang::En, InReview) => "In progress: the hospital is working on it",
            (Lang::En, NeedsInformation) => {
                "Waiting for you: the hospital needs more information (it will contact you)"
            }
            (Lang::En, Fulfilled) => "Completed: your records were sent",
            (Lang::En, Denied) => "Denied: the hospital sent you its reasons in writing",
            (Lang::En, Withdrawn) => "Withdrawn",
            (Lang::Es, Received) => "Recibida: el hospital tiene su solicitud",
            (Lang::Es, InReview) => "En proceso: el hospital está trabajando en ella",
            (Lang::Es, NeedsInformation) => {
                "Esperando su respuesta: el hospital necesita más información (se comunicará con usted)"
            }
            (Lang::Es, Fulfilled) => "Completada: se enviaron sus registros",
            (Lang::Es, Denied) => "Denegada: el hospital le envió sus razones por escrito",
            (Lang::Es, Withdrawn) => "Retirada",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<RequestStatus> {
        RequestStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// True once the request is closed (the legal clock has stopped); only a
    /// denial may still be reopened ([`RequestStatus::reopened`]).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            RequestStatus::Fulfilled | RequestStatus::Denied | RequestStatus::Withdrawn
        )
    }

    /// The statuses a request may move to from this one.
    pub fn next(self) -> &'static [RequestStatus] {
        use RequestStatus::*;
        match self {
            Received => &[InReview, Withdrawn],
            InReview => &[NeedsInformation, Fulfilled, Denied, Withdrawn],
            NeedsInformation => &[InReview, Denied, Withdrawn],
            Fulfilled | Denied | Withdrawn => &[],
        }
    }

    /// Where a closed request goes when its decision is reopened: a denial
    /// overturned by the reviewing professional goes back in review
    /// (45 CFR 164.524(d)(4)), so it can be fulfilled. Nothing else reopens.
    pub fn reopened(self) -> Option<RequestStatus> {
        (self == RequestStatus::Denied).then_some(RequestStatus::InReview)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_every_status_has_both_labels() {
        for status in RequestStatus::ALL {
            assert_eq!(RequestStatus::parse(status.as_str()), Some(status));
            let json = serde_json::to_string(&status).expect("json");
            assert_eq!(json, format!("\"{}\"", status.as_str()));
            for lang in Lang::ALL {
                assert!(!status.requester_label(lang).is_empty());
            }
            assert_ne!(
                status.requester_label(Lang::En),
                status.requester_label(Lang::Es)
            );
        }
        assert_eq!(RequestStatus::parse("lost"), None);
    }
}
