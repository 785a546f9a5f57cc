//! The notices staff actions send to the requester (the timeline entries
//! their status page shows): written in the language of the signed document,
//! with the requester's words for each status.

use recordpass_request::{Lang, RequestStatus as Status};

/// The name of `lang` in English, the console's language.
pub fn language_name(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "English",
        Lang::Es => "Spanish",
    }
}

/// The review-rights and complaint text 45 CFR 164.524(d)(2) requires in a
/// denial, in plain language.
pub fn denial_rights(lang: Lang) -> &'static str {
    match lang {
        Lang::En => {
            "You may ask for this denial to be reviewed by another licensed health care \
             professional, chosen by the hospital, who did not take part in the decision, where \
             the law gives you that right; write to the medical records department to ask. You \
             may also complain to the hospital's privacy officer or to the Office for Civil \
             Rights of the U.S. Department of Health and Human Services \
             (www.hhs.gov/ocr/complaints, 1-800-368-1019). The hospital will not retaliate \
             against you for complaining."
        }
        Lang::Es => {
            "Puede pedir que otro profesional de la salud con licencia, elegido por el hospital \
             y que no participó en la decisión, revise esta negativa, cuando la ley le da ese \
             derecho; escriba al departamento de registros médicos para pedirlo. También puede \
             presentar una queja ante el encargado de privacidad del hospital o ante la Oficina \
             de Derechos Civiles del Departamento de Salud y Servicios Humanos de EE. UU. \
             (www.hhs.gov/ocr/complaints, 1-800-368-1019). El hospital no tomará represalias \
             contra usted por quejarse."
        }
    }
}

/// The written denial of request `number`: the staff's `reasons`, then the rights.
pub fn denial(lang: Lang, number: &str, reasons: &str) -> String {
    let rights = denial_rights(lang);
    match lang {
        Lang::En => {
            format!("Denial notice for request {number}.\n\nReasons: {reasons}\n\n{rights}")
        }
        Lang::Es => {
            format!("Aviso de negativa de la solicitud {number}.\n\nRazones: {reasons}\n\n{rights}")
        }
    }
}

/// A status change other than a denial: the requester's words for the new
/// status, then the staff's `message`, if any.
pub fn status_change(lang: Lang, to: Status, message: &str) -> String {
    let status = to.requester_label(lang);
    if message.is_empty() {
        format!("{status}.")
    } else {
        format!("{status}.\n\n{message}")
    }
}

/// What an extension notice says (164.524(b)(2)(ii)): dates as `YYYY-MM-DD`.
pub struct Extension<'a> {
    /// The request number.
    pub number: &'a str,
    /// When the request was received.
    pub received: &'a str,
    /// Days added.
    pub days: i64,
    /// Why, in the staff's words.
    pub reason: &'a str,
    /// The new due date.
    pub due: &'a str,
}

/// The written notice of an extension.
pub fn extension(lang: Lang, e: &Extension) -> String {
    let Extension {
        number,
        received,
        days,
        reason,
        due,
    } = e;
    match lang {
        Lang::En => format!(
            "Notice of extension for request {number}.\n\nWe received your request on {received}. \
             We need up to {days} more days to respond because: {reason}. We will respond by {due}."
        ),
        Lang::Es => format!(
            "Aviso de prórroga de la solicitud {number}.\n\nRecibimos su solicitud el {received}. \
             Necesitamos hasta {days} días más para responder, por esta razón: {reason}. \
             Responderemos a más tardar el {due}."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_notice_is_in_the_requesters_language_with_their_words() {
        for lang in [Lang::En, Lang::Es] {
            assert!(!denial_rights(lang).contains("Health Information Management"));
            let denied = denial(lang, "RP-1", "x");
            assert!(denied.ends_with(denial_rights(lang)), "{denied}");
            let status = status_change(lang, Status::InReview, "");
            assert!(status.contains(Status::InReview.requester_label(lang)));
        }
        assert!(denial_rights(Lang::Es).contains("departamento de registros médicos"));
        assert!(denial_rights(Lang::En).contains("medical records department"));
        let e = Extension {
            number: "RP-1",
            received: "2026-11-01",
            days: 30,
            reason: "x",
            due: "2026-12-31",
        };
        assert!(extension(Lang::Es, &e).starts_with("Aviso de prórroga de la solicitud RP-1."));
        assert_eq!(
            status_change(
                Lang::Es,
                Status::NeedsInformation,
                "Envíe su identificación."
            ),
            "Esperando su respuesta: el hospital necesita más información (se comunicará con \
             usted).\n\nEnvíe su identificación."
        );
    }
}
