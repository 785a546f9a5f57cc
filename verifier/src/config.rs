//! Verifier configuration: a TOML file, overridden by `RECORDPASS_*` variables.

use serde::Deserialize;
use std::{
    collections::HashSet,
    net::{AddrParseError, Ipv4Addr, SocketAddr},
    path::PathBuf,
    time::Duration,
};
use webauthn_rs::prelude::Url;

use recordpass_request::{DeliveryMethod, Lang, RecordKind, api::LocalizedText};

use crate::Error;

/// The verifier's configuration (see `verifier/recordpass.example.toml`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to bind; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Address of the Prometheus `GET /metrics` listener, kept apart from the
    /// public one: [`DEFAULT_METRICS_LISTEN`] unless set; `"off"` (`None`) serves none.
    #[serde(
        default = "default_metrics_listen",
        deserialize_with = "deserialize_metrics_listen"
    )]
    pub metrics_listen: Option<SocketAddr>,
    /// `sqlite://path` (created if missing) or `postgres://user@host/db` (see `db`).
    pub database_url: String,
    /// Directory holding the built widget (`manifest.json`, `widget.js`, `assets/`).
    #[serde(default = "default_widget_dir")]
    pub widget_dir: PathBuf,
    /// Public base URL of this verifier; defaults to `http://localhost:<port>`.
    #[serde(default)]
    pub public_url: Option<Url>,
    /// Record the rightmost `X-Forwarded-For` address as the client's; only
    /// behind exactly one reverse proxy that sets it.
    #[serde(default)]
    pub trust_forwarded_for: bool,
    /// Ed25519 PKCS#8 PEM key that seals evidence bundles; without it a key is
    /// generated and kept in the database (demo only).
    #[serde(default)]
    pub seal_key_file: Option<PathBuf>,
    /// Lifetime of a passkey ceremony, in seconds.
    #[serde(default = "default_ceremony_ttl")]
    pub ceremony_ttl_secs: u64,
    /// A request still unanswered after this many seconds gets a 503
    /// `unavailable` JSON error (its handler is cancelled); a connection that
    /// has not sent its request headers by then is closed.
    #[serde(default = "default_request_timeout")]
    pub request_timeout_secs: u64,
    /// WebAuthn relying party.
    pub relying_party: RelyingParty,
    /// Websites that embed the widget.
    pub sites: Vec<Site>,
    /// How email verification codes are delivered.
    pub email: Email,
    /// The SMTP relay, for `email.mode = "smtp"`.
    #[serde(default)]
    pub smtp: Option<Smtp>,
    /// Rate limits.
    #[serde(default)]
    pub limits: Limits,
    /// The HIM staff console.
    #[serde(default)]
    pub console: ConsoleSettings,
    /// Encryption at rest of the personal data stored.
    #[serde(default)]
    pub encryption: Encryption,
    /// How long data is kept (see `crate::retention`).
    #[serde(default)]
    pub retention: Retention,
    /// Outgoing webhooks (`[[webhooks]]`), none by default (see `crate::webhooks`).
    #[serde(default)]
    pub webhooks: Vec<Webhook>,
    /// How webhooks are delivered and retried (`[webhook_delivery]`).
    #[serde(default)]
    pub webhook_delivery: WebhookDelivery,
}

/// One endpoint that receives events (`[[webhooks]]`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    /// Where events are `POST`ed: https (http only for localhost), no user info.
    pub url: Url,
    /// File holding the signing secret (at least 32 bytes; surrounding
    /// whitespace is ignored). Never the secret itself.
    pub secret_file: PathBuf,
    /// Event types sent to this endpoint; default: all
    /// ([`crate::webhooks::EventType`]).
    #[serde(default = "crate::webhooks::all_event_types")]
    pub events: Vec<crate::webhooks::EventType>,
}

/// Delivery of webhooks (`[webhook_delivery]`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookDelivery {
    /// Seconds an endpoint has to answer one attempt.
    pub timeout_secs: u64,
    /// Attempts before a delivery is marked failed.
    pub max_attempts: u32,
    /// Wait before the first retry, in milliseconds; doubles with each
    /// further attempt (with jitter) up to `retry_max_ms`.
    pub retry_base_ms: u64,
    /// Longest wait between attempts, in milliseconds.
    pub retry_max_ms: u64,
    /// How often each instance looks for due deliveries, in milliseconds.
    pub poll_interval_ms: u64,
    /// Days a delivered event (and its attempt log) is kept.
    pub keep_delivered_days: u32,
}

impl Default for WebhookDelivery {
    fn default() -> WebhookDelivery {
        WebhookDelivery {
            timeout_secs: 10,
            max_attempts: 15,
            retry_base_ms: 30_000,
            retry_max_ms: 3_600_000,
            poll_interval_ms: 2_000,
            keep_delivered_days: 30,
        }
    }
}

/// Six years in days (with two leap days): the least `[retention]
/// signed_request_days` HIPAA allows (45 CFR 164.530(j)(2)), and its default.
pub const SIX_YEARS_DAYS: u32 = 6 * 365 + 2;

