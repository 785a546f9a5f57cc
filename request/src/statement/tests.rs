//! The signed text of each instrument carries every required element.

use super::render_statement;
use crate::{Lang, examples};

fn statement(req: crate::RecordsRequest, lang: Lang) -> String {
    render_statement(&examples::site(), &req.normalized(), lang)
}

/// Maya's authorization with psychotherapy notes too, as documents signed
/// before they had to be asked for alone combined them: those still render.
fn combined() -> crate::RecordsRequest {
    let mut req = examples::representative_authorization();
    req.scope
        .sensitive
        .push(crate::SensitiveCategory::PsychotherapyNotes);
    req
}

fn assert_has(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "missing {part:?} in:\n{text}");
    }
}

#[test]
fn right_of_access_names_patient_records_delivery_consent_and_signature() {
    let en = statement(examples::self_access(), Lang::En);
    assert_has(
        &en,
        &[
            "Request for access to health records (45 CFR 164.524)",
            "I, Ana María Pérez, am the patient: Ana María Pérez, born 1984-03-07.",
            "I ask Riverside General Hospital for a copy of these health records: lab test results and immunization records, from all dates.",
            "I do not ask for substance-use disorder treatment records",
            "not an authorization",
            "electronic copy through a secure download link, with the link sent to ana@example.org",
            "I have the right to use a paper form instead",
            "withdraw this consent",
            "up-to-date web browser",
            "Before signing, I agreed to the following: \u{201c}I agree to make this request",
            "and I confirm I can read this screen and email sent to the address I gave.\u{201d}",
            "Signed electronically by Ana María Pérez on 2026-11-26",
        ],
    );
    assert!(!en.contains("expires"), "no authorization terms: {en}");
    let es = statement(examples::self_access(), Lang::Es);
    assert_has(
        &es,
        &[
            "Solicitud de acceso a registros médicos (45 CFR 164.524)",
            "Yo, Ana María Pérez, soy el (la) paciente",
            "resultados de laboratorio y registro de vacunas, de todas las fechas",
            "Tengo derecho a usar un formulario en papel",
            "No pido registros de tratamiento de trastornos por consumo de sustancias,",
            "y confirmo que puedo leer esta pantalla y los correos que lleguen a la dirección que di.»",
            "Antes de firmar, acepté lo siguiente: «Acepto hacer esta solicitud",
            "Firmado electrónicamente por Ana María Pérez el 2026-11-26",
        ],
    );
}

#[test]
fn directive_names_the_recipient_and_where_to_send() {
    let en = statement(examples::parent_directive(), Lang::En);
    assert_has(
        &en,
        &[
            "Direction to send a copy of health records to a person I name (45 CFR 164.524(c)(3)(ii))",
            "I, Luis Gómez, am the patient's father and act as the parent or guardian of the patient, a minor: Sofía Gómez Ruiz, born 2015-06-01.",
            "immunization records, from 2020-01-01 to 2024-12-31",
            "Send them to: Lincoln Elementary School nurse, at nurse@lincoln.example.org",
            "minor's own authorization",
            "Contact me at luis@example.org or 555-010-0199.",
            "Signed electronically by Luis Gómez",
        ],
    );
    let es = statement(examples::parent_directive(), Lang::Es);
    assert_has(
        &es,
        &[
            "Instrucción para enviar una copia",
            "Yo, Luis Gómez, soy father del (de la) paciente y actúo como padre, madre o tutor(a) del (de la) paciente",
            "En ejercicio del derecho de acceso, pido a Riverside General Hospital que envíe una copia electrónica",
            "del 2020-01-01 al 2024-12-31",
            "Envíenlos a: Lincoln Elementary School nurse, en nurse@lincoln.example.org",
        ],
    );
}

