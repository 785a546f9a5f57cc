//! Everything that can go wrong while talking to the verifier or the browser.

use recordpass_request::api::ApiError;

use crate::passkey::PasskeyError;

/// A failed step, explained to the requester by [`crate::i18n::failure`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The verifier could not be reached (offline, DNS, CORS, TLS).
    Network,
    /// The verifier answered with an [`ApiError`].
    Api(ApiError),
    /// The verifier answered with something that is not the expected JSON.
    BadResponse,
    /// The browser's passkey call failed or was cancelled.
    Passkey(PasskeyError),
    /// The document or challenge to sign differs from what the widget showed.
    Tampered,
}