/// Retention (`[retention]`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Retention {
    /// Days a signed request (with its evidence and timeline) is kept after it
    /// was closed, and an authorization after it expired, before
    /// `recordpass-verifier purge` removes it; default and least six years
    /// ([`SIX_YEARS_DAYS`]).
    pub signed_request_days: u32,
    /// Allows `signed_request_days` below six years: for tests and demos only.
    pub allow_short_signed_retention: bool,
    /// Seconds between purges of expired ceremonies, codes, sessions and links.
    pub purge_interval_secs: u64,
    /// Days of inactivity after which a requester who never signed a request
    /// is removed with their passkeys by that purge (at least 1).
    pub unsigned_requester_days: u32,
}

impl Default for Retention {
    fn default() -> Retention {
        Retention {
            signed_request_days: SIX_YEARS_DAYS,
            allow_short_signed_retention: false,
            purge_interval_secs: 10 * 60,
            unsigned_requester_days: 30,
        }
    }
}

/// Encryption at rest (`[encryption]`): the keyring personal data is sealed with
/// (see `crate::vault`). Required: the verifier does not store personal data in clear.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Encryption {
    /// Keyring file: one `<id> <base64 of 32 random bytes>` per line, as printed by
    /// `recordpass-verifier new-key`. Every instance must have the same keys.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// Id of the key new values are sealed with; default: the keyring's last key.
    #[serde(default)]
    pub active_key: Option<String>,
    /// The keyring itself, from `RECORDPASS_ENCRYPTION_KEYS` (never from the file).
    #[serde(skip)]
    pub keys_from_env: Option<String>,
}

impl Encryption {
    /// Loads the keyring: `RECORDPASS_ENCRYPTION_KEYS` if set, else `key_file`.
    pub fn vault(&self) -> Result<crate::vault::Vault, Error> {
        let active = self.active_key.as_deref();
        match (&self.keys_from_env, &self.key_file) {
            (Some(text), _) => crate::vault::Vault::parse(text, active),
            (None, Some(path)) => crate::vault::Vault::load(path, active),
            (None, None) => Err(Error::Config(
                "set [encryption] key_file (or RECORDPASS_ENCRYPTION_KEYS): personal data is \
                 encrypted at rest; `recordpass-verifier new-key` prints a key"
                    .into(),
            )),
        }
    }
}

/// HIM staff console settings (`[console]`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleSettings {
    /// Origin staff open the console at; defaults to the public URL.
    pub origin: Option<Url>,
    /// A session ends after this many seconds without a request.
    pub idle_timeout_secs: u64,
    /// A session ends this many seconds after sign-in, however active.
    pub max_session_secs: u64,
    /// Lifetime of an enrolment link, in seconds.
    pub invite_ttl_secs: u64,
}

impl Default for ConsoleSettings {
    fn default() -> ConsoleSettings {
        ConsoleSettings {
            origin: None,
            idle_timeout_secs: 15 * 60,
            max_session_secs: 12 * 60 * 60,
            invite_ttl_secs: 72 * 60 * 60,
        }
    }
}

/// Email verification settings (`[email]`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Email {
    /// Where codes go.
    pub mode: EmailMode,
    /// File with the secret key (at least 32 bytes) codes are hashed with. Every
    /// instance must share it; without it each process draws its own, so a code
    /// can only be checked by the instance that sent it.
    #[serde(default)]
    pub code_key_file: Option<PathBuf>,
}

/// Where verification codes go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EmailMode {
    /// A real SMTP relay (`[smtp]`).
    Smtp,
    /// Nowhere: shown on `GET /demo/outbox`. Local demos only.
    DemoOutbox,
}

/// The SMTP relay (`[smtp]`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Smtp {
    /// Relay host name.
    pub host: String,
    /// Port; defaults to 587 (`starttls`), 465 (`tls`) or 25 (`none`).
    #[serde(default)]
    pub port: Option<u16>,
    /// Transport security.
    pub tls: SmtpTls,
    /// Sender, e.g. `Riverside General Hospital <records@example-hospital.org>`.
    pub from: String,
    /// Login name, if the relay needs one.
    #[serde(default)]
    pub username: Option<String>,
    /// File holding the password (never the password itself).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Connection and command timeout, in seconds.
    #[serde(default = "default_smtp_timeout")]
    pub timeout_secs: u64,
}

/// SMTP transport security.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS, which is required.
    Starttls,
    /// TLS from the first byte (SMTPS).
    Tls,
    /// No encryption: only for a relay on this machine.
    None,
}

/// Most `[limits] wrong_codes_per_mailbox`: NIST SP 800-63B (5.2.2) allows
/// no more than 100 failed attempts on one account.
pub const MAX_WRONG_CODES: u32 = 100;

