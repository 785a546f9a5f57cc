//! HTTP routes: thin handlers over the registration and signing flows.

use axum::{
    Json, Router,
    body::Body,
    extract::{DefaultBodyLimit, FromRequest, MatchedPath, Path, Query, Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use recordpass_request::{
    api::{
        ApiError, EmailCodeSent, EmailVerified, FILE_NAME_HEADER, FinishRegistration, FinishSignIn,
        FinishSigning, MyRequests, Registered, RegistrationStarted, SendEmailCode, SignInStarted,
        SignedIn, SigningStarted, SiteInfo, StartRegistration, StartSignIn, StartSigning,
        Submitted, Uploaded, VerifyEmailCode,
    },
    upload::{MAX_UPLOAD_BYTES, check_size},
};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use std::time::Duration;
use tower_http::{
    cors::CorsLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    set_header::SetResponseHeaderLayer,
    trace::{DefaultOnResponse, TraceLayer},
};
use utoipa::{IntoParams, OpenApi as _, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    AppState, Error, assets,
    config::Site,
    email::{self, verification},
    evidence::ClientInfo,
    limits::{self, ClientAddr, FloodGuard},
    metrics::{self, Ceremony},
    openapi, registration,
    returning::{requests, session as requester_session, sign_in},
    seal, signing, upload_intake, uploads,
};
use std::sync::Arc;

/// Largest JSON body accepted by the API.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Where the requester API is nested.
pub const API_PREFIX: &str = "/api/v1";

/// The requester API (the routes the widget calls), each route registered with
/// its OpenAPI description, relative to [`API_PREFIX`].
pub fn requester_api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(site_info))
        .routes(routes!(send_email_code))
        .routes(routes!(verify_email_code))
        .routes(routes!(start_registration))
        .routes(routes!(finish_registration))
        .routes(routes!(start_signing))
        .routes(routes!(finish_signing))
        .routes(routes!(start_sign_in))
        .routes(routes!(finish_sign_in))
        .routes(routes!(my_requests))
        .routes(routes!(my_receipt))
        .routes(routes!(sign_out))
}

/// The upload route, relative to [`API_PREFIX`]: it reads its own (larger) body.
pub fn upload_api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(upload))
}

/// The health probes.
pub fn probes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
}

/// Every route in the OpenAPI document, without the layers [`router`] adds
/// (so the document can be generated without a configuration).
pub fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .nest(API_PREFIX, requester_api().merge(upload_api()))
        .merge(probes())
        .merge(published())
        .merge(console_api())
}

/// The staff console's JSON endpoints, for the document only: they are served
/// from [`crate::console::routes`] (a test checks that both list the same ones).
fn console_api() -> OpenApiRouter<AppState> {
    use crate::console::auth;
    OpenApiRouter::new()
        .routes(routes!(auth::enrol_start))
        .routes(routes!(auth::enrol_finish))
        .routes(routes!(auth::sign_in_start))
        .routes(routes!(auth::sign_in_finish))
}

/// Public JSON for auditors and web teams, and the API contract itself.
fn published() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(seal_key))
        .routes(routes!(assets::embed))
        .routes(routes!(openapi::serve))
}

