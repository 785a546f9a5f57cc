//! "Check your email": the 6-digit code that proves the address before a
//! passkey is created.

use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::{alert, heading, status};
use crate::app::{App, CodePhase, EmailCheck, Msg};
use crate::i18n;

/// Renders the code form.
pub fn view(app: &App, ctx: &Context<App>, check: &EmailCheck) -> Html {
    let t = i18n::text(app.lang);
    let link = ctx.link();
    let error = check.code_error.map(|e| i18n::code_error(e, app.lang));
    let sent = check.verification_id.is_some();
    let ready = sent && check.phase == CodePhase::Sent;
    let described_by = if error.is_some() {
        "rp-email-code-hint rp-email-code-error"
    } else {
        "rp-email-code-hint"
    };
    let onsubmit = link.callback(|e: SubmitEvent| {
        e.prevent_default();
        Msg::VerifyCode
    });
    let oninput = link.callback(|e: InputEvent| {
        Msg::CodeInput(e.target_unchecked_into::<HtmlInputElement>().value())
    });
    let status_text = match check.phase {
        CodePhase::Sending => Some(t.sending_code),
        CodePhase::Verifying => Some(t.verifying_code),
        CodePhase::Sent if sent && check.resent => Some(t.code_resent),
        CodePhase::Sent => None,
    };
    html! {
        <section class="rp-step rp-email-check">
            { heading(app, t.email_title) }
            if sent {
                <p data-testid="code-sent">
                    { t.code_sent_before }<strong>{ &check.request.requester.email }</strong>{ t.code_sent_after }
                </p>
            }
            <form class="rp-form" method="dialog" novalidate=true {onsubmit}>
                <div class={classes!("rp-field", error.is_some().then_some("rp-invalid"))}>
                    <label for="rp-email-code">{ t.code_label }</label>
                    <p class="rp-hint" id="rp-email-code-hint">{ t.code_hint }</p>
                    if let Some(error) = &error {
                        <p class="rp-error" id="rp-email-code-error" data-testid="code-error">{ error }</p>
                    }
                    <input
                        id="rp-email-code"
                        type="text"
                        inputmode="numeric"
                        autocomplete="one-time-code"
                        maxlength="12"
                        spellcheck="false"
                        value={check.input.clone()}
                        aria-invalid={error.as_ref().map(|_| "true")}
                        aria-describedby={described_by}
                        data-testid="email-code"
                        ref={app.refs.code.clone()}
                        {oninput}
                    />
                </div>
                <div class="rp-actions" aria-busy={(!ready).then_some("true")}>
                    <button type="submit" class="rp-primary" part="button-primary" data-testid="verify-code"
                        aria-disabled={(!ready).then_some("true")}>{ t.verify_code }</button>
                </div>
            </form>
            <div class="rp-actions">
                if check.can_resend {
                    <button type="button" class="rp-secondary" part="button-secondary" data-testid="resend-code"
                        onclick={link.callback(|_| Msg::Resend)}>{ t.resend_code }</button>
                } else if sent {
                    <p class="rp-hint">{ t.resend_wait }</p>
                }
                <button type="button" class="rp-secondary" part="button-secondary" data-testid="edit"
                    onclick={link.callback(|_| Msg::Edit)}>{ t.edit }</button>
            </div>
            { status(status_text) }
            { alert(app) }
        </section>
    }
}
