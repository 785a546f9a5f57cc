//! The verifier's public JSON API, shared by the widget (client) and the
//! verifier (server). Paths are relative to the verifier's base URL.
//!
//! | method & path                           | body                   | success               |
//! |-----------------------------------------|------------------------|-----------------------|
//! | `GET  /api/v1/sites/{site}`             | –                      | [`SiteInfo`]          |
//! | `POST /api/v1/email-codes`              | [`SendEmailCode`]      | [`EmailCodeSent`] (202) |
//! | `POST /api/v1/email-codes/{id}/verify`  | [`VerifyEmailCode`]    | [`EmailVerified`]     |
//! | `POST /api/v1/registrations`            | [`StartRegistration`]  | [`RegistrationStarted`] |
//! | `POST /api/v1/registrations/{id}/finish`| [`FinishRegistration`] | [`Registered`]        |
//! | `POST /api/v1/signatures`               | [`StartSigning`]       | [`SigningStarted`]    |
//! | `POST /api/v1/signatures/{id}/finish`   | [`FinishSigning`]      | [`Submitted`] (201)   |
//! | `POST /api/v1/sign-ins`                 | [`StartSignIn`]        | [`SignInStarted`]     |
//! | `POST /api/v1/sign-ins/{id}/finish`     | [`FinishSignIn`]       | [`SignedIn`]          |
//! | `GET  /api/v1/me/requests`              | – (bearer session)     | [`MyRequests`]        |
//! | `GET  /api/v1/me/requests/{n}/receipt`  | – (bearer session)     | evidence bundle JSON  |
//!
//! Every failure is an [`ApiError`] with a stable [`ErrorCode`]. Every `POST`
//! is rate-limited per client address: `429` [`ErrorCode::RateLimited`] with a
//! `Retry-After` header (seconds).

use serde::{Deserialize, Serialize};
use webauthn_rs_proto::{
    CreationChallengeResponse, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse,
};

use crate::{
    DeliveryMethod, Digest, FieldError, Lang, Nonce, RecordKind, RecordsRequest, RequestStatus,
    Role, SignedDocument, SiteIdentity, SiteOffer,
};

/// Public facts about a site, for the widget to show.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteInfo {
    /// Site id.
    pub id: String,
    /// Hospital name.
    pub name: String,
    /// Phone number of the Health Information Management department.
    pub him_phone: String,
    /// When that phone is answered, e.g. "Monday to Friday, 8 am to 5 pm".
    #[serde(default)]
    pub him_hours: LocalizedText,
    /// The hospital's logo (an absolute URL), if configured.
    #[serde(default)]
    pub logo_url: Option<String>,
    /// Record kinds offered, in menu order.
    #[serde(default = "all_kinds")]
    pub record_kinds: Vec<RecordKind>,
    /// Delivery methods offered, in menu order.
    #[serde(default = "all_methods")]
    pub delivery_methods: Vec<DeliveryMethod>,
    /// What copies cost, shown before signing (e.g. the $6.50 flat fee).
    #[serde(default)]
    pub fee_text: LocalizedText,
    /// Age from which some of a minor's records need the minor's own authorization.
    #[serde(default = "default_adolescent_age")]
    pub adolescent_age: u8,
    /// Languages offered.
    #[serde(default = "all_langs")]
    pub languages: Vec<Lang>,
    /// Days the hospital has to respond (a state's shorter deadline), when not 30.
    #[serde(default)]
    pub deadline_days: Option<u16>,
}

impl SiteInfo {
    /// What requests to this site are validated against.
    pub fn offer(&self) -> SiteOffer {
        SiteOffer {
            record_kinds: self.record_kinds.clone(),
            delivery_methods: self.delivery_methods.clone(),
        }
    }

    /// Days to respond: the state's deadline, or the federal 30.
    pub fn deadline(&self) -> u16 {
        self.deadline_days.unwrap_or(30)
    }
}