/// Builds the verifier's router.
pub fn router(state: AppState) -> Router {
    let origins: Vec<HeaderValue> = state
        .config
        .all_origins()
        .iter()
        .filter_map(|o| HeaderValue::from_str(&o.origin().ascii_serialization()).ok())
        .collect();
    let cors = CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([Method::GET, Method::POST, Method::DELETE])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            header::HeaderName::from_static(FILE_NAME_HEADER),
        ])
        .expose_headers([header::RETRY_AFTER])
        .max_age(std::time::Duration::from_secs(600));
    let timeout = state.config.request_timeout();
    let metrics = state.metrics.clone();
    let hsts = state.config.sends_hsts();
    let flood = Arc::new(FloodGuard::new(
        &state.config.limits,
        state.config.trust_forwarded_for,
    ));

    let api = Router::from(requester_api())
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .merge(Router::from(upload_api()))
        .layer(middleware::from_fn_with_state(
            flood.clone(),
            limits::flood_guard,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));

    // The console's JSON sign-in and enrolment bodies have the API's limit
    // (its signed-in forms are read up to the same size by its guard).
    let console = crate::console::router(&state)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(
            flood.clone(),
            limits::flood_guard_posts,
        ))
        .layer(middleware::map_response(crate::console::pages::harden_all));

    // Probes: no CORS, no rate limit, never cached.
    let health = Router::from(probes()).layer(SetResponseHeaderLayer::overriding(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    ));

    Router::new()
        .nest(API_PREFIX, api)
        .merge(health)
        .merge(console)
        .merge(assets::routes())
        .merge(Router::from(published()))
        .route("/demo/outbox", get(email::outbox::page))
        .fallback(|| async { Error::NotFound })
        .method_not_allowed_fallback(|| async { Error::MethodNotAllowed })
        .layer(cors)
        .layer(middleware::from_fn_with_state(timeout, time_limit))
        .layer(middleware::from_fn_with_state(metrics, metrics::track))
        // Method, route template, request id, status and latency only: no
        // headers, bodies, query strings or path values (ids, tokens) reach the log.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::new(X_REQUEST_ID))
        .layer(SetRequestIdLayer::new(X_REQUEST_ID, MakeRequestUuid))
        .layer(middleware::map_request(drop_unusable_request_id))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(middleware::from_fn_with_state(hsts, security_headers))
        .with_state(state)
}

/// The request id header: set by a proxy in front (if it is a plain token)
/// or generated here, echoed on the response and recorded in the log.
const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The span every request's log lines share.
fn request_span<B>(req: &axum::http::Request<B>) -> tracing::Span {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("(unmatched)", MatchedPath::as_str);
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or("-");
    tracing::info_span!("request", method = %req.method(), route, request_id)
}

/// An incoming `X-Request-Id` is kept only if it is a short plain token, so
/// that a client cannot write arbitrary text into the log; otherwise a UUID replaces it.
async fn drop_unusable_request_id(mut req: Request) -> Request {
    let usable = req.headers().get(&X_REQUEST_ID).is_some_and(|v| {
        let v = v.as_bytes();
        !v.is_empty()
            && v.len() <= 64
            && v.iter()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
    });
    if !usable {
        req.headers_mut().remove(&X_REQUEST_ID);
    }
    req
}

/// The upload route's template, as [`MatchedPath`] gives it.
const UPLOAD_ROUTE: &str = "/api/v1/sites/{site}/uploads";

/// Answers `503 unavailable` (the API's JSON error) when a request takes longer
/// than `request_timeout_secs`; the handler is dropped (open transactions roll back).
///
/// Except uploads: a file on a slow link takes longer, so the upload route
/// bounds each of its steps itself ([`crate::upload_intake`]).
async fn time_limit(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    let upload = req.method() == Method::POST
        && req
            .extensions()
            .get::<MatchedPath>()
            .is_some_and(|p| p.as_str() == UPLOAD_ROUTE);
    if upload {
        return next.run(req).await;
    }
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => Error::Timeout.into_response(),
    }
}

/// HSTS (only for an `https` public URL off localhost) on everything; no framing
/// for everything except the widget files hospital pages load. The console sets
/// its own CSP (with `frame-ancestors 'none'`) and `X-Frame-Options`, kept as is.
async fn security_headers(State(hsts): State<bool>, req: Request, next: Next) -> Response {
    let widget_file = assets::is_widget_file(req.uri().path());
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    if hsts {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    if !widget_file {
        h.entry(header::X_FRAME_OPTIONS)
            .or_insert(HeaderValue::from_static("DENY"));
        let csp = match h.get(header::CONTENT_SECURITY_POLICY) {
            None => Some(HeaderValue::from_static(
                "default-src 'none'; frame-ancestors 'none'",
            )),
            Some(v) => v
                .to_str()
                .ok()
                .filter(|v| !v.contains("frame-ancestors"))
                .and_then(|v| HeaderValue::try_from(format!("{v}; frame-ancestors 'none'")).ok()),
        };
        if let Some(csp) = csp {
            h.insert(header::CONTENT_SECURITY_POLICY, csp);
        }
    }
    response
}

/// A probe's answer.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    status: HealthStatus,
}

