//! A virtual user: an HTTP client and a software passkey that
//! verifies its email and registers once ([`VirtualUser::register`]), then
//! signs one request per [`VirtualUser::submit`]: start the signing ceremony,
//! sign with the passkey, finish (the verifier stores it durably).
//!
//! Unlike `tests/api/client.rs` (which asserts on every answer) it owns its
//! target, so tasks can run it on any thread, and it returns errors instead of
//! panicking so the bench can report them (and the crash test can count what
//! was acknowledged before the verifier died).

use crate::{SITE_ID, SITE_ORIGIN, TestVerifier, smtp::SmtpServer};
use recordpass_request::{
    Lang, RecordsRequest,
    api::{
        EmailCodeSent, EmailVerified, Registered, RegistrationStarted, SigningStarted, Submitted,
    },
};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::sync::Arc;
use url::Url;
use webauthn_authenticator_rs::{WebauthnAuthenticator, softpasskey::SoftPasskey};

/// What went wrong, for the report.
pub type Error = String;

/// A verifier to load: its base URL and the SMTP server it sends codes to.
pub struct Target {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    mailbox: Mailbox,
}

/// Where the target's code emails arrive.
enum Mailbox {
    /// A verifier in this process, with its own SMTP server.
    InProcess(Box<TestVerifier>),
    /// A verifier process sending to this server.
    Smtp(Arc<SmtpServer>),
}

impl Target {
    /// The in-process test verifier (kept running as long as the target).
    pub fn in_process(verifier: TestVerifier) -> Target {
        Target {
            base_url: verifier.base_url.clone(),
            mailbox: Mailbox::InProcess(Box::new(verifier)),
        }
    }

    /// A verifier at `base_url` that sends its codes to `smtp`.
    pub fn external(base_url: String, smtp: Arc<SmtpServer>) -> Target {
        Target {
            base_url,
            mailbox: Mailbox::Smtp(smtp),
        }
    }

    fn smtp(&self) -> &SmtpServer {
        match &self.mailbox {
            Mailbox::InProcess(verifier) => &verifier.smtp,
            Mailbox::Smtp(smtp) => smtp,
        }
    }
}

/// One requester with a registered passkey.
pub struct VirtualUser {
    target: Arc<Target>,
    http: reqwest::Client,
    passkey: SoftPasskey,
    request: RecordsRequest,
    credential_id: String,
}

impl VirtualUser {
    /// Verifies `email` with the emailed code and creates a passkey; the user
    /// then signs `request` (whose email must be `email`) on each submit.
    /// Users may share an email: each registration is a new requester.
    pub async fn register(
        target: Arc<Target>,
        email: &str,
        request: RecordsRequest,
    ) -> Result<VirtualUser, Error> {
        let mut user = VirtualUser {
            target,
            http: reqwest::Client::new(),
            passkey: SoftPasskey::new(true),
            request,
            credential_id: String::new(),
        };
        let body = json!({"site_id": SITE_ID, "email": email, "lang": "en"});
        let sent: EmailCodeSent = user.post("/api/v1/email-codes", &body).await?;
        let code = user.target.smtp().take_for(email).await.code();
        let code = code.ok_or("no code in the email")?;
        let path = format!("/api/v1/email-codes/{}/verify", sent.verification_id);
        let verified: EmailVerified = user.post(&path, &json!({"code": code})).await?;
        let body = json!({"site_id": SITE_ID, "email_token": verified.email_token, "display_name": "Bench"});
        let started: RegistrationStarted = user.post("/api/v1/registrations", &body).await?;
        let credential = user
            .passkey
            .do_registration(origin(), started.options)
            .map_err(|e| format!("soft passkey registration: {e:?}"))?;
        let path = format!("/api/v1/registrations/{}/finish", started.ceremony_id);
        let registered: Registered = user.post(&path, &json!({"credential": credential})).await?;
        user.credential_id = registered.credential_id;
        Ok(user)
    }

    /// Signs one request: start, passkey assertion, finish (`201 Created`);
    /// returns the verifier's acknowledgement.
    pub async fn submit(&mut self) -> Result<Submitted, Error> {
        let body = json!({"site_id": SITE_ID, "lang": Lang::En, "request": self.request, "credential_id": self.credential_id});
        let started: SigningStarted = self.post("/api/v1/signatures", &body).await?;
        let credential = self
            .passkey
            .do_authentication(origin(), started.options)
            .map_err(|e| format!("soft passkey assertion: {e:?}"))?;
        let path = format!("/api/v1/signatures/{}/finish", started.ceremony_id);
        self.post(&path, &json!({"credential": credential})).await
    }

    /// POSTs JSON from the site's origin and decodes a `2xx` answer.
    async fn post<T: DeserializeOwned>(&self, path: &str, body: &Value) -> Result<T, Error> {
        let url = format!("{}{path}", self.target.base_url);
        let resp = self
            .http
            .post(url)
            .header("Origin", SITE_ORIGIN)
            .json(body)
            .send()
            .await
            .map_err(|e| format!("POST {path}: {e}"))?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| format!("POST {path}: {e}"))?;
        if !status.is_success() || status == StatusCode::NO_CONTENT {
            return Err(format!("POST {path}: {status}: {text}"));
        }
        serde_json::from_str(&text).map_err(|e| format!("POST {path}: {e}: {text}"))
    }
}

/// The site's origin, as the passkey sees it.
fn origin() -> Url {
    // A constant that parses.
    Url::parse(SITE_ORIGIN).unwrap_or_else(|_| unreachable!("SITE_ORIGIN is a URL"))
}
