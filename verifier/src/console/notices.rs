//! The notices staff actions send to the requester (the timeline entries
//! their status page shows): written in the language of the signed document,
//! with the requester's words for each status.

use recordpass_request::{Lang, RequestStatus as Status};

use crate::config::Site;

/// The name of `lang` in English, the console's language.
pub fn language_name(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "English",
        Lang::Es => "Spanish",
    }
}

/// Who a requester may complain to at the hospital about a denial
/// (164.524(d)(2)(iii)): the contact designated under 164.530(a)(1)(ii)
/// and its phone number, in the notice's language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Complaints<'a> {
    /// The name or title, worded to follow "complain to" / "ante".
    pub contact: &'a str,
    /// The phone number.
    pub phone: &'a str,
}

impl<'a> Complaints<'a> {
    /// `site`'s `privacy_contact` in `lang` (Spanish falls back to the English
    /// text, shown as is; unset: the hospital's privacy officer) and its
    /// complaint phone (`privacy_phone`, else `him_phone`).
    pub fn of(site: &'a Site, lang: Lang) -> Complaints<'a> {
        let text = &site.privacy_contact;
        // A blank translation falls back to the English text, as an unset one does.
        let configured = [text.get(lang), &text.en]
            .into_iter()
            .map(str::trim)
            .find(|t| !t.is_empty());
        let contact = configured.unwrap_or(match lang {
            Lang::En => "the hospital's privacy officer",
            Lang::Es => "el encargado de privacidad del hospital",
        });
        Complaints {
            contact,
            phone: site.complaint_phone(),
        }
    }
}

/// Whether the ground of a denial may be reviewed: by a licensed health care
/// professional who did not take part (45 CFR 164.524(a)(3), (d)(4)), or not
/// at all (164.524(a)(2)). Staff answer it on the denial form; the notice's
/// review-rights paragraph is worded from it (164.524(d)(2)(ii), "if applicable").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Review {
    /// The requester may ask for a review.
    Reviewable,
    /// The ground is one the rule leaves without review; complaints still stand.
    NotReviewable,
}

impl Review {
    /// Both answers, in the form's order.
    pub const ALL: [Review; 2] = [Review::Reviewable, Review::NotReviewable];

    /// The denial form's answer: `yes` or `no`.
    pub fn from_answer(answer: &str) -> Option<Review> {
        match answer {
            "yes" => Some(Review::Reviewable),
            "no" => Some(Review::NotReviewable),
            _ => None,
        }
    }

    /// The form's value for this answer.
    pub fn answer(self) -> &'static str {
        match self {
            Review::Reviewable => "yes",
            Review::NotReviewable => "no",
        }
    }

    /// The form's label (the console is in English).
    pub fn label(self) -> &'static str {
        match self {
            Review::Reviewable => {
                "Yes: the requester may ask for a review by another licensed professional"
            }
            Review::NotReviewable => {
                "No: the law gives no review for this ground (the complaint rights still apply)"
            }
        }
    }
}

/// The review-rights and complaint text 45 CFR 164.524(d)(2) requires in a
/// denial, in plain language: how to ask for a review when the ground is
/// reviewable, that it cannot be reviewed when it is not, and in both cases
/// who to complain to at the hospital and at HHS.
pub fn denial_rights(lang: Lang, review: Review, complaints: Complaints) -> String {
    let Complaints { contact, phone } = complaints;
    let ocr = match lang {
        Lang::En => format!(
            "complain to {contact}, at {phone}, or to the Office for Civil Rights of the U.S. \
             Department of Health and Human Services (www.hhs.gov/ocr/complaints, \
             1-800-368-1019). The hospital will not retaliate against you for complaining."
        ),
        Lang::Es => format!(
            "presentar una queja ante {contact}, al teléfono {phone}, o ante la Oficina de \
             Derechos Civiles del Departamento de Salud y Servicios Humanos de EE. UU. \
             (www.hhs.gov/ocr/complaints, 1-800-368-1019). El hospital no tomará represalias \
             contra usted por quejarse."
        ),
    };
    match (lang, review) {
        (Lang::En, Review::Reviewable) => format!(
            "You may ask for this denial to be reviewed by another licensed health care \
             professional, chosen by the hospital, who did not take part in the decision; write \
             to the medical records department to ask. The hospital will do what the reviewer \
             decides. You may also {ocr}"
        ),
        (Lang::En, Review::NotReviewable) => format!(
            "This denial is for a reason the law does not allow to be reviewed, so you cannot \
             ask for a review of it. You may still {ocr}"
        ),
        (Lang::Es, Review::Reviewable) => format!(
            "Puede pedir que otro profesional de la salud con licencia, elegido por el hospital \
             y que no participó en la decisión, revise esta negativa; escriba al departamento de \
             registros médicos para pedirlo. El hospital hará lo que decida esa persona. \
             También puede {ocr}"
        ),
        (Lang::Es, Review::NotReviewable) => format!(
            "Esta negativa se basa en una razón que la ley no permite revisar, así que no puede \
             pedir que se revise. Aun así, puede {ocr}"
        ),
    }
}

