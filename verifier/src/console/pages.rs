//! Rendering: askama templates (HTML-escaped by default), the console's one
//! script and stylesheet, error pages, and the headers every page carries.

use askama::Template;
use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};

use recordpass_request::Instrument;

use crate::Error;

/// Strict policy: scripts, styles and forms from this origin only, no framing.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
    base-uri 'none'; object-src 'none'";

const SCRIPT: &str = include_str!("../../static/console.js");
const STYLE: &str = include_str!("../../static/console.css");

/// Adds the console's security headers to any response.
pub fn harden(mut response: Response) -> Response {
    let h = response.headers_mut();
    // A downloaded file keeps its own `sandbox` policy (see `detail::file`).
    let sandboxed = h
        .get(header::CONTENT_SECURITY_POLICY)
        .is_some_and(|v| v.as_bytes().starts_with(b"sandbox"));
    if !sandboxed {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// [`harden`] as a `map_response` middleware for every console response.
pub async fn harden_all(response: Response) -> Response {
    harden(response)
}

/// Renders a page with the console's headers.
pub fn render<T: Template>(page: &T) -> Result<Response, PageError> {
    let html = page
        .render()
        .map_err(|e| Error::Internal(format!("template: {e}")))?;
    Ok(harden(Html(html).into_response()))
}

/// An error shown as an HTML page (status from [`Error::status_and_code`]).
#[derive(Debug)]
pub struct PageError(pub Error);

impl From<Error> for PageError {
    fn from(e: Error) -> PageError {
        PageError(e)
    }
}

impl From<sqlx::Error> for PageError {
    fn from(e: sqlx::Error) -> PageError {
        PageError(Error::Database(e))
    }
}

#[derive(Template)]
#[template(path = "console/error.html")]
struct ErrorPage {
    status: u16,
    message: String,
    sign_in: bool,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, _) = self.0.status_and_code();
        if status.is_server_error() {
            tracing::error!(error = %self.0, "console request failed");
        }
        let page = ErrorPage {
            status: status.as_u16(),
            message: self.0.to_api_error().message,
            sign_in: status == StatusCode::UNAUTHORIZED,
        };
        let body = page
            .render()
            .unwrap_or_else(|_| "Something went wrong.".to_owned());
        harden((status, Html(body)).into_response())
    }
}

/// `GET /console/static/console.js`.
pub async fn script() -> Response {
    asset(SCRIPT, "text/javascript; charset=utf-8")
}

/// `GET /console/static/console.css`.
pub async fn style() -> Response {
    asset(STYLE, "text/css; charset=utf-8")
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut r = body.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

/// What `instrument` is, in the console's words, with the rule it meets.
pub fn instrument_name(instrument: Instrument) -> &'static str {
    match instrument {
        Instrument::RightOfAccess => "Right of access (45 CFR 164.524)",
        Instrument::Directive => {
            "Directive to send an electronic copy to a third party (45 CFR 164.524(c)(3)(ii))"
        }
        Instrument::Authorization => "Authorization to disclose (45 CFR 164.508)",
    }
}
