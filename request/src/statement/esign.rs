//! The E-SIGN Act consumer disclosure (15 U.S.C. 7001(c)), shown before the
//! requester consents and repeated word for word in the signed statement.

use super::Edition;
use crate::Lang;

/// The disclosure: scope, the right to paper, how to withdraw, what is needed.
pub fn esign_disclosure(hospital: &str, lang: Lang) -> String {
    disclosure(hospital, lang, Edition::CURRENT)
}

/// The disclosure as `edition` worded it.
pub(super) fn disclosure(hospital: &str, lang: Lang, edition: Edition) -> String {
    let last = match (lang, edition) {
        (Lang::En, Edition::V2) => {
            "and I confirm I can read this screen and the email code that was sent to me."
        }
        (Lang::En, Edition::V3) => {
            "and I confirm I can read this screen and email sent to the address I gave."
        }
        (Lang::Es, Edition::V2) => {
            "y confirmo que puedo leer esta pantalla y el código que me enviaron por correo."
        }
        (Lang::Es, Edition::V3) => {
            "y confirmo que puedo leer esta pantalla y los correos que lleguen a la dirección que di."
        }
    };
    match lang {
        Lang::En => format!(
            "I agree to make this request and sign it electronically, and to receive notices about it by email. \
             This consent covers only this request and the messages about it. \
             I have the right to use a paper form instead, and to ask {hospital} for a paper copy of this request at no charge. \
             I may withdraw this consent at any time by calling or writing to the medical records department; \
             withdrawing does not undo what was already done. \
             I need a device with an up-to-date web browser that supports passkeys and an email account I can read, \
             {last}"
        ),
        Lang::Es => format!(
            "Acepto hacer esta solicitud y firmarla electrónicamente, y recibir avisos sobre ella por correo electrónico. \
             Este consentimiento cubre solo esta solicitud y los mensajes sobre ella. \
             Tengo derecho a usar un formulario en papel en su lugar, y a pedir a {hospital} una copia en papel de esta solicitud sin costo. \
             Puedo retirar este consentimiento en cualquier momento llamando o escribiendo al departamento de registros médicos; \
             retirarlo no anula lo que ya se hizo. \
             Necesito un dispositivo con un navegador web actualizado que admita llaves de acceso (passkeys) y una cuenta de correo que pueda leer, \
             {last}"
        ),
    }
}
