//! The confirmation screen.

use yew::prelude::*;

use super::fields::tr;
use super::{call_line, heading};
use crate::app::{App, Done};
use crate::{clock, i18n};

/// Renders the confirmation with the request number.
pub fn view(app: &App, done: &Done) -> Html {
    let t = i18n::text(app.lang);
    let request = &done.review.document.request;
    let hospital = &done.review.document.site.name;
    let days = app.site_info().map_or(30, |site| site.deadline());
    let [respond, delivery] = i18n::next_steps(app.lang, hospital, days, request);
    html! {
        <section class="rp-step rp-done" data-testid="done">
            { heading(app, t.done_title) }
            <p class="rp-number-label">{ t.number_label }</p>
            <p class="rp-number" data-testid="request-number">
                { &done.submitted.request_number }
            </p>
            <p>{ t.number_hint }</p>
            <dl class="rp-facts">
                <dt>{ t.received_label }</dt>
                <dd data-testid="received-at">
                    { clock::local_date_time(&done.submitted.received_at, app.lang) }
                </dd>
                <dt>{ t.fingerprint }</dt>
                <dd><code data-testid="fingerprint">{ done.review.digest.fingerprint() }</code></dd>
            </dl>
            <p class="rp-hint" data-testid="fingerprint-hint">{ tr(app.lang,
                "You do not need it to contact the hospital.",
                "No lo necesita para comunicarse con el hospital.") }</p>
            <h3>{ t.next_title }</h3>
            <ul>
                <li data-testid="next-respond">{ respond }</li>
                <li data-testid="next-delivery">{ delivery }</li>
            </ul>
            { for app.site_info().map(|site| call_line(site, app.lang)) }
        </section>
    }
}
