//! What is wrong with a field, and the plain-language message for it.

use serde::{Deserialize, Serialize};

use super::Field;
use crate::Lang;

/// What is wrong with a field.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    /// Nothing was entered.
    Required,
    /// Longer than allowed.
    TooLong,
    /// Contains control characters or characters not allowed here.
    InvalidCharacters,
    /// Not a real calendar date in `YYYY-MM-DD` form.
    InvalidDate,
    /// A date after today where only past dates make sense.
    DateInFuture,
    /// A date before 1900.
    DateTooOld,
    /// Not an email address.
    InvalidEmail,
    /// Not a phone number.
    InvalidPhone,
    /// The end of a date range is before its start.
    EndBeforeStart,
    /// A parent or guardian asks for a patient who is 18 or older.
    NotAMinor,
    /// The site does not offer this choice.
    NotOffered,
    /// A disc holds images: ask for imaging reports or files too.
    NeedsImaging,
    /// This delivery method cannot reach a recipient you name.
    NotForRecipient,
    /// The box must be ticked to go on.
    MustAgree,
    /// The typed signature is not the signer's name.
    SignatureMismatch,
    /// The signing date is not today.
    NotToday,
    /// The expiration date is not after the signing date.
    ExpiresTooSoon,
    /// An attached file's name, type or size is not acceptable.
    InvalidFile,
    /// An attached file was never received (or expired): upload it again.
    FileNotUploaded,
    /// A parent or guardian asks for a minor's substance-use treatment
    /// records, which need the minor's own consent (42 CFR 2.14).
    NeedsMinorsConsent,
    /// Psychotherapy notes are asked for with other records: their
    /// authorization must stand alone (45 CFR 164.508(b)(3)(ii)).
    PsychotherapyNotesAlone,
}

impl Problem {
    /// Every problem, so clients can prove they have text for each.
    pub const ALL: [Problem; 21] = [
        Problem::Required,
        Problem::TooLong,
        Problem::InvalidCharacters,
        Problem::InvalidDate,
        Problem::DateInFuture,
        Problem::DateTooOld,
        Problem::InvalidEmail,
        Problem::InvalidPhone,
        Problem::EndBeforeStart,
        Problem::NotAMinor,
        Problem::NotOffered,
        Problem::NeedsImaging,
        Problem::NotForRecipient,
        Problem::MustAgree,
        Problem::SignatureMismatch,
        Problem::NotToday,
        Problem::ExpiresTooSoon,
        Problem::InvalidFile,
        Problem::FileNotUploaded,
        Problem::NeedsMinorsConsent,
        Problem::PsychotherapyNotesAlone,
    ];
}

/// One problem with one field; the widget shows it next to that field.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// Which field.
    pub field: Field,
    /// What is wrong.
    pub problem: Problem,
}

impl FieldError {
    /// The plain-language message shown next to the field and in the error summary.
    pub fn message(&self, lang: Lang) -> &'static str {
        match self.problem {
            Problem::Required => required(self.field, lang),
            Problem::DateInFuture if self.field == Field::PatientDateOfBirth => match lang {
                Lang::En => "Date of birth can't be in the future.",
                Lang::Es => "La fecha de nacimiento no puede ser futura.",
            },
            problem => generic(problem, lang),
        }
    }
}