/// The written denial of request `number`: the staff's `reasons`, then the
/// rights as `review` words them.
pub fn denial(
    lang: Lang,
    number: &str,
    reasons: &str,
    review: Review,
    complaints: Complaints,
) -> String {
    let rights = denial_rights(lang, review, complaints);
    match lang {
        Lang::En => {
            format!("Denial notice for request {number}.\n\nReasons: {reasons}\n\n{rights}")
        }
        Lang::Es => {
            format!("Aviso de negativa de la solicitud {number}.\n\nRazones: {reasons}\n\n{rights}")
        }
    }
}

/// The notice that denied request `number` was reopened because the
/// reviewing professional overturned the denial (164.524(d)(4)), with the
/// `decision` in the staff's words.
pub fn reopened(lang: Lang, number: &str, decision: &str) -> String {
    match lang {
        Lang::En => format!(
            "Review of the denial of request {number}.\n\nThe reviewer decided that the denial \
             does not stand: the hospital is working on your request again.\n\n{decision}"
        ),
        Lang::Es => format!(
            "Revisión de la negativa de la solicitud {number}.\n\nQuien la revisó decidió que la \
             negativa no se mantiene: el hospital está trabajando de nuevo en su solicitud.\n\n\
             {decision}"
        ),
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

    fn site(extra: &str) -> Site {
        let text = format!(
            "id = \"demo\"\nname = \"R\"\nhim_phone = \"+1 555 010 0100\"\norigins = []\n{extra}"
        );
        toml::from_str(&text).expect("site parses")
    }

    #[test]
    fn the_denial_names_the_complaint_contact_and_phone_in_the_notice_language() {
        let unset = site("");
        let translated = site(
            "privacy_phone = \"+1 555 010 0199\"\n\
             [privacy_contact]\nen = \"the Privacy Office\"\nes = \"la Oficina de Privacidad\"",
        );
        let named = site("[privacy_contact]\nen = \" Jane Roe, Privacy Officer \"");
        let blank_es = site("[privacy_contact]\nen = \"Jane Roe\"\nes = \"  \"");
        let cases = [
            (
                &unset,
                Lang::En,
                "complain to the hospital's privacy officer, at +1 555 010 0100, or",
            ),
            (
                &unset,
                Lang::Es,
                "queja ante el encargado de privacidad del hospital, al teléfono +1 555 010 0100, o",
            ),
            (
                &translated,
                Lang::En,
                "complain to the Privacy Office, at +1 555 010 0199, or",
            ),
            (
                &translated,
                Lang::Es,
                "ante la Oficina de Privacidad, al teléfono +1 555 010 0199, o",
            ),
            (
                &named,
                Lang::En,
                "complain to Jane Roe, Privacy Officer, at +1 555 010 0100, or",
            ),
            (
                &named,
                Lang::Es,
                "ante Jane Roe, Privacy Officer, al teléfono +1 555 010 0100, o",
            ),
            (
                &blank_es,
                Lang::Es,
                "ante Jane Roe, al teléfono +1 555 010 0100, o",
            ),
        ];
        for (site, lang, expected) in cases {
            for review in Review::ALL {
                let rights = denial_rights(lang, review, Complaints::of(site, lang));
                assert!(rights.contains(expected), "{expected:?} in {rights}");
                assert!(
                    rights.contains("www.hhs.gov/ocr/complaints, 1-800-368-1019"),
                    "{rights}"
                );
            }
        }
    }

    #[test]
    fn each_notice_is_in_the_requesters_language_with_their_words() {
        let site = site("");
        for lang in [Lang::En, Lang::Es] {
            for review in Review::ALL {
                let rights = denial_rights(lang, review, Complaints::of(&site, lang));
                assert!(!rights.contains("Health Information Management"));
                let denied = denial(lang, "RP-1", "x", review, Complaints::of(&site, lang));
                assert!(denied.ends_with(&rights), "{denied}");
            }
            let status = status_change(lang, Status::InReview, "");
            assert!(status.contains(Status::InReview.requester_label(lang)));
            let reopened = reopened(lang, "RP-1", "Dr. Lee: release the records.");
            assert!(
                reopened.contains("RP-1")
                    && reopened.ends_with("\n\nDr. Lee: release the records.")
            );
        }
        let rights = |lang, review| denial_rights(lang, review, Complaints::of(&site, lang));
        assert!(rights(Lang::Es, Review::Reviewable).contains("departamento de registros médicos"));
        assert!(rights(Lang::En, Review::Reviewable).contains("medical records department"));
        // Not reviewable: no way to ask for a review is offered, complaints still are.
        for lang in [Lang::En, Lang::Es] {
            let (yes, no) = (
                rights(lang, Review::Reviewable),
                rights(lang, Review::NotReviewable),
            );
            assert_ne!(yes, no);
            assert!(
                !no.contains("medical records department") && !no.contains("registros médicos")
            );
        }
        assert!(rights(Lang::En, Review::NotReviewable).contains("you cannot ask for a review"));
        assert!(rights(Lang::Es, Review::NotReviewable).contains("no puede pedir que se revise"));
        assert!(rights(Lang::En, Review::NotReviewable).contains("You may still complain to"));
        assert!(
            rights(Lang::Es, Review::NotReviewable)
                .contains("Aun así, puede presentar una queja ante")
        );
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