/// The only status a probe answers `200` with.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    /// Alive, or ready.
    Ok,
}

/// Liveness: the process is up and serving HTTP. It touches nothing else.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses((status = 200, description = "Alive.", body = Health)),
)]
async fn healthz() -> Json<Health> {
    Json(Health {
        status: HealthStatus::Ok,
    })
}

/// Readiness: the database answers and every migration is applied.
///
/// Otherwise `503 unavailable`; the cause goes to the log only.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses((status = 200, description = "Ready.", body = Health)),
)]
async fn readyz(State(state): State<AppState>) -> Result<Json<Health>, Error> {
    tokio::time::timeout(Duration::from_secs(5), state.store.check_ready())
        .await
        .map_err(|_| Error::NotReady("the database did not answer within 5 s".into()))??;
    Ok(healthz().await)
}

/// A JSON body whose rejections become the API's own error bodies.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        let Json(value) = Json::<T>::from_request(req, state).await?;
        Ok(ApiJson(value))
    }
}

/// The calling page's `Origin`, which must be configured for `site`.
/// Browsers always send it on these cross-origin POSTs; its absence is refused.
pub fn check_origin(headers: &HeaderMap, site: &Site) -> Result<(), Error> {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    match origin {
        Some(origin) if site.allows_origin(origin) => Ok(()),
        _ => Err(Error::OriginNotAllowed),
    }
}

fn site<'a>(state: &'a AppState, id: &str) -> Result<&'a Site, Error> {
    state.config.site(id).ok_or(Error::UnknownSite)
}

/// Public facts about a site, for the widget to show.
#[utoipa::path(
    get,
    path = "/sites/{site}",
    tag = "requester",
    params(("site" = String, Path, description = "Site id, from the embed snippet.")),
    responses(
        (status = 200, description = "The site.", body = SiteInfo),
        (status = 404, description = "`unknown_site`.", body = ApiError),
    ),
)]
async fn site_info(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<SiteInfo>, Error> {
    let site = site(&state, &id)?;
    Ok(Json(crate::site_info::info(site)))
}

/// Emails a 6-digit code to prove control of an address.
///
/// The answer is the same whether or not the address is known. Browsers send `Origin`; it must be one configured for the site.
#[utoipa::path(
    post,
    path = "/email-codes",
    tag = "requester",
    request_body = SendEmailCode,
    responses(
        (status = 202, description = "A code is on its way.", body = EmailCodeSent),
        (status = 403, description = "`origin_not_allowed`.", body = ApiError),
        (status = 404, description = "`unknown_site`.", body = ApiError),
        (status = 422, description = "`invalid_request`: not an email address (see `fields`).", body = ApiError),
    ),
)]
async fn send_email_code(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: ClientAddr,
    ApiJson(body): ApiJson<SendEmailCode>,
) -> Result<impl IntoResponse, Error> {
    let site = site(&state, &body.site_id)?;
    check_origin(&headers, site)?;
    let sent = verification::send(&state, site, &body, client).await?;
    Ok((StatusCode::ACCEPTED, Json(sent)))
}

