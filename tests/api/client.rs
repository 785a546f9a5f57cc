//! A requester: an HTTP client plus a software passkey.

use recordpass_request::{
    Digest, Lang, RecordsRequest,
    api::{
        EmailCodeSent, EmailVerified, FILE_NAME_HEADER, Registered, RegistrationStarted,
        SigningStarted,
    },
    examples,
};
use recordpass_tests::{SITE_ID, SITE_ORIGIN, TestVerifier};
use reqwest::StatusCode;
use serde_json::{Value, json};
use url::Url;
use webauthn_authenticator_rs::{WebauthnAuthenticator, softpasskey::SoftPasskey};

/// A person using the widget, as the verifier sees them.
pub struct Requester<'a> {
    pub verifier: &'a TestVerifier,
    pub http: reqwest::Client,
    pub passkey: SoftPasskey,
}

/// A valid request for Ana, signed today.
pub fn ana_request() -> RecordsRequest {
    dated(examples::self_access())
}

/// `request`, signed today (UTC, as the test verifier's clock).
pub fn dated(request: RecordsRequest) -> RecordsRequest {
    examples::dated(request, time::OffsetDateTime::now_utc().date())
}

/// POSTs `bytes` to the upload endpoint as the widget does; returns status and body.
pub async fn upload_file(
    verifier: &TestVerifier,
    origin: &str,
    name: &str,
    content_type: &str,
    bytes: &[u8],
) -> (StatusCode, Value) {
    let encoded = percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC);
    let resp = reqwest::Client::new()
        .post(verifier.url(&format!("/api/v1/sites/{SITE_ID}/uploads")))
        .header(FILE_NAME_HEADER, encoded.to_string())
        .header("Origin", origin)
        .header("Content-Type", content_type)
        .body(bytes.to_vec())
        .send()
        .await
        .expect("sent");
    (resp.status(), resp.json().await.unwrap_or(Value::Null))
}

pub fn site_origin() -> Url {
    Url::parse(SITE_ORIGIN).expect("origin")
}

