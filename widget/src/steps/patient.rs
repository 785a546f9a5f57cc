//! The patient: enough for HIM to find the chart.

use recordpass_request::{AddressPart, Field, Role};
use yew::prelude::*;

use super::fields::{Text, set, tr};
use super::wizard::{FormStep, frame};
use crate::app::App;

/// Renders the patient step.
pub fn view(app: &App, ctx: &Context<App>) -> Html {
    let l = app.lang;
    let p = &app.input.patient;
    let own = app.input.requester.role == Role::Patient;
    // Exactly as typed: the names are kept split at the commas and joined back
    // with nothing added, so the text (and the cursor) never moves under the
    // requester's fingers; spaces are trimmed when the request is checked.
    let former = p.former_names.join(",");
    let a = &p.address;
    let body = html! {
        <>
            { Text::new(Field::PatientLegalName, tr(l, "Patient's full legal name", "Nombre legal completo del paciente"), &p.legal_name)
                .auto(if own { "name" } else { "off" })
                .hint(tr(l, "As it appears on an ID or insurance card.", "Tal como aparece en una identificación o en la tarjeta del seguro."))
                .view(app, ctx, set(|q, v| q.patient.legal_name = v)) }
            { Text::new(Field::PatientFormerName(0), tr(l, "Other names the records may be under (optional)", "Otros nombres con los que pueden estar los registros (opcional)"), &former)
                .hint(tr(l, "For example a previous last name. Separate names with commas.", "Por ejemplo, un apellido anterior. Separe los nombres con comas."))
                .view(app, ctx, set(|q, v| q.patient.former_names = v.split(',').map(str::to_owned).collect())) }
            { Text::new(Field::PatientDateOfBirth, tr(l, "Patient's date of birth", "Fecha de nacimiento del paciente"), &p.date_of_birth)
                .kind("date").auto(if own { "bday" } else { "off" })
                .view(app, ctx, set(|q, v| q.patient.date_of_birth = v)) }
            <fieldset class="rp-field">
                <legend>{ tr(l, "Patient's address (optional)", "Dirección del paciente (opcional)") }</legend>
                { Text::new(Field::PatientAddress(AddressPart::Street), tr(l, "Street and number", "Calle y número"), &a.street)
                    .auto("street-address").view(app, ctx, set(|q, v| q.patient.address.street = v)) }
                { Text::new(Field::PatientAddress(AddressPart::City), tr(l, "City", "Ciudad"), &a.city)
                    .auto("address-level2").view(app, ctx, set(|q, v| q.patient.address.city = v)) }
                { Text::new(Field::PatientAddress(AddressPart::State), tr(l, "State", "Estado"), &a.state)
                    .auto("address-level1").view(app, ctx, set(|q, v| q.patient.address.state = v)) }
                { Text::new(Field::PatientAddress(AddressPart::PostalCode), tr(l, "ZIP code", "Código postal"), &a.postal_code)
                    .auto("postal-code").view(app, ctx, set(|q, v| q.patient.address.postal_code = v)) }
            </fieldset>
            { Text::new(Field::PatientPhone, tr(l, "Patient's phone (optional)", "Teléfono del paciente (opcional)"), &p.phone)
                .kind("tel").auto(if own { "tel" } else { "off" }).view(app, ctx, set(|q, v| q.patient.phone = v)) }
            { Text::new(Field::PatientEmail, tr(l, "Patient's email (optional)", "Correo del paciente (opcional)"), &p.email)
                .kind("email").auto(if own { "email" } else { "off" }).view(app, ctx, set(|q, v| q.patient.email = v)) }
            { Text::new(Field::PatientMrn, tr(l, "Medical record number (optional)", "Número de expediente médico (opcional)"), &p.mrn)
                .hint(tr(l, "If you know it. It is on some letters and bills.", "Si lo sabe. Aparece en algunas cartas y facturas."))
                .view(app, ctx, set(|q, v| q.patient.mrn = v)) }
        </>
    };
    frame(
        app,
        ctx,
        FormStep::Patient,
        tr(l, "About the patient", "Datos del paciente"),
        body,
    )
}
