//! The verifier's one error type, mapped once to HTTP responses.

use axum::{
    Json,
    extract::rejection::JsonRejection,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use recordpass_request::{
    FieldError,
    api::{ApiError, ErrorCode},
};
use webauthn_rs::prelude::WebauthnError;

/// Everything that can go wrong in the verifier.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration is unusable.
    #[error("configuration: {0}")]
    Config(String),
    /// Request fields failed validation.
    #[error("Some answers need fixing; see the fields listed.")]
    InvalidRequest(Vec<FieldError>),
    /// The body is not JSON of the expected shape.
    #[error("The body is not valid JSON for this endpoint: {0}")]
    MalformedJson(String),
    /// The body is not `application/json`.
    #[error("Send the body as application/json.")]
    UnsupportedMediaType,
    /// The body exceeds the limit.
    #[error("The body is too large.")]
    PayloadTooLarge,
    /// An uploaded file is refused (empty, too large, not a PDF/JPEG/PNG, lying about its type, damaged).
    #[error("{}", .0.message(recordpass_request::Lang::En))]
    File(recordpass_request::upload::FileProblem),
    /// The calling page (or the passkey's client data) has an origin not configured for the site.
    #[error("This page is not allowed to use this verifier.")]
    OriginNotAllowed,
    /// No such site id.
    #[error("There is no such site.")]
    UnknownSite,
    /// The ceremony is unknown, expired or already used.
    #[error("This passkey step has expired or was already used; start again.")]
    CeremonyExpired,
    /// WebAuthn verification failed.
    #[error("The passkey response could not be verified.")]
    PasskeyRejected(#[source] WebauthnError),
    /// The credential id is already bound.
    #[error("This passkey is already registered.")]
    CredentialAlreadyRegistered,
    /// The credential id is not registered.
    #[error("This passkey is not registered here.")]
    CredentialUnknown,
    /// The assertion's signature counter did not advance past the stored one.
    #[error(
        "This passkey's signature counter went backwards: a copy of it may be in use elsewhere."
    )]
    CounterRegressed,
    /// The request's email is not the one the passkey is bound to.
    #[error("The email address differs from the one this passkey was created for.")]
    EmailMismatch,
    /// The email code is wrong.
    #[error("That code is not right. Check the latest email and try again.")]
    CodeIncorrect {
        /// Attempts left for this code.
        attempts_left: u32,
    },
    /// The email code expired, was used, or never existed.
    #[error("This code has expired or was already used; ask for a new one.")]
    CodeExpired,
    /// Too many wrong codes.
    #[error("Too many wrong codes; ask for a new one.")]
    TooManyAttempts,
    /// Registration without a valid, unused email token.
    #[error("Confirm your email address with a code first.")]
    EmailNotVerified,
    /// A rate limit was hit.
    #[error("Too many requests; try again later.")]
    RateLimited {
        /// Seconds until a retry can succeed (the `Retry-After` header).
        retry_after_secs: u64,
    },
    /// The upload buffer (`[limits] upload_buffer_mib`) lacks room for this
    /// body, or its client is already sending one: refused before the body is
    /// kept, nothing stored.
    #[error("The verifier is busy with other files; try again in a moment.")]
    UploadsBusy,
    /// An upload without `Content-Length`: its size must be known before it is read.
    #[error("Send the file's size in Content-Length; an upload without it is refused.")]
    LengthRequired,
    /// An upload body still arriving at its deadline
    /// ([`crate::upload_intake::receive_time`]), or silent for
    /// `[limits] upload_idle_timeout_secs`: cut off, nothing stored.
    #[error(
        "The file arrived too slowly (under 32 KiB/s, or it stopped arriving) and nothing was stored. Try again on a faster connection."
    )]
    UploadTooSlow,
    /// No route.
    #[error("There is nothing at this address.")]
    NotFound,
    /// Wrong method for the route.
    #[error("This method is not allowed here.")]
    MethodNotAllowed,
    /// Staff console: no valid session.
    #[error("Sign in to the staff console.")]
    SignInRequired,
    /// Requester routes: no live session token in `Authorization`.
    #[error("Sign in with your passkey first (the session is missing or has ended).")]
    RequesterSignInRequired,
    /// Staff console: wrong role, or a failed CSRF check.
    #[error("You are not allowed to do this.")]
    Forbidden,
    /// Staff console: the change does not fit the request's state.
    #[error("This change is not possible: {0}")]
    InvalidTransition(String),
    /// A signature finished with an idempotency key already used for another request.
    #[error("This idempotency key was already used for a different request.")]
    IdempotencyKeyReused,
    /// The page's widget renders another document format than this verifier signs.
    #[error("This page's form is from an earlier release; the page's snippet must be updated.")]
    WidgetOutdated,
    /// The request took longer than `request_timeout_secs`.
    #[error("The verifier took too long to answer; try again.")]
    Timeout,
    /// `/readyz`: the database is unreachable or migrations are missing (details go to the log only).
    #[error("not ready: {0}")]
    NotReady(String),
    /// Database failure.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Migration failure.
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// An evidence bundle cannot be built or read.
    #[error("evidence: {0}")]
    Evidence(String),
    /// Any other server-side failure (details go to the log only).
    #[error("internal: {0}")]
    Internal(String),
}