/// Rate limits (`[limits]`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Sustained API and console `POST`s per second per client address, and as
    /// many API reads, counted apart (in memory, per instance).
    pub posts_per_second: u32,
    /// `POST`s a client may make in a burst, and as many reads.
    pub posts_burst: u32,
    /// Codes sent to one address per `codes_per_address_window_secs` (shared, in the database).
    pub codes_per_address: u32,
    /// Window of `codes_per_address`.
    pub codes_per_address_window_secs: u64,
    /// Codes one client address may ask for per `codes_per_client_window_secs` (shared).
    pub codes_per_client: u32,
    /// Window of `codes_per_client`.
    pub codes_per_client_window_secs: u64,
    /// Wrong code guesses one mailbox may take, across all its codes, per
    /// `wrong_codes_per_mailbox_window_secs` (shared); then sending and
    /// checking codes for it are refused. At most [`MAX_WRONG_CODES`].
    pub wrong_codes_per_mailbox: u32,
    /// Window of `wrong_codes_per_mailbox`.
    pub wrong_codes_per_mailbox_window_secs: u64,
    /// Proof-of-authority uploads the verifier seals and stores at once (each
    /// holds about four times the file in memory while it is written); other
    /// received files wait their turn (per instance).
    pub uploads_in_flight: u32,
    /// Mebibytes that upload bodies being received (or waiting to be stored)
    /// may hold in all; an upload that does not fit is refused at once with
    /// `503` `unavailable` and `Retry-After` (per instance). At least 10, the
    /// largest file.
    pub upload_buffer_mib: u32,
    /// Seconds an upload body may go without a byte arriving; then it is cut
    /// off with `408` `upload_too_slow` and its slot and bytes in the upload
    /// buffer are freed at once (per instance).
    pub upload_idle_timeout_secs: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            posts_per_second: 1,
            posts_burst: 20,
            codes_per_address: 3,
            codes_per_address_window_secs: 15 * 60,
            codes_per_client: 10,
            codes_per_client_window_secs: 60 * 60,
            wrong_codes_per_mailbox: 20,
            wrong_codes_per_mailbox_window_secs: 24 * 60 * 60,
            uploads_in_flight: 1,
            upload_buffer_mib: 32,
            upload_idle_timeout_secs: 20,
        }
    }
}

/// The WebAuthn relying party (the hospital's domain).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelyingParty {
    /// RP ID: a registrable domain that every site origin's host equals or ends with.
    pub id: String,
    /// Name shown by passkey managers.
    pub name: String,
}

/// One website embedding the widget.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// Id used in the embed snippet and the API.
    pub id: String,
    /// Hospital name shown to requesters and written into the signed statement.
    pub name: String,
    /// HIM department phone number, offered as the non-web alternative.
    pub him_phone: String,
    /// When the phone is answered (`en`, `es`).
    #[serde(default)]
    pub him_hours: LocalizedText,
    /// The hospital's logo, an https URL (http only for localhost).
    #[serde(default)]
    pub logo_url: Option<Url>,
    /// The hospital page that hosts the widget, linked from status emails
    /// (with `#recordpass-status`, which opens the sign-in and status view).
    #[serde(default)]
    pub status_url: Option<Url>,
    /// Record kinds offered (ids as in the API); default: all.
    #[serde(default = "crate::site_info::all_kinds")]
    pub record_kinds: Vec<RecordKind>,
    /// Delivery methods offered (ids as in the API); default: all.
    #[serde(default = "crate::site_info::all_methods")]
    pub delivery_methods: Vec<DeliveryMethod>,
    /// What copies cost (`en`, `es`), shown before signing.
    #[serde(default)]
    pub fee_text: LocalizedText,
    /// Age from which some of a minor's records need the minor's own authorization.
    #[serde(default = "recordpass_request::api::default_adolescent_age")]
    pub adolescent_age: u8,
    /// Languages offered; default both.
    #[serde(default = "crate::site_info::all_langs")]
    pub languages: Vec<Lang>,
    /// Exact page origins allowed to embed the widget and call the API.
    pub origins: Vec<Url>,
    /// Days HIM has to act on a request when state law is stricter than
    /// HIPAA's 30 (the console's due dates); at most 30.
    #[serde(default)]
    pub deadline_days: Option<u16>,
    /// The hospital's IANA time zone (e.g. `America/New_York`): deadlines are
    /// counted in its calendar days and dates are shown in it; unset: UTC
    /// (and a warning at start-up).
    #[serde(default)]
    pub time_zone: Option<crate::zone::Zone>,
    /// Who denial notices tell requesters to complain to at the hospital
    /// (45 CFR 164.524(d)(2)(iii)), worded to follow "complain to" (`en`)
    /// and "ante" (`es`; falls back to `en`, shown as is); unset: the
    /// hospital's privacy officer.
    #[serde(default)]
    pub privacy_contact: LocalizedText,
    /// That contact's phone number; unset: `him_phone`.
    #[serde(default)]
    pub privacy_phone: Option<String>,
}

impl Site {
    /// The phone denial notices give for complaints: `privacy_phone`, or
    /// `him_phone` when unset.
    pub fn complaint_phone(&self) -> &str {
        self.privacy_phone.as_deref().unwrap_or(&self.him_phone)
    }

    /// Days HIM has to act on a request received now: `deadline_days`, or
    /// HIPAA's 30.
    pub fn days_to_act(&self) -> i64 {
        self.deadline_days
            .map_or(crate::console::queue::DEFAULT_DEADLINE_DAYS, i64::from)
    }

