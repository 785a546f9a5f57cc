//! Which records, which dates, and the sensitive categories (each its own opt-in).

use std::rc::Rc;

use recordpass_request::api::SiteInfo;
use recordpass_request::{DateRange, Field, RecordsRequest, Role, SensitiveCategory};
use yew::prelude::*;

use super::fields::{Text, choice, choice_hinted, group, tr};
use super::wizard::{FormStep, frame};
use crate::app::{App, Msg};

/// Renders the records step.
pub fn view(app: &App, ctx: &Context<App>, site: &SiteInfo) -> Html {
    let l = app.lang;
    let s = &app.input.scope;
    let kinds = site.record_kinds.iter().map(|&kind| {
        let checked = s.record_kinds.contains(&kind);
        choice(
            ctx,
            false,
            "",
            format!("record-{}", kind.id()),
            kind.label(l),
            checked,
            move |q| {
                let kinds = &mut q.scope.record_kinds;
                if kinds.contains(&kind) {
                    kinds.retain(|k| *k != kind);
                } else {
                    kinds.push(kind);
                    kinds.sort();
                }
            },
        )
    });
    let dates = [
        (true, "dates-all", tr(l, "All dates", "Todas las fechas")),
        (
            false,
            "dates-ranges",
            tr(l, "Only certain dates", "Solo ciertas fechas"),
        ),
    ]
    .map(|(all, id, label)| {
        choice(
            ctx,
            true,
            "rp-dates",
            id.into(),
            label,
            s.all_dates == all,
            move |q| {
                q.scope.all_dates = all;
                if !all && q.scope.date_ranges.is_empty() {
                    q.scope.date_ranges.push(DateRange::default());
                }
            },
        )
    });
    let ranges = s.date_ranges.iter().enumerate().map(|(i, range)| {
        let start = Text::new(Field::ScopeDateRangeStart(i), tr(l, "From", "Desde"), &range.start)
            .kind("date")
            .view(app, ctx, Rc::new(move |q, v| if let Some(r) = q.scope.date_ranges.get_mut(i) { r.start = v }));
        let end = Text::new(Field::ScopeDateRangeEnd(i), tr(l, "To", "Hasta"), &range.end)
            .kind("date")
            .view(app, ctx, Rc::new(move |q, v| if let Some(r) = q.scope.date_ranges.get_mut(i) { r.end = v }));
        let remove = ctx.link().callback(move |_| Msg::Change(Rc::new(move |q| {
            if q.scope.date_ranges.len() > 1 { q.scope.date_ranges.remove(i); }
        })));
        html! {
            <li class="rp-range">
                { start }{ end }
                if s.date_ranges.len() > 1 {
                    <button type="button" class="rp-secondary" part="button-secondary" data-testid={format!("remove-range-{i}")} onclick={remove}>
                        { tr(l, "Remove these dates", "Quitar estas fechas") }
                    </button>
                }
            </li>
        }
    });
    let add = ctx
        .link()
        .callback(|_| Msg::Change(Rc::new(|q| q.scope.date_ranges.push(DateRange::default()))));
    let parent = app.input.requester.role == Role::ParentOrGuardian;
    let sensitive = SensitiveCategory::ALL.map(|category| {
        let checked = s.sensitive.contains(&category);
        let testid = format!("sensitive-{}", category.id());
        let toggle = move |q: &mut RecordsRequest| {
            let list = &mut q.scope.sensitive;
            if list.contains(&category) {
                list.retain(|c| *c != category);
            } else {
                list.push(category);
                list.sort();
            }
        };
        // Said before a parent ticks it: the rule refuses it (42 CFR 2.14).
        if parent && category == SensitiveCategory::SubstanceUse {
            let hint = tr(
                l,
                "As a parent or guardian, you cannot ask for these: a child's records of treatment for drug or alcohol use need the child's own consent. The child can ask for them, or you can call the medical records department.",
                "Como padre, madre o tutor(a), usted no puede pedir estos registros: los del tratamiento de un(a) menor por consumo de drogas o alcohol necesitan el consentimiento del (de la) propio(a) menor. El (la) menor puede pedirlos, o usted puede llamar al departamento de registros médicos.",
            );
            return choice_hinted(ctx, testid, category.label(l), hint, checked, toggle);
        }
        choice(ctx, false, "", testid, category.label(l), checked, toggle)
    });
    let body = html! {
        <>
            { group(app, Field::ScopeRecordKinds, tr(l, "Which records do you want?", "¿Qué registros desea?"),
                Some(tr(l, "Choose all that apply.", "Elija todos los que correspondan.")), kinds.into_iter().collect::<Html>()) }
            { group(app, Field::ScopeDateRanges, tr(l, "From which dates?", "¿De qué fechas?"), None, dates.into_iter().collect::<Html>()) }
            if !s.all_dates {
                <ul class="rp-ranges">{ for ranges }</ul>
                <div class="rp-actions">
                    <button type="button" class="rp-secondary" part="button-secondary" data-testid="add-range" onclick={add}>
                        { tr(l, "Add more dates", "Agregar más fechas") }
                    </button>
                </div>
            }
            { group(app, Field::ScopeSensitive, tr(l, "Sensitive records (only if you check them)", "Registros sensibles (solo si los marca)"),
                Some(tr(l,
                    "These are protected by stricter laws. They are left out unless you check each one. Psychotherapy notes need a request of their own: to get them, check only them and no other records, then make a second request for anything else.",
                    "Estos registros están protegidos por leyes más estrictas. Se excluyen a menos que marque cada uno. Las notas de psicoterapia necesitan una solicitud aparte: para pedirlas, marque solo esa opción y ningún otro registro, y luego haga una segunda solicitud para lo demás.")),
                sensitive.into_iter().collect::<Html>()) }
        </>
    };
    frame(
        app,
        ctx,
        FormStep::Records,
        tr(l, "What records?", "¿Qué registros?"),
        body,
    )
}