/// Site text in each language; empty when not configured.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LocalizedText {
    /// English.
    pub en: String,
    /// Spanish; falls back to English when empty.
    pub es: String,
}

impl LocalizedText {
    /// The text in `lang`, or English.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Es if !self.es.is_empty() => &self.es,
            _ => &self.en,
        }
    }
}

fn all_kinds() -> Vec<RecordKind> {
    RecordKind::ALL.to_vec()
}

fn all_methods() -> Vec<DeliveryMethod> {
    DeliveryMethod::ALL.to_vec()
}

fn all_langs() -> Vec<Lang> {
    Lang::ALL.to_vec()
}

/// The default [`SiteInfo::adolescent_age`]: 12, as many patient portals use.
pub fn default_adolescent_age() -> u8 {
    12
}

impl From<&SiteInfo> for SiteIdentity {
    fn from(info: &SiteInfo) -> SiteIdentity {
        SiteIdentity {
            id: info.id.clone(),
            name: info.name.clone(),
        }
    }
}

/// Asks for a one-time code to be emailed to `email`.
///
/// The answer is the same whatever the address (known or not); a malformed
/// address is `422`. Codes are limited per address and per client.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendEmailCode {
    /// Site the requester is on.
    pub site_id: String,
    /// The address to prove control of.
    #[cfg_attr(feature = "openapi", schema(format = Email))]
    pub email: String,
    /// Language of the email.
    pub lang: Lang,
}

/// A code is on its way (`202 Accepted`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailCodeSent {
    /// Id to verify the code with.
    pub verification_id: String,
    /// Seconds until the code expires.
    pub expires_in_secs: u64,
}

/// The 6-digit code the requester received.
///
/// Wrong: `400` [`ErrorCode::CodeIncorrect`] with [`ApiError::attempts_left`];
/// expired, used or unknown id: `410` [`ErrorCode::CodeExpired`]; out of
/// attempts: `429` [`ErrorCode::TooManyAttempts`] (ask for a new code).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyEmailCode {
    /// Exactly six ASCII digits.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9]{6}$"))]
    pub code: String,
}

/// The address is proven.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailVerified {
    /// Single-use bearer token for [`StartRegistration::email_token`].
    pub email_token: String,
    /// Seconds the token stays valid.
    pub expires_in_secs: u64,
}

/// Begins passkey creation for a requester whose email address is verified.
///
/// Without a valid, unused token: `403` [`ErrorCode::EmailNotVerified`].
/// The token is used up when the registration finishes.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartRegistration {
    /// Site the requester is on.
    pub site_id: String,
    /// From [`EmailVerified`]; the passkey is bound to the verified address.
    pub email_token: String,
    /// Name shown by the passkey manager.
    pub display_name: String,
}

/// Options to pass to `navigator.credentials.create`.
///
/// `O` is how a side holds the WebAuthn options: the verifier's typed
/// [`CreationChallengeResponse`], or the widget's browser object (the widget
/// only hands them to the browser, so it need not link a typed copy).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(bound = ""))]
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RegistrationStarted<O = CreationChallengeResponse> {
    /// Single-use ceremony id, to finish with.
    pub ceremony_id: String,
    /// WebAuthn creation options.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::CreationOptions))]
    pub options: O,
}

/// The browser's answer to `navigator.credentials.create` (`C` as in
/// [`RegistrationStarted`]).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(bound = ""))]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FinishRegistration<C = RegisterPublicKeyCredential> {
    /// The new credential.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::NewCredential))]
    pub credential: C,
}

/// A passkey was created and bound to the email address.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registered {
    /// The credential id (base64url), used to ask for a signature with it.
    pub credential_id: String,
}