    /// The site's time zone: `time_zone`, or UTC when unset.
    pub fn zone(&self) -> crate::zone::Zone {
        self.time_zone.clone().unwrap_or_default()
    }
}

/// Where metrics are served unless configured: loopback only, on the port
/// Prometheus exporters commonly use.
pub const DEFAULT_METRICS_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 9464);

fn default_metrics_listen() -> Option<SocketAddr> {
    Some(DEFAULT_METRICS_LISTEN)
}

/// `"off"`, or a socket address.
fn parse_metrics_listen(value: &str) -> Result<Option<SocketAddr>, AddrParseError> {
    if value == "off" {
        Ok(None)
    } else {
        value.parse().map(Some)
    }
}

fn deserialize_metrics_listen<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<SocketAddr>, D::Error> {
    let value = String::deserialize(d)?;
    parse_metrics_listen(&value).map_err(serde::de::Error::custom)
}

fn default_widget_dir() -> PathBuf {
    PathBuf::from("target/widget/dist")
}

fn default_ceremony_ttl() -> u64 {
    300
}

fn default_request_timeout() -> u64 {
    15
}

fn default_smtp_timeout() -> u64 {
    20
}

/// `localhost` or a loopback address.
pub(crate) fn is_local_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Config {
    /// Reads `path`, applies environment overrides and checks consistency.
    pub fn load(path: &std::path::Path) -> Result<Config, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("cannot read {}: {e}", path.display())))?;
        let mut config: Config =
            toml::from_str(&text).map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
        config.apply_env(|key| std::env::var(key).ok())?;
        config.check()?;
        Ok(config)
    }

    fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), Error> {
        let bad = |key: &str, e: &dyn std::fmt::Display| Error::Config(format!("{key}: {e}"));
        if let Some(v) = var("RECORDPASS_LISTEN") {
            self.listen = v.parse().map_err(|e| bad("RECORDPASS_LISTEN", &e))?;
        }
        if let Some(v) = var("RECORDPASS_METRICS_LISTEN") {
            self.metrics_listen =
                parse_metrics_listen(&v).map_err(|e| bad("RECORDPASS_METRICS_LISTEN", &e))?;
        }
        if let Some(v) = var("RECORDPASS_DATABASE_URL") {
            self.database_url = v;
        }
        if let Some(v) = var("RECORDPASS_WIDGET_DIR") {
            self.widget_dir = v.into();
        }
        if let Some(v) = var("RECORDPASS_PUBLIC_URL") {
            self.public_url = Some(v.parse().map_err(|e| bad("RECORDPASS_PUBLIC_URL", &e))?);
        }
        if let Some(v) = var("RECORDPASS_REQUEST_TIMEOUT_SECS") {
            self.request_timeout_secs = v
                .parse()
                .map_err(|e| bad("RECORDPASS_REQUEST_TIMEOUT_SECS", &e))?;
        }
        if let Some(v) = var("RECORDPASS_SEAL_KEY_FILE") {
            self.seal_key_file = Some(v.into());
        }
        if let Some(v) = var("RECORDPASS_RETENTION_SIGNED_REQUEST_DAYS") {
            self.retention.signed_request_days = v
                .parse()
                .map_err(|e| bad("RECORDPASS_RETENTION_SIGNED_REQUEST_DAYS", &e))?;
        }
        if let Some(v) = var("RECORDPASS_ENCRYPTION_KEY_FILE") {
            self.encryption.key_file = Some(v.into());
        }
        if let Some(v) = var("RECORDPASS_ENCRYPTION_ACTIVE_KEY") {
            self.encryption.active_key = Some(v);
        }
        if let Some(v) = var("RECORDPASS_ENCRYPTION_KEYS") {
            self.encryption.keys_from_env = Some(v);
        }
        if let Some(v) = var("RECORDPASS_EMAIL_CODE_KEY_FILE") {
            self.email.code_key_file = Some(v.into());
        }
        if let Some(smtp) = &mut self.smtp {
            if let Some(v) = var("RECORDPASS_SMTP_HOST") {
                smtp.host = v;
            }
            if let Some(v) = var("RECORDPASS_SMTP_PORT") {
                smtp.port = Some(v.parse().map_err(|e| bad("RECORDPASS_SMTP_PORT", &e))?);
            }
            if let Some(v) = var("RECORDPASS_SMTP_USERNAME") {
                smtp.username = Some(v);
            }
            if let Some(v) = var("RECORDPASS_SMTP_PASSWORD_FILE") {
                smtp.password_file = Some(v.into());
            }
        }
        Ok(())
    }

    /// Rejects configurations that would fail at run time or weaken origin checks.
    ///
    /// The keyring is not read here but once, when the store opens (`serve` and
    /// every command that touches the database), so commands that need no
    /// secrets (`snippet`) run without it.
    pub fn check(&self) -> Result<(), Error> {
        // The widget calls the API at the loader's origin, and the snippet's CSP
        // names this URL: a path would break both.
        if let Some(url) = &self.public_url
            && (url.path() != "/" || url.query().is_some())
        {
            return Err(Error::Config(format!(
                "public_url must be an origin without a path ({}): give the verifier its own \
                 host name, e.g. https://records.example-hospital.org",
                url.as_str()
            )));
        }
        if self.sites.is_empty() {
            return Err(Error::Config(
                "configure at least one [[sites]] entry".into(),
            ));
        }
        let mut ids = HashSet::new();
        for site in &self.sites {
            if !ids.insert(&site.id) {
                return Err(Error::Config(format!(
                    "site id {:?} is configured twice",
                    site.id
                )));
            }
            if site.origins.is_empty() {
                return Err(Error::Config(format!("site {:?} has no origins", site.id)));
            }
            crate::site_info::check(site)?;
            for origin in &site.origins {
                let host = origin.host_str().unwrap_or_default();
                let rp = &self.relying_party.id;
                if host != rp && !host.ends_with(&format!(".{rp}")) {
                    return Err(Error::Config(format!(
                        "origin {origin} of site {:?} is not within relying-party id {rp:?}",
                        site.id
                    )));
                }
                if !secure_context(origin) {
                    return Err(Error::Config(format!(
                        "origin {origin} of site {:?} must be https:// (http:// only on localhost)",
                        site.id
                    )));
                }
                if origin.path() != "/" || origin.query().is_some() {
                    return Err(Error::Config(format!(
                        "origin {origin} must not have a path"
                    )));
                }
            }
        }
        if self.ceremony_ttl_secs == 0 {
            return Err(Error::Config("ceremony_ttl_secs must be positive".into()));
        }
        if self.request_timeout_secs == 0 {
            return Err(Error::Config(
                "request_timeout_secs must be positive".into(),
            ));
        }
        if self
            .sites
            .iter()
            .any(|s| s.deadline_days.is_some_and(|d| d == 0 || d > 30))
        {
            return Err(Error::Config("deadline_days must be 1 to 30".into()));
        }
        if self.console.idle_timeout_secs == 0 || self.console.invite_ttl_secs == 0 {
            return Err(Error::Config("[console] timeouts must be positive".into()));
        }
        let retention = &self.retention;
        if retention.signed_request_days < SIX_YEARS_DAYS && !retention.allow_short_signed_retention
        {
            return Err(Error::Config(format!(
                "[retention] signed_request_days (or RECORDPASS_RETENTION_SIGNED_REQUEST_DAYS) is {}: \
                 below {SIX_YEARS_DAYS} days (six years, 45 CFR 164.530(j)) `purge` would delete \
                 records the law requires to be kept; for tests and demos only, set \
                 [retention] allow_short_signed_retention = true",
                retention.signed_request_days
            )));
        }
        if self.retention.unsigned_requester_days == 0 {
            return Err(Error::Config(
                "[retention] unsigned_requester_days must be at least 1".into(),
            ));
        }
        self.check_email()?;
        crate::webhooks::check_config(&self.webhooks, &self.webhook_delivery)?;
        self.limits.check()
    }

    /// SMTP must be complete and encrypted off this machine; the demo outbox
    /// (which shows codes to anyone) only runs with a local relying party,
    /// listening on a loopback address (a non-browser client can send any
    /// `Origin`, so local origins alone do not keep the page off the network).
    fn check_email(&self) -> Result<(), Error> {
        match (self.email.mode, &self.smtp) {
            (EmailMode::Smtp, None) => Err(Error::Config(
                "email.mode = \"smtp\" needs an [smtp] section".into(),
            )),
            (EmailMode::Smtp, Some(smtp)) => smtp.check(),
            (EmailMode::DemoOutbox, _) => {
                let local_url = |url: &Url| url.host_str().is_some_and(is_local_host);
                let production = !is_local_host(&self.relying_party.id)
                    || !self.listen.ip().is_loopback()
                    || !self.all_origins().iter().all(local_url)
                    || self.public_url.as_ref().is_some_and(|u| !local_url(u));
                if production {
                    return Err(Error::Config(
                        "email.mode = \"demo-outbox\" shows every code on a public page: it is only \
                         allowed with relying_party.id = \"localhost\", localhost origins and a \
                         loopback listen address; \
                         configure [smtp] and email.mode = \"smtp\""
                            .into(),
                    ));
                }
                Ok(())
            }
        }
    }

    /// The site with `id`, if configured.
    pub fn site(&self, id: &str) -> Option<&Site> {
        self.sites.iter().find(|s| s.id == id)
    }

    /// The site with `id`, or with `None` the first configured (what the
    /// embed snippet names by default).
    pub fn site_or_first(&self, id: Option<&str>) -> Option<&Site> {
        match id {
            Some(id) => self.site(id),
            None => self.sites.first(),
        }
    }

    /// The time zone of `site_id` (UTC for a site no longer configured).
    pub fn zone_of(&self, site_id: &str) -> crate::zone::Zone {
        self.site(site_id).map(Site::zone).unwrap_or_default()
    }

    /// The zone of console times that belong to no one request (the audit
    /// log, staff passkeys, webhook deliveries): the sites' zone when they
    /// all share one, else UTC. Every time shown names its zone.
    pub fn console_zone(&self) -> crate::zone::Zone {
        let mut zones = self.sites.iter().map(Site::zone);
        let first = zones.next().unwrap_or_default();
        if zones.all(|z| z == first) {
            first
        } else {
            crate::zone::Zone::utc()
        }
    }

    /// Every configured page origin, each once.
    pub fn all_origins(&self) -> Vec<Url> {
        let mut seen = HashSet::new();
        self.sites
            .iter()
            .flat_map(|s| s.origins.iter())
            .filter(|o| seen.insert(o.origin().ascii_serialization()))
            .cloned()
            .collect()
    }

    /// Ceremony lifetime.
    pub fn ceremony_ttl(&self) -> Duration {
        Duration::from_secs(self.ceremony_ttl_secs)
    }

    /// How long a request may take before it is answered 503.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }

    /// Whether responses carry `Strict-Transport-Security`: only when the
    /// public URL is `https` on a host that is not `localhost` or loopback.
    pub fn sends_hsts(&self) -> bool {
        self.public_url
            .as_ref()
            .is_some_and(|u| u.scheme() == "https" && !u.host_str().is_some_and(is_local_host))
    }

    /// The origin of the staff console: `console.origin`, else the public base URL.
    pub fn console_origin(&self) -> String {
        self.console
            .origin
            .as_ref()
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_else(|| self.public_base_url())
    }

    /// The public base URL, defaulting to `http://localhost:<port>`.
    pub fn public_base_url(&self) -> String {
        self.public_url
            .as_ref()
            .map(|u| u.as_str().trim_end_matches('/').to_owned())
            .unwrap_or_else(|| format!("http://localhost:{}", self.listen.port()))
    }
}

