//! Widget-only interface text in English and Spanish.
//!
//! Field messages, record labels and the signed statement come from
//! `recordpass_request`; this module holds only what the shared crate does not:
//! headings, buttons, statuses and the plain-language explanation of each
//! failure.

use recordpass_request::api::ErrorCode;
use recordpass_request::{DeliveryMethod, Lang, RecordsRequest};

use crate::app::CodeError;
use crate::error::Failure;
use crate::passkey::PasskeyError;

/// Fixed interface strings for one language.
pub struct Text {
    /// Accessible name of the language switch (always bilingual).
    pub language: &'static str,
    /// Heading of the form step.
    pub form_title: &'static str,
    /// Before the phone number.
    pub call_before: &'static str,
    /// After the phone number.
    pub call_after: &'static str,
    /// Heading of the error summary.
    pub summary_title: &'static str,
    /// Heading of the review step.
    pub review_title: &'static str,
    /// Heading above the statement.
    pub statement_title: &'static str,
    /// Explanation of the statement box.
    pub statement_hint: &'static str,
    /// Label of the digest prefix (the "text check code"; never "fingerprint",
    /// which the passkey hints use for the biometric, nor "request", which
    /// the request number is).
    pub fingerprint: &'static str,
    /// What the text check code is.
    pub fingerprint_hint: &'static str,
    /// Button back to the form.
    pub edit: &'static str,
    /// Heading of the passkey creation part.
    pub create_title: &'static str,
    /// What creating a passkey involves.
    pub create_hint: &'static str,
    /// Button that creates the passkey.
    pub create: &'static str,
    /// Shown once the passkey exists.
    pub created: &'static str,
    /// Heading of the signing part.
    pub sign_title: &'static str,
    /// What signing involves.
    pub sign_hint: &'static str,
    /// Button that signs.
    pub sign: &'static str,
    /// Heading of the confirmation step.
    pub done_title: &'static str,
    /// Label of the request number.
    pub number_label: &'static str,
    /// Advice about the request number.
    pub number_hint: &'static str,
    /// Label of the receipt time.
    pub received_label: &'static str,
    /// Heading of the next steps.
    pub next_title: &'static str,
    /// Retry button.
    pub retry: &'static str,
    /// Status: loading the site.
    pub loading: &'static str,
    /// Status: fetching registration options.
    pub preparing: &'static str,
    /// Status: the browser's passkey dialog is open.
    pub waiting_for_passkey: &'static str,
    /// Status: sending the new credential.
    pub saving_passkey: &'static str,
    /// Status: fetching and checking the signing ceremony.
    pub preparing_signature: &'static str,
    /// Status: ready to sign.
    pub ready_to_sign: &'static str,
    /// Status: sending the signature.
    pub submitting: &'static str,
    /// The site could not be loaded.
    pub site_failed: &'static str,
    /// Heading of the email code step.
    pub email_title: &'static str,
    /// Before the address the code went to.
    pub code_sent_before: &'static str,
    /// After the address the code went to.
    pub code_sent_after: &'static str,
    /// Label of the code field.
    pub code_label: &'static str,
    /// Hint under the code label.
    pub code_hint: &'static str,
    /// Button that checks the code.
    pub verify_code: &'static str,
    /// Button that sends a new code.
    pub resend_code: &'static str,
    /// Shown until a new code can be asked for.
    pub resend_wait: &'static str,
    /// Status: sending the code.
    pub sending_code: &'static str,
    /// Status: a new code was sent.
    pub code_resent: &'static str,
    /// Status: checking the code.
    pub verifying_code: &'static str,
}