/// Begins signing a request with a registered passkey.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartSigning {
    /// Site the request is addressed to.
    pub site_id: String,
    /// Language the statement is shown and signed in.
    pub lang: Lang,
    /// The request as entered; the verifier validates and normalises it.
    pub request: RecordsRequest,
    /// The passkey to sign with (from [`Registered`]).
    pub credential_id: String,
    /// Chosen by the client once per request it shows for signing (16 to 64 of
    /// `A-Z a-z 0-9 - _`): if a signature for it was already stored, finishing
    /// again returns that submission instead of storing a second one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// The document format the client renders and checks
    /// ([`crate::DOCUMENT_FORMAT`]). A verifier that builds another answers
    /// `409` `widget_outdated` before anything is signed, instead of a document
    /// the client would refuse as changed. Absent from widgets released before
    /// this field (they are not checked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

/// The document to sign and options for `navigator.credentials.get`.
///
/// The widget recomputes `document` and the challenge itself and refuses to
/// sign if either differs from what it showed the requester. `O` as in
/// [`RegistrationStarted`].
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(bound = ""))]
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SigningStarted<O = RequestChallengeResponse> {
    /// Single-use ceremony id, to finish with.
    pub ceremony_id: String,
    /// The exact document the signature will cover.
    pub document: SignedDocument,
    /// SHA-256 of the document's canonical bytes.
    pub digest: Digest,
    /// The ceremony nonce mixed into the challenge.
    pub nonce: Nonce,
    /// WebAuthn request options whose challenge is
    /// [`crate::signing_challenge`]`(digest, nonce)`.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::AssertionOptions))]
    pub options: O,
}

/// The browser's answer to `navigator.credentials.get` (`C` as in
/// [`RegistrationStarted`]).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(bound = ""))]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FinishSigning<C = PublicKeyCredential> {
    /// The assertion over the signing challenge.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Assertion))]
    pub credential: C,
}

/// The request header an upload names its file in (`X-Recordpass-File-Name`,
/// lower case as HTTP/2 writes it): the name as the requester chose it,
/// percent-encoded UTF-8. Not in the URL, where proxies log it.
pub const FILE_NAME_HEADER: &str = "x-recordpass-file-name";

/// A proof-of-authority file is stored (sealed) until a signed request claims it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Uploaded {
    /// Id of the stored upload.
    pub upload_id: String,
    /// What to put in `request.requester.attachments`: the signed document must name the file exactly so.
    pub attachment: crate::upload::Attachment,
    /// Seconds until the upload is deleted unless a signed request names it.
    pub expires_in_secs: u64,
}

/// The signed request is stored durably.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submitted {
    /// The number the requester quotes to HIM, e.g. `RP-7K3M-9QXD`.
    pub request_number: String,
    /// Digest of the signed document.
    pub digest: Digest,
    /// When the verifier received it (RFC 3339, UTC); the legal clock starts here.
    pub received_at: String,
}

/// Begins signing in with a passkey created earlier on this site (a
/// returning requester): a discoverable-credential assertion, so the browser
/// offers the passkeys it holds and nothing needs typing.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartSignIn {
    /// Site the requester is on.
    pub site_id: String,
}

/// Options for `navigator.credentials.get` (empty `allowCredentials`, user
/// verification required). `O` as in [`RegistrationStarted`].
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(bound = ""))]
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SignInStarted<O = RequestChallengeResponse> {
    /// Single-use ceremony id, to finish with.
    pub ceremony_id: String,
    /// WebAuthn request options.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::AssertionOptions))]
    pub options: O,
}

/// The browser's answer to the sign-in `navigator.credentials.get` (`C` as in
/// [`RegistrationStarted`]); `response.userHandle` must be present.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(bound = ""))]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FinishSignIn<C = PublicKeyCredential> {
    /// The assertion.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Assertion))]
    pub credential: C,
}

/// A requester session: send `Authorization: Bearer <session_token>` to the
/// `/me` routes and to [`StartSigning`]. Keep it in memory only.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    /// Random bearer token (the verifier keeps only its SHA-256).
    pub session_token: String,
    /// The session ends after this many seconds without a request.
    pub idle_timeout_secs: u64,
    /// The session ends this many seconds after sign-in, whatever happens.
    pub expires_in_secs: u64,
    /// The passkey used (sign new requests with it).
    pub credential_id: String,
    /// The address the passkey was created for (new requests must use it).
    pub email: String,
}

