//! Signed written directive (45 CFR 164.524(c)(3)(ii)): an electronic copy
//! sent to a person or organisation the requester clearly names.

use super::common::Context;
use crate::Lang;

/// The paragraphs of a third-party directive.
pub(super) fn render(c: &Context) -> Vec<String> {
    let hospital = &c.site.name;
    let records = c.records();
    let method = c.req.delivery.method.label(c.lang);
    let (name, send_to) = c
        .req
        .recipient
        .as_ref()
        .map(|r| (r.name.as_str(), r.send_to.as_str()))
        .unwrap_or_default();
    let mut out = vec![match c.lang {
        Lang::En => "Direction to send a copy of health records to a person I name (45 CFR 164.524(c)(3)(ii))".to_owned(),
        Lang::Es => "Instrucción para enviar una copia de registros médicos a una persona que yo designo (45 CFR 164.524(c)(3)(ii))".to_owned(),
    }];
    out.push(c.who());
    out.push(match c.lang {
        Lang::En => format!(
            "Using the right of access, I direct {hospital} to send an electronic copy of these health records: {records}. {}",
            c.sensitive()
        ),
        Lang::Es => format!(
            "En ejercicio del derecho de acceso, {} a {hospital} que envíe una copia electrónica de estos registros médicos: {records}. {}",
            c.pick("indico", "pido"),
            c.sensitive()
        ),
    });
    out.extend(c.minor_note());
    out.push(match c.lang {
        Lang::En => format!(
            "Send them to: {name}, at {send_to}, as {method}. {}",
            c.contact()
        ),
        Lang::Es => format!(
            "Envíenlos a: {name}, en {send_to}, como {method}. {}",
            c.contact()
        ),
    });
    out
}