/// Checks the code; the answer is a single-use token for passkey creation.
#[utoipa::path(
    post,
    path = "/email-codes/{id}/verify",
    tag = "requester",
    params(("id" = String, Path, description = "`verification_id` from sending the code.")),
    request_body = VerifyEmailCode,
    responses(
        (status = 200, description = "The address is proven.", body = EmailVerified),
        (status = 400, description = "`code_incorrect` (with `attempts_left`), or `malformed_json`.", body = ApiError),
        (status = 410, description = "`code_expired`: expired, used or unknown.", body = ApiError),
        (status = 429, description = "`too_many_attempts` (ask for a new code), or `rate_limited`.", body = ApiError),
    ),
)]
async fn verify_email_code(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<VerifyEmailCode>,
) -> Result<Json<EmailVerified>, Error> {
    let verified = verification::verify(&state, &id, &body).await;
    state.metrics.ceremony(Ceremony::EmailCode, &verified);
    Ok(Json(verified?))
}

/// Begins passkey creation for a verified email address. Browsers send `Origin`; it must be one configured for the site.
#[utoipa::path(
    post,
    path = "/registrations",
    tag = "requester",
    request_body = StartRegistration,
    responses(
        (status = 200, description = "Options for `navigator.credentials.create`.", body = RegistrationStarted),
        (status = 403, description = "`origin_not_allowed`, or `email_not_verified` (no valid, unused token).", body = ApiError),
        (status = 404, description = "`unknown_site`.", body = ApiError),
        (status = 422, description = "`invalid_request`: the display name (see `fields`).", body = ApiError),
    ),
)]
async fn start_registration(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<StartRegistration>,
) -> Result<Json<RegistrationStarted>, Error> {
    let site = site(&state, &body.site_id)?;
    check_origin(&headers, site)?;
    Ok(Json(registration::start(&state, site, &body).await?))
}

/// Verifies the new passkey and binds it to the verified email address.
#[utoipa::path(
    post,
    path = "/registrations/{id}/finish",
    tag = "requester",
    params(("id" = String, Path, description = "`ceremony_id` from starting the registration.")),
    request_body = FinishRegistration,
    responses(
        (status = 200, description = "The passkey is registered.", body = Registered),
        (status = 400, description = "`passkey_rejected`, or `malformed_json`.", body = ApiError),
        (status = 403, description = "`origin_not_allowed`: the passkey's client data names another origin.", body = ApiError),
        (status = 409, description = "`credential_already_registered`.", body = ApiError),
        (status = 410, description = "`ceremony_expired`: expired, used or unknown.", body = ApiError),
    ),
)]
async fn finish_registration(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<FinishRegistration>,
) -> Result<Json<Registered>, Error> {
    let registered = registration::finish(&state, &id, &headers, &body).await;
    state.metrics.ceremony(Ceremony::Registration, &registered);
    Ok(Json(registered?))
}

/// Validates the request and returns the exact document to sign. Browsers send `Origin`; it must be one configured for the site.
#[utoipa::path(
    post,
    path = "/signatures",
    tag = "requester",
    request_body = StartSigning,
    responses(
        (status = 200, description = "The document, its digest and options for `navigator.credentials.get`.", body = SigningStarted),
        (status = 400, description = "`credential_unknown`, or `malformed_json`.", body = ApiError),
        (status = 403, description = "`origin_not_allowed`.", body = ApiError),
        (status = 404, description = "`unknown_site`.", body = ApiError),
        (status = 401, description = "`sign_in_required`: an `Authorization` bearer token was sent but its session is unknown or ended.", body = ApiError),
        (status = 409, description = "`widget_outdated`: the client renders another document format (`format`) than this verifier signs; the page's snippet must be updated. Nothing was started.", body = ApiError),
        (status = 422, description = "`invalid_request` (see `fields`), or `email_mismatch`.", body = ApiError),
    ),
)]
async fn start_signing(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<StartSigning>,
) -> Result<Json<SigningStarted>, Error> {
    let site = site(&state, &body.site_id)?;
    check_origin(&headers, site)?;
    let session = match requester_session::bearer(&headers) {
        Some(_) => Some(requester_session::authenticate(&state, &headers).await?),
        None => None,
    };
    Ok(Json(
        signing::start(&state, site, body, session.as_ref()).await?,
    ))
}

