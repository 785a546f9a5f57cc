//! What a site tells requesters (`GET /api/v1/sites/{site}`), and the
//! start-up checks of that part of its configuration.

use recordpass_request::{
    DeliveryMethod, Lang, RecordKind, SiteOffer,
    api::{LocalizedText, SiteInfo},
};

use crate::{Error, config::Site};

/// Default `record_kinds`: every kind.
pub fn all_kinds() -> Vec<RecordKind> {
    RecordKind::ALL.to_vec()
}

/// Default `delivery_methods`: every method.
pub fn all_methods() -> Vec<DeliveryMethod> {
    DeliveryMethod::ALL.to_vec()
}

/// Default `languages`: every language.
pub fn all_langs() -> Vec<Lang> {
    Lang::ALL.to_vec()
}

/// The public facts about `site`.
pub fn info(site: &Site) -> SiteInfo {
    SiteInfo {
        id: site.id.clone(),
        name: site.name.clone(),
        him_phone: site.him_phone.clone(),
        him_hours: site.him_hours.clone(),
        logo_url: site.logo_url.as_ref().map(|u| u.to_string()),
        record_kinds: site.record_kinds.clone(),
        delivery_methods: site.delivery_methods.clone(),
        fee_text: site.fee_text.clone(),
        adolescent_age: site.adolescent_age,
        languages: site.languages.clone(),
        deadline_days: site.deadline_days,
    }
}

/// What requests to `site` are validated against.
pub fn offer(site: &Site) -> SiteOffer {
    SiteOffer {
        record_kinds: site.record_kinds.clone(),
        delivery_methods: site.delivery_methods.clone(),
    }
}

/// Rejects a site profile that would mislead requesters, naming the key.
pub fn check(site: &Site) -> Result<(), Error> {
    let bad = |key: &str, why: &str| {
        Err(Error::Config(format!(
            "sites[id = {:?}].{key}: {why}",
            site.id
        )))
    };
    if site.name.trim().is_empty() {
        return bad("name", "must not be empty");
    }
    if !is_phone(&site.him_phone) {
        return bad("him_phone", "must be a phone number requesters can call");
    }
    if site.privacy_phone.as_deref().is_some_and(|p| !is_phone(p)) {
        return bad(
            "privacy_phone",
            "must be a phone number requesters can call (or unset: him_phone)",
        );
    }
    let contact = &site.privacy_contact;
    if contact.en.trim().is_empty() && !contact.es.trim().is_empty() {
        return bad(
            "privacy_contact",
            "set `en` too (Spanish falls back to it; both unset: the privacy officer)",
        );
    }
    if site.record_kinds.is_empty() {
        return bad("record_kinds", "list at least one record kind");
    }
    if has_duplicates(&site.record_kinds) {
        return bad("record_kinds", "lists a kind twice");
    }
    if site.delivery_methods.is_empty() {
        return bad("delivery_methods", "list at least one delivery method");
    }
    if has_duplicates(&site.delivery_methods) {
        return bad("delivery_methods", "lists a method twice");
    }
    if !site.delivery_methods.iter().any(|m| m.is_electronic()) {
        return bad(
            "delivery_methods",
            "offer at least one electronic method (electronic records asked for electronically must be given electronically)",
        );
    }
    if !(10..=17).contains(&site.adolescent_age) {
        return bad("adolescent_age", "must be between 10 and 17");
    }
    if site.languages.is_empty() || has_duplicates(&site.languages) {
        return bad("languages", "list each language once, at least one");
    }
    if site.deadline_days.is_some_and(|d| !(1..=30).contains(&d)) {
        return bad(
            "deadline_days",
            "must be between 1 and 30 (federal maximum)",
        );
    }
    for (key, url) in [
        ("logo_url", &site.logo_url),
        ("status_url", &site.status_url),
    ] {
        let Some(url) = url else { continue };
        let local = matches!(url.host_str(), Some("localhost" | "127.0.0.1"));
        if url.scheme() != "https" && !(url.scheme() == "http" && local) {
            return bad(key, "must be an https URL");
        }
    }
    for (key, text) in [
        ("him_hours", &site.him_hours),
        ("fee_text", &site.fee_text),
        ("privacy_contact", &site.privacy_contact),
    ] {
        if has_markup(text) {
            return bad(key, "plain text only (no < > { } \\)");
        }
    }
    Ok(())
}

/// What start-up warns about `site` (logged once per site): today only a
/// complaint phone that falls back to the HIM phone.
pub fn warnings(site: &Site) -> Vec<String> {
    let mut warnings = Vec::new();
    if site.privacy_phone.is_none() {
        warnings.push(format!(
            "sites[id = {:?}].privacy_phone is not set: denial notices give him_phone \
             ({}) as the phone for complaints to the hospital",
            site.id, site.him_phone
        ));
    }
    if site.time_zone.is_none() {
        warnings.push(format!(
            "sites[id = {:?}].time_zone is not set: due dates are counted in UTC calendar days \
             and dates are shown in UTC; set the hospital's zone, e.g. \"America/New_York\"",
            site.id
        ));
    }
    warnings
}

