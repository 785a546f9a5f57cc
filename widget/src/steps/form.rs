//! The request form (with the intro), and the site's loading state.

use recordpass_request::{Field, FieldError, RecordKind};
use web_sys::{HtmlElement, HtmlInputElement};
use yew::prelude::*;

use super::{alert, call_line, heading, status};
use crate::app::{App, Msg, SiteState};
use crate::{clock, i18n};

/// A text-like input and how it is labelled.
struct TextField {
    field: Field,
    id: &'static str,
    kind: &'static str,
    autocomplete: &'static str,
    label: &'static str,
    hint: Option<&'static str>,
    value: String,
}

/// Renders the intro and, once the site is known, the form.
pub fn view(app: &App, ctx: &Context<App>) -> Html {
    let t = i18n::text(app.lang);
    let body = match &app.site {
        SiteState::Loading => status(Some(t.loading)),
        SiteState::Failed(failure) => html! {
            <div class="rp-alert" role="alert">
                <p class="rp-alert-text">{ t.site_failed }{ " " }{ i18n::failure(failure, app.lang) }</p>
                <button type="button" class="rp-secondary" data-testid="retry"
                    onclick={ctx.link().callback(|_| Msg::LoadSite)}>{ t.retry }</button>
            </div>
        },
        SiteState::Ready(site) => html! {
            <>
                { call_line(site, app.lang) }
                { form(app, ctx) }
            </>
        },
    };
    html! {
        <section class="rp-step" aria-busy={matches!(app.site, SiteState::Loading).then_some("true")}>
            { heading(app, t.form_title) }
            <p>{ t.intro }</p>
            <p>{ t.deadline }</p>
            { body }
        </section>
    }
}

fn form(app: &App, ctx: &Context<App>) -> Html {
    let t = i18n::text(app.lang);
    let text_fields = [
        TextField {
            field: Field::PatientName,
            id: "patient-name",
            kind: "text",
            autocomplete: "name",
            label: t.name_label,
            hint: Some(t.name_hint),
            value: app.input.patient_name.clone(),
        },
        TextField {
            field: Field::DateOfBirth,
            id: "date-of-birth",
            kind: "date",
            autocomplete: "bday",
            label: t.dob_label,
            hint: None,
            value: app.input.date_of_birth.clone(),
        },
        TextField {
            field: Field::Email,
            id: "email",
            kind: "email",
            autocomplete: "email",
            label: t.email_label,
            hint: Some(t.email_hint),
            value: app.input.email.clone(),
        },
    ];
    let onsubmit = ctx.link().callback(|e: SubmitEvent| {
        e.prevent_default();
        Msg::Review
    });
    // method="dialog": even if the handler never ran, submitting cannot
    // navigate the host page (and no input has a name to put in a URL).
    html! {
        <form class="rp-form" method="dialog" novalidate=true {onsubmit}>
            { summary(app) }
            { alert(app) }
            { for text_fields.into_iter().map(|f| text_input(app, ctx, f)) }
            { records(app, ctx) }
            <div class="rp-actions">
                <button type="submit" class="rp-primary" data-testid="review">{ t.review }</button>
            </div>
        </form>
    }
}

fn error_for(app: &App, field: Field) -> Option<&FieldError> {
    app.field_errors.iter().find(|e| e.field == field)
}

/// The error summary: focused after a failed check, linking to each field.
fn summary(app: &App) -> Html {
    if app.field_errors.is_empty() {
        return html! {};
    }
    let t = i18n::text(app.lang);
    let items = app.field_errors.iter().map(|error| {
        let target = app.refs.field(error.field).clone();
        let onclick = Callback::from(move |e: MouseEvent| {
            // Never let the fragment reach the host page's URL.
            e.prevent_default();
            if let Some(input) = target.cast::<HtmlElement>() {
                let _ = input.focus();
            }
        });
        html! {
            <li><a href={format!("#rp-{}", field_id(error.field))} {onclick}>
                { error.message(app.lang) }
            </a></li>
        }
    });
    html! {
        <div class="rp-summary" tabindex="-1" role="group" aria-labelledby="rp-summary-title"
            ref={app.refs.summary.clone()} data-testid="error-summary">
            <h3 id="rp-summary-title">{ t.summary_title }</h3>
            <ul>{ for items }</ul>
        </div>
    }
}

fn field_id(field: Field) -> &'static str {
    match field {
        Field::PatientName => "patient-name",
        Field::DateOfBirth => "date-of-birth",
        Field::Email => "email",
        Field::Records => "records",
    }
}

fn text_input(app: &App, ctx: &Context<App>, f: TextField) -> Html {
    let id = format!("rp-{}", f.id);
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let error = error_for(app, f.field);
    let described_by: Vec<&str> = [
        f.hint.map(|_| hint_id.as_str()),
        error.map(|_| error_id.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect();
    let field = f.field;
    let oninput = ctx.link().callback(move |e: InputEvent| {
        Msg::Input(field, e.target_unchecked_into::<HtmlInputElement>().value())
    });
    let is_date = f.kind == "date";
    html! {
        <div class={classes!("rp-field", error.is_some().then_some("rp-invalid"))}>
            <label for={id.clone()}>{ f.label }</label>
            if let Some(hint) = f.hint {
                <p class="rp-hint" id={hint_id.clone()}>{ hint }</p>
            }
            if let Some(error) = error {
                <p class="rp-error" id={error_id.clone()}>{ error.message(app.lang) }</p>
            }
            <input
                id={id}
                type={f.kind}
                autocomplete={f.autocomplete}
                value={f.value}
                min={is_date.then_some("1900-01-01")}
                max={is_date.then(|| clock::today().to_string())}
                spellcheck={(f.kind != "date").then_some("false")}
                aria-invalid={error.map(|_| "true")}
                aria-describedby={(!described_by.is_empty()).then(|| described_by.join(" "))}
                data-testid={f.id}
                ref={app.refs.field(field).clone()}
                {oninput}
            />
        </div>
    }
}

fn records(app: &App, ctx: &Context<App>) -> Html {
    let t = i18n::text(app.lang);
    let error = error_for(app, Field::Records);
    let boxes = RecordKind::ALL.iter().enumerate().map(|(i, &kind)| {
        let name = kind.id();
        let id = format!("rp-record-{name}");
        html! {
            <li class="rp-check">
                <input
                    type="checkbox"
                    id={id.clone()}
                    checked={app.input.records.contains(&kind)}
                    data-testid={format!("record-{name}")}
                    ref={if i == 0 { app.refs.first_record.clone() } else { NodeRef::default() }}
                    onchange={ctx.link().callback(move |_| Msg::ToggleRecord(kind))}
                />
                <label for={id}>{ kind.label(app.lang) }</label>
            </li>
        }
    });
    let described_by = if error.is_some() {
        "rp-records-hint rp-records-error"
    } else {
        "rp-records-hint"
    };
    html! {
        <fieldset id="rp-records" class={classes!("rp-field", error.is_some().then_some("rp-invalid"))}
            aria-describedby={described_by}>
            <legend>{ t.records_legend }</legend>
            <p class="rp-hint" id="rp-records-hint">{ t.records_hint }</p>
            if let Some(error) = error {
                <p class="rp-error" id="rp-records-error">{ error.message(app.lang) }</p>
            }
            <ul class="rp-checks">{ for boxes }</ul>
        </fieldset>
    }
}
