//! One view per screen, plus the pieces they share.

pub mod consent;
pub mod delivery;
pub mod done;
pub mod email;
pub mod fields;
pub mod intro;
pub mod patient;
pub mod proof;
pub mod records;
pub mod review;
pub mod sign;
pub mod status;
pub mod who;
pub mod wizard;

use recordpass_request::Lang;
use recordpass_request::api::SiteInfo;
use yew::prelude::*;

use crate::app::App;
use crate::i18n;

/// The step's heading, focused when the step is entered.
fn heading(app: &App, text: &'static str) -> Html {
    html! {
        <h2 class="rp-heading" part="heading" tabindex="-1" ref={app.refs.heading.clone()}>{ text }</h2>
    }
}

/// The assertive region for failures; always present so additions are announced.
fn alert(app: &App) -> Html {
    let message = app
        .alert
        .as_ref()
        .map(|failure| i18n::failure(failure, app.lang));
    let call = message
        .and(app.site_info())
        .map(|site| call_line(site, app.lang));
    html! {
        <div class="rp-alert" part="alert" role="alert" data-testid="alert">
            if let Some(message) = message {
                <p class="rp-alert-text">{ message }</p>
                { for call }
            }
        </div>
    }
}

/// The polite region for progress messages.
fn status(text: Option<&'static str>) -> Html {
    html! {
        <p class="rp-status" role="status" data-testid="status">{ text.unwrap_or_default() }</p>
    }
}

/// The plain note after a signed finish's answer was lost (on the review,
/// and on the signature step after a reload), with "Check its status".
fn outcome_unknown(app: &App, ctx: &Context<App>) -> Html {
    use fields::tr;
    let l = app.lang;
    html! {
        <div class="rp-notice" data-testid="outcome-unknown">
            <p>{ tr(l,
                "We sent your signed request but did not hear back, so it may already have arrived. \
                 To make sure the hospital gets it only once, this request and its language cannot be changed now. \
                 Sign again to send the same request, or check its status.",
                "Enviamos su solicitud firmada pero no recibimos respuesta, así que es posible que ya haya llegado. \
                 Para que el hospital la reciba una sola vez, ahora no se puede cambiar esta solicitud ni su idioma. \
                 Firme de nuevo para enviar la misma solicitud, o consulte su estado.") }</p>
            <button type="button" class="rp-secondary" part="button-secondary" data-testid="check-status"
                aria-disabled={app.passkey.in_ceremony().then_some("true")}
                onclick={ctx.link().callback(|_| crate::app::Msg::OpenStatus)}>
                { tr(l, "Check its status", "Consultar su estado") }</button>
        </div>
    }
}

/// "Prefer the phone? Call … at <number>."
fn call_line(site: &SiteInfo, lang: Lang) -> Html {
    let t = i18n::text(lang);
    let dial: String = site
        .him_phone
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect();
    html! {
        <p class="rp-call">
            { t.call_before }
            <a href={format!("tel:{dial}")} data-testid="phone">{ &site.him_phone }</a>
            { t.call_after }
            if !site.him_hours.get(lang).is_empty() {
                { " " }{ site.him_hours.get(lang).to_owned() }
            }
        </p>
    }
}

/// While the site loads, or when it could not be loaded.
pub fn loading(app: &App, ctx: &Context<App>) -> Html {
    use crate::app::{Msg, SiteState};
    let t = i18n::text(app.lang);
    let body = match &app.site {
        SiteState::Failed(failure) => html! {
            <div class="rp-alert" part="alert" role="alert">
                <p class="rp-alert-text">{ t.site_failed }{ " " }{ i18n::failure(failure, app.lang) }</p>
                // The page's own content of the element (the snippet's phone line): the
                // phone is unknown without the site's information.
                <slot></slot>
                <button type="button" class="rp-secondary" part="button-secondary" data-testid="retry"
                    onclick={ctx.link().callback(|_| Msg::LoadSite)}>{ t.retry }</button>
            </div>
        },
        _ => status(Some(t.loading)),
    };
    html! {
        <section class="rp-step" aria-busy={matches!(app.site, SiteState::Loading).then_some("true")}>
            { heading(app, t.form_title) }
            { body }
        </section>
    }
}
