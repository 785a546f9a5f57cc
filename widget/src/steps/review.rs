//! The review screen: the exact statement, then create a passkey and sign.

use recordpass_request::Lang;
use yew::prelude::*;

use super::fields::tr;
use super::{alert, heading, outcome_unknown, status};
use crate::app::{App, Msg, Passkey, Review};
use crate::{i18n, passkey};

/// Renders the statement and the passkey steps.
pub fn view(app: &App, ctx: &Context<App>, review: &Review) -> Html {
    let t = i18n::text(app.lang);
    let link = ctx.link();
    let epoch = app.epoch;
    let busy = !matches!(
        app.passkey,
        Passkey::ReadyToCreate(_)
            | Passkey::ReadyToSign(_)
            | Passkey::Stuck(_)
            | Passkey::Unavailable
    );
    let registered = matches!(
        app.passkey,
        Passkey::PreparingSignature
            | Passkey::ReadyToSign(_)
            | Passkey::Signing(_)
            | Passkey::Submitting
            | Passkey::Stuck(crate::app::Retry::Signing)
    );

    // WebAuthn must be called synchronously inside the click (Safari), so the
    // callbacks capture the prefetched options and call the browser directly.
    let (create_ready, on_create) = match &app.passkey {
        Passkey::ReadyToCreate(started) => {
            let started = started.clone();
            let cb = link.callback(move |_: MouseEvent| {
                Msg::Creating(epoch, passkey::start_create(&started.options))
            });
            (true, cb)
        }
        _ => (false, Callback::noop()),
    };
    let (sign_ready, on_sign) = match &app.passkey {
        Passkey::ReadyToSign(started) => {
            let started = started.clone();
            let cb = link.callback(move |_: MouseEvent| {
                Msg::Signing(epoch, passkey::start_get(&started.options))
            });
            (true, cb)
        }
        _ => (false, Callback::noop()),
    };
    let disabled = |ready: bool| (!ready).then_some("true");

    let status_text = match app.passkey {
        Passkey::Preparing => Some(t.preparing),
        Passkey::Creating(_) | Passkey::Signing(_) => Some(t.waiting_for_passkey),
        Passkey::Saving => Some(t.saving_passkey),
        Passkey::PreparingSignature => Some(t.preparing_signature),
        Passkey::ReadyToSign(_) => Some(t.ready_to_sign),
        Passkey::Submitting => Some(t.submitting),
        _ => None,
    };

    html! {
        <section class="rp-step rp-review">
            { heading(app, t.review_title) }
            <h3 id="rp-statement-title">{ t.statement_title }</h3>
            <p class="rp-hint">{ t.statement_hint }</p>
            <p class="rp-statement" data-testid="statement">{ &review.document.statement }</p>
            <p class="rp-fingerprint">
                { t.fingerprint }{ " " }
                <code data-testid="fingerprint">{ review.digest.fingerprint() }</code>
            </p>
            <p class="rp-hint">{ t.fingerprint_hint }</p>
            <div class="rp-actions">
                <button type="button" class="rp-secondary" part="button-secondary" data-testid="edit"
                    aria-disabled={disabled(!app.review_locked())}
                    onclick={link.callback(|_| Msg::Edit)}>{ t.edit }</button>
            </div>

            <PasskeyPart lang={app.lang} {registered}>
                <p class="rp-hint">{ t.create_hint }</p>
                if !matches!(app.passkey, Passkey::Unavailable) {
                    <div class="rp-actions" aria-busy={busy.then_some("true")}>
                        <button type="button" class="rp-primary" part="button-primary" data-testid="create-passkey"
                            aria-disabled={disabled(create_ready)} onclick={on_create}>{ t.create }</button>
                    </div>
                }
            </PasskeyPart>
            <p class="rp-hint">{ t.sign_hint }</p>
            if registered {
                <div class="rp-actions" aria-busy={busy.then_some("true")}>
                    <button type="button" class="rp-primary" part="button-primary" data-testid="sign"
                        ref={app.refs.sign.clone()} aria-disabled={disabled(sign_ready)} onclick={on_sign}>{ t.sign }</button>
                </div>
            }

            { status(status_text) }
            { alert(app) }
            if review.outcome_unknown {
                { outcome_unknown(app, ctx) }
            }
            if matches!(app.passkey, Passkey::Stuck(_)) {
                <div class="rp-actions">
                    <button type="button" class="rp-secondary" part="button-secondary" data-testid="retry"
                        onclick={link.callback(|_| Msg::Retry)}>{ t.retry }</button>
                </div>
            }
        </section>
    }
}

/// What [`PasskeyPart`] needs.
#[derive(Properties, PartialEq)]
struct PasskeyPartProps {
    lang: Lang,
    /// A passkey for this email is in use: the next step is signing.
    registered: bool,
    /// The "create a passkey" hint and button, shown until one exists.
    children: Html,
}

/// "Step 1: Create a passkey" then the heading of step 2 — or, when the
/// review opened with a passkey already in use (a returning requester, or a
/// second request from this page), no step 1 and "You will sign with the
/// passkey you already have". The component remembers whether it has been
/// shown without a passkey since the review opened (it is mounted with the
/// review screen), so "Passkey created" is said only when one was created.
#[function_component]
fn PasskeyPart(props: &PasskeyPartProps) -> Html {
    let created_here = use_mut_ref(|| false);
    if !props.registered {
        *created_here.borrow_mut() = true;
    }
    let t = i18n::text(props.lang);
    if !*created_here.borrow() {
        return html! {
            <>
                <p class="rp-done-mark" data-testid="passkey-reused">{ tr(props.lang,
                    "You will sign with the passkey you already have.",
                    "Firmará con la llave de acceso que ya tiene.") }</p>
                <h3>{ tr(props.lang, "Sign your request", "Firme su solicitud") }</h3>
            </>
        };
    }
    html! {
        <>
            <h3>{ t.create_title }</h3>
            if props.registered {
                <p class="rp-done-mark" data-testid="passkey-created">{ t.created }</p>
            } else {
                { props.children.clone() }
            }
            <h3>{ t.sign_title }</h3>
        </>
    }
}
