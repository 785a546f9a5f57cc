//! The returning requester's view: sign in with the passkey created for an
//! earlier request, then their requests with status, due date and the signed
//! file (for checking), and "Start a new request" with the same passkey.

use recordpass_request::Lang;
use recordpass_request::api::{MyRequest, MyRequests};
use yew::prelude::*;

use super::fields::tr;
use super::{alert, call_line, heading, status};
use crate::app::{App, Msg, SignedOut, StatusView};
use crate::{clock, passkey};

/// Renders the sign-in or the list.
pub fn view(app: &App, ctx: &Context<App>, view: &StatusView) -> Html {
    let l = app.lang;
    let link = ctx.link();
    let title = match view {
        StatusView::List(_) => tr(l, "Your requests", "Sus solicitudes"),
        StatusView::NoPasskey => tr(
            l,
            "We could not sign you in",
            "No pudimos iniciar su sesión",
        ),
        _ => tr(
            l,
            "Check the status of your request",
            "Consulte el estado de su solicitud",
        ),
    };
    let progress = match view {
        StatusView::Preparing => Some(tr(l, "Preparing…", "Preparando…")),
        StatusView::Waiting(_) => Some(tr(
            l,
            "Waiting for your passkey…",
            "Esperando su llave de acceso…",
        )),
        StatusView::Loading => Some(tr(l, "Loading your requests…", "Cargando sus solicitudes…")),
        _ => None,
    };
    let body = match view {
        StatusView::List(list) => list_view(app, ctx, list),
        StatusView::NoPasskey => html! {
            <>
                <p data-testid="no-passkey">{ tr(l,
                    "This device may not have a passkey for this site, or the passkey window was closed. Use the phone or computer you signed your request with, or start a new request: you will confirm your email and create a passkey.",
                    "Puede que este dispositivo no tenga una llave de acceso para este sitio, o que se haya cerrado la ventana de la llave. Use el teléfono o la computadora con que firmó su solicitud, o comience una nueva solicitud: confirmará su correo y creará una llave de acceso.") }</p>
                <div class="rp-actions">
                    <button type="button" class="rp-primary" part="button-primary" data-testid="normal-route"
                        onclick={link.callback(|_| Msg::NormalRoute)}>
                        { tr(l, "Start a new request", "Comenzar una nueva solicitud") }</button>
                    <button type="button" class="rp-secondary" part="button-secondary" data-testid="retry"
                        onclick={link.callback(|_| Msg::Retry)}>{ tr(l, "Try again", "Intentar de nuevo") }</button>
                </div>
            </>
        },
        _ => sign_in_view(app, ctx, view),
    };
    html! {
        <section class="rp-step rp-status-view" data-testid="status-view">
            { heading(app, title) }
            { body }
            { status(progress) }
            { alert(app) }
            if matches!(view, StatusView::Stuck) {
                <div class="rp-actions">
                    <button type="button" class="rp-secondary" part="button-secondary" data-testid="retry"
                        onclick={link.callback(|_| Msg::Retry)}>{ tr(l, "Try again", "Intentar de nuevo") }</button>
                </div>
            }
            { for app.site_info().map(|site| call_line(site, l)) }
        </section>
    }
}

fn sign_in_view(app: &App, ctx: &Context<App>, view: &StatusView) -> Html {
    let l = app.lang;
    let link = ctx.link();
    let epoch = app.epoch;
    // WebAuthn must be called synchronously inside the click (Safari).
    let (ready, on_sign_in) = match view {
        StatusView::Ready(started) => {
            let started = started.clone();
            let cb = link.callback(move |_: MouseEvent| {
                Msg::SigningIn(epoch, passkey::start_get(&started.options))
            });
            (true, cb)
        }
        _ => (false, Callback::noop()),
    };
    let signed_out = app.signed_out.map(|why| match why {
        SignedOut::Requested => tr(l,
            "You are signed out. To see your requests again, sign in with your passkey.",
            "Cerró su sesión. Para ver sus solicitudes de nuevo, inicie sesión con su llave de acceso."),
        SignedOut::Idle => tr(l,
            "For your privacy, you were signed out after 15 minutes. To see your requests again, sign in with your passkey.",
            "Por su privacidad, cerramos su sesión después de 15 minutos. Para ver sus solicitudes de nuevo, inicie sesión con su llave de acceso."),
    });
    html! {
        <>
            if let Some(text) = signed_out {
                <p class="rp-notice" data-testid="signed-out">{ text }</p>
            }
            <p>{ tr(l,
                "Sign in with the passkey you created when you sent your request. Your phone or computer will ask for your fingerprint, face or screen lock.",
                "Inicie sesión con la llave de acceso (passkey) que creó al enviar su solicitud. Su teléfono o computadora le pedirá su huella, su rostro o el bloqueo de pantalla.") }</p>
            <div class="rp-actions" aria-busy={(!ready).then_some("true")}>
                <button type="button" class="rp-primary" part="button-primary" data-testid="sign-in"
                    aria-disabled={(!ready).then_some("true")} onclick={on_sign_in}>
                    { tr(l, "Sign in with my passkey", "Iniciar sesión con mi llave de acceso") }</button>
                <button type="button" class="rp-secondary" part="button-secondary" data-testid="normal-route"
                    onclick={link.callback(|_| Msg::NormalRoute)}>
                    { tr(l, "Back to the request form", "Volver al formulario de solicitud") }</button>
            </div>
        </>
    }
}

