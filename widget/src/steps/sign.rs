//! The exact statement, and the requester's typed signature.

use recordpass_request::api::SiteInfo;
use recordpass_request::{Field, SiteIdentity, render_statement};
use yew::prelude::*;

use super::fields::{Text, set, tr};
use super::wizard::{FormStep, frame};
use crate::app::App;

/// Renders the signature step.
pub fn view(app: &App, ctx: &Context<App>, site: &SiteInfo) -> Html {
    let l = app.lang;
    let mut request = app.input.normalized();
    let signer = request.signer_name().to_owned();
    // Until a name is typed, the preview shows a blank to fill, as on paper.
    if request.signature.trim().is_empty() {
        request.signature = "________".into();
    }
    let statement = render_statement(&SiteIdentity::from(site), &request, l);
    let hint = match l {
        recordpass_request::Lang::En => format!("Exactly as it appears in the statement: {signer}"),
        recordpass_request::Lang::Es => format!("Tal como aparece en la declaración: {signer}"),
    };
    let body = html! {
        <>
            // After a reload, a finish of these answers is still unanswered.
            if app.pending.is_some() {
                { super::outcome_unknown(app, ctx) }
            }
            <h3>{ tr(l, "What you are signing", "Lo que está firmando") }</h3>
            <p class="rp-hint">{ tr(l,
                "Read it carefully. This exact text is sent to the hospital with your signature.",
                "Léalo con atención. Este texto exacto se envía al hospital con su firma.") }</p>
            <div class="rp-statement" data-testid="statement-preview" tabindex="0"
                aria-label={tr(l, "Statement", "Declaración")}>{ statement }</div>
            { Text::new(Field::Signature, tr(l, "Type your full name to sign", "Escriba su nombre completo para firmar"), &app.input.signature)
                .hint(hint).auto("name").view(app, ctx, set(|q, v| q.signature = v)) }
            <p class="rp-hint" data-testid="sign-later">{ tr(l,
                "You will sign with your passkey after confirming your email.",
                "Firmará con su llave de acceso después de confirmar su correo.") }</p>
        </>
    };
    frame(
        app,
        ctx,
        FormStep::Sign,
        tr(l, "Type your name", "Escriba su nombre"),
        body,
    )
}
