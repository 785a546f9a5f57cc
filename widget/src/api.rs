//! Typed client for the verifier's JSON API ([`recordpass_request::api`]).
//!
//! Every call is a CORS `fetch` without cookies, cache or redirects.

use std::rc::Rc;

use js_sys::{JSON, Object, Reflect};
use recordpass_request::api::{
    ApiError, EmailCodeSent, EmailVerified, MyRequests, Registered, RegistrationStarted,
    SendEmailCode, SignInStarted, SignedIn, SigningStarted, SiteInfo, StartRegistration,
    StartSignIn, StartSigning, Submitted, Uploaded, VerifyEmailCode,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Headers, RequestCache, RequestCredentials, RequestInit, RequestMode, RequestRedirect,
};

use crate::error::Failure;
use crate::json;
use crate::passkey::{Credential, Options};

/// A client for one verifier.
#[derive(Clone, Debug, PartialEq)]
pub struct Client {
    base: Rc<str>,
}

impl Client {
    /// `base` is the verifier's base URL without a trailing slash.
    pub fn new(base: &str) -> Client {
        Client {
            base: base.trim_end_matches('/').into(),
        }
    }

    /// `GET /api/v1/sites/{site}`.
    pub async fn site(&self, site: &str) -> Result<SiteInfo, Failure> {
        self.send(
            "GET",
            &format!("/api/v1/sites/{}", encode_segment(site)),
            None,
            None,
        )
        .await
    }

    /// `POST /api/v1/email-codes`.
    pub async fn send_email_code(&self, body: &SendEmailCode) -> Result<EmailCodeSent, Failure> {
        self.post("/api/v1/email-codes", body).await
    }

    /// `POST /api/v1/email-codes/{id}/verify`.
    pub async fn verify_email_code(
        &self,
        verification_id: &str,
        body: &VerifyEmailCode,
    ) -> Result<EmailVerified, Failure> {
        let path = format!(
            "/api/v1/email-codes/{}/verify",
            encode_segment(verification_id)
        );
        self.post(&path, body).await
    }

    /// `POST /api/v1/registrations`.
    pub async fn start_registration(
        &self,
        body: &StartRegistration,
    ) -> Result<RegistrationStarted<Options>, Failure> {
        self.post("/api/v1/registrations", body).await
    }

    /// `POST /api/v1/registrations/{id}/finish` (a `FinishRegistration`).
    pub async fn finish_registration(
        &self,
        ceremony_id: &str,
        credential: &Credential,
    ) -> Result<Registered, Failure> {
        let path = format!(
            "/api/v1/registrations/{}/finish",
            encode_segment(ceremony_id)
        );
        self.post_credential(&path, credential).await
    }

    /// `POST /api/v1/signatures`, with the returning requester's session if any.
    pub async fn start_signing(
        &self,
        body: &StartSigning,
        session: Option<&str>,
    ) -> Result<SigningStarted<Options>, Failure> {
        let json = json::encode(body).ok_or(Failure::BadResponse)?;
        self.send(
            "POST",
            "/api/v1/signatures",
            Some((json.into(), JSON_TYPE)),
            session.map(Extra::Session),
        )
        .await
    }

    /// `POST /api/v1/sign-ins`.
    pub async fn start_sign_in(
        &self,
        body: &StartSignIn,
    ) -> Result<SignInStarted<Options>, Failure> {
        self.post("/api/v1/sign-ins", body).await
    }

    /// `POST /api/v1/sign-ins/{id}/finish` (a `FinishSignIn`).
    pub async fn finish_sign_in(
        &self,
        ceremony_id: &str,
        credential: &Credential,
    ) -> Result<SignedIn, Failure> {
        let path = format!("/api/v1/sign-ins/{}/finish", encode_segment(ceremony_id));
        self.post_credential(&path, credential).await
    }

    /// `GET /api/v1/me/requests` with the session.
    pub async fn my_requests(&self, session: &str) -> Result<MyRequests, Failure> {
        self.send(
            "GET",
            "/api/v1/me/requests",
            None,
            Some(Extra::Session(session)),
        )
        .await
    }

    /// `DELETE /api/v1/me/session`: ends the session.
    pub async fn sign_out(&self, session: &str) -> Result<(), Failure> {
        let path = "/api/v1/me/session";
        self.fetch("DELETE", path, None, Some(Extra::Session(session)))
            .await
            .map(|_| ())
            .map_err(Failure::from)
    }

    /// `GET /api/v1/me/requests/{number}/receipt` with the session: the
    /// sealed evidence bundle, as the verifier wrote it.
    pub async fn receipt(&self, session: &str, number: &str) -> Result<String, Failure> {
        let path = format!("/api/v1/me/requests/{}/receipt", encode_segment(number));
        self.fetch("GET", &path, None, Some(Extra::Session(session)))
            .await
            .map_err(Failure::from)
    }

    /// `POST /api/v1/signatures/{id}/finish` (a `FinishSigning`).
    pub async fn finish_signing(
        &self,
        ceremony_id: &str,
        credential: &Credential,
    ) -> Result<Submitted, Failure> {
        let path = format!("/api/v1/signatures/{}/finish", encode_segment(ceremony_id));
        self.post_credential(&path, credential).await
    }

