//! Consent to electronic records and signatures (E-SIGN Act), with the paper route.

use recordpass_request::api::SiteInfo;
use recordpass_request::{Field, esign_disclosure};
use yew::prelude::*;

use super::call_line;
use super::fields::{choice, group, tr};
use super::wizard::{FormStep, frame};
use crate::app::App;

/// Renders the consent step.
pub fn view(app: &App, ctx: &Context<App>, site: &SiteInfo) -> Html {
    let l = app.lang;
    let agreed = app.input.consent.electronic_records;
    let agree = choice(
        ctx,
        false,
        "",
        "consent-electronic".into(),
        tr(
            l,
            "I agree to make and sign this request online, and to get messages about it by email.",
            "Acepto hacer y firmar esta solicitud por internet, y recibir mensajes sobre ella por correo electrónico.",
        ),
        agreed,
        |q| q.consent.electronic_records = !q.consent.electronic_records,
    );
    let body = html! {
        <>
            <p class="rp-statement" data-testid="esign-disclosure">{ esign_disclosure(&site.name, l) }</p>
            { group(app, Field::ConsentElectronicRecords, tr(l, "Your consent", "Su consentimiento"), None, agree) }
            <p>{ tr(
                l,
                "If you would rather use a paper form, leave the box unchecked and ask the medical records department for one.",
                "Si prefiere usar un formulario en papel, deje la casilla sin marcar y pídalo al departamento de registros médicos.",
            ) }</p>
            { call_line(site, l) }
        </>
    };
    frame(
        app,
        ctx,
        FormStep::Consent,
        tr(l, "Signing online", "Firmar por internet"),
        body,
    )
}
