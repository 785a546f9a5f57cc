//! The frame around each form step: heading, progress, error summary,
//! alert, and the Back / Continue buttons.

use recordpass_request::Field;
use yew::prelude::*;

use super::fields::{summary, tr};
use super::{alert, heading};
use crate::app::{App, Msg, ProgressNote};

/// The form steps, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum FormStep {
    /// Rights, deadlines, fees and alternatives.
    Intro,
    /// Who is asking.
    Who,
    /// The patient.
    Patient,
    /// Records, dates and sensitive categories.
    Records,
    /// Format, delivery and recipient.
    Delivery,
    /// Consent to electronic records.
    Consent,
    /// The statement and the typed signature.
    Sign,
}

impl FormStep {
    /// Every step, in order.
    pub const ALL: [FormStep; 7] = [
        FormStep::Intro,
        FormStep::Who,
        FormStep::Patient,
        FormStep::Records,
        FormStep::Delivery,
        FormStep::Consent,
        FormStep::Sign,
    ];

    /// The step after this one, if any.
    pub fn next(self) -> Option<FormStep> {
        let i = FormStep::ALL.iter().position(|s| *s == self)?;
        FormStep::ALL.get(i + 1).copied()
    }

    /// The step before this one, if any.
    pub fn back(self) -> Option<FormStep> {
        let i = FormStep::ALL.iter().position(|s| *s == self)?;
        i.checked_sub(1).and_then(|i| FormStep::ALL.get(i).copied())
    }

    /// The step that shows `field`.
    pub fn of(field: Field) -> FormStep {
        let path = field.path();
        let prefix = path.split(['.', '[']).next().unwrap_or_default();
        match prefix {
            "requester" | "email" | "display_name" => FormStep::Who,
            "patient" => FormStep::Patient,
            "scope" => FormStep::Records,
            "delivery" | "recipient" | "authorization" => FormStep::Delivery,
            "consent" => FormStep::Consent,
            _ => FormStep::Sign,
        }
    }

    /// 1-based position among the steps after the intro.
    fn number(self) -> usize {
        FormStep::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }
}

/// Renders a form step.
pub fn frame(
    app: &App,
    ctx: &Context<App>,
    step: FormStep,
    title: &'static str,
    body: Html,
) -> Html {
    let lang = app.lang;
    let onsubmit = ctx.link().callback(|e: SubmitEvent| {
        e.prevent_default();
        Msg::Next
    });
    let progress = (step != FormStep::Intro).then(|| {
        let n = step.number();
        let total = FormStep::ALL.len() - 1;
        match lang {
            recordpass_request::Lang::En => format!("Step {n} of {total}"),
            recordpass_request::Lang::Es => format!("Paso {n} de {total}"),
        }
    });
    let next = match step {
        FormStep::Intro => tr(lang, "Start my request", "Comenzar mi solicitud"),
        _ => tr(lang, "Continue", "Continuar"),
    };
    // method="dialog": even if the handler never ran, submitting cannot
    // navigate the host page (and no input has a name to put in a URL).
    html! {
        <section class="rp-step" data-testid={format!("step-{step:?}").to_lowercase()}>
            if let Some(progress) = progress {
                <p class="rp-progress" part="progress">{ progress }</p>
            }
            { heading(app, title) }
            <p class="rp-status" role="status" data-testid="progress-note">{ match app.progress_note {
                Some(ProgressNote::Restored) => tr(lang,
                    "We kept your answers from earlier in this tab. They are deleted 30 minutes after your last change, when you close the tab, or when you clear them.",
                    "Guardamos sus respuestas anteriores en esta pestaña. Se borran 30 minutos después de su último cambio, al cerrar la pestaña o si usted las borra."),
                Some(ProgressNote::Cleared) => tr(lang,
                    "Your answers were deleted from this browser.",
                    "Sus respuestas se borraron de este navegador."),
                None => "",
            } }</p>
            <form class="rp-form" method="dialog" novalidate=true {onsubmit}>
                { summary(app) }
                { alert(app) }
                { body }
                <div class="rp-actions">
                    <button type="submit" class="rp-primary" part="button-primary" data-testid="next">{ next }</button>
                    // Not while a signed finish is unanswered: the answers stay as signed.
                    if step.back().is_some() && app.pending.is_none() {
                        <button type="button" class="rp-secondary" part="button-secondary" data-testid="back"
                            onclick={ctx.link().callback(|_| Msg::Back)}>
                            { tr(lang, "Back", "Atrás") }
                        </button>
                    }
                </div>
            </form>
            if step != FormStep::Intro {
                { clear_answers(app, ctx) }
            }
        </section>
    }
}

/// "Clear my answers", then a confirmation: everything typed is deleted
/// from the form and from the tab's storage.
fn clear_answers(app: &App, ctx: &Context<App>) -> Html {
    let l = app.lang;
    let link = ctx.link();
    html! {
        <div class="rp-clear">
            <button type="button" class="rp-link" data-testid="clear-answers" ref={app.refs.clear.clone()}
                aria-expanded={if app.confirm_clear { "true" } else { "false" }}
                onclick={link.callback(|_| Msg::ClearAnswers(Some(false)))}>
                { tr(l, "Clear my answers", "Borrar mis respuestas") }</button>
            if app.confirm_clear {
                <p id="rp-clear-question">{ tr(l,
                    "Delete everything you entered in this form from this browser? This cannot be undone.",
                    "¿Borrar de este navegador todo lo que escribió en este formulario? No se puede deshacer.") }</p>
                <div class="rp-actions">
                    <button type="button" class="rp-secondary" part="button-secondary" data-testid="clear-confirm"
                        ref={app.refs.clear_confirm.clone()} aria-describedby="rp-clear-question"
                        onclick={link.callback(|_| Msg::ClearAnswers(Some(true)))}>
                        { tr(l, "Yes, clear my answers", "Sí, borrar mis respuestas") }</button>
                    <button type="button" class="rp-secondary" part="button-secondary" data-testid="clear-cancel"
                        onclick={link.callback(|_| Msg::ClearAnswers(None))}>
                        { tr(l, "Keep my answers", "Conservar mis respuestas") }</button>
                </div>
            }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use recordpass_request::AddressPart;

    #[test]
    fn every_field_belongs_to_the_step_that_shows_it() {
        let cases = [
            (Field::RequesterAuthority, FormStep::Who),
            (Field::PatientAddress(AddressPart::City), FormStep::Patient),
            (Field::ScopeDateRangeEnd(3), FormStep::Records),
            (Field::RecipientSendTo, FormStep::Delivery),
            (Field::AuthorizationExpiresOn, FormStep::Delivery),
            (Field::ConsentElectronicRecords, FormStep::Consent),
            (Field::Signature, FormStep::Sign),
            (Field::SignedOn, FormStep::Sign),
        ];
        for (field, step) in cases {
            assert_eq!(FormStep::of(field), step, "{field}");
        }
        assert_eq!(FormStep::Intro.next(), Some(FormStep::Who));
        assert_eq!(FormStep::Sign.next(), None);
        assert_eq!(FormStep::Intro.back(), None);
    }
}
