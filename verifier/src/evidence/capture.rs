//! What is captured about a signature when it is stored.

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{HeaderMap, header, request::Parts},
};
use std::{convert::Infallible, net::SocketAddr};
use webauthn_rs::prelude::Passkey;

use super::PasskeyPublicKey;
use crate::{AppState, Error};

/// Longest `User-Agent` kept, in characters.
pub const MAX_USER_AGENT: usize = 512;

/// Where a request came from: client address and `User-Agent`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// The peer address, or with `trust_forwarded_for` the address the proxy recorded.
    pub ip: Option<String>,
    /// The `User-Agent` header (visible ASCII only), truncated to [`MAX_USER_AGENT`].
    pub user_agent: Option<String>,
}

impl ClientInfo {
    /// Reads the client from the connection and headers. With `trust_forwarded_for`
    /// the rightmost `X-Forwarded-For` entry wins: the one the (single, trusted)
    /// reverse proxy appended; entries to its left are client-supplied.
    pub fn from_parts(
        peer: Option<SocketAddr>,
        headers: &HeaderMap,
        trust_forwarded_for: bool,
    ) -> ClientInfo {
        // Only the last entry: a garbled one falls back to the peer, never to
        // an entry further left (which the client could have written).
        let forwarded = trust_forwarded_for
            .then(|| headers.get_all("x-forwarded-for").iter().next_back())
            .flatten()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|ip| ip.trim().parse::<std::net::IpAddr>().ok());
        let ip = forwarded
            .or(peer.map(|p| p.ip().to_canonical()))
            .map(|ip| ip.to_string());
        let user_agent = headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(MAX_USER_AGENT).collect());
        ClientInfo { ip, user_agent }
    }
}

impl FromRequestParts<AppState> for ClientInfo {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        Ok(ClientInfo::from_parts(
            peer,
            &parts.headers,
            state.config.trust_forwarded_for,
        ))
    }
}

/// Evidence stored with each submission, beyond the raw assertion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigningEvidence {
    /// See [`ClientInfo::ip`].
    pub client_ip: Option<String>,
    /// See [`ClientInfo::user_agent`].
    pub user_agent: Option<String>,
    /// The credential public key as COSE_Key bytes.
    pub public_key_cose: Vec<u8>,
    /// Authenticator model (AAGUID) from the registration, when the browser
    /// reported one.
    pub aaguid: Option<String>,
    /// Flags byte of the assertion's `authenticatorData`.
    pub flags: u8,
    /// Signature counter of the assertion.
    pub sign_count: u32,
    /// The verifier's version.
    pub verifier_version: String,
    /// The relying-party ID the assertion was verified for; `None` when
    /// stored before it was kept (the exporter then uses the configured one).
    pub rp_id: Option<String>,
}

impl SigningEvidence {
    /// Captures the evidence for an assertion made with `passkey`, whose
    /// registration reported `registered_aaguid`, verified for `rp_id`.
    pub fn capture(
        client: &ClientInfo,
        passkey: &Passkey,
        registered_aaguid: Option<String>,
        authenticator_data: &[u8],
        rp_id: Option<&str>,
    ) -> Result<SigningEvidence, Error> {
        let auth = super::AuthenticatorData::parse(authenticator_data)
            .ok_or_else(|| Error::Evidence("authenticatorData is short".into()))?;
        let key = PasskeyPublicKey::from_cose_key(passkey.get_public_key())?;
        Ok(SigningEvidence {
            client_ip: client.ip.clone(),
            user_agent: client.user_agent.clone(),
            public_key_cose: key.cose,
            aaguid: attested_aaguid(passkey).or(registered_aaguid),
            flags: auth.flags,
            sign_count: auth.sign_count,
            verifier_version: env!("CARGO_PKG_VERSION").to_owned(),
            rp_id: rp_id.map(str::to_owned),
        })
    }
}

/// The AAGUID from verified attestation metadata; webauthn-rs keeps none for
/// `attestation: "none"` (the passkey default), so this is usually `None`.
fn attested_aaguid(passkey: &Passkey) -> Option<String> {
    let value = serde_json::to_value(passkey).ok()?;
    let metadata = value.pointer("/cred/attestation/metadata")?;
    ["/Packed/aaguid", "/Tpm/aaguid"]
        .iter()
        .find_map(|p| metadata.pointer(p))
        .and_then(|v| v.as_str())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn forwarded_for_is_used_only_when_trusted_and_rightmost_wins() {
        let peer: SocketAddr = "[::ffff:10.0.0.5]:443".parse().expect("addr");
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("6.6.6.6, 203.0.113.7"),
        );
        headers.insert(
            header::USER_AGENT,
            HeaderValue::from_str(&"x".repeat(600)).expect("ua"),
        );
        let direct = ClientInfo::from_parts(Some(peer), &headers, false);
        assert_eq!(direct.ip.as_deref(), Some("10.0.0.5"));
        assert_eq!(direct.user_agent.map(|u| u.len()), Some(MAX_USER_AGENT));
        let proxied = ClientInfo::from_parts(Some(peer), &headers, true);
        assert_eq!(proxied.ip.as_deref(), Some("203.0.113.7"));
    }
}