#[test]
fn authorization_has_every_core_element_and_required_statement() {
    let en = statement(combined(), Lang::En);
    assert_has(
        &en,
        &[
            // Title with Part 2 consent.
            "Authorization and consent to disclose health information (45 CFR 164.508 and 42 CFR 2.31)",
            // Signer and the representative's authority.
            "I, Maya Chen, am the personal representative of the patient (a person with legal authority to make health care decisions for them), Li Chen, born 1950-02-14, also known as Li Wong, medical record number MRN-448812, living at 12 Elm St, Springfield, IL 62701. My authority: health care power of attorney signed 2024-05-01.",
            // (i) description, (ii) who discloses, (iii) recipient, (iv) purpose, (v) expiration.
            "Information to be disclosed: the complete medical record, from all dates. I specifically choose to include: substance-use disorder treatment records (protected by 42 CFR Part 2).",
            "Who may disclose it: Riverside General Hospital.",
            "Who may receive it: Rivera & Cole LLP, 200 Main St, Springfield, IL 62701.",
            "Purpose: legal advice about my mother's care.",
            "This authorization expires on 2027-11-26.",
            // Required statements: revocation, no conditioning, redisclosure, copy.
            "I may revoke (cancel) this authorization at any time by writing to the medical records department of Riverside General Hospital. Cancelling it does not undo what Riverside General Hospital already shared because of it.",
            "Riverside General Hospital will not refuse to treat me, and my payment, health plan enrollment and benefits do not depend on whether I sign this.",
            "The person or group that gets this information may share it with others. If they do, federal privacy law may no longer protect it.",
            "I have the right to a copy of this authorization.",
            "protected by 42 CFR Part 2",
            // The separate psychotherapy notes authorization.
            "Separate authorization for psychotherapy notes (45 CFR 164.508(b)(3)(ii))",
            "Information to be disclosed: psychotherapy notes, from all dates.",
            // (vi) signature and date.
            "Signed electronically by Maya Chen on 2026-11-26",
        ],
    );
    let psychotherapy_in_main = en
        .split("Separate authorization")
        .next()
        .unwrap_or_default()
        .contains("psychotherapy notes");
    assert!(
        !psychotherapy_in_main,
        "psychotherapy notes only in their own authorization"
    );
    let es = statement(combined(), Lang::Es);
    assert_has(
        &es,
        &[
            "Autorización y consentimiento para divulgar información médica (45 CFR 164.508 y 42 CFR 2.31)",
            "Quién puede divulgarla: Riverside General Hospital.",
            "Quién puede recibirla: Rivera & Cole LLP",
            "Esta autorización vence el 2027-11-26.",
            "Yo, Maya Chen, soy el (la) representante personal del (de la) paciente (persona con autoridad legal para tomar decisiones de salud por él o ella), Li Chen,",
            "Elijo expresamente incluir: registros de tratamiento de trastornos por consumo de sustancias (protegidos por 42 CFR Parte 2).",
            "Puedo revocar (cancelar) esta autorización en cualquier momento enviando un aviso por escrito al departamento de registros médicos de Riverside General Hospital. Cancelarla no anula lo que Riverside General Hospital ya compartió por ella.",
            "Riverside General Hospital no se negará a atenderme, y el pago, mi inscripción en un plan de salud y mis beneficios no dependen de que yo firme esto.",
            "Quien reciba esta información podría compartirla con otros. Si lo hace, es posible que las leyes federales de privacidad ya no la protejan. Tengo derecho a una copia de esta autorización.",
            "Los registros de tratamiento de trastornos por consumo de sustancias están protegidos por 42 CFR Parte 2.",
            "Autorización separada para notas de psicoterapia",
        ],
    );
}

#[test]
fn default_purpose_is_at_the_request_of_the_individual() {
    let mut req = examples::representative_authorization();
    req.authorization.purpose.clear();
    assert_has(
        &statement(req.clone(), Lang::En),
        &["Purpose: at the request of the individual."],
    );
    assert_has(
        &statement(req, Lang::Es),
        &["Propósito: a petición de la persona."],
    );
}