fn list_view(app: &App, ctx: &Context<App>, list: &MyRequests) -> Html {
    let l = app.lang;
    let link = ctx.link();
    let items = list.requests.iter().map(|r| item(app, ctx, r));
    html! {
        <>
            if list.requests.is_empty() {
                <p data-testid="no-requests">{ tr(l,
                    "There are no requests signed with this passkey on this site.",
                    "No hay solicitudes firmadas con esta llave de acceso en este sitio.") }</p>
            } else {
                <ul class="rp-requests" data-testid="requests">{ for items }</ul>
            }
            <div class="rp-actions">
                <button type="button" class="rp-primary" part="button-primary" data-testid="new-request"
                    onclick={link.callback(|_| Msg::NewRequest)}>
                    { tr(l, "Start a new request", "Comenzar una nueva solicitud") }</button>
                <button type="button" class="rp-secondary" part="button-secondary" data-testid="sign-out"
                    onclick={link.callback(|_| Msg::SignOut(None))}>
                    { tr(l, "Sign out", "Cerrar sesión") }</button>
            </div>
            <p class="rp-hint">{ tr(l,
                "A new request is signed with this same passkey: no new email code.",
                "Una nueva solicitud se firma con esta misma llave de acceso: sin otro código por correo.") }</p>
        </>
    }
}

fn instrument(id: &str, l: Lang) -> &'static str {
    match id {
        "directive" => tr(
            l,
            "Copy sent to a person or organization you named",
            "Copia enviada a una persona u organización que usted eligió",
        ),
        "authorization" => tr(
            l,
            "Authorization to share records",
            "Autorización para compartir registros",
        ),
        _ => tr(l, "Copy of the records", "Copia de los registros"),
    }
}

fn item(app: &App, ctx: &Context<App>, r: &MyRequest) -> Html {
    let l = app.lang;
    let number = r.request_number.clone();
    let download = {
        let number = number.clone();
        ctx.link().callback(move |_| Msg::Download(number.clone()))
    };
    let download_label = match l {
        Lang::En => {
            format!("Download the signed file (for checking; a JSON file) for request {number}")
        }
        Lang::Es => format!(
            "Descargar el archivo firmado (para verificación; archivo JSON) de la solicitud {number}"
        ),
    };
    html! {
        <li class="rp-request" data-testid="request" data-number={number.clone()}>
            <h3 class="rp-request-number">{ tr(l, "Request ", "Solicitud ") }{ &number }</h3>
            <dl class="rp-facts">
                <dt>{ tr(l, "Patient", "Paciente") }</dt>
                <dd data-testid="patient">{ &r.patient_name }</dd>
                <dt>{ tr(l, "What", "Qué") }</dt>
                <dd>{ instrument(&r.instrument, l) }</dd>
                <dt>{ tr(l, "Received", "Recibida") }</dt>
                <dd>{ clock::local_date_time(&r.received_at, l) }</dd>
                <dt>{ tr(l, "Status", "Estado") }</dt>
                <dd data-testid="request-status">{ r.status_label.get(l).to_owned() }</dd>
                <dt>{ tr(l, "The hospital must act by", "El hospital debe responder a más tardar el") }</dt>
                <dd data-testid="due-date">{ clock::long_date(&r.due_date, l) }</dd>
            </dl>
            if !r.messages.is_empty() {
                <h4 class="rp-messages-title">{ tr(l, "Messages from the hospital", "Mensajes del hospital") }</h4>
                <ol class="rp-messages" data-testid="messages">
                    { for r.messages.iter().map(|m| html! {
                        <li>
                            <span class="rp-message-time">{ clock::local_date_time(&m.at, l) }</span>
                            <p class="rp-message">{ &m.text }</p>
                        </li>
                    }) }
                </ol>
            }
            if r.receipt_available {
                <button type="button" class="rp-secondary" part="button-secondary" data-testid="download-receipt"
                    aria-label={download_label} onclick={download}>
                    { tr(l, "Download the signed file (for checking; a JSON file)", "Descargar el archivo firmado (para verificación; archivo JSON)") }</button>
            }
        </li>
    }
}