const EN: Text = Text {
    language: "Language / Idioma",
    form_title: "Request your medical records",
    call_before: "Prefer the phone? Call the medical records department at ",
    call_after: ".",
    summary_title: "Please correct the following:",
    review_title: "Check and sign your request",
    statement_title: "What you are signing",
    statement_hint: "Read it carefully. This exact text is sent to the hospital with your signature.",
    fingerprint: "Text check code:",
    fingerprint_hint: "This code identifies exactly this text; the hospital sees the same code. You do not need it to contact the hospital.",
    edit: "Edit my request",
    create_title: "Step 1: Create a passkey",
    create_hint: "Your device will ask you to confirm with your fingerprint, face or screen lock. \
                  The hospital never sees your fingerprint or face.",
    create: "Create my passkey",
    created: "Passkey created.",
    sign_title: "Step 2: Sign your request",
    sign_hint: "Confirm with your passkey to sign the statement above.",
    sign: "Sign my request",
    done_title: "Request received",
    number_label: "Your request number",
    number_hint: "Keep this number. Mention it if you contact the hospital about this request.",
    received_label: "Received:",
    next_title: "What happens next",
    retry: "Try again",
    loading: "Loading…",
    preparing: "Getting your passkey ready…",
    waiting_for_passkey: "Waiting for your passkey…",
    saving_passkey: "Saving your passkey…",
    preparing_signature: "Preparing your request for signing…",
    ready_to_sign: "Your passkey is ready. Now sign your request.",
    submitting: "Sending your signed request…",
    site_failed: "We could not load the request form.",
    email_title: "Check your email",
    code_sent_before: "We sent a 6-digit code to ",
    code_sent_after: ". It expires in 10 minutes. This confirms the hospital can reach you there.",
    code_label: "6-digit code",
    code_hint: "If it has not arrived in a minute or two, check your spam or junk folder.",
    verify_code: "Confirm my email",
    resend_code: "Send a new code",
    resend_wait: "You can ask for a new code in 30 seconds.",
    sending_code: "Sending your code…",
    code_resent: "We sent a new code. Use the newest email.",
    verifying_code: "Checking your code…",
};

const ES: Text = Text {
    language: "Language / Idioma",
    form_title: "Solicite sus registros médicos",
    call_before: "¿Prefiere llamar? Comuníquese con el departamento de registros médicos al ",
    call_after: ".",
    summary_title: "Corrija lo siguiente:",
    review_title: "Revise y firme su solicitud",
    statement_title: "Lo que va a firmar",
    statement_hint: "Léalo con atención. Este texto exacto se envía al hospital con su firma.",
    fingerprint: "Código de verificación del texto:",
    fingerprint_hint: "Este código identifica exactamente este texto; el hospital ve el mismo código. No lo necesita para comunicarse con el hospital.",
    edit: "Corregir mi solicitud",
    create_title: "Paso 1: Cree una llave de acceso",
    create_hint: "Su dispositivo le pedirá que confirme con su huella, su rostro o el bloqueo de \
                  pantalla. El hospital nunca ve su huella ni su rostro.",
    create: "Crear mi llave de acceso",
    created: "Llave de acceso creada.",
    sign_title: "Paso 2: Firme su solicitud",
    sign_hint: "Confirme con su llave de acceso para firmar el texto de arriba.",
    sign: "Firmar mi solicitud",
    done_title: "Solicitud recibida",
    number_label: "Su número de solicitud",
    number_hint: "Guarde este número. Menciónelo si se comunica con el hospital sobre esta solicitud.",
    received_label: "Recibida:",
    next_title: "Qué sigue",
    retry: "Intentar de nuevo",
    loading: "Cargando…",
    preparing: "Preparando su llave de acceso…",
    waiting_for_passkey: "Esperando su llave de acceso…",
    saving_passkey: "Guardando su llave de acceso…",
    preparing_signature: "Preparando su solicitud para la firma…",
    ready_to_sign: "Su llave de acceso está lista. Ahora firme su solicitud.",
    submitting: "Enviando su solicitud firmada…",
    site_failed: "No pudimos cargar el formulario de solicitud.",
    email_title: "Revise su correo electrónico",
    code_sent_before: "Enviamos un código de 6 dígitos a ",
    code_sent_after: ". Vence en 10 minutos. Así confirmamos que el hospital puede comunicarse con usted ahí.",
    code_label: "Código de 6 dígitos",
    code_hint: "Si no le llega en uno o dos minutos, revise la carpeta de correo no deseado.",
    verify_code: "Confirmar mi correo",
    resend_code: "Enviar un código nuevo",
    resend_wait: "Podrá pedir un código nuevo en 30 segundos.",
    sending_code: "Enviando su código…",
    code_resent: "Enviamos un código nuevo. Use el correo más reciente.",
    verifying_code: "Comprobando su código…",
};