impl Error {
    /// The HTTP status and stable code for this error.
    pub fn status_and_code(&self) -> (StatusCode, ErrorCode) {
        use Error::*;
        match self {
            InvalidRequest(_) => (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::InvalidRequest),
            MalformedJson(_) => (StatusCode::BAD_REQUEST, ErrorCode::MalformedJson),
            UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
            ),
            PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge),
            LengthRequired => (StatusCode::LENGTH_REQUIRED, ErrorCode::LengthRequired),
            UploadTooSlow => (StatusCode::REQUEST_TIMEOUT, ErrorCode::UploadTooSlow),
            File(problem) => {
                use recordpass_request::upload::FileProblem as P;
                let status = match problem {
                    P::Empty => StatusCode::BAD_REQUEST,
                    P::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
                    P::Unsupported | P::Mismatch => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    P::Damaged => StatusCode::UNPROCESSABLE_ENTITY,
                };
                (status, ErrorCode::for_file(*problem))
            }
            OriginNotAllowed => (StatusCode::FORBIDDEN, ErrorCode::OriginNotAllowed),
            PasskeyRejected(WebauthnError::InvalidRPOrigin) => {
                (StatusCode::FORBIDDEN, ErrorCode::OriginNotAllowed)
            }
            UnknownSite => (StatusCode::NOT_FOUND, ErrorCode::UnknownSite),
            CeremonyExpired => (StatusCode::GONE, ErrorCode::CeremonyExpired),
            CounterRegressed | PasskeyRejected(WebauthnError::CredentialPossibleCompromise) => {
                (StatusCode::CONFLICT, ErrorCode::PasskeyCounterRegressed)
            }
            PasskeyRejected(_) => (StatusCode::BAD_REQUEST, ErrorCode::PasskeyRejected),
            CredentialAlreadyRegistered => {
                (StatusCode::CONFLICT, ErrorCode::CredentialAlreadyRegistered)
            }
            CredentialUnknown => (StatusCode::BAD_REQUEST, ErrorCode::CredentialUnknown),
            EmailMismatch => (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::EmailMismatch),
            CodeIncorrect { .. } => (StatusCode::BAD_REQUEST, ErrorCode::CodeIncorrect),
            CodeExpired => (StatusCode::GONE, ErrorCode::CodeExpired),
            TooManyAttempts => (StatusCode::TOO_MANY_REQUESTS, ErrorCode::TooManyAttempts),
            EmailNotVerified => (StatusCode::FORBIDDEN, ErrorCode::EmailNotVerified),
            RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, ErrorCode::RateLimited),
            NotFound => (StatusCode::NOT_FOUND, ErrorCode::NotFound),
            MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, ErrorCode::MethodNotAllowed),
            SignInRequired | RequesterSignInRequired => {
                (StatusCode::UNAUTHORIZED, ErrorCode::SignInRequired)
            }
            Forbidden => (StatusCode::FORBIDDEN, ErrorCode::Forbidden),
            InvalidTransition(_) => (StatusCode::CONFLICT, ErrorCode::InvalidTransition),
            IdempotencyKeyReused => (StatusCode::CONFLICT, ErrorCode::IdempotencyKeyReused),
            WidgetOutdated => (StatusCode::CONFLICT, ErrorCode::WidgetOutdated),
            Timeout | NotReady(_) | UploadsBusy => {
                (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Unavailable)
            }
            // Text PostgreSQL cannot store (a NUL in an id or a field): bad input.
            Database(e) if crate::db::is_unstorable_text(e) => {
                (StatusCode::BAD_REQUEST, ErrorCode::MalformedJson)
            }
            // Lost a race with another transaction: nothing was stored; retrying works.
            Database(e) if crate::db::is_contention(e) => {
                (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Unavailable)
            }
            Config(_) | Database(_) | Migrate(_) | Evidence(_) | Internal(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal)
            }
        }
    }

    /// The JSON body sent to the client. Server-side details never leave the process.
    pub fn to_api_error(&self) -> ApiError {
        let (status, code) = self.status_and_code();
        let message = match self {
            Error::Timeout | Error::UploadsBusy | Error::UploadTooSlow => self.to_string(),
            Error::NotReady(_) => "The verifier is not ready to serve requests.".to_owned(),
            Error::Database(_) if !status.is_server_error() => {
                "The request holds a character that cannot be stored (NUL).".to_owned()
            }
            _ if status.is_server_error() => "Something went wrong; nothing was stored.".to_owned(),
            Error::PasskeyRejected(WebauthnError::InvalidRPOrigin) => {
                Error::OriginNotAllowed.to_string()
            }
            other => other.to_string(),
        };
        let fields = match self {
            Error::InvalidRequest(fields) => fields.clone(),
            _ => Vec::new(),
        };
        let attempts_left = match self {
            Error::CodeIncorrect { attempts_left } => Some(*attempts_left),
            _ => None,
        };
        ApiError {
            code,
            message,
            fields,
            attempts_left,
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if matches!(self, Error::UploadsBusy) {
            // Capacity, not a fault: visible to operators without an error line each.
            tracing::warn!(
                code = ?code,
                "upload refused: the upload buffer is full or this client is already sending one"
            );
        } else if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        } else {
            tracing::info!(code = ?code, "request refused");
        }
        let mut response = (status, Json(self.to_api_error())).into_response();
        let retry_after = match self {
            Error::RateLimited { retry_after_secs } => Some(retry_after_secs),
            Error::UploadsBusy => Some(crate::uploads::BUSY_RETRY_AFTER_SECS),
            _ => None,
        };
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        response
    }
}

