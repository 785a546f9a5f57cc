//! The human-readable statement the requester reads and signs.

use crate::{Lang, RecordsRequest, SiteIdentity};

/// Renders the statement for a normalised request, in `lang`.
///
/// The exact text becomes part of the signed document, so changing a template
/// changes digests: bump [`crate::DOCUMENT_FORMAT`] when you do.
pub fn render_statement(site: &SiteIdentity, req: &RecordsRequest, lang: Lang) -> String {
    let records = join_list(req.records.iter().map(|k| k.label(lang)).collect(), lang);
    let (name, dob, email, hospital) = (
        &req.patient_name,
        &req.date_of_birth,
        &req.email,
        &site.name,
    );
    match lang {
        Lang::En => format!(
            "I, {name}, born {dob}, ask {hospital} for a copy of my health records: {records}. \
             This is a request for access to my own records under 45 CFR 164.524. \
             Please send them to me electronically at {email}. \
             I am signing this request electronically with my passkey, and I intend it to be my signature."
        ),
        Lang::Es => format!(
            "Yo, {name}, con fecha de nacimiento {dob}, solicito a {hospital} una copia de mis registros médicos: {records}. \
             Esta es una solicitud de acceso a mis propios registros según 45 CFR 164.524. \
             Envíenmelos de forma electrónica a {email}. \
             Firmo esta solicitud electrónicamente con mi llave de acceso (passkey) y es mi intención que valga como mi firma."
        ),
    }
}

fn join_list(items: Vec<&str>, lang: Lang) -> String {
    let and = match lang {
        Lang::En => "and",
        Lang::Es => "y",
    };
    match items.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} {and} {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RecordKind;

    #[test]
    fn statement_names_every_element_in_each_language() {
        let site = SiteIdentity {
            id: "demo".into(),
            name: "Riverside General Hospital".into(),
        };
        let req = RecordsRequest {
            patient_name: "Ana Pérez".into(),
            date_of_birth: "1984-03-07".into(),
            email: "ana@example.org".into(),
            records: vec![
                RecordKind::VisitNotes,
                RecordKind::LabResults,
                RecordKind::Billing,
            ],
        };
        let en = render_statement(&site, &req, Lang::En);
        assert!(en.contains("I, Ana Pérez, born 1984-03-07, ask Riverside General Hospital"));
        assert!(en.contains("visit notes, lab test results and itemized bills"));
        assert!(en.contains("ana@example.org"));
        let es = render_statement(&site, &req, Lang::Es);
        assert!(es.contains("notas de consultas, resultados de laboratorio y facturas detalladas"));
        assert!(es.starts_with("Yo, Ana Pérez"));
    }
}