/// Verifies the signature and stores the signed request durably.
///
/// Idempotent: finishing the same ceremony again answers `200` with the same number.
#[utoipa::path(
    post,
    path = "/signatures/{id}/finish",
    tag = "requester",
    params(("id" = String, Path, description = "`ceremony_id` from starting the signature.")),
    request_body = FinishSigning,
    responses(
        (status = 201, description = "Stored; the legal clock starts at `received_at`.", body = Submitted),
        (status = 200, description = "Already stored by an earlier call.", body = Submitted),
        (status = 400, description = "`passkey_rejected`, or `malformed_json`.", body = ApiError),
        (status = 403, description = "`origin_not_allowed`: the passkey's client data names another origin.", body = ApiError),
        (status = 409, description = "`passkey_counter_regressed`: the passkey's signature counter did not advance (a copy of it may be in use elsewhere; the ceremony is used up), or `idempotency_key_reused` for a different document.", body = ApiError),
        (status = 410, description = "`ceremony_expired`: expired, used or unknown.", body = ApiError),
    ),
)]
async fn finish_signing(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    client: ClientInfo,
    ApiJson(body): ApiJson<FinishSigning>,
) -> Result<impl IntoResponse, Error> {
    let finished = signing::finish(&state, &id, &headers, &client, &body).await;
    state.metrics.ceremony(Ceremony::Signing, &finished);
    let (submitted, created): (Submitted, bool) = finished?;
    let status = if created {
        state.metrics.submission();
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(submitted)))
}

/// Begins a returning requester's sign-in with a passkey they created here.
///
/// The options ask for any discoverable passkey of this relying party (empty
/// `allowCredentials`, user verification required). Browsers send `Origin`; it must be one configured for the site.
#[utoipa::path(
    post,
    path = "/sign-ins",
    tag = "requester",
    request_body = StartSignIn,
    responses(
        (status = 200, description = "Options for `navigator.credentials.get`.", body = SignInStarted),
        (status = 403, description = "`origin_not_allowed`.", body = ApiError),
        (status = 404, description = "`unknown_site`.", body = ApiError),
    ),
)]
async fn start_sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<StartSignIn>,
) -> Result<Json<SignInStarted>, Error> {
    let site = site(&state, &body.site_id)?;
    check_origin(&headers, site)?;
    Ok(Json(sign_in::start(&state, site).await?))
}

/// Verifies the sign-in assertion and opens a requester session.
///
/// An unknown passkey, a wrong user handle and a bad signature all answer the
/// same `400 passkey_rejected`.
#[utoipa::path(
    post,
    path = "/sign-ins/{id}/finish",
    tag = "requester",
    params(("id" = String, Path, description = "`ceremony_id` from starting the sign-in.")),
    request_body = FinishSignIn,
    responses(
        (status = 200, description = "Signed in: send `Authorization: Bearer <session_token>`.", body = SignedIn),
        (status = 400, description = "`passkey_rejected`, or `malformed_json`.", body = ApiError),
        (status = 403, description = "`origin_not_allowed`: the page's or the passkey's origin.", body = ApiError),
        (status = 409, description = "`passkey_counter_regressed`: the passkey's signature counter did not advance (a copy of it may be in use elsewhere; the ceremony is used up).", body = ApiError),
        (status = 410, description = "`ceremony_expired`: expired, used or unknown.", body = ApiError),
    ),
)]
async fn finish_sign_in(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<FinishSignIn>,
) -> Result<Json<SignedIn>, Error> {
    let signed_in = sign_in::finish(&state, &id, &headers, &body).await;
    state.metrics.ceremony(Ceremony::SignIn, &signed_in);
    Ok(Json(signed_in?))
}

