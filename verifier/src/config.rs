//! Verifier configuration: a TOML file, overridden by `RECORDPASS_*` variables.

use serde::Deserialize;
use std::{collections::HashSet, net::SocketAddr, path::PathBuf, time::Duration};
use webauthn_rs::prelude::Url;

use crate::Error;

/// The verifier's configuration (see `verifier/recordpass.example.toml`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to bind; port 0 picks a free one.
    pub listen: SocketAddr,
    /// `sqlite://path` (created if missing).
    pub database_url: String,
    /// Directory holding the built widget (`manifest.json`, `widget.js`, `assets/`).
    #[serde(default = "default_widget_dir")]
    pub widget_dir: PathBuf,
    /// Public base URL of this verifier; defaults to `http://localhost:<port>`.
    #[serde(default)]
    pub public_url: Option<Url>,
    /// Lifetime of a passkey ceremony, in seconds.
    #[serde(default = "default_ceremony_ttl")]
    pub ceremony_ttl_secs: u64,
    /// WebAuthn relying party.
    pub relying_party: RelyingParty,
    /// Websites that embed the widget.
    pub sites: Vec<Site>,
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
    /// Exact page origins allowed to embed the widget and call the API.
    pub origins: Vec<Url>,
}

fn default_widget_dir() -> PathBuf {
    PathBuf::from("target/widget/dist")
}

fn default_ceremony_ttl() -> u64 {
    300
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
        if let Some(v) = var("RECORDPASS_DATABASE_URL") {
            self.database_url = v;
        }
        if let Some(v) = var("RECORDPASS_WIDGET_DIR") {
            self.widget_dir = v.into();
        }
        if let Some(v) = var("RECORDPASS_PUBLIC_URL") {
            self.public_url = Some(v.parse().map_err(|e| bad("RECORDPASS_PUBLIC_URL", &e))?);
        }
        Ok(())
    }

    /// Rejects configurations that would fail at run time or weaken origin checks.
    pub fn check(&self) -> Result<(), Error> {
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
            for origin in &site.origins {
                let host = origin.host_str().unwrap_or_default();
                let rp = &self.relying_party.id;
                if host != rp && !host.ends_with(&format!(".{rp}")) {
                    return Err(Error::Config(format!(
                        "origin {origin} of site {:?} is not within relying-party id {rp:?}",
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
        Ok(())
    }

    /// The site with `id`, if configured.
    pub fn site(&self, id: &str) -> Option<&Site> {
        self.sites.iter().find(|s| s.id == id)
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
}

impl Site {
    /// True when `origin` (an `Origin` header value) is one of this site's origins.
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.origins
            .iter()
            .any(|o| o.origin().ascii_serialization() == origin)
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
    "#;

    fn parse(extra: &str) -> Result<Config, Error> {
        let config: Config =
            toml::from_str(&format!("{BASE}{extra}")).map_err(|e| Error::Config(e.to_string()))?;
        config.check().map(|()| config)
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
    fn origin_matching_is_exact() {
        let config = parse("").expect("valid");
        let site = config.site("main").expect("site");
        assert!(site.allows_origin("https://www.example-hospital.org"));
        assert!(!site.allows_origin("https://www.example-hospital.org:8443"));
        assert!(!site.allows_origin("http://www.example-hospital.org"));
    }
}