/// "Enter …" for an empty field.
fn required(field: Field, lang: Lang) -> &'static str {
    use Field::*;
    match (lang, field) {
        (Lang::En, PatientLegalName | DisplayName) => "Enter the patient's full legal name.",
        (Lang::En, PatientDateOfBirth) => "Enter the patient's date of birth.",
        (Lang::En, Email | RequesterEmail) => "Enter your email address.",
        (Lang::En, RequesterName) => "Enter your full legal name.",
        (Lang::En, RequesterRelationship) => {
            "Say how you are related to the child, for example mother or legal guardian."
        }
        (Lang::En, RequesterAuthority) => {
            "Describe the document that gives you authority, for example a power of attorney."
        }
        (Lang::En, RequesterAttachments) => {
            "Attach a copy of the document that gives you authority (PDF, JPEG or PNG)."
        }
        (Lang::En, ScopeRecordKinds) => "Choose at least one kind of record.",
        (Lang::En, ScopeDateRanges) => "Add at least one date range, or choose all dates.",
        (Lang::En, ScopeDateRangeStart(_)) => "Enter the first date.",
        (Lang::En, ScopeDateRangeEnd(_)) => "Enter the last date.",
        (Lang::En, DeliveryAppName) => "Enter the name of the app.",
        (Lang::En, DeliveryAddress(_)) => "Add the address to mail the records to.",
        (Lang::En, RecipientName) => "Add who should receive the records.",
        (Lang::En, RecipientSendTo) => "Add where the records should be sent.",
        (Lang::En, AuthorizationExpiresOn) => "Choose when this permission ends.",
        (Lang::En, Signature) => "Type your full name to sign.",
        (Lang::En, _) => "Fill in this field.",
        (Lang::Es, PatientLegalName | DisplayName) => {
            "Escriba el nombre legal completo del paciente."
        }
        (Lang::Es, PatientDateOfBirth) => "Escriba la fecha de nacimiento del paciente.",
        (Lang::Es, Email | RequesterEmail) => "Escriba su correo electrónico.",
        (Lang::Es, RequesterName) => "Escriba su nombre legal completo.",
        (Lang::Es, RequesterRelationship) => {
            "Diga qué relación tiene con el menor, por ejemplo madre o tutor legal."
        }
        (Lang::Es, RequesterAuthority) => {
            "Describa el documento que le da autoridad, por ejemplo un poder notarial."
        }
        (Lang::Es, RequesterAttachments) => {
            "Adjunte una copia del documento que le da autoridad (PDF, JPEG o PNG)."
        }
        (Lang::Es, ScopeRecordKinds) => "Elija al menos un tipo de registro.",
        (Lang::Es, ScopeDateRanges) => {
            "Agregue al menos un período de fechas o elija todas las fechas."
        }
        (Lang::Es, ScopeDateRangeStart(_)) => "Escriba la primera fecha.",
        (Lang::Es, ScopeDateRangeEnd(_)) => "Escriba la última fecha.",
        (Lang::Es, DeliveryAppName) => "Escriba el nombre de la aplicación.",
        (Lang::Es, DeliveryAddress(_)) => {
            "Agregue la dirección a la que se enviarán los registros."
        }
        (Lang::Es, RecipientName) => "Agregue quién debe recibir los registros.",
        (Lang::Es, RecipientSendTo) => "Agregue adónde se deben enviar los registros.",
        (Lang::Es, AuthorizationExpiresOn) => "Elija cuándo termina este permiso.",
        (Lang::Es, Signature) => "Escriba su nombre completo para firmar.",
        (Lang::Es, _) => "Complete este campo.",
    }
}