/// The signed-in requester's requests on their site, newest first.
#[utoipa::path(
    get,
    path = "/me/requests",
    tag = "requester",
    security(("requester_session" = [])),
    responses(
        (status = 200, description = "Their requests, with status and due date.", body = MyRequests),
        (status = 401, description = "`sign_in_required`: no token, or the session ended.", body = ApiError),
    ),
)]
async fn my_requests(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<MyRequests>, Error> {
    let who = requester_session::authenticate(&state, &headers).await?;
    Ok(Json(requests::list(&state, &who).await?))
}

/// Signs the requester out: the session's token stops working at once
/// (instead of after 15 minutes idle).
#[utoipa::path(
    delete,
    path = "/me/session",
    tag = "requester",
    security(("requester_session" = [])),
    responses(
        (status = 204, description = "Signed out: the token no longer works."),
        (status = 401, description = "`sign_in_required`: no token, or the session had already ended.", body = ApiError),
    ),
)]
async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Result<StatusCode, Error> {
    requester_session::end(&state, &headers).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed receipt of one of the requester's own requests: its sealed
/// evidence bundle (`docs/evidence.md`), which `verify-bundle` checks offline.
#[utoipa::path(
    get,
    path = "/me/requests/{number}/receipt",
    tag = "requester",
    security(("requester_session" = [])),
    params(("number" = String, Path, description = "Request number, e.g. `RP-7K3M-9QXD`.")),
    responses(
        (status = 200, description = "The evidence bundle (`recordpass.evidence.v1`).", content_type = "application/json", body = Object),
        (status = 401, description = "`sign_in_required`.", body = ApiError),
        (status = 404, description = "`not_found`: no such request among this requester's.", body = ApiError),
    ),
)]
async fn my_receipt(
    State(state): State<AppState>,
    Path(number): Path<String>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, Error> {
    let who = requester_session::authenticate(&state, &headers).await?;
    let json = requests::receipt(&state, &who, &number).await?;
    let disposition =
        HeaderValue::from_str(&format!("attachment; filename=\"{number}.receipt.json\""))
            .map_err(|_| Error::NotFound)?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        json,
    ))
}

/// The public key that verifies evidence-bundle seals (`docs/evidence.md`).
#[utoipa::path(
    get,
    path = "/.well-known/recordpass-seal-key",
    tag = "evidence",
    responses((status = 200, description = "The seal key.", body = seal::PublishedSealKey)),
)]
async fn seal_key(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        )],
        Json(state.seal.public().published()),
    )
}

/// The query of an upload.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// Deprecated: the file's name, as widget releases before the
    /// `X-Recordpass-File-Name` header send it (a name in the URL reaches
    /// proxies' access logs). Used only when the header is absent.
    #[serde(default)]
    name: String,
}

/// The upload's file name: from [`FILE_NAME_HEADER`] (percent-encoded UTF-8),
/// else from the deprecated `?name=`; empty when neither is usable.
fn upload_file_name(headers: &HeaderMap, query: Option<UploadQuery>) -> String {
    let from_header = headers
        .get(FILE_NAME_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| percent_encoding::percent_decode_str(v).decode_utf8().ok())
        .map(|name| name.into_owned());
    from_header
        .or_else(|| query.map(|q| q.name))
        .unwrap_or_default()
}

/// A file's raw bytes as a request body (for the OpenAPI document only).
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
struct FileBody(Vec<u8>);