impl From<JsonRejection> for Error {
    fn from(rejection: JsonRejection) -> Error {
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => Error::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Error::UnsupportedMediaType,
            _ => Error::MalformedJson(rejection.body_text()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_has_one_status_and_code() {
        let cases = [
            (
                Error::InvalidRequest(vec![]),
                422,
                ErrorCode::InvalidRequest,
            ),
            (
                Error::MalformedJson("x".into()),
                400,
                ErrorCode::MalformedJson,
            ),
            (Error::PayloadTooLarge, 413, ErrorCode::PayloadTooLarge),
            (
                Error::File(recordpass_request::upload::FileProblem::Mismatch),
                415,
                ErrorCode::FileTypeMismatch,
            ),
            (
                Error::File(recordpass_request::upload::FileProblem::TooLarge),
                413,
                ErrorCode::FileTooLarge,
            ),
            (Error::OriginNotAllowed, 403, ErrorCode::OriginNotAllowed),
            (
                Error::PasskeyRejected(WebauthnError::InvalidRPOrigin),
                403,
                ErrorCode::OriginNotAllowed,
            ),
            (
                Error::PasskeyRejected(WebauthnError::MismatchedChallenge),
                400,
                ErrorCode::PasskeyRejected,
            ),
            (Error::CeremonyExpired, 410, ErrorCode::CeremonyExpired),
            (
                Error::CodeIncorrect { attempts_left: 2 },
                400,
                ErrorCode::CodeIncorrect,
            ),
            (Error::CodeExpired, 410, ErrorCode::CodeExpired),
            (Error::TooManyAttempts, 429, ErrorCode::TooManyAttempts),
            (Error::EmailNotVerified, 403, ErrorCode::EmailNotVerified),
            (
                Error::RateLimited {
                    retry_after_secs: 3,
                },
                429,
                ErrorCode::RateLimited,
            ),
            (
                Error::Internal("secret detail".into()),
                500,
                ErrorCode::Internal,
            ),
            (Error::Timeout, 503, ErrorCode::Unavailable),
            (Error::UploadsBusy, 503, ErrorCode::Unavailable),
            (Error::LengthRequired, 411, ErrorCode::LengthRequired),
            (Error::UploadTooSlow, 408, ErrorCode::UploadTooSlow),
            (
                Error::NotReady("database".into()),
                503,
                ErrorCode::Unavailable,
            ),
        ];
        for (error, status, code) in cases {
            let (s, c) = error.status_and_code();
            assert_eq!((s.as_u16(), c), (status, code), "{error:?}");
        }
    }

    #[test]
    fn server_errors_hide_details() {
        let body = Error::Internal("db password wrong".into()).to_api_error();
        assert!(!body.message.contains("password"));
        assert_eq!(body.code, ErrorCode::Internal);
    }
}