fn generic(problem: Problem, lang: Lang) -> &'static str {
    use Problem::*;
    match (lang, problem) {
        (Lang::En, Required) => "Fill in this field.",
        (Lang::En, TooLong) => "This is too long. Shorten it and try again.",
        (Lang::En, InvalidCharacters) => "Remove the special characters from this field.",
        (Lang::En, InvalidDate) => "Enter a real date, for example 1984-03-07.",
        (Lang::En, DateInFuture) => "This date can't be in the future.",
        (Lang::En, DateTooOld) => "Check the year: it must be 1900 or later.",
        (Lang::En, InvalidEmail) => "Enter an email address like name@example.com.",
        (Lang::En, InvalidPhone) => "Enter a phone number like 555-010-0100.",
        (Lang::En, EndBeforeStart) => "End date is before start date.",
        (Lang::En, NotAMinor) => {
            "The patient is 18 or older. Adults ask for their own records, or you can ask as their legal representative."
        }
        (Lang::En, NotOffered) => "This hospital does not offer this choice. Choose another.",
        (Lang::En, NeedsImaging) => {
            "A disc holds images. Also choose imaging reports or imaging files."
        }
        (Lang::En, NotForRecipient) => {
            "Records for someone else can go by secure download, email or mail. Choose one of those."
        }
        (Lang::En, MustAgree) => "Tick the box to agree before you go on.",
        (Lang::En, SignatureMismatch) => "Type your full name exactly as you entered it above.",
        (Lang::En, NotToday) => "The signing date must be today. Reload the page and try again.",
        (Lang::En, ExpiresTooSoon) => "Choose an end date after today.",
        (Lang::En, InvalidFile) => {
            "This file can't be used. Remove it and upload a PDF, JPEG or PNG of up to 10 MB."
        }
        (Lang::En, FileNotUploaded) => {
            "This file did not reach us or has expired. Remove it and upload it again."
        }
        (Lang::En, NeedsMinorsConsent) => {
            "A child's records of treatment for drug or alcohol use need the child's own consent. Uncheck this: the child can ask for these records, or you can call the medical records department."
        }
        (Lang::En, PsychotherapyNotesAlone) => {
            "Psychotherapy notes need a request of their own. Ask for them alone (uncheck everything else), then make a second request for the other records."
        }
        (Lang::Es, Required) => "Complete este campo.",
        (Lang::Es, TooLong) => "Es demasiado largo. Acórtelo e inténtelo de nuevo.",
        (Lang::Es, InvalidCharacters) => "Quite los caracteres especiales de este campo.",
        (Lang::Es, InvalidDate) => "Escriba una fecha real, por ejemplo 1984-03-07.",
        (Lang::Es, DateInFuture) => "Esta fecha no puede ser futura.",
        (Lang::Es, DateTooOld) => "Revise el año: debe ser 1900 o posterior.",
        (Lang::Es, InvalidEmail) => "Escriba un correo electrónico como nombre@ejemplo.com.",
        (Lang::Es, InvalidPhone) => "Escriba un número de teléfono como 555-010-0100.",
        (Lang::Es, EndBeforeStart) => "La fecha final es anterior a la fecha inicial.",
        (Lang::Es, NotAMinor) => {
            "El paciente tiene 18 años o más. Los adultos piden sus propios registros, o usted puede pedirlos como su representante legal."
        }
        (Lang::Es, NotOffered) => "Este hospital no ofrece esta opción. Elija otra.",
        (Lang::Es, NeedsImaging) => {
            "Un disco contiene imágenes. Elija también informes o archivos de imágenes."
        }
        (Lang::Es, NotForRecipient) => {
            "Los registros para otra persona se envían por descarga segura, correo electrónico o correo postal. Elija una de esas opciones."
        }
        (Lang::Es, MustAgree) => "Marque la casilla para aceptar antes de continuar.",
        (Lang::Es, SignatureMismatch) => {
            "Escriba su nombre completo exactamente como lo escribió arriba."
        }
        (Lang::Es, NotToday) => {
            "La fecha de firma debe ser hoy. Vuelva a cargar la página e inténtelo de nuevo."
        }
        (Lang::Es, ExpiresTooSoon) => "Elija una fecha final posterior a hoy.",
        (Lang::Es, InvalidFile) => {
            "No se puede usar este archivo. Quítelo y suba un PDF, JPEG o PNG de hasta 10 MB."
        }
        (Lang::Es, FileNotUploaded) => {
            "Este archivo no nos llegó o ya venció. Quítelo y súbalo de nuevo."
        }
        (Lang::Es, NeedsMinorsConsent) => {
            "Los registros del tratamiento de un(a) menor por consumo de drogas o alcohol necesitan el consentimiento del (de la) propio(a) menor. Desmarque esta opción: el (la) menor puede pedir estos registros, o usted puede llamar al departamento de registros médicos."
        }
        (Lang::Es, PsychotherapyNotesAlone) => {
            "Las notas de psicoterapia necesitan una solicitud aparte. Pídalas solas (desmarque todo lo demás) y luego haga una segunda solicitud para los demás registros."
        }
    }
}
