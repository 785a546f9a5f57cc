//! Form controls shared by the form steps: labelled inputs, checkboxes and
//! radios with hints and errors, and the error summary. Every control's
//! `id` and `data-testid` derive from its [`Field`] path, so verifier errors
//! land next to the right control.

use std::rc::Rc;

use recordpass_request::{Field, FieldError, Lang, RecordsRequest};
use web_sys::{Element, HtmlElement, HtmlInputElement};
use yew::prelude::*;

use crate::app::{App, Msg};
use crate::i18n;

/// Picks the text for `lang`: every string is written in both, side by side.
pub fn tr(lang: Lang, en: &'static str, es: &'static str) -> &'static str {
    match lang {
        Lang::En => en,
        Lang::Es => es,
    }
}

/// Sets a text answer.
pub type Setter = Rc<dyn Fn(&mut RecordsRequest, String)>;

/// The element id for a field: `rp-` and the path with `.[]` turned into `-`.
pub fn field_id(field: Field) -> String {
    // Former names share one input.
    let field = match field {
        Field::PatientFormerName(_) => Field::PatientFormerName(0),
        other => other,
    };
    let path = field.path().replace(['.', '['], "-").replace(']', "");
    format!("rp-{path}")
}

/// The error for `field`, if any.
pub fn error_for(app: &App, field: Field) -> Option<&FieldError> {
    app.field_errors
        .iter()
        .find(|e| field_id(e.field) == field_id(field))
}

/// A text-like input.
pub struct Text {
    /// The field it edits.
    pub field: Field,
    /// Its label.
    pub label: &'static str,
    /// An optional hint under the label.
    pub hint: Option<AttrValue>,
    /// `text`, `email`, `tel` or `date`.
    pub kind: &'static str,
    /// The `autocomplete` token.
    pub autocomplete: &'static str,
    /// The current value.
    pub value: String,
    /// Set for the "other" input inside a group of choices for the same field:
    /// its id gets this suffix and the group shows the error.
    pub in_group: Option<&'static str>,
}

impl Text {
    /// A plain text input.
    pub fn new(field: Field, label: &'static str, value: &str) -> Text {
        Text {
            field,
            label,
            hint: None,
            kind: "text",
            autocomplete: "off",
            value: value.to_owned(),
            in_group: None,
        }
    }

    /// As the "other" answer of the [`group`] for the same field: the id is the
    /// group's plus `-{suffix}`, and the group's error describes it.
    pub fn in_group(mut self, suffix: &'static str) -> Text {
        self.in_group = Some(suffix);
        self
    }

    /// With a hint.
    pub fn hint(mut self, hint: impl Into<AttrValue>) -> Text {
        self.hint = Some(hint.into());
        self
    }

    /// With an input type.
    pub fn kind(mut self, kind: &'static str) -> Text {
        self.kind = kind;
        self
    }

    /// With an autocomplete token.
    pub fn auto(mut self, token: &'static str) -> Text {
        self.autocomplete = token;
        self
    }

    /// Renders it; typing calls `set`.
    pub fn view(self, app: &App, ctx: &Context<App>, set: Setter) -> Html {
        let base = field_id(self.field);
        let (id, testid) = match self.in_group {
            Some(suffix) => (
                format!("{base}-{suffix}"),
                format!("{}.{suffix}", self.field.path()),
            ),
            None => (base.clone(), self.field.path()),
        };
        let hint_id = format!("{id}-hint");
        let error_id = format!("{base}-error");
        let error = error_for(app, self.field);
        let own_error = error.filter(|_| self.in_group.is_none());
        let described_by: Vec<&str> = [
            self.hint.as_ref().map(|_| hint_id.as_str()),
            error.map(|_| error_id.as_str()),
        ]
        .into_iter()
        .flatten()
        .collect();
        let oninput = ctx.link().callback(move |e: InputEvent| {
            let value = e.target_unchecked_into::<HtmlInputElement>().value();
            Msg::Set(set.clone(), value)
        });
        let is_date = self.kind == "date";
        html! {
            <div class={classes!("rp-field", error.is_some().then_some("rp-invalid"))}>
                <label for={id.clone()}>{ self.label }</label>
                if let Some(hint) = self.hint {
                    <p class="rp-hint" id={hint_id.clone()}>{ hint }</p>
                }
                if let Some(error) = own_error {
                    <p class="rp-error" id={error_id.clone()}>{ error.message(app.lang) }</p>
                }
                <input
                    id={id}
                    part="input"
                    type={self.kind}
                    autocomplete={self.autocomplete}
                    value={self.value}
                    min={is_date.then_some("1900-01-01")}
                    spellcheck={(!is_date).then_some("false")}
                    aria-invalid={error.map(|_| "true")}
                    aria-describedby={(!described_by.is_empty()).then(|| described_by.join(" "))}
                    data-testid={testid}
                    {oninput}
                />
            </div>
        }
    }
}

