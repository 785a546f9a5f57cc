//! Format and delivery; the recipient when sending elsewhere; and the
//! purpose and end date when that makes the request an authorization.

use recordpass_request::api::SiteInfo;
use recordpass_request::{AddressPart, DeliveryMethod, Field, Recipient};
use yew::prelude::*;

use super::fields::{Text, choice, choices, group, set, tr};
use super::wizard::{FormStep, frame};
use crate::app::App;

/// Renders the delivery step.
pub fn view(app: &App, ctx: &Context<App>, site: &SiteInfo) -> Html {
    let l = app.lang;
    let q = &app.input;
    let elsewhere = q.recipient.is_some();
    let to = [
        (false, "to-me", tr(l, "To me", "A mí")),
        (
            true,
            "to-someone-else",
            tr(
                l,
                "To another person or organization I name",
                "A otra persona u organización que yo indique",
            ),
        ),
    ]
    .map(|(other, id, label)| {
        choice(
            ctx,
            true,
            "rp-to",
            id.into(),
            label,
            elsewhere == other,
            move |q| {
                q.recipient = other.then(|| q.recipient.clone().unwrap_or_default());
            },
        )
    });
    let methods = site
        .delivery_methods
        .iter()
        .filter(|m| !elsewhere || m.reaches_recipient())
        .map(|&method| {
            let checked = q.delivery.method == method;
            choice(
                ctx,
                true,
                "rp-method",
                format!("method-{}", method.id()),
                method.label(l),
                checked,
                move |q| {
                    q.delivery.method = method;
                },
            )
        });
    let recipient = q.recipient.clone().unwrap_or_default();
    let a = &q.delivery.address;
    let fee = site.fee_text.get(l);
    let body = html! {
        <>
            { choices(app, "rp-recipient", tr(l, "Who should get the records?", "¿Quién debe recibir los registros?"), to.into_iter().collect::<Html>()) }
            if elsewhere {
                { Text::new(Field::RecipientName, tr(l, "Name of the person or organization", "Nombre de la persona u organización"), &recipient.name)
                    .view(app, ctx, set(|q, v| q.recipient.get_or_insert_with(Recipient::default).name = v)) }
                { Text::new(Field::RecipientSendTo, tr(l, "Where to send them", "Adónde enviarlos"), &recipient.send_to)
                    .hint(tr(l, "An email address for electronic copies, or a postal address for mail.", "Un correo electrónico para copias electrónicas, o una dirección postal para el correo."))
                    .view(app, ctx, set(|q, v| q.recipient.get_or_insert_with(Recipient::default).send_to = v)) }
            }
            { group(app, Field::DeliveryMethod, tr(l, "How should they be sent?", "¿Cómo se deben enviar?"),
                Some(tr(l, "Electronic copies are usually fastest and cheapest.", "Las copias electrónicas suelen ser las más rápidas y económicas.")),
                methods.into_iter().collect::<Html>()) }
            // The risk of unencrypted email, said when it is chosen (HHS: a
            // requester may choose it once warned); a live region, so it is
            // heard as the choice is made.
            <p class="rp-hint" role="status" data-testid="email-risk">{
                if q.delivery.method == DeliveryMethod::Email { tr(l,
                    "Email is not encrypted: other people could read the records on the way. Choose email only if you accept that risk.",
                    "El correo electrónico no está cifrado: otras personas podrían leer los registros en el camino. Elija el correo electrónico solo si acepta ese riesgo.")
                } else { "" }
            }</p>
            if q.delivery.method == DeliveryMethod::PatientApp {
                { Text::new(Field::DeliveryAppName, tr(l, "Name of the app", "Nombre de la aplicación"), &q.delivery.app_name)
                    .view(app, ctx, set(|q, v| q.delivery.app_name = v)) }
            }
            if q.delivery.method == DeliveryMethod::Mail && !elsewhere {
                <fieldset class="rp-field">
                    <legend>{ tr(l, "Mail them to", "Enviarlos por correo a") }</legend>
                    { Text::new(Field::DeliveryAddress(AddressPart::Street), tr(l, "Street and number", "Calle y número"), &a.street)
                        .auto("street-address").view(app, ctx, set(|q, v| q.delivery.address.street = v)) }
                    { Text::new(Field::DeliveryAddress(AddressPart::City), tr(l, "City", "Ciudad"), &a.city)
                        .auto("address-level2").view(app, ctx, set(|q, v| q.delivery.address.city = v)) }
                    { Text::new(Field::DeliveryAddress(AddressPart::State), tr(l, "State", "Estado"), &a.state)
                        .auto("address-level1").view(app, ctx, set(|q, v| q.delivery.address.state = v)) }
                    { Text::new(Field::DeliveryAddress(AddressPart::PostalCode), tr(l, "ZIP code", "Código postal"), &a.postal_code)
                        .auto("postal-code").view(app, ctx, set(|q, v| q.delivery.address.postal_code = v)) }
                </fieldset>
            }
            if q.needs_authorization_terms() {
                <p class="rp-hint" data-testid="authorization-note">{ tr(l,
                    "Because of what you chose, you also sign a permission (authorization). It needs an end date; the purpose is optional.",
                    "Por lo que eligió, también firma un permiso (autorización). Necesita una fecha final; el propósito es opcional.") }</p>
                { Text::new(Field::AuthorizationPurpose, tr(l, "Purpose (optional)", "Propósito (opcional)"), &q.authorization.purpose)
                    .hint(tr(l, "If you leave this empty, it will say: at the request of the individual.", "Si lo deja vacío, dirá: a petición de la persona."))
                    .view(app, ctx, set(|q, v| q.authorization.purpose = v)) }
                { Text::new(Field::AuthorizationExpiresOn, tr(l, "This permission ends on", "Este permiso termina el"), &q.authorization.expires_on)
                    .kind("date").view(app, ctx, set(|q, v| q.authorization.expires_on = v)) }
            }
            <p class="rp-hint">{ if fee.is_empty() { tr(l,
                "The hospital will tell you the approximate fee before sending copies.",
                "El hospital le dirá el costo aproximado antes de enviar las copias.") } else { fee } }</p>
        </>
    };
    frame(
        app,
        ctx,
        FormStep::Delivery,
        tr(l, "How to send the records", "Cómo enviar los registros"),
        body,
    )
}