/// The interface strings for `lang`.
pub fn text(lang: Lang) -> &'static Text {
    match lang {
        Lang::En => &EN,
        Lang::Es => &ES,
    }
}

/// Name of a language in that language, for the language switch.
pub fn language_name(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "English",
        Lang::Es => "Español",
    }
}

/// What happens after submission, addressed to the requester: the site's
/// deadline (`days`) and where the records go, as chosen in `request`.
pub fn next_steps(lang: Lang, hospital: &str, days: u16, request: &RecordsRequest) -> [String; 2] {
    use DeliveryMethod::*;
    let email = &request.requester.email;
    let delivery = &request.delivery;
    let respond = match (lang, days) {
        (Lang::En, 1) => format!("{hospital} must respond within 1 day."),
        (Lang::En, _) => format!("{hospital} must respond within {days} days."),
        (Lang::Es, 1) => format!("{hospital} debe responder en un plazo de 1 día."),
        (Lang::Es, _) => format!("{hospital} debe responder en un plazo de {days} días."),
    };
    let destination = match (&request.recipient, lang, delivery.method) {
        (Some(r), Lang::En, _) => {
            let label = delivery.method.label(lang);
            format!(
                "The records will be sent to {} ({}) as {label}.",
                r.name, r.send_to
            )
        }
        (Some(r), Lang::Es, _) => {
            let label = delivery.method.label(lang);
            format!(
                "Los registros se enviarán a {} ({}) como {label}.",
                r.name, r.send_to
            )
        }
        (None, Lang::En, SecureDownload) => {
            format!("A secure download link to the records will be sent to {email}.")
        }
        (None, Lang::Es, SecureDownload) => {
            format!("Se enviará a {email} un enlace seguro para descargar los registros.")
        }
        (None, Lang::En, Email) => format!("The records will be emailed to {email}."),
        (None, Lang::Es, Email) => {
            format!("Los registros se enviarán por correo electrónico a {email}.")
        }
        (None, Lang::En, PatientApp) => {
            format!(
                "The records will be sent to your health app, {}.",
                delivery.app_name
            )
        }
        (None, Lang::Es, PatientApp) => format!(
            "Los registros se enviarán a su aplicación de salud, {}.",
            delivery.app_name
        ),
        (None, Lang::En, Mail) => format!(
            "Paper copies will be mailed to {}.",
            delivery.address.one_line()
        ),
        (None, Lang::Es, Mail) => format!(
            "Las copias en papel se enviarán por correo postal a {}.",
            delivery.address.one_line()
        ),
        (None, Lang::En, PickUp) => {
            format!(
                "The hospital will write to {email} when your paper copies are ready to pick up."
            )
        }
        (None, Lang::Es, PickUp) => format!(
            "El hospital le escribirá a {email} cuando sus copias en papel estén listas para recoger."
        ),
        (None, Lang::En, Disc) => {
            format!("The hospital will write to {email} when your disc is ready to pick up.")
        }
        (None, Lang::Es, Disc) => {
            format!("El hospital le escribirá a {email} cuando su disco esté listo para recoger.")
        }
    };
    [respond, destination]
}

/// The upload field's status while a busy upload waits to be tried again.
pub fn upload_retry(lang: Lang, secs: u32) -> String {
    match (lang, secs) {
        (Lang::En, 1) => "The records service is busy. We will try again in 1 second; you do not need to do anything.".into(),
        (Lang::En, _) => format!("The records service is busy. We will try again in {secs} seconds; you do not need to do anything."),
        (Lang::Es, 1) => "El servicio de registros está ocupado. Lo intentaremos de nuevo en 1 segundo; no necesita hacer nada.".into(),
        (Lang::Es, _) => format!("El servicio de registros está ocupado. Lo intentaremos de nuevo en {secs} segundos; no necesita hacer nada."),
    }
}