/// The signed-in requester's requests, newest first.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyRequests {
    /// Every request this requester signed on this site.
    pub requests: Vec<MyRequest>,
}

/// One of the requester's requests, as their status page shows it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyRequest {
    /// The number to quote to the hospital.
    pub request_number: String,
    /// `right_of_access`, `directive` or `authorization`.
    pub instrument: String,
    /// The patient the request is for.
    pub patient_name: String,
    /// The requester's relationship to the patient, as signed.
    pub relationship: Role,
    /// When the verifier received it (RFC 3339, UTC).
    pub received_at: String,
    /// Where it stands.
    pub status: RequestStatus,
    /// [`RequestStatus::requester_label`] in each language.
    pub status_label: LocalizedText,
    /// The date the hospital must act by (`YYYY-MM-DD`, a calendar day in the
    /// hospital's time zone), extension included.
    pub due_date: String,
    /// Whether the signed receipt can be downloaded (`…/receipt`).
    pub receipt_available: bool,
    /// What the hospital has told the requester about this request, oldest
    /// first: each status change with its message (what information is
    /// needed, a denial's reasons and review rights) and any extension notice.
    /// Staff notes are never included.
    #[serde(default)]
    pub messages: Vec<HospitalMessage>,
}

/// One notice from the hospital on the requester's status page.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HospitalMessage {
    /// When it was written (RFC 3339, UTC).
    pub at: String,
    /// The notice, as staff wrote it (line breaks kept).
    pub text: String,
}

/// Stable, machine-readable error codes.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The body is not valid JSON of the expected shape.
    MalformedJson,
    /// The body is not `application/json`.
    UnsupportedMediaType,
    /// The body is larger than the verifier accepts.
    PayloadTooLarge,
    /// One or more request fields are invalid; see [`ApiError::fields`].
    InvalidRequest,
    /// The calling page's origin (or the passkey's) is not configured for this site.
    OriginNotAllowed,
    /// No such site.
    UnknownSite,
    /// The ceremony does not exist, has expired, or was already used.
    CeremonyExpired,
    /// The passkey response failed verification.
    PasskeyRejected,
    /// The passkey is already bound to an account.
    CredentialAlreadyRegistered,
    /// The passkey is not registered.
    CredentialUnknown,
    /// The passkey's signature counter did not advance: a clone of the
    /// authenticator may be in use, so the signature is refused.
    PasskeyCounterRegressed,
    /// The request's email differs from the one the passkey is bound to.
    EmailMismatch,
    /// Too many requests; try again after `Retry-After` seconds.
    RateLimited,
    /// The email code is wrong; see [`ApiError::attempts_left`].
    CodeIncorrect,
    /// The email code expired, was already used, or never existed.
    CodeExpired,
    /// Too many wrong codes; ask for a new one.
    TooManyAttempts,
    /// Passkey creation needs a valid, unused email token.
    EmailNotVerified,
    /// No such resource.
    NotFound,
    /// Method not allowed on this resource.
    MethodNotAllowed,
    /// Something went wrong on the verifier; nothing was stored.
    Internal,
    /// The verifier took too long, or is not ready (database unreachable); retry shortly.
    Unavailable,
    /// No valid session (sign in first): the staff console's cookie, or a
    /// requester's bearer token for the `/me` routes (missing, unknown or ended).
    SignInRequired,
    /// Staff console: the signed-in role may not do this, or the request failed CSRF checks.
    Forbidden,
    /// Staff console: the change is not allowed in the request's current state.
    InvalidTransition,
    /// The idempotency key was already used for a different request.
    IdempotencyKeyReused,
    /// The page embeds a widget release that renders another document format
    /// than this verifier signs ([`StartSigning::format`]): the page's snippet
    /// must be updated; nothing was started.
    WidgetOutdated,
    /// The uploaded file is empty (`400`).
    FileEmpty,
    /// The uploaded file is larger than [`crate::upload::MAX_UPLOAD_BYTES`] (`413`).
    FileTooLarge,
    /// The uploaded file is not a PDF, JPEG or PNG (`415`).
    FileTypeUnsupported,
    /// The uploaded file's name or declared type disagrees with its content (`415`).
    FileTypeMismatch,
    /// The uploaded file starts like a PDF, JPEG or PNG but is truncated or malformed (`422`).
    FileDamaged,
    /// An upload without `Content-Length` (`411`): its size must be known
    /// before it is read. A browser sends it; a proxy on the way may drop it.
    LengthRequired,
    /// An upload body arrived too slowly (`408`): below the minimum average
    /// rate, or nothing for `[limits] upload_idle_timeout_secs`. It was cut
    /// off and nothing was stored; a better connection may succeed.
    UploadTooSlow,
}