/// Stores a proof-of-authority file (PDF, JPEG or PNG, at most 10 MiB) until a signed request names it.
///
/// The body is the file's bytes, `Content-Type` its type, `Content-Length` its size
/// (required). The content decides the type: a declared type or a name extension that
/// disagrees with it is refused, and nothing is stored for a refused file. Unclaimed
/// files are deleted after 24 hours. Browsers send `Origin`; it must be one configured
/// for the site. The body may take `request_timeout_secs` plus its size at 32 KiB/s
/// to arrive (10 MiB: about 5.5 minutes), so uploads work on slow mobile links, but
/// not go `[limits] upload_idle_timeout_secs` (default 20) without a byte.
#[utoipa::path(
    post,
    path = "/sites/{site}/uploads",
    tag = "requester",
    params(
        ("site" = String, Path, description = "Site id, from the embed snippet."),
        ("X-Recordpass-File-Name" = Option<String>, Header, description = "The file's name as the requester chose it, percent-encoded UTF-8 (its extension must match the content)."),
        UploadQuery,
    ),
    request_body(
        description = "The file's bytes, declared with its type. The type is read from the content; a declared type that disagrees is refused.",
        content(
            (FileBody = "application/pdf"),
            (FileBody = "image/jpeg"),
            (FileBody = "image/png"),
        )
    ),
    responses(
        (status = 201, description = "Stored; put `attachment` in `request.requester.attachments`.", body = Uploaded),
        (status = 400, description = "`file_empty`.", body = ApiError),
        (status = 403, description = "`origin_not_allowed`.", body = ApiError),
        (status = 404, description = "`unknown_site`.", body = ApiError),
        (status = 408, description = "`upload_too_slow`: the body arrived slower than 32 KiB/s on average (it did not arrive within `request_timeout_secs` plus its size at that rate), or no byte of it arrived for `[limits] upload_idle_timeout_secs` (default 20); it was cut off and nothing was stored. A better connection may succeed.", body = ApiError),
        (status = 411, description = "`length_required`: no `Content-Length`; an upload must declare its size before it is read (browsers send it; a proxy on the way may have dropped it).", body = ApiError),
        (status = 413, description = "`file_too_large`.", body = ApiError),
        (status = 415, description = "`file_type_unsupported` (not a PDF, JPEG or PNG) or `file_type_mismatch` (the name or declared type disagrees with the content).", body = ApiError),
        (status = 422, description = "`file_damaged`: truncated or malformed.", body = ApiError),
        (status = 429, description = "`rate_limited`: too many files from this client, or too many waiting to be claimed.", body = ApiError),
        (status = 503, description = "`unavailable`: with `Retry-After`, the files arriving already fill the verifier's upload buffer (`[limits] upload_buffer_mib`), or this client address is already sending a file; nothing was kept or stored; retry after `Retry-After` seconds. Without it, storing the received file took longer than `request_timeout_secs`, or the verifier is not ready.", body = ApiError,
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying (when the upload buffer is full or this client is already sending a file)."))),
    ),
)]
async fn upload(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<UploadQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    client: ClientAddr,
    body: Body,
) -> Result<impl IntoResponse, Error> {
    let site = site(&state, &id)?;
    check_origin(&headers, site)?;
    let timeout = state.config.request_timeout();
    let idle = state.uploads.idle();
    // Known from `Content-Length` (or no body at all: 0); unknown when chunked.
    let Some(len) = axum::body::HttpBody::size_hint(&body).exact() else {
        upload_intake::discard(body, MAX_UPLOAD_BYTES, timeout, idle);
        return Err(Error::LengthRequired);
    };
    // Empty or over the limit: refused from its length, before any byte is read.
    check_size(len).map_err(Error::File)?;
    let receive_time = upload_intake::receive_time(timeout, len);
    // Its bytes reserved before the body is read, held until the file is
    // stored or refused; no room (or this client already sending): refused at once.
    let _reservation = match state.uploads.admit(client, len) {
        Ok(reservation) => reservation,
        Err(busy) => {
            upload_intake::discard(body, len, receive_time, idle);
            return Err(busy);
        }
    };
    let bytes = upload_intake::receive(body, len, receive_time, idle).await?;
    let name = upload_file_name(&headers, query.ok().map(|Query(q)| q));
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // Received whole: waits for its turn to seal and store rather than being
    // refused (the budget bounds how many wait; each turn is bounded below),
    // then has `request_timeout_secs` like any request.
    let _turn = state.uploads.seal_turn().await?;
    let stored = tokio::time::timeout(
        timeout,
        uploads::store(&state, site, client, &name, declared, bytes),
    )
    .await
    .map_err(|_| Error::Timeout)??;
    Ok((StatusCode::CREATED, Json(stored)))
}