/// A checkbox or radio with its label that changes the request; `testid`
/// names it for tests.
pub fn choice(
    ctx: &Context<App>,
    radio: bool,
    name: &str,
    testid: String,
    label: &str,
    checked: bool,
    change: impl Fn(&mut RecordsRequest) + 'static,
) -> Html {
    let change: Rc<dyn Fn(&mut RecordsRequest)> = Rc::new(change);
    let onchange = ctx.link().callback(move |_| Msg::Change(change.clone()));
    choice_with(radio, name, testid, label, checked, onchange)
}

/// A checkbox or radio with its label that sends its own message.
pub fn choice_with(
    radio: bool,
    name: &str,
    testid: String,
    label: &str,
    checked: bool,
    onchange: Callback<Event>,
) -> Html {
    check_item(radio, name, testid, label, None, checked, onchange)
}

/// A checkbox that changes the request, with a hint under its label that
/// describes it (read before it is ticked); the hint's `data-testid` is
/// `testid` plus `-hint`.
pub fn choice_hinted(
    ctx: &Context<App>,
    testid: String,
    label: &str,
    hint: &str,
    checked: bool,
    change: impl Fn(&mut RecordsRequest) + 'static,
) -> Html {
    let change: Rc<dyn Fn(&mut RecordsRequest)> = Rc::new(change);
    let onchange = ctx.link().callback(move |_| Msg::Change(change.clone()));
    check_item(false, "", testid, label, Some(hint), checked, onchange)
}

fn check_item(
    radio: bool,
    name: &str,
    testid: String,
    label: &str,
    hint: Option<&str>,
    checked: bool,
    onchange: Callback<Event>,
) -> Html {
    let id = format!("rp-{testid}");
    let hint_id = format!("{id}-hint");
    html! {
        <li class="rp-check">
            <input
                part="choice"
                type={if radio { "radio" } else { "checkbox" }}
                id={id.clone()}
                name={radio.then(|| name.to_owned())}
                {checked}
                aria-describedby={hint.map(|_| hint_id.clone())}
                data-testid={testid.clone()}
                {onchange}
            />
            if let Some(hint) = hint {
                <div class="rp-check-text">
                    <label for={id}>{ label }</label>
                    <p class="rp-hint" id={hint_id} data-testid={format!("{testid}-hint")}>{ hint.to_owned() }</p>
                </div>
            } else {
                <label for={id}>{ label }</label>
            }
        </li>
    }
}

/// A fieldset of choices for `field`, with its legend, hint and error.
pub fn group(app: &App, field: Field, legend: &str, hint: Option<&str>, items: Html) -> Html {
    fieldset(
        app,
        field_id(field),
        error_for(app, field),
        legend,
        hint,
        items,
    )
}

/// A fieldset of choices that no field error belongs to (the errors are
/// shown by the inputs the choice reveals), with its own `id`.
pub fn choices(app: &App, id: &str, legend: &str, items: Html) -> Html {
    fieldset(app, id.to_owned(), None, legend, None, items)
}

fn fieldset(
    app: &App,
    id: String,
    error: Option<&FieldError>,
    legend: &str,
    hint: Option<&str>,
    items: Html,
) -> Html {
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let described_by: Vec<&str> = [
        hint.map(|_| hint_id.as_str()),
        error.map(|_| error_id.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect();
    html! {
        <fieldset id={id.clone()} tabindex="-1"
            class={classes!("rp-field", error.is_some().then_some("rp-invalid"))}
            aria-describedby={(!described_by.is_empty()).then(|| described_by.join(" "))}>
            <legend>{ legend.to_owned() }</legend>
            if let Some(hint) = hint {
                <p class="rp-hint" id={hint_id.clone()}>{ hint.to_owned() }</p>
            }
            if let Some(error) = error {
                <p class="rp-error" id={error_id.clone()}>{ error.message(app.lang) }</p>
            }
            <ul class="rp-checks">{ items }</ul>
        </fieldset>
    }
}

/// The error summary: focused after a failed check, linking to each field.
pub fn summary(app: &App) -> Html {
    if app.field_errors.is_empty() {
        return html! {};
    }
    let t = i18n::text(app.lang);
    let root = app.refs.root.clone();
    let items = app.field_errors.iter().map(|error| {
        let id = field_id(error.field);
        let root = root.clone();
        let target = id.clone();
        let onclick = Callback::from(move |e: MouseEvent| {
            // Never let the fragment reach the host page's URL.
            e.prevent_default();
            let found = root
                .cast::<Element>()
                .and_then(|r| r.query_selector(&format!("#{target}")).ok().flatten())
                .and_then(|el| el.dyn_into::<HtmlElement>().ok());
            if let Some(el) = found {
                let _ = el.focus();
            }
        });
        html! {
            <li><a href={format!("#{id}")} {onclick}>{ error.message(app.lang) }</a></li>
        }
    });
    html! {
        <div class="rp-summary" part="error-summary" tabindex="-1" role="group" aria-labelledby="rp-summary-title"
            ref={app.refs.summary.clone()} data-testid="error-summary">
            <h3 id="rp-summary-title">{ t.summary_title }</h3>
            <ul>{ for items }</ul>
        </div>
    }
}

use wasm_bindgen::JsCast as _;

/// A [`Setter`] from a plain function.
pub fn set(f: fn(&mut RecordsRequest, String)) -> Setter {
    Rc::new(f)
}