#[test]
fn psychotherapy_notes_alone_are_their_own_authorization() {
    let req = examples::psychotherapy_notes();
    assert_eq!(req.instrument(), crate::Instrument::Authorization);
    let en = statement(req.clone(), Lang::En);
    assert!(
        en.starts_with(
            "Separate authorization for psychotherapy notes (45 CFR 164.508(b)(3)(ii))\n\n\
             I, Ana María Pérez, am the patient: Ana María Pérez, born 1984-03-07.\n\n\
             Information to be disclosed: psychotherapy notes, from all dates."
        ),
        "{en}"
    );
    assert_has(
        &en,
        &[
            "Who may disclose it: Riverside General Hospital.",
            "Who may receive it: me, as electronic copy through a secure download link, with the link sent to ana@example.org.",
            "Purpose: at the request of the individual.",
            "This authorization expires on 2027-11-26.",
            "I may revoke (cancel) this authorization",
            "Signed electronically by Ana María Pérez on 2026-11-26",
        ],
    );
    for absent in [
        "Request for access",
        "right of access",
        "health records:",
        "42 CFR",
    ] {
        assert!(!en.contains(absent), "{absent} in:\n{en}");
    }
    let es = statement(req.clone(), Lang::Es);
    assert_has(
        &es,
        &[
            "Autorización separada para notas de psicoterapia",
            "Yo, Ana María Pérez, soy el (la) paciente",
            "Información que se divulgará: notas de psicoterapia, de todas las fechas.",
        ],
    );
    // A parent's: the signer, and the note on the minor's own records.
    let mut parent = examples::parent_directive();
    parent.scope = req.scope.clone();
    parent.authorization.expires_on = "2027-11-26".into();
    assert_has(
        &statement(parent, Lang::En),
        &[
            "I, Luis Gómez, am the patient's father",
            "minor's own authorization",
            "Who may receive it: Lincoln Elementary School nurse, nurse@lincoln.example.org.",
        ],
    );
}

#[test]
fn the_statement_names_each_proof_of_authority_file_and_its_digest() {
    let site = examples::site();
    let req = examples::representative_authorization();
    let digest = crate::Digest::of(examples::PROOF_PDF).to_hex();
    let size = examples::PROOF_PDF.len();
    let en = render_statement(&site, &req, Lang::En);
    assert!(
        en.contains(&format!(
            "Proof of authority attached: power-of-attorney.pdf (PDF, {size} bytes, SHA-256 {digest})."
        )),
        "{en}"
    );
    let es = render_statement(&site, &req, Lang::Es);
    assert!(es.contains(&format!("Prueba de autoridad adjunta: power-of-attorney.pdf (PDF, {size} bytes, SHA-256 {digest}).")), "{es}");
    // Without files the statement is exactly what it was.
    let mut without = examples::representative_authorization();
    without.requester.attachments.clear();
    let plain = render_statement(&site, &without, Lang::En);
    assert!(!plain.contains("Proof of authority"));
}

#[test]
fn changing_the_file_changes_the_signed_digest() {
    let doc = crate::SignedDocument::new(
        examples::site(),
        examples::representative_authorization(),
        Lang::En,
    );
    assert!(doc.is_well_formed());
    let mut other = doc.request.clone();
    other.requester.attachments[0].sha256 = crate::Digest::of(examples::PROOF_PNG);
    let changed = crate::SignedDocument::new(examples::site(), other, Lang::En);
    assert_ne!(changed.digest(), doc.digest());
    let mut edited = doc.clone();
    edited.request.requester.attachments[0].size += 1;
    assert!(!edited.is_well_formed(), "the statement names the size");
}

#[test]
fn the_consent_makes_no_claim_about_a_code_and_executors_act_for_the_estate() {
    // Consent comes before any code is sent, and a returning requester gets none.
    for lang in [Lang::En, Lang::Es] {
        let disclosure = crate::esign_disclosure("Riverside General Hospital", lang);
        assert!(!disclosure.contains("code"), "{disclosure}");
        assert!(!disclosure.contains("código"), "{disclosure}");
    }
    let mut req = examples::representative_authorization();
    req.requester.role = crate::Role::Executor;
    assert_has(
        &statement(req, Lang::Es),
        &["soy el (la) albacea o administrador(a) de la sucesión del (de la) paciente"],
    );
}