impl Smtp {
    fn check(&self) -> Result<(), Error> {
        if self.tls == SmtpTls::None && !is_local_host(&self.host) {
            return Err(Error::Config(format!(
                "smtp.tls = \"none\" is only allowed for a relay on this machine, not {:?}",
                self.host
            )));
        }
        if self.from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(Error::Config(format!(
                "smtp.from {:?} is not an email address",
                self.from
            )));
        }
        if self.username.is_some() != self.password_file.is_some() {
            return Err(Error::Config(
                "smtp.username and smtp.password_file go together".into(),
            ));
        }
        if self.timeout_secs == 0 {
            return Err(Error::Config("smtp.timeout_secs must be positive".into()));
        }
        Ok(())
    }

    /// The configured port, or the usual one for the TLS mode.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        })
    }
}

impl Limits {
    fn check(&self) -> Result<(), Error> {
        let counts = [
            self.posts_per_second,
            self.posts_burst,
            self.codes_per_address,
            self.codes_per_client,
            self.wrong_codes_per_mailbox,
        ];
        let windows = [
            self.codes_per_address_window_secs,
            self.codes_per_client_window_secs,
            self.wrong_codes_per_mailbox_window_secs,
            self.upload_idle_timeout_secs,
        ];
        if counts.contains(&0) || windows.contains(&0) {
            return Err(Error::Config(
                "every [limits] value must be positive".into(),
            ));
        }
        if self.wrong_codes_per_mailbox > MAX_WRONG_CODES {
            return Err(Error::Config(format!(
                "[limits] wrong_codes_per_mailbox may be at most {MAX_WRONG_CODES} \
                 (NIST SP 800-63B: no more than 100 failed attempts per account)"
            )));
        }
        if self.uploads_in_flight == 0 {
            return Err(Error::Config(
                "[limits] uploads_in_flight must be at least 1 (0 would refuse every upload)"
                    .into(),
            ));
        }
        let largest =
            recordpass_request::upload::MAX_UPLOAD_BYTES.div_ceil(crate::upload_intake::MIB);
        if u64::from(self.upload_buffer_mib) < largest {
            return Err(Error::Config(format!(
                "[limits] upload_buffer_mib must be at least {largest} (the largest file)"
            )));
        }
        Ok(())
    }
}