/// Plain-language explanation of a verifier error code.
pub fn api_error(code: ErrorCode, lang: Lang) -> &'static str {
    use ErrorCode::*;
    if let Some(problem) = code.file_problem() {
        return problem.message(lang);
    }
    match (lang, code) {
        (
            Lang::En,
            MalformedJson | UnsupportedMediaType | NotFound | MethodNotAllowed | SignInRequired
            | Forbidden | InvalidTransition | FileEmpty | FileTooLarge | FileTypeUnsupported
            | FileTypeMismatch | FileDamaged,
        ) => "The records service could not handle this request. Reload the page and try again.",
        (Lang::En, IdempotencyKeyReused) => {
            "Your request may already have been received. Check its status before sending it again."
        }
        (Lang::En, WidgetOutdated) => {
            "This form on the hospital's website is out of date, so it cannot send your request, and nothing was signed. Please call the hospital's medical records department, and let them know the form needs updating."
        }
        (Lang::En, PayloadTooLarge) => "Your request is too long. Shorten it and try again.",
        (Lang::En, UploadTooSlow) => {
            "The connection was too slow to send the file, so nothing was saved. Try again on a better connection, such as Wi-Fi, or bring the document to the hospital's medical records office."
        }
        (Lang::En, LengthRequired) => {
            "Your browser did not send the file in a way the records service can accept, so nothing was saved. Try again, or use another browser."
        }
        (Lang::En, InvalidRequest) => "Some details need correcting. Check the marked fields.",
        (Lang::En, OriginNotAllowed | UnknownSite) => {
            "This page is not set up to send requests to the hospital. Please call the hospital instead."
        }
        (Lang::En, CeremonyExpired) => {
            "That took too long, so we started again. Please try once more."
        }
        (Lang::En, PasskeyRejected) => "Your passkey could not be verified. Please try again.",
        (Lang::En, CredentialAlreadyRegistered) => {
            "This passkey is already in use. Please create a new one."
        }
        (Lang::En, CredentialUnknown) => "This passkey is not recognized. Please create a new one.",
        (Lang::En, PasskeyCounterRegressed) => {
            "For your safety this passkey was not accepted: it looks like a copy of it was used elsewhere. Please call the hospital."
        }
        (Lang::En, EmailMismatch) => {
            "This passkey belongs to a different email address. Please create a new one."
        }
        (Lang::En, RateLimited) => {
            "Too many attempts. Please wait a while before trying again, or call the hospital."
        }
        (Lang::En, CodeIncorrect) => {
            "That code is not right. Check the newest email and try again."
        }
        (Lang::En, CodeExpired) => "This code has expired. Ask for a new code.",
        (Lang::En, TooManyAttempts) => "Too many wrong codes. Ask for a new code.",
        (Lang::En, EmailNotVerified) => "Please confirm your email address again with a new code.",
        (Lang::En, Unavailable) => {
            "The records service is busy right now. Wait a moment and try again."
        }
        (Lang::En, Internal) => {
            "Something went wrong on our side and nothing was saved. Try again in a few minutes."
        }
        (
            Lang::Es,
            MalformedJson | UnsupportedMediaType | NotFound | MethodNotAllowed | SignInRequired
            | Forbidden | InvalidTransition | FileEmpty | FileTooLarge | FileTypeUnsupported
            | FileTypeMismatch | FileDamaged,
        ) => {
            "El servicio de registros no pudo procesar esta solicitud. Vuelva a cargar la página e inténtelo de nuevo."
        }
        (Lang::Es, IdempotencyKeyReused) => {
            "Es posible que ya hayamos recibido su solicitud. Consulte su estado antes de enviarla de nuevo."
        }
        (Lang::Es, WidgetOutdated) => {
            "Este formulario del sitio web del hospital no está actualizado, así que no puede enviar su solicitud, y no se firmó nada. Llame al departamento de registros médicos del hospital y avíseles de que el formulario necesita actualizarse."
        }
        (Lang::Es, PayloadTooLarge) => {
            "Su solicitud es demasiado larga. Acórtela e inténtelo de nuevo."
        }
        (Lang::Es, UploadTooSlow) => {
            "La conexión era demasiado lenta para enviar el archivo, así que no se guardó nada. Inténtelo de nuevo con una conexión mejor, como wifi, o lleve el documento a la oficina de registros médicos del hospital."
        }
        (Lang::Es, LengthRequired) => {
            "Su navegador no envió el archivo de una forma que el servicio de registros pueda aceptar, así que no se guardó nada. Inténtelo de nuevo o use otro navegador."
        }
        (Lang::Es, InvalidRequest) => "Hay datos que corregir. Revise los campos marcados.",
        (Lang::Es, OriginNotAllowed | UnknownSite) => {
            "Esta página no está configurada para enviar solicitudes al hospital. Por favor, llame al hospital."
        }
        (Lang::Es, CeremonyExpired) => {
            "Pasó demasiado tiempo y empezamos de nuevo. Inténtelo una vez más."
        }
        (Lang::Es, PasskeyRejected) => {
            "No se pudo verificar su llave de acceso. Inténtelo de nuevo."
        }
        (Lang::Es, CredentialAlreadyRegistered) => {
            "Esta llave de acceso ya está en uso. Cree una nueva."
        }
        (Lang::Es, CredentialUnknown) => "No se reconoce esta llave de acceso. Cree una nueva.",
        (Lang::Es, PasskeyCounterRegressed) => {
            "Por su seguridad no aceptamos esta llave de acceso: parece que una copia se usó en otro lugar. Por favor, llame al hospital."
        }
        (Lang::Es, EmailMismatch) => {
            "Esta llave de acceso pertenece a otro correo electrónico. Cree una nueva."
        }
        (Lang::Es, RateLimited) => {
            "Demasiados intentos. Espere un tiempo antes de intentarlo de nuevo, o llame al hospital."
        }
        (Lang::Es, CodeIncorrect) => {
            "Ese código no es correcto. Revise el correo más reciente e inténtelo de nuevo."
        }
        (Lang::Es, CodeExpired) => "Este código venció. Pida un código nuevo.",
        (Lang::Es, TooManyAttempts) => "Demasiados códigos incorrectos. Pida un código nuevo.",
        (Lang::Es, EmailNotVerified) => {
            "Confirme de nuevo su correo electrónico con un código nuevo."
        }
        (Lang::Es, Unavailable) => {
            "El servicio de registros está ocupado en este momento. Espere un momento e inténtelo de nuevo."
        }
        (Lang::Es, Internal) => {
            "Algo falló de nuestro lado y no se guardó nada. Inténtelo de nuevo en unos minutos."
        }
    }
}