impl ErrorCode {
    /// The code for a refused file.
    pub fn for_file(problem: crate::upload::FileProblem) -> ErrorCode {
        use crate::upload::FileProblem;
        match problem {
            FileProblem::Empty => ErrorCode::FileEmpty,
            FileProblem::TooLarge => ErrorCode::FileTooLarge,
            FileProblem::Unsupported => ErrorCode::FileTypeUnsupported,
            FileProblem::Mismatch => ErrorCode::FileTypeMismatch,
            FileProblem::Damaged => ErrorCode::FileDamaged,
        }
    }

    /// The file problem behind a code, if it is one.
    pub fn file_problem(self) -> Option<crate::upload::FileProblem> {
        use crate::upload::FileProblem;
        match self {
            ErrorCode::FileEmpty => Some(FileProblem::Empty),
            ErrorCode::FileTooLarge => Some(FileProblem::TooLarge),
            ErrorCode::FileTypeUnsupported => Some(FileProblem::Unsupported),
            ErrorCode::FileTypeMismatch => Some(FileProblem::Mismatch),
            ErrorCode::FileDamaged => Some(FileProblem::Damaged),
            _ => None,
        }
    }
}

impl ErrorCode {
    /// Every code, so clients can prove they have text for each.
    pub const ALL: [ErrorCode; 33] = [
        ErrorCode::MalformedJson,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::PayloadTooLarge,
        ErrorCode::InvalidRequest,
        ErrorCode::OriginNotAllowed,
        ErrorCode::UnknownSite,
        ErrorCode::CeremonyExpired,
        ErrorCode::PasskeyRejected,
        ErrorCode::CredentialAlreadyRegistered,
        ErrorCode::CredentialUnknown,
        ErrorCode::PasskeyCounterRegressed,
        ErrorCode::EmailMismatch,
        ErrorCode::RateLimited,
        ErrorCode::CodeIncorrect,
        ErrorCode::CodeExpired,
        ErrorCode::TooManyAttempts,
        ErrorCode::EmailNotVerified,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::Internal,
        ErrorCode::Unavailable,
        ErrorCode::SignInRequired,
        ErrorCode::Forbidden,
        ErrorCode::InvalidTransition,
        ErrorCode::IdempotencyKeyReused,
        ErrorCode::WidgetOutdated,
        ErrorCode::FileEmpty,
        ErrorCode::FileTooLarge,
        ErrorCode::FileTypeUnsupported,
        ErrorCode::FileTypeMismatch,
        ErrorCode::FileDamaged,
        ErrorCode::LengthRequired,
        ErrorCode::UploadTooSlow,
    ];
}

/// Error body returned with every 4xx and 5xx response.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// Stable code to branch on.
    pub code: ErrorCode,
    /// Plain-language explanation (English; clients localise by `code`).
    pub message: String,
    /// Per-field problems for [`ErrorCode::InvalidRequest`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
    /// Code attempts left, for [`ErrorCode::CodeIncorrect`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts_left: Option<u32>,
}
