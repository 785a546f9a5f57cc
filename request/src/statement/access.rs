//! Right of access (45 CFR 164.524): records to the requester.

use super::common::Context;
use crate::Lang;

/// The paragraphs of a right-of-access request.
pub(super) fn render(c: &Context) -> Vec<String> {
    let hospital = &c.site.name;
    let (records, delivery) = (c.records(), c.delivery_to_me());
    let mut out = vec![match c.lang {
        Lang::En => "Request for access to health records (45 CFR 164.524)".to_owned(),
        Lang::Es => "Solicitud de acceso a registros médicos (45 CFR 164.524)".to_owned(),
    }];
    out.push(c.who());
    out.push(match c.lang {
        Lang::En => format!(
            "I ask {hospital} for a copy of these health records: {records}. {} \
             This is a request under the individual's right of access, not an authorization.",
            c.sensitive()
        ),
        Lang::Es => format!(
            "Solicito a {hospital} una copia de estos registros médicos: {records}. {} \
             Esta es una solicitud según el derecho de acceso de la persona, no una autorización.",
            c.sensitive()
        ),
    });
    out.extend(c.minor_note());
    out.push(match c.lang {
        Lang::En => format!("Please provide them as: {delivery}. {}", c.contact()),
        Lang::Es => format!("Entréguenlos como: {delivery}. {}", c.contact()),
    });
    out
}
