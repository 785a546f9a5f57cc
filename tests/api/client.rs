//! A requester: an HTTP client plus a software passkey.

use recordpass_request::{
    Lang, RecordKind, RecordsRequest,
    api::{Registered, RegistrationStarted, SigningStarted},
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

/// A valid request for Ana.
pub fn ana_request() -> RecordsRequest {
    RecordsRequest {
        patient_name: "Ana María Pérez".into(),
        date_of_birth: "1984-03-07".into(),
        email: "ana@example.org".into(),
        records: vec![RecordKind::LabResults, RecordKind::Immunizations],
    }
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

    /// POSTs JSON from the site's origin.
    pub async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.post_from(Some(SITE_ORIGIN), path, body).await
    }

    /// Starts passkey creation for `email`.
    pub async fn start_registration(&self, email: &str) -> RegistrationStarted {
        let body = json!({"site_id": SITE_ID, "email": email, "display_name": "Ana María Pérez"});
        let (status, body) = self.post("/api/v1/registrations", &body).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        serde_json::from_value(body).expect("RegistrationStarted")
    }

    /// Creates a passkey for `email`, returning its credential id.
    pub async fn register(&mut self, email: &str) -> String {
        let started = self.start_registration(email).await;
        let credential = self
            .passkey
            .do_registration(site_origin(), started.options)
            .expect("soft passkey registers");
        let path = format!("/api/v1/registrations/{}/finish", started.ceremony_id);
        let (status, body) = self.post(&path, &json!({"credential": credential})).await;
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
        let body = json!({"site_id": SITE_ID, "lang": Lang::En, "request": request, "credential_id": credential_id});
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
