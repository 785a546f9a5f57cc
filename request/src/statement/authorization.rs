//! Authorization (45 CFR 164.508(c)), also meeting the consent elements of
//! 42 CFR 2.31 when Part 2 records are included; and the separate
//! authorization psychotherapy notes always need (164.508(b)(3)(ii)).

use super::{Edition, common::Context};
use crate::{Lang, SensitiveCategory};

/// The paragraphs of an authorization to disclose to a third party.
pub(super) fn render(c: &Context) -> Vec<String> {
    let part2 = c
        .req
        .scope
        .sensitive
        .contains(&SensitiveCategory::SubstanceUse);
    let title = match (c.lang, part2) {
        (Lang::En, false) => "Authorization to disclose health information (45 CFR 164.508)",
        (Lang::En, true) => {
            "Authorization and consent to disclose health information (45 CFR 164.508 and 42 CFR 2.31)"
        }
        (Lang::Es, false) => "Autorización para divulgar información médica (45 CFR 164.508)",
        (Lang::Es, true) => {
            "Autorización y consentimiento para divulgar información médica (45 CFR 164.508 y 42 CFR 2.31)"
        }
    };
    let description = format!("{}. {}", c.records(), c.sensitive());
    let mut out = vec![title.to_owned(), c.who()];
    out.extend(c.minor_note());
    out.extend(elements(c, &description, part2));
    out
}

/// The separate authorization for psychotherapy notes: the whole statement
/// when they are asked for alone (then with the signer and, for a parent, the
/// note on a minor's own records), else after the main instrument.
pub(super) fn psychotherapy(c: &Context) -> Vec<String> {
    let title = match c.lang {
        Lang::En => "Separate authorization for psychotherapy notes (45 CFR 164.508(b)(3)(ii))",
        Lang::Es => "Autorización separada para notas de psicoterapia (45 CFR 164.508(b)(3)(ii))",
    };
    let notes = SensitiveCategory::PsychotherapyNotes.label(c.lang);
    let description = format!("{notes}, {}.", c.dates());
    let mut out = vec![title.to_owned()];
    let alone = c.req.is_psychotherapy_notes_only();
    if alone || c.req.instrument() != crate::Instrument::Authorization {
        out.push(c.who());
    }
    if alone {
        out.extend(c.minor_note());
    }
    out.extend(elements(c, &description, false));
    out
}

/// Every core element and required statement of 164.508(c).
fn elements(c: &Context, description: &str, part2: bool) -> Vec<String> {
    let hospital = &c.site.name;
    let auth = &c.req.authorization;
    let recipient = match &c.req.recipient {
        Some(r) => format!("{}, {}", r.name, r.send_to),
        None => match c.lang {
            Lang::En => format!("me, as {}", c.delivery_to_me()),
            Lang::Es => format!("a mí, como {}", c.delivery_to_me()),
        },
    };
    let purpose = if auth.purpose.is_empty() {
        match c.lang {
            Lang::En => "at the request of the individual".to_owned(),
            Lang::Es => "a petición de la persona".to_owned(),
        }
    } else {
        auth.purpose.clone()
    };
    let expires = &auth.expires_on;
    let mut out = match c.lang {
        Lang::En => vec![
            format!("Information to be disclosed: {description}"),
            format!("Who may disclose it: {hospital}."),
            format!("Who may receive it: {recipient}."),
            format!("Purpose: {purpose}."),
            format!("This authorization expires on {expires}."),
        ],
        Lang::Es => vec![
            format!("Información que se divulgará: {description}"),
            format!("Quién puede divulgarla: {hospital}."),
            format!("Quién puede recibirla: {recipient}."),
            format!("Propósito: {purpose}."),
            format!("Esta autorización vence el {expires}."),
        ],
    };
    out.extend(required_statements(c));
    if part2 {
        out.push(match c.lang {
            Lang::En => "Substance-use disorder records are protected by 42 CFR Part 2. They may not be used or disclosed in any civil, criminal, administrative or legislative proceeding against the patient without the patient's specific written consent or a court order.".to_owned(),
            Lang::Es => format!("Los registros de tratamiento {} consumo de sustancias están protegidos por 42 CFR Parte 2. No se pueden usar ni divulgar en ningún procedimiento civil, penal, administrativo o legislativo contra el (la) paciente sin su consentimiento específico por escrito o una orden judicial.", c.pick("por", "de trastornos por")),
        });
    }
    out
}

/// The required statements of 164.508(c)(2): revocation, no conditioning,
/// redisclosure (and the signer's copy, 164.508(c)(4)), in plain language.
fn required_statements(c: &Context) -> Vec<String> {
    let hospital = &c.site.name;
    match (c.lang, c.edition) {
        (Lang::En, Edition::V3) => vec![
            format!(
                "I may revoke (cancel) this authorization at any time by writing to the medical records department of {hospital}. \
                 Cancelling it does not undo what {hospital} already shared because of it."
            ),
            format!(
                "{hospital} will not refuse to treat me, and my payment, health plan enrollment and benefits do not depend on whether I sign this."
            ),
            "The person or group that gets this information may share it with others. \
             If they do, federal privacy law may no longer protect it. \
             I have the right to a copy of this authorization."
                .to_owned(),
        ],
        (Lang::Es, Edition::V3) => vec![
            format!(
                "Puedo revocar (cancelar) esta autorización en cualquier momento enviando un aviso por escrito al departamento de registros médicos de {hospital}. \
                 Cancelarla no anula lo que {hospital} ya compartió por ella."
            ),
            format!(
                "{hospital} no se negará a atenderme, y el pago, mi inscripción en un plan de salud y mis beneficios no dependen de que yo firme esto."
            ),
            "Quien reciba esta información podría compartirla con otros. \
             Si lo hace, es posible que las leyes federales de privacidad ya no la protejan. \
             Tengo derecho a una copia de esta autorización."
                .to_owned(),
        ],
        (Lang::En, Edition::V2) => vec![
            format!(
                "I may revoke this authorization at any time by writing to the medical records department of {hospital}. \
                 Revoking does not undo disclosures already made in reliance on it."
            ),
            format!(
                "{hospital} will not condition my treatment, payment, enrollment in a health plan or eligibility for benefits on whether I sign this authorization."
            ),
            "Information disclosed under this authorization may be redisclosed by the recipient and may then no longer be protected by federal privacy rules. \
             I am entitled to a copy of this authorization."
                .to_owned(),
        ],
        (Lang::Es, Edition::V2) => vec![
            format!(
                "Puedo revocar esta autorización en cualquier momento por escrito al departamento de registros médicos de {hospital}. \
                 La revocación no anula las divulgaciones ya hechas con base en ella."
            ),
            format!(
                "{hospital} no condicionará mi tratamiento, el pago, la inscripción en un plan de salud ni la elegibilidad para beneficios a que yo firme esta autorización."
            ),
            "La información divulgada con esta autorización puede ser divulgada de nuevo por quien la recibe y dejar de estar protegida por las normas federales de privacidad. \
             Tengo derecho a recibir una copia de esta autorización."
                .to_owned(),
        ],
    }
}