/// 1 to 15 digits (E.164's most), written with nothing but digits, spaces
/// and `+ - ( ) . /`: the number is shown in notices and pages as typed.
fn is_phone(text: &str) -> bool {
    let digits = text.chars().filter(char::is_ascii_digit).count();
    (1..=15).contains(&digits)
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || " +-()./".contains(c))
}

fn has_duplicates<T: PartialEq>(items: &[T]) -> bool {
    items
        .iter()
        .enumerate()
        .any(|(i, a)| items[..i].contains(a))
}

fn has_markup(text: &LocalizedText) -> bool {
    [&text.en, &text.es]
        .iter()
        .any(|t| t.contains(['<', '>', '{', '}', '\\']))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(extra: &str) -> Result<(), String> {
        let text = format!(
            "id = \"demo\"\nname = \"R\"\nhim_phone = \"+1 555 010 0100\"\norigins = [\"http://localhost:8081\"]\n{extra}"
        );
        let site: Site = toml::from_str(&text).map_err(|e| e.to_string())?;
        check(&site).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_are_valid_and_offer_everything() {
        assert_eq!(site(""), Ok(()));
        let full = "record_kinds = [\"lab_results\", \"imaging_files\"]\n\
                    delivery_methods = [\"secure_download\", \"disc\"]\n\
                    adolescent_age = 13\nlanguages = [\"en\"]\n\
                    logo_url = \"https://example-hospital.org/logo.svg\"\n\
                    privacy_phone = \"+1 (555) 010-0199\"\n\
                    [him_hours]\nen = \"Mon–Fri 8–5\"\nes = \"lun–vie 8–5\"\n\
                    [privacy_contact]\nen = \"the Privacy Office\"\n\
                    [fee_text]\nen = \"Electronic copies: $6.50 flat fee.\"\n";
        assert_eq!(site(full), Ok(()));
    }

    #[test]
    fn bad_values_name_the_key() {
        let cases = [
            ("record_kinds = []", "record_kinds"),
            ("record_kinds = [\"x_rays\"]", "record_kinds"),
            ("delivery_methods = [\"mail\"]", "delivery_methods"),
            ("adolescent_age = 21", "adolescent_age"),
            ("languages = [\"en\", \"en\"]", "languages"),
            ("logo_url = \"http://example.org/logo.png\"", "logo_url"),
            ("status_url = \"http://example.org/records\"", "status_url"),
            ("[fee_text]\nen = \"<b>free</b>\"", "fee_text"),
            ("privacy_phone = \"call us\"", "privacy_phone"),
            ("privacy_phone = \"\"", "privacy_phone"),
            ("privacy_phone = \"555-0100 <b>x\"", "privacy_phone"),
            ("privacy_phone = \"555\\n0100\"", "privacy_phone"),
            (
                "privacy_phone = \"+1 555 010 0199 0000 0000\"",
                "privacy_phone",
            ),
            (
                "[privacy_contact]\nes = \"la Oficina de Privacidad\"",
                "privacy_contact",
            ),
            (
                "[privacy_contact]\nen = \"<i>Privacy</i>\"",
                "privacy_contact",
            ),
        ];
        for (extra, key) in cases {
            let err = site(extra).expect_err(extra);
            assert!(err.contains(key), "{extra}: {err}");
        }
    }

    #[test]
    fn an_unset_privacy_phone_falls_back_to_him_phone_with_one_warning() {
        let parse = |extra: &str| -> Site {
            let text = format!(
                "id = \"demo\"\nname = \"R\"\nhim_phone = \"+1 555 010 0100\"\norigins = []\n{extra}"
            );
            toml::from_str(&text).expect("site parses")
        };
        let zoned = "time_zone = \"America/Chicago\"";
        let unset = parse(zoned);
        assert_eq!(unset.complaint_phone(), "+1 555 010 0100");
        let warned = warnings(&unset);
        assert_eq!(warned.len(), 1, "{warned:?}");
        assert!(
            warned[0].contains("sites[id = \"demo\"].privacy_phone"),
            "{warned:?}"
        );
        let set = parse(&format!("privacy_phone = \"+1 555 010 0199\"\n{zoned}"));
        assert_eq!(set.complaint_phone(), "+1 555 010 0199");
        assert!(warnings(&set).is_empty());
    }

    #[test]
    fn an_unset_time_zone_is_utc_with_a_warning_and_an_unknown_one_is_refused() {
        let parse = |extra: &str| {
            let text = format!(
                "id = \"demo\"\nname = \"R\"\nhim_phone = \"1\"\norigins = []\n\
                 privacy_phone = \"2\"\n{extra}"
            );
            toml::from_str::<Site>(&text).map_err(|e| e.to_string())
        };
        let unset = parse("").expect("site parses");
        assert_eq!(unset.zone().name(), "UTC");
        let warned = warnings(&unset);
        assert_eq!(warned.len(), 1, "{warned:?}");
        assert!(warned[0].contains("time_zone is not set"), "{warned:?}");
        let set = parse("time_zone = \"America/New_York\"").expect("site parses");
        assert_eq!(set.zone().name(), "America/New_York");
        assert!(warnings(&set).is_empty());
        let err = parse("time_zone = \"Eastern\"").expect_err("refused");
        assert!(err.contains("not an IANA time zone"), "{err}");
    }
}
