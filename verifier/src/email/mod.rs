//! Email verification: a 6-digit code proves the requester controls the
//! address before a passkey is bound to it.
//!
//! [`verification`] runs the flow against the database, [`codes`] draws and
//! hashes codes, [`mailbox`] keys its limits, [`message`] writes the email,
//! and it leaves through [`smtp`] or, in a local demo, lands in the [`outbox`].

pub mod codes;
pub mod mailbox;
pub mod message;
pub mod outbox;
pub mod smtp;
pub mod verification;

use std::{sync::Arc, time::Duration};

use lettre::{AsyncTransport as _, message::Mailbox};
use tokio_util::task::TaskTracker;

use crate::{
    Clock, Config, Error,
    config::{EmailMode, Smtp},
    metrics::{Deliveries, DeliveryLabels},
};
use codes::CodeKey;
use message::Letter;
use outbox::Outbox;

/// Sends verification emails; holds the key codes are hashed with.
pub struct Email {
    mailer: Mailer,
    from: Mailbox,
    /// Key for code hashes.
    pub key: CodeKey,
    /// Deliveries by outcome, exported by [`crate::metrics`].
    pub deliveries: Deliveries,
    /// Sends under way ([`Email::send_in_background`]), for [`Email::drain`].
    sending: TaskTracker,
    /// How long [`Email::drain`] waits: one relay timeout and a margin.
    drain_limit: Duration,
}

enum Mailer {
    Smtp(smtp::Transport),
    Outbox(Outbox),
}

impl Email {
    /// Builds the mailer for `config.email.mode` and loads (or draws) the code key.
    pub fn new(config: &Config, clock: Clock) -> Result<Email, Error> {
        let key = match &config.email.code_key_file {
            Some(path) => CodeKey::load(path)?,
            None => {
                let shared = crate::db::Backend::of_url(&config.database_url)
                    .is_ok_and(|b| b == crate::db::Backend::Postgres);
                if shared {
                    // Several instances: a code sent by one fails on the others
                    // as a wrong code, using up the requester's attempts.
                    tracing::warn!(
                        "email.code_key_file is not set: with PostgreSQL, every instance must \
                         share one code key, or codes sent by one instance are refused by the others"
                    );
                } else if config.email.mode == EmailMode::Smtp {
                    tracing::warn!(
                        "email.code_key_file is not set: codes can only be checked by this \
                         instance, and not after a restart"
                    );
                }
                CodeKey::random()
            }
        };
        let (mailer, from) = match (config.email.mode, &config.smtp) {
            (EmailMode::Smtp, Some(smtp)) => (Mailer::Smtp(smtp::transport(smtp)?), from(smtp)?),
            (EmailMode::Smtp, None) => return Err(Error::Config("[smtp] is missing".into())),
            (EmailMode::DemoOutbox, _) => {
                tracing::warn!("demo mode: verification emails are shown at /demo/outbox");
                let from = "Recordpass demo <demo@localhost>"
                    .parse()
                    .map_err(|e| Error::Internal(format!("demo sender: {e}")))?;
                (Mailer::Outbox(Outbox::new(clock)), from)
            }
        };
        let relay_timeout = config.smtp.as_ref().map_or(0, |smtp| smtp.timeout_secs);
        Ok(Email {
            mailer,
            from,
            key,
            deliveries: Deliveries::default(),
            sending: TaskTracker::new(),
            drain_limit: Duration::from_secs(relay_timeout + 5),
        })
    }

    /// The demo outbox, in demo mode.
    pub fn outbox(&self) -> Option<&Outbox> {
        match &self.mailer {
            Mailer::Outbox(outbox) => Some(outbox),
            Mailer::Smtp(_) => None,
        }
    }

    /// Sends `letter` without making the caller wait: the answer to the client
    /// must not depend on the address (a relay that refuses unknown mailboxes
    /// would otherwise tell), and a staff action must not wait for (or fail
    /// with) the relay. Failures are logged without the address and counted in
    /// `recordpass_email_deliveries_total{outcome="failed"}`.
    pub fn send_in_background(self: &Arc<Self>, letter: Letter) {
        let email = Arc::clone(self);
        self.sending.spawn(async move {
            let outcome = match email.send(letter).await {
                Ok(()) => "sent",
                Err(e) => {
                    tracing::warn!(error = %e, "email not sent");
                    "failed"
                }
            };
            email
                .deliveries
                .get_or_create(&DeliveryLabels { outcome })
                .inc();
        });
    }

    /// On shutdown, once no request can start another send: waits for the sends
    /// under way (a code or status notice the client was told about) to finish,
    /// for at most one relay timeout and a margin.
    pub async fn drain(&self) {
        self.sending.close();
        if tokio::time::timeout(self.drain_limit, self.sending.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                pending = self.sending.len(),
                "emails still being sent at shutdown were abandoned"
            );
        }
    }

    async fn send(&self, letter: Letter) -> Result<(), Error> {
        match &self.mailer {
            Mailer::Outbox(outbox) => {
                outbox.push(letter);
                Ok(())
            }
            Mailer::Smtp(transport) => {
                let message = letter.to_message(&self.from)?;
                transport
                    .send(message)
                    .await
                    .map(|_| ())
                    .map_err(|e| Error::Internal(smtp::describe(&e)))
            }
        }
    }
}

fn from(smtp: &Smtp) -> Result<Mailbox, Error> {
    smtp.from
        .parse()
        .map_err(|e| Error::Config(format!("smtp.from: {e}")))
}