    /// `POST /api/v1/sites/{site}/uploads`: a proof-of-authority file's bytes,
    /// its name in a header (a name in the URL would reach proxies' access logs).
    /// A refusal carries the verifier's `Retry-After`, if it sent one.
    pub async fn upload(
        &self,
        site: &str,
        name: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<Uploaded, Refusal> {
        let path = format!("/api/v1/sites/{}/uploads", encode_segment(site));
        let body = js_sys::Uint8Array::from(bytes);
        let name = Some(Extra::FileName(name));
        let text = self
            .fetch("POST", &path, Some((body.into(), media_type)), name)
            .await?;
        json::decode(&text).ok_or_else(|| Failure::BadResponse.into())
    }

    /// Posts `{"credential": …}`, the browser object as JSON.
    async fn post_credential<T: DeserializeOwned>(
        &self,
        path: &str,
        credential: &Credential,
    ) -> Result<T, Failure> {
        let body = Object::new();
        Reflect::set(&body, &"credential".into(), credential.as_object())
            .map_err(|_| Failure::BadResponse)?;
        let json = JSON::stringify(&body)
            .ok()
            .and_then(|json| json.as_string())
            .ok_or(Failure::BadResponse)?;
        self.send("POST", path, Some((json.into(), JSON_TYPE)), None)
            .await
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, Failure> {
        let json = json::encode(body).ok_or(Failure::BadResponse)?;
        self.send("POST", path, Some((json.into(), JSON_TYPE)), None)
            .await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Option<(JsValue, &str)>,
        extra: Option<Extra<'_>>,
    ) -> Result<T, Failure> {
        let text = self.fetch(method, path, body, extra).await?;
        json::decode(&text).ok_or(Failure::BadResponse)
    }

    /// The body of a `2xx` answer; an [`ApiError`] otherwise.
    async fn fetch(
        &self,
        method: &str,
        path: &str,
        body: Option<(JsValue, &str)>,
        extra: Option<Extra<'_>>,
    ) -> Result<String, Refusal> {
        let network = |_: JsValue| Refusal::from(Failure::Network);
        let init = RequestInit::new();
        init.set_method(method);
        init.set_mode(RequestMode::Cors);
        init.set_credentials(RequestCredentials::Omit);
        init.set_cache(RequestCache::NoStore);
        init.set_redirect(RequestRedirect::Error);
        let headers = Headers::new().map_err(network)?;
        headers.set("Accept", "application/json").map_err(network)?;
        match extra {
            Some(Extra::Session(token)) => headers.set("Authorization", &format!("Bearer {token}")),
            Some(Extra::FileName(name)) => headers.set(FILE_NAME_HEADER, &encode_segment(name)),
            None => Ok(()),
        }
        .map_err(network)?;
        if let Some((body, content_type)) = body {
            headers.set("Content-Type", content_type).map_err(network)?;
            init.set_body(&body);
        }
        init.set_headers(&headers);

        let window = web_sys::window().ok_or(Failure::Network)?;
        let url = format!("{}{path}", self.base);
        let response = JsFuture::from(window.fetch_with_str_and_init(&url, &init))
            .await
            .map_err(network)?
            .dyn_into::<web_sys::Response>()
            .map_err(network)?;
        let text = JsFuture::from(response.text().map_err(network)?)
            .await
            .map_err(network)?
            .as_string()
            .unwrap_or_default();
        if response.ok() {
            return Ok(text);
        }
        let retry_after = response
            .headers()
            .get("Retry-After")
            .ok()
            .flatten()
            .and_then(|secs| secs.trim().parse().ok());
        Err(Refusal {
            failure: json::decode::<ApiError>(&text).map_or(Failure::BadResponse, Failure::Api),
            retry_after,
        })
    }
}

/// A failed call, with the `Retry-After` seconds the verifier sent, if any
/// (dates are not used by the verifier and are ignored).
pub struct Refusal {
    /// What failed.
    pub failure: Failure,
    /// Seconds to wait before trying again.
    pub retry_after: Option<u32>,
}

impl From<Failure> for Refusal {
    fn from(failure: Failure) -> Refusal {
        Refusal {
            failure,
            retry_after: None,
        }
    }
}

impl From<Refusal> for Failure {
    fn from(refusal: Refusal) -> Failure {
        refusal.failure
    }
}

const JSON_TYPE: &str = "application/json";

/// The header an upload's file name travels in, percent-encoded UTF-8.
const FILE_NAME_HEADER: &str = recordpass_request::api::FILE_NAME_HEADER;

/// A header a request adds to the usual ones.
enum Extra<'a> {
    /// A returning requester's session token (`Authorization: Bearer`).
    Session(&'a str),
    /// An uploaded file's name ([`FILE_NAME_HEADER`]).
    FileName(&'a str),
}

/// Percent-encodes a path segment (everything but RFC 3986 unreserved characters).
fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(encode_segment("demo-site_1.x~"), "demo-site_1.x~");
        assert_eq!(encode_segment("../a b/é"), "..%2Fa%20b%2F%C3%A9");
    }

    #[test]
    fn base_url_loses_its_trailing_slash() {
        assert_eq!(
            &*Client::new("https://v.example/").base,
            "https://v.example"
        );
    }
}