/// What is wrong with a typed email code, shown next to the field.
pub fn code_error(error: CodeError, lang: Lang) -> String {
    match (lang, error) {
        (Lang::En, CodeError::Format) => "Enter the 6 digits from the email.".into(),
        (Lang::En, CodeError::Incorrect(1)) => {
            "That code is not right. You have 1 more try.".into()
        }
        (Lang::En, CodeError::Incorrect(n)) => {
            format!("That code is not right. You have {n} more tries.")
        }
        (Lang::Es, CodeError::Format) => "Escriba los 6 dígitos del correo.".into(),
        (Lang::Es, CodeError::Incorrect(1)) => {
            "Ese código no es correcto. Le queda 1 intento.".into()
        }
        (Lang::Es, CodeError::Incorrect(n)) => {
            format!("Ese código no es correcto. Le quedan {n} intentos.")
        }
        (_, CodeError::Expired) => api_error(ErrorCode::CodeExpired, lang).into(),
        (_, CodeError::TooManyAttempts) => api_error(ErrorCode::TooManyAttempts, lang).into(),
    }
}

/// Plain-language explanation of a browser passkey failure.
pub fn passkey_error(error: PasskeyError, lang: Lang) -> &'static str {
    use PasskeyError::*;
    match (lang, error) {
        (Lang::En, CreateCancelled) => {
            "Passkey creation was canceled. Try again when you are ready."
        }
        (Lang::En, SignCancelled) => {
            "Signing was canceled and nothing was sent. Try again when you are ready."
        }
        (Lang::En, AlreadyRegistered) => {
            "This device already has a passkey for this request. Try again, or use another device."
        }
        (Lang::En, Unsupported) => {
            "This browser cannot create a passkey. You can open this page on your phone, or in an up-to-date Chrome, Edge, Firefox or Safari (some offer to use your phone by scanning a QR code). Or ask on paper or by phone: nothing you entered has been sent."
        }
        (Lang::En, Failed) => "Your device could not complete the passkey step. Please try again.",
        (Lang::Es, CreateCancelled) => {
            "Se canceló la creación de la llave de acceso. Inténtelo de nuevo cuando quiera."
        }
        (Lang::Es, SignCancelled) => {
            "Se canceló la firma y no se envió nada. Inténtelo de nuevo cuando quiera."
        }
        (Lang::Es, AlreadyRegistered) => {
            "Este dispositivo ya tiene una llave de acceso para esta solicitud. Inténtelo de nuevo o use otro dispositivo."
        }
        (Lang::Es, Unsupported) => {
            "Este navegador no puede crear una llave de acceso. Puede abrir esta página en su teléfono, o en una versión actual de Chrome, Edge, Firefox o Safari (algunos ofrecen usar su teléfono escaneando un código QR). O pídalo en papel o por teléfono: no se ha enviado nada de lo que escribió."
        }
        (Lang::Es, Failed) => {
            "Su dispositivo no pudo completar el paso de la llave de acceso. Inténtelo de nuevo."
        }
    }
}

