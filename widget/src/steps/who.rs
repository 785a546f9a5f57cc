//! Who is asking: the role, and the details that role needs.

use recordpass_request::api::SiteInfo;
use recordpass_request::{Field, Lang, Relationship, Role};
use yew::prelude::*;

use super::fields::{Text, choice, choice_with, group, set, tr};
use super::wizard::{FormStep, frame};
use crate::app::{App, Msg};

/// Renders the requester step.
pub fn view(app: &App, ctx: &Context<App>, site: &SiteInfo) -> Html {
    let l = app.lang;
    let r = &app.input.requester;
    let roles = Role::ALL.map(|role| {
        let label = match role {
            Role::Patient => tr(
                l,
                "I am the patient (18 or older)",
                "Soy el (la) paciente (18 años o más)",
            ),
            Role::ParentOrGuardian => tr(
                l,
                "I am the parent or guardian of a child under 18",
                "Soy el padre, la madre o tutor(a) de un menor de 18 años",
            ),
            Role::LegalRepresentative => tr(
                l,
                "I have legal authority to make health care decisions for the patient (for example, a health care power of attorney)",
                "Tengo autoridad legal para tomar decisiones de salud por el (la) paciente (por ejemplo, un poder notarial para asuntos de salud)",
            ),
            Role::Executor => tr(
                l,
                "I am the executor or administrator of a deceased patient's estate",
                "Soy albacea o administrador(a) de la sucesión de un paciente fallecido",
            ),
        };
        choice(
            ctx,
            true,
            "rp-role",
            format!("role-{}", role.id()),
            label,
            r.role == role,
            move |req| req.requester.role = role,
        )
    });
    let adolescent = match l {
        Lang::En => format!(
            "From age {}, some of a child's records (for example care the child could agree to alone) may need the child's own permission.",
            site.adolescent_age
        ),
        Lang::Es => format!(
            "Desde los {} años, algunos registros del menor (por ejemplo, la atención que el menor podía aceptar por sí mismo) pueden requerir su propio permiso.",
            site.adolescent_age
        ),
    };
    let body = html! {
        <>
            { group(app, Field::RequesterRole, tr(l, "Who is asking?", "¿Quién hace la solicitud?"), Some(tr(l,
                "A lawyer or insurance company: ask the patient to send the records to you (the patient chooses 'I am the patient' and names you as the recipient).",
                "Abogados o aseguradoras: pidan al (a la) paciente que les envíe los registros (el (la) paciente elige 'Soy el (la) paciente' y los nombra como destinatarios).")),
                roles.into_iter().collect::<Html>()) }
            if r.role != Role::Patient {
                { Text::new(Field::RequesterName, tr(l, "Your full legal name", "Su nombre legal completo"), &r.name)
                    .auto("name").view(app, ctx, set(|q, v| q.requester.name = v)) }
            }
            if r.role == Role::ParentOrGuardian {
                { relationship(app, ctx) }
                <p class="rp-hint" data-testid="adolescent-note">{ adolescent }</p>
                { super::proof::view(app, ctx) }
            }
            if r.role.needs_authority() {
                { Text::new(Field::RequesterAuthority, tr(l, "What gives you authority", "Documento que le da autoridad legal"), &r.authority)
                    .hint(tr(l,
                        "Name the document and its date, for example: health care power of attorney signed 2024-05-01. Attach a copy below.",
                        "Indique el documento y su fecha, por ejemplo: poder notarial para asuntos de salud firmado el 2024-05-01. Adjunte una copia abajo."))
                    .view(app, ctx, set(|q, v| q.requester.authority = v)) }
                { super::proof::view(app, ctx) }
            }
            { Text::new(Field::RequesterEmail, tr(l, "Your email address", "Su correo electrónico"), &r.email)
                .kind("email").auto("email")
                .hint(tr(l, "We will send a code here to confirm it is yours. The hospital will write to you here.", "Le enviaremos un código para confirmar que es suyo. El hospital le escribirá a esta dirección."))
                .view(app, ctx, set(|q, v| q.requester.email = v)) }
            { Text::new(Field::RequesterPhone, tr(l, "Your phone number (optional)", "Su teléfono (opcional)"), &r.phone)
                .kind("tel").auto("tel").view(app, ctx, set(|q, v| q.requester.phone = v)) }
        </>
    };
    frame(
        app,
        ctx,
        FormStep::Who,
        tr(l, "Who is asking?", "¿Quién hace la solicitud?"),
        body,
    )
}

/// A parent's relationship to the child: mother, father, legal guardian, or
/// typed after "Other".
fn relationship(app: &App, ctx: &Context<App>) -> Html {
    let l = app.lang;
    let typed = &app.input.requester.relationship;
    let known = Relationship::recognise(typed);
    let other = app.relationship_other || (known.is_none() && !typed.trim().is_empty());
    let choices = Relationship::ALL.map(|rel| {
        choice_with(
            true,
            "rp-relationship",
            format!("relationship-{}", rel.id()),
            rel.label(l),
            !other && known == Some(rel),
            ctx.link().callback(move |_| Msg::Relationship(Some(rel))),
        )
    });
    let items = html! {
        <>
            { for choices }
            { choice_with(true, "rp-relationship", "relationship-other".into(), tr(l, "Other", "Otra"),
                other, ctx.link().callback(|_| Msg::Relationship(None))) }
        </>
    };
    html! {
        <>
            { group(app, Field::RequesterRelationship, tr(l, "Your relationship to the child", "Su relación con el menor"), None, items) }
            if other {
                { Text::new(Field::RequesterRelationship, tr(l, "Your relationship to the child, in your words", "Su relación con el menor, en sus palabras"), typed)
                    .hint(tr(l, "For example: stepmother with custody.", "Por ejemplo: madrastra con la custodia."))
                    .in_group("other")
                    .view(app, ctx, set(|q, v| q.requester.relationship = v)) }
            }
        </>
    }
}
