//! The SMTP relay: STARTTLS, implicit TLS (rustls, webpki roots) or, for a
//! relay on this machine only, plain.

use std::time::Duration;

use lettre::{
    AsyncSmtpTransport, Tokio1Executor,
    transport::smtp::{self, authentication::Credentials},
};

use crate::{
    Error,
    config::{Smtp, SmtpTls},
};

/// The async SMTP transport.
pub type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// Builds the transport; reads the password file now so a bad path fails at start-up.
pub fn transport(config: &Smtp) -> Result<Transport, Error> {
    let tls_error = |e: smtp::Error| Error::Config(format!("smtp: {e}"));
    let builder = match config.tls {
        SmtpTls::Starttls => Transport::starttls_relay(&config.host).map_err(tls_error)?,
        SmtpTls::Tls => Transport::relay(&config.host).map_err(tls_error)?,
        SmtpTls::None => Transport::builder_dangerous(&config.host),
    };
    let mut builder = builder
        .port(config.port())
        .timeout(Some(Duration::from_secs(config.timeout_secs)));
    if let (Some(username), Some(path)) = (&config.username, &config.password_file) {
        let password = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("cannot read {}: {e}", path.display())))?;
        let password = password.trim_end_matches(['\r', '\n']).to_owned();
        builder = builder.credentials(Credentials::new(username.clone(), password));
    }
    Ok(builder.build())
}

/// What went wrong, without the relay's text (which may quote the address).
pub fn describe(error: &smtp::Error) -> String {
    let kind = if error.is_permanent() {
        "permanent"
    } else if error.is_transient() {
        "transient"
    } else if error.is_timeout() {
        "timeout"
    } else if error.is_tls() {
        "tls"
    } else {
        "connection"
    };
    match error.status() {
        Some(code) => format!("smtp {kind} error {code}"),
        None => format!("smtp {kind} error"),
    }
}