/// Plain-language explanation of any failure.
pub fn failure(failure: &Failure, lang: Lang) -> &'static str {
    match (failure, lang) {
        (Failure::Api(e), _) => api_error(e.code, lang),
        (Failure::Passkey(e), _) => passkey_error(*e, lang),
        (Failure::Network, Lang::En) => {
            "We could not reach the records service. Check your internet connection and try again."
        }
        (Failure::Network, Lang::Es) => {
            "No pudimos comunicarnos con el servicio de registros. Revise su conexión a internet e inténtelo de nuevo."
        }
        (Failure::BadResponse, Lang::En) => {
            "The records service sent an answer we did not understand. Please try again later."
        }
        (Failure::BadResponse, Lang::Es) => {
            "El servicio de registros envió una respuesta que no entendimos. Inténtelo de nuevo más tarde."
        }
        (Failure::Tampered, Lang::En) => {
            "The request changed on its way to the hospital, so nothing was signed. Try again; if this keeps happening, call the hospital."
        }
        (Failure::Tampered, Lang::Es) => {
            "La solicitud cambió en su camino al hospital, así que no se firmó nada. Inténtelo de nuevo; si vuelve a pasar, llame al hospital."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_code_is_explained_in_both_languages() {
        for code in ErrorCode::ALL {
            let (en, es) = (api_error(code, Lang::En), api_error(code, Lang::Es));
            assert!(!en.is_empty() && !es.is_empty(), "{code:?}");
            assert_ne!(en, es, "{code:?} is not translated");
        }
    }

    #[test]
    fn every_failure_is_explained_in_both_languages() {
        use PasskeyError::*;
        let passkey = [
            CreateCancelled,
            SignCancelled,
            AlreadyRegistered,
            Unsupported,
            Failed,
        ];
        let failures = [Failure::Network, Failure::BadResponse, Failure::Tampered]
            .into_iter()
            .chain(passkey.map(Failure::Passkey));
        for f in failures {
            assert_ne!(failure(&f, Lang::En), failure(&f, Lang::Es), "{f:?}");
        }
    }

    #[test]
    fn code_errors_are_explained_in_both_languages() {
        let errors = [
            CodeError::Format,
            CodeError::Incorrect(1),
            CodeError::Incorrect(3),
            CodeError::Expired,
            CodeError::TooManyAttempts,
        ];
        for e in errors {
            assert_ne!(code_error(e, Lang::En), code_error(e, Lang::Es));
        }
        assert!(code_error(CodeError::Incorrect(3), Lang::Es).contains("quedan 3"));
    }

    #[test]
    fn next_steps_state_the_sites_deadline_and_the_chosen_destination() {
        let mut request = RecordsRequest::default();
        request.requester.email = "ana@example.org".into();
        let [respond, delivery] = next_steps(Lang::En, "Riverside", 14, &request);
        assert_eq!(respond, "Riverside must respond within 14 days.");
        assert!(delivery.contains("ana@example.org"), "{delivery}");

        request.delivery.method = DeliveryMethod::Mail;
        request.delivery.address.street = "12 Elm St".into();
        request.delivery.address.city = "Springfield".into();
        let [respond, delivery] = next_steps(Lang::Es, "Riverside", 1, &request);
        assert_eq!(respond, "Riverside debe responder en un plazo de 1 día.");
        assert!(delivery.contains("12 Elm St"), "{delivery}");
        assert!(!delivery.contains("ana@example.org"), "{delivery}");

        request.delivery.method = DeliveryMethod::PickUp;
        let [_, delivery] = next_steps(Lang::En, "Riverside", 30, &request);
        assert!(delivery.contains("ready to pick up"), "{delivery}");

        request.delivery.method = DeliveryMethod::SecureDownload;
        request.recipient = Some(recordpass_request::Recipient {
            name: "Rivera & Cole LLP".into(),
            send_to: "records@rivera.example".into(),
        });
        for lang in Lang::ALL {
            let [_, delivery] = next_steps(lang, "Riverside", 30, &request);
            assert!(
                delivery.contains("Rivera & Cole LLP (records@rivera.example)"),
                "{delivery}"
            );
            assert!(!delivery.contains("ana@example.org"), "{delivery}");
        }
    }

    #[test]
    fn a_waiting_upload_retry_is_announced_in_both_languages() {
        assert_eq!(
            upload_retry(Lang::En, 2),
            "The records service is busy. We will try again in 2 seconds; you do not need to do anything."
        );
        assert!(upload_retry(Lang::En, 1).contains("in 1 second;"));
        assert!(upload_retry(Lang::Es, 1).contains("en 1 segundo;"));
        assert!(upload_retry(Lang::Es, 5).contains("en 5 segundos;"));
    }

    #[test]
    fn interface_text_is_translated() {
        let (en, es) = (text(Lang::En), text(Lang::Es));
        let pairs = [
            (en.form_title, es.form_title),
            (en.create, es.create),
            (en.sign, es.sign),
            (en.done_title, es.done_title),
            (en.retry, es.retry),
            (en.waiting_for_passkey, es.waiting_for_passkey),
            (en.email_title, es.email_title),
            (en.code_sent_before, es.code_sent_before),
            (en.code_sent_after, es.code_sent_after),
            (en.code_label, es.code_label),
            (en.code_hint, es.code_hint),
            (en.verify_code, es.verify_code),
            (en.resend_code, es.resend_code),
            (en.resend_wait, es.resend_wait),
            (en.sending_code, es.sending_code),
            (en.code_resent, es.code_resent),
            (en.verifying_code, es.verifying_code),
        ];
        for (a, b) in pairs {
            assert!(!a.is_empty());
            assert_ne!(a, b);
        }
        assert_eq!(
            en.language, es.language,
            "the language switch is named in both"
        );
    }
}
