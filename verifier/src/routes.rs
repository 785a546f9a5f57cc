//! HTTP routes: thin handlers over the registration and signing flows.

use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, FromRequest, Path, Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware,
    response::IntoResponse,
    routing::{get, post},
};
use recordpass_request::api::{
    EmailVerified, FinishRegistration, FinishSigning, Registered, RegistrationStarted,
    SendEmailCode, SigningStarted, SiteInfo, StartRegistration, StartSigning, Submitted,
    VerifyEmailCode,
};
use serde::de::DeserializeOwned;
use tower_http::{cors::CorsLayer, set_header::SetResponseHeaderLayer, trace::TraceLayer};

use crate::{
    AppState, Error, assets,
    config::Site,
    email::{self, verification},
    evidence::ClientInfo,
    limits::{self, ClientAddr, FloodGuard},
    registration, seal, signing,
};
use std::sync::Arc;

/// Largest JSON body accepted by the API.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

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
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE])
        .expose_headers([header::RETRY_AFTER])
        .max_age(std::time::Duration::from_secs(600));
    let flood = Arc::new(FloodGuard::new(
        &state.config.limits,
        state.config.trust_forwarded_for,
    ));

    let api = Router::new()
        .route("/sites/{site}", get(site_info))
        .route("/email-codes", post(send_email_code))
        .route("/email-codes/{id}/verify", post(verify_email_code))
        .route("/registrations", post(start_registration))
        .route("/registrations/{id}/finish", post(finish_registration))
        .route("/signatures", post(start_signing))
        .route("/signatures/{id}/finish", post(finish_signing))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(
            flood.clone(),
            limits::flood_guard,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));

    let console = crate::console::router(&state)
        .layer(middleware::from_fn_with_state(
            flood.clone(),
            limits::flood_guard,
        ))
        .layer(middleware::map_response(crate::console::pages::harden_all));

    Router::new()
        .nest("/api/v1", api)
        .merge(console)
        .merge(assets::routes())
        .route(seal::SEAL_KEY_PATH, get(seal_key))
        .route("/demo/outbox", get(email::outbox::page))
        .fallback(|| async { Error::NotFound })
        .method_not_allowed_fallback(|| async { Error::MethodNotAllowed })
        .layer(cors)
        // Method, path and status only: no headers or bodies reach the log.
        .layer(TraceLayer::new_for_http())
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .with_state(state)
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

async fn site_info(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<SiteInfo>, Error> {
    let site = site(&state, &id)?;
    Ok(Json(crate::site_info::info(site)))
}

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

async fn verify_email_code(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<VerifyEmailCode>,
) -> Result<Json<EmailVerified>, Error> {
    Ok(Json(verification::verify(&state, &id, &body).await?))
}

async fn start_registration(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<StartRegistration>,
) -> Result<Json<RegistrationStarted>, Error> {
    let site = site(&state, &body.site_id)?;
    check_origin(&headers, site)?;
    Ok(Json(registration::start(&state, site, &body).await?))
}

async fn finish_registration(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<FinishRegistration>,
) -> Result<Json<Registered>, Error> {
    Ok(Json(
        registration::finish(&state, &id, &headers, &body).await?,
    ))
}

async fn start_signing(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<StartSigning>,
) -> Result<Json<SigningStarted>, Error> {
    let site = site(&state, &body.site_id)?;
    check_origin(&headers, site)?;
    Ok(Json(signing::start(&state, site, body).await?))
}

async fn finish_signing(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    client: ClientInfo,
    ApiJson(body): ApiJson<FinishSigning>,
) -> Result<impl IntoResponse, Error> {
    let (submitted, created): (Submitted, bool) =
        signing::finish(&state, &id, &headers, &client, &body).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(submitted)))
}

/// The public key that verifies evidence-bundle seals (`docs/evidence.md`).
async fn seal_key(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        )],
        Json(state.seal.public().published()),
    )
}
