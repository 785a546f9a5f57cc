//! Education first: rights, deadline, fees, who may ask, why a passkey, and
//! the other ways to ask (nobody has to use the website).

use recordpass_request::api::SiteInfo;
use yew::prelude::*;

use super::call_line;
use super::fields::tr;
use super::wizard::{FormStep, frame};
use crate::app::{App, Msg};

/// Renders the introduction.
pub fn view(app: &App, ctx: &Context<App>, site: &SiteInfo) -> Html {
    let l = app.lang;
    let days = site.deadline();
    let deadline = match l {
        recordpass_request::Lang::En => format!(
            "The hospital must act on your request within {days} days. If it needs more time it can extend once, by up to 30 more days, and must tell you in writing why and by when."
        ),
        recordpass_request::Lang::Es => format!(
            "El hospital debe responder a su solicitud en un plazo de {days} días. Si necesita más tiempo, puede extenderlo una sola vez, hasta 30 días más, y debe decirle por escrito por qué y hasta cuándo."
        ),
    };
    let fee = site.fee_text.get(l);
    let body = html! {
        <div class="rp-intro">
            // Short and the same height whatever the site says, so the space the
            // loader reserves (docs/embedding.md, "Space on the page") holds it.
            <p class="rp-lede">{ tr(l,
                "Ask for a copy of your health records, or have them sent to a person or organization you name. You confirm your email with a code and sign with a passkey: no fax, notary or ID copy.",
                "Pida una copia de sus registros médicos, o que se envíen a otra persona u organización que usted elija. Usted confirma su correo con un código y firma con una llave de acceso (passkey): sin fax, notario ni copia de identificación.") }</p>
            <p class="rp-returning">
                <button type="button" class="rp-link" part="link" data-testid="open-status"
                    onclick={ctx.link().callback(|_| Msg::OpenStatus)}>
                    { tr(l, "Already sent a request? Sign in to check its status", "¿Ya envió una solicitud? Inicie sesión para ver su estado") }</button>
            </p>
            <details class="rp-more" data-testid="intro-more">
            <summary>{ tr(l, "Your rights, fees, who may ask, and other ways to ask", "Sus derechos, costos, quién puede pedirlos y otras formas de pedirlos") }</summary>
            <h3>{ tr(l, "Your rights", "Sus derechos") }</h3>
            <p>{ tr(l,
                "You have the right to a copy of your health records, in the format you ask for (paper or electronic), if the hospital can readily produce it. You can also have a copy sent to another person or organization you name.",
                "Usted tiene derecho a una copia de sus registros médicos, en el formato que pida (papel o electrónico), si el hospital puede producirlo fácilmente. También puede pedir que se envíe una copia a otra persona u organización que usted elija.") }</p>
            <p>{ deadline }</p>
            <h3>{ tr(l, "Fees", "Costos") }</h3>
            <p data-testid="fee-text">{ if fee.is_empty() { tr(l,
                "For copies sent to you, the hospital may charge only a reasonable, cost-based fee, and will tell you the approximate fee before it sends them. There is no charge for finding, collecting or verifying records. When copies go to another person or organization, state law decides what may be charged.",
                "Por las copias que se le envían a usted, el hospital solo puede cobrar una tarifa razonable basada en el costo, y le dirá el costo aproximado antes de enviarlas. No se cobra por buscar, reunir ni verificar los registros. Cuando las copias van a otra persona u organización, la ley estatal decide cuánto se puede cobrar.") } else { fee } }</p>
            <h3>{ tr(l, "Who may ask", "Quién puede pedirlos") }</h3>
            <p>{ tr(l,
                "An adult patient; a parent or guardian of a child; someone with legal authority to make health care decisions for the patient, such as a health care power of attorney; or the executor or administrator of a deceased patient's estate. A lawyer or insurance company asks the patient to send the records to them.",
                "Un paciente adulto; el padre, la madre o tutor(a) de un menor; alguien con autoridad legal para tomar decisiones de salud por el (la) paciente, como un poder notarial para asuntos de salud; o el (la) albacea o administrador(a) de la sucesión de un paciente fallecido. Los abogados y las aseguradoras piden al (a la) paciente que les envíe los registros.") }</p>
            <h3>{ tr(l, "No fax, notary or ID copy", "Sin fax, notario ni copia de identificación") }</h3>
            <p>{ tr(l,
                "You confirm your email with a code and sign with a passkey: your phone or computer checks it is you with your fingerprint, face or screen lock. The hospital never sees your fingerprint or face.",
                "Usted confirma su correo con un código y firma con una llave de acceso (passkey): su teléfono o computadora confirma que es usted con su huella, su rostro o el bloqueo de pantalla. El hospital nunca ve su huella ni su rostro.") }</p>
            <h3>{ tr(l, "Other ways to ask", "Otras formas de pedirlos") }</h3>
            <p>{ tr(l,
                "You do not have to use this website. You can ask on paper, by mail or in person.",
                "No tiene que usar este sitio web. Puede pedirlos en papel, por correo o en persona.") }</p>
            </details>
            { call_line(site, l) }
        </div>
    };
    frame(
        app,
        ctx,
        FormStep::Intro,
        tr(l, "Request medical records", "Solicite registros médicos"),
        body,
    )
}