impl Site {
    /// True when `origin` (an `Origin` header value) is one of this site's origins.
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.origins
            .iter()
            .any(|o| o.origin().ascii_serialization() == origin)
    }
}

/// Whether browsers treat pages of `origin` as a secure context, where
/// passkeys work and network attackers cannot inject script: `https://`, or
/// `http://` on this machine (`localhost` and its subdomains). Any other
/// scheme has an opaque origin, which browsers send as `Origin: null`.
fn secure_context(origin: &Url) -> bool {
    let host = origin.host_str().unwrap_or_default();
    match origin.scheme() {
        "https" => true,
        "http" => host == "localhost" || host.ends_with(".localhost"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
        listen = "127.0.0.1:0"
        database_url = "sqlite::memory:"
        [relying_party]
        id = "example-hospital.org"
        name = "Example"
        [[sites]]
        id = "main"
        name = "Example Hospital"
        him_phone = "555"
        origins = ["https://www.example-hospital.org"]
        [email]
        mode = "smtp"
        [smtp]
        host = "smtp.example-hospital.org"
        tls = "starttls"
        from = "Records <records@example-hospital.org>"
    "#;

    fn parse(extra: &str) -> Result<Config, Error> {
        let mut config: Config =
            toml::from_str(&format!("{BASE}{extra}")).map_err(|e| Error::Config(e.to_string()))?;
        config.encryption.keys_from_env = Some(crate::vault::Vault::new_key_line("t"));
        config.check().map(|()| config)
    }

    #[test]
    fn encryption_keys_are_required_and_may_come_from_the_environment() {
        let mut config: Config = toml::from_str(BASE).unwrap();
        config.check().unwrap();
        let err = config.encryption.vault().unwrap_err().to_string();
        assert!(err.contains("[encryption] key_file"), "{err}");
        let line = crate::vault::Vault::new_key_line("env-1");
        config
            .apply_env(|k| (k == "RECORDPASS_ENCRYPTION_KEYS").then(|| line.clone()))
            .unwrap();
        config.check().unwrap();
        assert_eq!(config.encryption.vault().unwrap().active_id(), "env-1");
    }

    #[test]
    fn origins_outside_the_rp_id_are_refused() {
        assert!(parse("").is_ok());
        let err = parse(
            "[[sites]]\nid = \"x\"\nname = \"X\"\nhim_phone = \"1\"\norigins = [\"https://evil-example-hospital.org\"]\n",
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("not within relying-party id"),
            "{err}"
        );
    }

    #[test]
    fn the_wrong_code_budget_stays_within_nist_s_hundred() {
        let limits = |n: u32| parse(&format!("[limits]\nwrong_codes_per_mailbox = {n}\n"));
        assert_eq!(parse("").expect("valid").limits.wrong_codes_per_mailbox, 20);
        assert!(limits(100).is_ok());
        let err = limits(101).unwrap_err().to_string();
        assert!(err.contains("at most 100"), "{err}");
        assert!(limits(0).is_err());
    }

    #[test]
    fn env_overrides_file() {
        let mut config = parse("").expect("valid");
        config
            .apply_env(|k| (k == "RECORDPASS_DATABASE_URL").then(|| "sqlite://x.db".to_owned()))
            .expect("applies");
        assert_eq!(config.database_url, "sqlite://x.db");
        assert!(
            config
                .apply_env(|k| (k == "RECORDPASS_LISTEN").then(|| "nope".into()))
                .is_err()
        );
    }

    #[test]
    fn metrics_are_on_a_loopback_listener_unless_turned_off() {
        let mut config = parse("").expect("valid");
        assert_eq!(config.metrics_listen, Some(DEFAULT_METRICS_LISTEN));
        assert_eq!(DEFAULT_METRICS_LISTEN.to_string(), "127.0.0.1:9464");
        let off: Config =
            toml::from_str(&format!("metrics_listen = \"off\"\n{BASE}")).expect("valid");
        assert_eq!(off.metrics_listen, None);
        assert!(toml::from_str::<Config>(&format!("metrics_listen = \"9464\"\n{BASE}")).is_err());
        config
            .apply_env(|k| (k == "RECORDPASS_METRICS_LISTEN").then(|| "off".into()))
            .expect("applies");
        assert_eq!(config.metrics_listen, None);
        config
            .apply_env(|k| (k == "RECORDPASS_METRICS_LISTEN").then(|| "127.0.0.1:9464".into()))
            .expect("applies");
        assert_eq!(config.metrics_listen, Some(([127, 0, 0, 1], 9464).into()));
        assert!(
            config
                .apply_env(|k| (k == "RECORDPASS_METRICS_LISTEN").then(|| "9464".into()))
                .is_err()
        );
    }

    #[test]
    fn site_origins_must_be_secure_contexts() {
        let url = |u: &str| Url::parse(u).expect(u);
        for secure in [
            "https://www.example-hospital.org",
            "http://localhost:8081",
            "http://records.localhost:8081",
        ] {
            assert!(secure_context(&url(secure)), "{secure}");
        }
        // A network attacker could inject script into an http page; other
        // schemes have opaque origins, which browsers send as `null`.
        for insecure in [
            "http://www.example-hospital.org",
            "http://localhost.example-hospital.org",
            "app://www.example-hospital.org",
            "ftp://www.example-hospital.org",
        ] {
            assert!(!secure_context(&url(insecure)), "{insecure}");
        }
        let text = BASE.replace("https://www.", "http://www.");
        let mut config: Config = toml::from_str(&text).expect("parses");
        config.encryption.keys_from_env = Some(crate::vault::Vault::new_key_line("t"));
        let err = config.check().expect_err("refused").to_string();
        assert!(err.contains("must be https://"), "{err}");
    }

    /// A local demo configuration with `email`.
    fn local(email: &str, rp: &str, origin: &str) -> Result<Config, Error> {
        let text = format!(
            "listen = \"127.0.0.1:0\"\ndatabase_url = \"sqlite::memory:\"\n\
             [relying_party]\nid = \"{rp}\"\nname = \"R\"\n\
             [[sites]]\nid = \"demo\"\nname = \"R\"\nhim_phone = \"1\"\norigins = [\"{origin}\"]\n{email}"
        );
        let mut config: Config = toml::from_str(&text).map_err(|e| Error::Config(e.to_string()))?;
        config.encryption.keys_from_env = Some(crate::vault::Vault::new_key_line("t"));
        config.check().map(|()| config)
    }

    #[test]
    fn the_demo_outbox_is_refused_with_a_production_relying_party() {
        let demo = "[email]\nmode = \"demo-outbox\"\n";
        assert!(local(demo, "localhost", "http://localhost:8081").is_ok());
        for (rp, origin) in [
            ("example-hospital.org", "https://www.example-hospital.org"),
            ("localhost", "https://records.localhost"),
        ] {
            let err = local(demo, rp, origin).expect_err("refused");
            assert!(err.to_string().contains("demo-outbox"), "{err}");
        }
        let mut config = local(demo, "localhost", "http://localhost:8081").expect("valid");
        config.public_url = Some(Url::parse("https://records.example-hospital.org").expect("url"));
        assert!(
            config.check().is_err(),
            "a public verifier URL is production too"
        );
        let mut config = local(demo, "localhost", "http://localhost:8081").expect("valid");
        config.listen = "0.0.0.0:8080".parse().expect("address");
        let err = config
            .check()
            .expect_err("listening on every interface is refused");
        assert!(err.to_string().contains("loopback"), "{err}");
    }

    #[test]
    fn smtp_must_be_encrypted_off_this_machine() {
        assert!(parse("").is_ok());
        let plain = |host: &str| {
            let mut config = parse("").expect("valid");
            if let Some(smtp) = &mut config.smtp {
                smtp.host = host.into();
                smtp.tls = SmtpTls::None;
            }
            config.check()
        };
        assert!(plain("127.0.0.1").is_ok() && plain("localhost").is_ok());
        assert!(plain("smtp.example-hospital.org").is_err());
        let no_smtp = "[email]\nmode = \"smtp\"\n";
        assert!(local(no_smtp, "localhost", "http://localhost:8081").is_err());
    }

    #[test]
    fn unsigned_requesters_are_kept_30_days_by_default_and_at_least_a_day() {
        assert_eq!(
            parse("").expect("valid").retention.unsigned_requester_days,
            30
        );
        let days = |n: u32| parse(&format!("[retention]\nunsigned_requester_days = {n}\n"));
        assert_eq!(days(1).expect("valid").retention.unsigned_requester_days, 1);
        let err = days(0).expect_err("refused").to_string();
        assert!(err.contains("unsigned_requester_days"), "{err}");
    }

    #[test]
    fn signed_requests_are_kept_at_least_six_years_unless_explicitly_allowed() {
        let config = parse("").expect("valid");
        assert_eq!(config.retention.signed_request_days, 2192);
        assert!(!config.retention.allow_short_signed_retention);
        let days = |n: u32, allow: bool| {
            parse(&format!(
                "[retention]\nsigned_request_days = {n}\nallow_short_signed_retention = {allow}\n"
            ))
        };
        assert!(days(2192, false).is_ok() && days(4000, false).is_ok());
        for typo in [6, 0, 2191] {
            let err = days(typo, false).expect_err("refused").to_string();
            assert!(err.contains("[retention] signed_request_days"), "{err}");
            assert!(err.contains("allow_short_signed_retention"), "{err}");
        }
        assert_eq!(
            days(0, true)
                .expect("allowed")
                .retention
                .signed_request_days,
            0
        );
        // The environment variable is checked like the file.
        let mut config = parse("").expect("valid");
        config
            .apply_env(|k| (k == "RECORDPASS_RETENTION_SIGNED_REQUEST_DAYS").then(|| "0".into()))
            .expect("applies");
        let err = config.check().expect_err("refused").to_string();
        assert!(
            err.contains("RECORDPASS_RETENTION_SIGNED_REQUEST_DAYS"),
            "{err}"
        );
    }

    #[test]
    fn uploads_in_flight_default_to_one_and_zero_is_refused() {
        assert_eq!(parse("").expect("valid").limits.uploads_in_flight, 1);
        let n = |n: u32| parse(&format!("[limits]\nuploads_in_flight = {n}\n"));
        assert_eq!(n(3).expect("valid").limits.uploads_in_flight, 3);
        let err = n(0).expect_err("refused").to_string();
        assert!(
            err.contains("uploads_in_flight must be at least 1"),
            "{err}"
        );
    }

    #[test]
    fn the_upload_buffer_defaults_to_32_mib_and_must_hold_the_largest_file() {
        assert_eq!(parse("").expect("valid").limits.upload_buffer_mib, 32);
        let n = |n: u32| parse(&format!("[limits]\nupload_buffer_mib = {n}\n"));
        assert_eq!(n(10).expect("valid").limits.upload_buffer_mib, 10);
        let err = n(9).expect_err("refused").to_string();
        assert!(
            err.contains("upload_buffer_mib must be at least 10"),
            "{err}"
        );
    }

    #[test]
    fn origin_matching_is_exact() {
        let config = parse("").expect("valid");
        let site = config.site("main").expect("site");
        assert!(site.allows_origin("https://www.example-hospital.org"));
        assert!(!site.allows_origin("https://www.example-hospital.org:8443"));
        assert!(!site.allows_origin("http://www.example-hospital.org"));
    }
}