impl<'a> Requester<'a> {
    pub fn new(verifier: &'a TestVerifier) -> Requester<'a> {
        Requester {
            verifier,
            http: reqwest::Client::new(),
            passkey: SoftPasskey::new(true),
        }
    }

    /// POSTs JSON with the given `Origin` header; returns status and body.
    pub async fn post_from(
        &self,
        origin: Option<&str>,
        path: &str,
        body: &Value,
    ) -> (StatusCode, Value) {
        let mut req = self.http.post(self.verifier.url(path)).json(body);
        if let Some(origin) = origin {
            req = req.header("Origin", origin);
        }
        let resp = req.send().await.expect("request sent");
        let status = resp.status();
        let body = resp.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    /// Uploads the example file (`examples::PROOF_*`) that each attachment of
    /// `request` names, as the widget does before signing.
    pub async fn upload_attachments(&self, request: &RecordsRequest) {
        for a in &request.requester.attachments {
            let bytes = [
                examples::PROOF_PDF,
                examples::PROOF_JPEG,
                examples::PROOF_PNG,
            ]
            .into_iter()
            .find(|b| Digest::of(b) == a.sha256)
            .expect("the attachment names an example file");
            let (status, body) = upload_file(
                self.verifier,
                SITE_ORIGIN,
                &a.name,
                a.media_type.mime(),
                bytes,
            )
            .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
    }

    /// POSTs JSON from the site's origin.
    pub async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.post_from(Some(SITE_ORIGIN), path, body).await
    }

    /// Asks for a code for `email`; returns status and body.
    pub async fn send_code(&self, email: &str) -> (StatusCode, Value) {
        let body = json!({"site_id": SITE_ID, "email": email, "lang": "en"});
        self.post("/api/v1/email-codes", &body).await
    }

    /// Asks for a code for `email` and expects `202`.
    pub async fn code_sent(&self, email: &str) -> EmailCodeSent {
        let (status, body) = self.send_code(email).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        serde_json::from_value(body).expect("EmailCodeSent")
    }

    /// Submits `code` for a verification; returns status and body.
    pub async fn verify_code(&self, verification_id: &str, code: &str) -> (StatusCode, Value) {
        let path = format!("/api/v1/email-codes/{verification_id}/verify");
        self.post(&path, &json!({"code": code})).await
    }

    /// Proves control of `email` the way a person does: ask for a code, read
    /// it from the email the verifier sent over SMTP, type it in.
    pub async fn email_token(&self, email: &str) -> String {
        let sent = self.code_sent(email).await;
        let code = self
            .verifier
            .smtp
            .take_for(email)
            .await
            .code()
            .expect("code in the email");
        let (status, body) = self.verify_code(&sent.verification_id, &code).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        serde_json::from_value::<EmailVerified>(body)
            .expect("EmailVerified")
            .email_token
    }

    /// Starts passkey creation with an email token; returns status and body.
    pub async fn start_registration_with(&self, email_token: &str) -> (StatusCode, Value) {
        let body = json!({"site_id": SITE_ID, "email_token": email_token, "display_name": "Ana María Pérez"});
        self.post("/api/v1/registrations", &body).await
    }

    /// Verifies `email`, then starts passkey creation for it.
    pub async fn start_registration(&self, email: &str) -> RegistrationStarted {
        let token = self.email_token(email).await;
        let (status, body) = self.start_registration_with(&token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        serde_json::from_value(body).expect("RegistrationStarted")
    }

    /// Verifies `email` and creates a passkey for it, returning its credential id.
    pub async fn register(&mut self, email: &str) -> String {
        let started = self.start_registration(email).await;
        self.finish_registration(&started).await
    }

    /// Creates the passkey for a started registration, returning its credential id.
    pub async fn finish_registration(&mut self, started: &RegistrationStarted) -> String {
        let credential = self.passkey_registration(started);
        let path = format!("/api/v1/registrations/{}/finish", started.ceremony_id);
        let (status, body) = self.post(&path, &credential).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        serde_json::from_value::<Registered>(body)
            .expect("Registered")
            .credential_id
    }

    /// Starts signing `request` with `credential_id`.
    pub async fn start_signing(
        &self,
        request: &RecordsRequest,
        credential_id: &str,
    ) -> (StatusCode, Value) {
        self.start_signing_in(request, credential_id, Lang::En)
            .await
    }

    /// Starts signing `request` with the statement shown in `lang`.
    pub async fn start_signing_in(
        &self,
        request: &RecordsRequest,
        credential_id: &str,
        lang: Lang,
    ) -> (StatusCode, Value) {
        let body = json!({"site_id": SITE_ID, "lang": lang, "request": request, "credential_id": credential_id});
        self.post("/api/v1/signatures", &body).await
    }

    /// Starts signing and expects success.
    pub async fn signing(&self, request: &RecordsRequest, credential_id: &str) -> SigningStarted {
        let (status, body) = self.start_signing(request, credential_id).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        serde_json::from_value(body).expect("SigningStarted")
    }

    /// Signs the ceremony's challenge with the soft passkey from `origin`.
    pub fn assert_from(&mut self, origin: Url, started: &SigningStarted) -> Value {
        let credential = self
            .passkey
            .do_authentication(origin, started.options.clone())
            .expect("soft passkey signs");
        json!({"credential": credential})
    }

    /// Uses `user_agent` for every request from now on (it is recorded as evidence).
    pub fn with_user_agent(mut self, user_agent: &str) -> Self {
        self.http = reqwest::Client::builder()
            .user_agent(user_agent)
            .build()
            .expect("client");
        self
    }

    /// Creates a passkey for `ana@example.org` and signs Ana's request with it
    /// `times` times; returns the request numbers.
    pub async fn register_and_sign(&mut self, times: usize) -> Vec<String> {
        let credential_id = self.register("ana@example.org").await;
        let mut numbers = Vec::with_capacity(times);
        for _ in 0..times {
            let started = self.signing(&ana_request(), &credential_id).await;
            let body = self.assert_from(site_origin(), &started);
            let (status, reply) = self.finish_signing(&started.ceremony_id, &body).await;
            assert_eq!(status, StatusCode::CREATED, "{reply}");
            numbers.push(reply["request_number"].as_str().expect("number").to_owned());
        }
        numbers
    }

    /// Finishes a signing ceremony.
    pub async fn finish_signing(&self, ceremony_id: &str, body: &Value) -> (StatusCode, Value) {
        self.post(&format!("/api/v1/signatures/{ceremony_id}/finish"), body)
            .await
    }
}

impl Requester<'_> {
    /// The soft passkey's answer to a registration ceremony, as a finish body.
    pub fn passkey_registration(&mut self, started: &RegistrationStarted) -> Value {
        let credential = self
            .passkey
            .do_registration(site_origin(), started.options.clone())
            .expect("soft passkey registers");
        json!({"credential": credential})
    }
}
