//! Keeps `docs/configuration.md` true to [`crate::config`]: every key serde
//! accepts in each section is documented there and nothing else is, the
//! documented defaults are the ones applied, and every `RECORDPASS_*`
//! variable the verifier reads is named.

use serde_aux::serde_introspection::serde_introspect;

use crate::config::{
    Config, ConsoleSettings, Email, Encryption, Limits, RelyingParty, Retention, Site, Smtp,
    Webhook, WebhookDelivery,
};

const DOC: &str = include_str!("../../docs/configuration.md");

/// The rows of the table under `## {heading}`: key → cells after the key.
fn table(heading: &str) -> Vec<(&'static str, Vec<&'static str>)> {
    let start = DOC
        .find(&format!("\n## {heading}\n"))
        .unwrap_or_else(|| panic!("docs/configuration.md has no `## {heading}` section"));
    let section = &DOC[start + 1..];
    let section = &section[..section[3..]
        .find("\n## ")
        .map_or(section.len(), |end| end + 3)];
    section
        .lines()
        .filter_map(|line| {
            let mut cells = line.split('|').map(str::trim).skip(1);
            let key = cells.next()?.strip_prefix('`')?.strip_suffix('`')?;
            Some((key, cells.collect()))
        })
        .collect()
}

fn sections() -> [(&'static str, &'static [&'static str]); 11] {
    [
        ("Top level", serde_introspect::<Config>()),
        ("`[relying_party]`", serde_introspect::<RelyingParty>()),
        ("`[[sites]]`", serde_introspect::<Site>()),
        ("`[email]`", serde_introspect::<Email>()),
        ("`[smtp]`", serde_introspect::<Smtp>()),
        ("`[limits]`", serde_introspect::<Limits>()),
        ("`[console]`", serde_introspect::<ConsoleSettings>()),
        ("`[encryption]`", serde_introspect::<Encryption>()),
        ("`[retention]`", serde_introspect::<Retention>()),
        ("`[[webhooks]]`", serde_introspect::<Webhook>()),
        (
            "`[webhook_delivery]`",
            serde_introspect::<WebhookDelivery>(),
        ),
    ]
}

#[test]
fn every_key_is_documented_and_nothing_else() {
    for (heading, keys) in sections() {
        assert!(!keys.is_empty(), "no fields found for {heading}");
        let documented: Vec<&str> = table(heading).into_iter().map(|(key, _)| key).collect();
        for key in keys {
            assert!(
                documented.contains(key),
                "docs/configuration.md, {heading}: `{key}` is missing"
            );
        }
        for key in &documented {
            assert!(
                keys.contains(key),
                "docs/configuration.md, {heading}: `{key}` is not a configuration key"
            );
        }
    }
}

/// The default cell of `key` under `heading`.
fn documented_default(heading: &str, key: &str) -> &'static str {
    table(heading)
        .into_iter()
        .find(|(k, _)| *k == key)
        .and_then(|(_, cells)| cells.first().copied())
        .unwrap_or_else(|| panic!("{heading}: `{key}` has no default cell"))
}

#[test]
fn documented_defaults_are_the_applied_ones() {
    let minimal = r#"
        listen = "127.0.0.1:0"
        database_url = "sqlite::memory:"
        [relying_party]
        id = "localhost"
        name = "R"
        [[sites]]
        id = "s"
        name = "S"
        him_phone = "1"
        origins = ["http://localhost:8081"]
        [email]
        mode = "smtp"
        [smtp]
        host = "localhost"
        tls = "none"
        from = "R <r@localhost>"
    "#;
    let config: Config = toml::from_str(minimal).expect("the minimal configuration parses");
    let smtp = config.smtp.as_ref().expect("smtp");
    let site = &config.sites[0];
    let (limits, console) = (&config.limits, &config.console);
    let hooks = &config.webhook_delivery;
    let cases: Vec<(&str, &str, String)> = vec![
        (
            "Top level",
            "widget_dir",
            config.widget_dir.display().to_string(),
        ),
        (
            "Top level",
            "trust_forwarded_for",
            config.trust_forwarded_for.to_string(),
        ),
        (
            "Top level",
            "ceremony_ttl_secs",
            config.ceremony_ttl_secs.to_string(),
        ),
        (
            "Top level",
            "request_timeout_secs",
            config.request_timeout_secs.to_string(),
        ),
        (
            "`[[sites]]`",
            "adolescent_age",
            site.adolescent_age.to_string(),
        ),
        (
            "`[[sites]]`",
            "languages",
            serde_json::to_string(&site.languages)
                .unwrap_or_default()
                .replace(',', ", "),
        ),
        ("`[smtp]`", "timeout_secs", smtp.timeout_secs.to_string()),
        (
            "`[limits]`",
            "posts_per_second",
            limits.posts_per_second.to_string(),
        ),
        ("`[limits]`", "posts_burst", limits.posts_burst.to_string()),
        (
            "`[limits]`",
            "codes_per_address",
            limits.codes_per_address.to_string(),
        ),
        (
            "`[limits]`",
            "codes_per_address_window_secs",
            limits.codes_per_address_window_secs.to_string(),
        ),
        (
            "`[limits]`",
            "codes_per_client",
            limits.codes_per_client.to_string(),
        ),
        (
            "`[limits]`",
            "codes_per_client_window_secs",
            limits.codes_per_client_window_secs.to_string(),
        ),
        (
            "`[limits]`",
            "wrong_codes_per_mailbox",
            limits.wrong_codes_per_mailbox.to_string(),
        ),
        (
            "`[limits]`",
            "wrong_codes_per_mailbox_window_secs",
            limits.wrong_codes_per_mailbox_window_secs.to_string(),
        ),
        (
            "`[limits]`",
            "uploads_in_flight",
            limits.uploads_in_flight.to_string(),
        ),
        (
            "`[limits]`",
            "upload_buffer_mib",
            limits.upload_buffer_mib.to_string(),
        ),
        (
            "`[limits]`",
            "upload_idle_timeout_secs",
            limits.upload_idle_timeout_secs.to_string(),
        ),
        (
            "`[console]`",
            "idle_timeout_secs",
            console.idle_timeout_secs.to_string(),
        ),
        (
            "`[console]`",
            "max_session_secs",
            console.max_session_secs.to_string(),
        ),
        (
            "`[console]`",
            "invite_ttl_secs",
            console.invite_ttl_secs.to_string(),
        ),
        (
            "`[retention]`",
            "signed_request_days",
            config.retention.signed_request_days.to_string(),
        ),
        (
            "`[retention]`",
            "allow_short_signed_retention",
            config.retention.allow_short_signed_retention.to_string(),
        ),
        (
            "`[retention]`",
            "purge_interval_secs",
            config.retention.purge_interval_secs.to_string(),
        ),
        (
            "`[retention]`",
            "unsigned_requester_days",
            config.retention.unsigned_requester_days.to_string(),
        ),
        (
            "`[webhook_delivery]`",
            "timeout_secs",
            hooks.timeout_secs.to_string(),
        ),
        (
            "`[webhook_delivery]`",
            "max_attempts",
            hooks.max_attempts.to_string(),
        ),
        (
            "`[webhook_delivery]`",
            "retry_base_ms",
            hooks.retry_base_ms.to_string(),
        ),
        (
            "`[webhook_delivery]`",
            "retry_max_ms",
            hooks.retry_max_ms.to_string(),
        ),
        (
            "`[webhook_delivery]`",
            "poll_interval_ms",
            hooks.poll_interval_ms.to_string(),
        ),
        (
            "`[webhook_delivery]`",
            "keep_delivered_days",
            hooks.keep_delivered_days.to_string(),
        ),
        (
            "Top level",
            "metrics_listen",
            config
                .metrics_listen
                .map_or("off".to_owned(), |at| at.to_string()),
        ),
    ];
    for (heading, key, applied) in cases {
        assert_eq!(
            documented_default(heading, key),
            format!("`{applied}`"),
            "docs/configuration.md, {heading}: the default of `{key}`"
        );
    }
    for (heading, key) in [
        ("Top level", "public_url"),
        ("Top level", "seal_key_file"),
        ("`[smtp]`", "port"),
        ("`[console]`", "origin"),
        ("`[encryption]`", "active_key"),
        ("`[[sites]]`", "privacy_contact"),
        ("`[[sites]]`", "privacy_phone"),
        ("`[[sites]]`", "time_zone"),
    ] {
        assert!(
            documented_default(heading, key).starts_with("unset"),
            "{heading}: `{key}` defaults to unset"
        );
    }
    assert!(config.public_url.is_none());
    assert!(site.privacy_phone.is_none() && site.privacy_contact == Default::default());
    assert_eq!(site.zone().name(), "UTC", "time_zone falls back to UTC");
    assert_eq!(
        site.complaint_phone(),
        site.him_phone,
        "privacy_phone falls back"
    );
    assert!(config.seal_key_file.is_none() && smtp.port.is_none() && console.origin.is_none());
    assert!(config.webhooks.is_empty(), "no webhooks unless configured");
}

#[test]
fn every_environment_variable_is_documented() {
    let sources = [include_str!("config.rs"), include_str!("main.rs")];
    let mut found = 0;
    for source in sources {
        for (at, _) in source.match_indices("RECORDPASS_") {
            let name: String = source[at..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                .collect();
            if name == "RECORDPASS_" {
                continue; // `RECORDPASS_*` in prose
            }
            assert!(
                DOC.contains(&format!("`{name}`")),
                "docs/configuration.md does not name `{name}`"
            );
            found += 1;
        }
    }
    assert!(found >= 12, "only {found} RECORDPASS_ variables found");
}
