//! The HIM staff console: server-rendered pages (askama, auto-escaped) served
//! by the verifier, with one static script for the passkey ceremonies.
//!
//! Every route is declared once in [`routes`], with the roles that may use it;
//! the router is built from that table and the authorization tests enumerate it.
//! [`session`] guards each route (401 without a session, 403 for the wrong
//! role, Origin + CSRF token on every state-changing request).

pub mod audit;
pub mod auth;
pub mod certificate;
pub mod detail;
pub mod disclosures;
pub mod expiry;
pub mod legal_hold;
pub mod notices;
pub mod pages;
pub mod pdf;
pub mod queue;
pub mod session;
pub mod staff_access;
pub mod webhooks;
pub mod workflow;

use axum::{
    Router,
    handler::Handler,
    http::Method,
    middleware,
    routing::{MethodFilter, MethodRouter, on},
};
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{Url, Webauthn, WebauthnBuilder};

use crate::{AppState, Config, Error};

/// What a staff member may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages staff and settings, places and lifts legal holds, reopens a
    /// denial overturned on review; reads the queue and the audit trail.
    Admin,
    /// Works the queue: reviews, changes status, exports.
    Specialist,
    /// Reads requests and the audit trail; changes nothing.
    Auditor,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 3] = [Role::Admin, Role::Specialist, Role::Auditor];

    /// Stored and shown name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Specialist => "specialist",
            Role::Auditor => "auditor",
        }
    }

    /// Parses a stored or typed name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Who may use a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// No session needed: sign-in, enrolment and static files.
    Public,
    /// A signed-in staff member with one of these roles.
    Roles(&'static [Role]),
}

/// Any signed-in staff member.
pub const ANY_STAFF: Access = Access::Roles(&Role::ALL);
/// Reading requests: every role.
pub const READ: Access = ANY_STAFF;
/// Roles that work the queue.
pub const WORK_ROLES: &[Role] = &[Role::Specialist];
/// Working the queue (changes): specialists only.
pub const WORK: Access = Access::Roles(WORK_ROLES);
/// Roles that may reopen a denial overturned on review: whoever denies, and
/// admins (a privacy officer carrying out the reviewer's decision).
pub const REOPEN_ROLES: &[Role] = &[Role::Specialist, Role::Admin];
/// Reopening a denial after review.
pub const REOPEN: Access = Access::Roles(REOPEN_ROLES);
/// Admins.
pub const ADMIN_ROLES: &[Role] = &[Role::Admin];
/// Staff management, webhooks and legal holds: admins only.
pub const ADMIN: Access = Access::Roles(ADMIN_ROLES);
/// The audit trail: auditors and admins.
pub const AUDIT: Access = Access::Roles(&[Role::Auditor, Role::Admin]);

/// Drops a filter's search (`q`, a patient's name) unless it came in a form's
/// body (`POST`): never from a URL, which proxies log and browsers keep in
/// their history.
pub fn search_from_body_only(method: &Method, q: &mut String) {
    if method != Method::POST {
        q.clear();
    }
}

/// One console route: method, path, who may use it, and its handler.
pub struct ConsoleRoute {
    /// HTTP method.
    pub method: Method,
    /// axum path, e.g. `/console/requests/{number}`.
    pub path: &'static str,
    /// Who may use it.
    pub access: Access,
    handler: MethodRouter<AppState>,
}

fn route<H, T>(method: Method, path: &'static str, access: Access, handler: H) -> ConsoleRoute
where
    H: Handler<T, AppState>,
    T: 'static,
{
    let filter = MethodFilter::try_from(method.clone()).unwrap_or(MethodFilter::GET);
    ConsoleRoute {
        method,
        path,
        access,
        handler: on(filter, handler),
    }
}

/// Every console route. The router is built from this table only, so the
/// authorization tests that enumerate it cover everything that is served.
pub fn routes() -> Vec<ConsoleRoute> {
    use Method as M;
    vec![
        route(
            M::GET,
            "/console/static/console.js",
            Access::Public,
            pages::script,
        ),
        route(
            M::GET,
            "/console/static/console.css",
            Access::Public,
            pages::style,
        ),
        route(
            M::GET,
            "/console/sign-in",
            Access::Public,
            auth::sign_in_page,
        ),
        route(
            M::POST,
            "/console/sign-in",
            Access::Public,
            auth::sign_in_without_script,
        ),
        route(M::GET, "/console/enrol", Access::Public, auth::enrol_page),
        route(
            M::POST,
            "/console/api/sign-in/start",
            Access::Public,
            auth::sign_in_start,
        ),
        route(
            M::POST,
            "/console/api/sign-in/finish",
            Access::Public,
            auth::sign_in_finish,
        ),
        route(
            M::POST,
            "/console/api/enrol/start",
            Access::Public,
            auth::enrol_start,
        ),
        route(
            M::POST,
            "/console/api/enrol/finish",
            Access::Public,
            auth::enrol_finish,
        ),
        route(M::POST, "/console/sign-out", ANY_STAFF, auth::sign_out),
        route(M::GET, "/console", READ, queue::page),
        route(M::POST, "/console", READ, queue::page),
        route(M::GET, "/console/queue.csv", READ, queue::csv),
        route(M::POST, "/console/queue.csv", READ, queue::csv),
        route(M::GET, "/console/requests/{number}", READ, detail::page),
        route(
            M::GET,
            "/console/requests/{number}/bundle",
            READ,
            detail::bundle,
        ),
        route(
            M::GET,
            "/console/requests/{number}/certificate.pdf",
            READ,
            certificate::download,
        ),
        route(
            M::GET,
            "/console/requests/{number}/files/{id}",
            READ,
            detail::file,
        ),
        route(
            M::POST,
            "/console/requests/{number}/status",
            WORK,
            workflow::change_status,
        ),
        route(
            M::POST,
            "/console/requests/{number}/reopen",
            REOPEN,
            workflow::reopen,
        ),
        route(
            M::POST,
            "/console/requests/{number}/extension",
            WORK,
            workflow::extend,
        ),
        route(
            M::POST,
            "/console/requests/{number}/identity",
            WORK,
            workflow::identity,
        ),
        route(
            M::POST,
            "/console/requests/{number}/notes",
            WORK,
            workflow::note,
        ),
        route(
            M::POST,
            "/console/requests/{number}/hold",
            ADMIN,
            legal_hold::place,
        ),
        route(
            M::POST,
            "/console/requests/{number}/hold/lift",
            ADMIN,
            legal_hold::lift,
        ),
        route(M::GET, "/console/staff", ADMIN, auth::staff_page),
        route(M::POST, "/console/staff/invite", ADMIN, auth::invite_form),
        route(
            M::POST,
            "/console/staff/access",
            ADMIN,
            staff_access::change,
        ),
        route(
            M::POST,
            "/console/staff/role",
            ADMIN,
            staff_access::change_role,
        ),
        route(
            M::POST,
            "/console/staff/passkeys/revoke",
            ADMIN,
            staff_access::revoke_passkey,
        ),
        route(M::GET, "/console/audit", AUDIT, audit::page),
        route(M::GET, "/console/audit.jsonl", AUDIT, audit::export),
        route(M::GET, "/console/disclosures", AUDIT, disclosures::page),
        route(M::POST, "/console/disclosures", AUDIT, disclosures::page),
        route(M::GET, "/console/disclosures.csv", AUDIT, disclosures::csv),
        route(M::POST, "/console/disclosures.csv", AUDIT, disclosures::csv),
        route(M::GET, "/console/webhooks", ADMIN, webhooks::page),
        route(
            M::POST,
            "/console/webhooks/{id}/retry",
            ADMIN,
            webhooks::retry,
        ),
    ]
}

/// The console's routes, each behind [`session::guard`] with its access rule.
pub fn router(state: &AppState) -> Router<AppState> {
    routes().into_iter().fold(Router::new(), |router, r| {
        let guarded = r.handler.route_layer(middleware::from_fn_with_state(
            (state.clone(), r.access),
            session::guard,
        ));
        router.route(r.path, guarded)
    })
}

/// The console's relying party (its own origin) and cookie policy.
pub struct Console {
    webauthn: Webauthn,
    /// The console's origin, e.g. `https://records.example-hospital.org`.
    pub origin: String,
    /// Whether cookies carry `Secure` (every origin but plain-HTTP localhost).
    pub secure_cookies: bool,
}

impl Console {
    /// Builds the staff relying party for [`Config::console_origin`]; refuses
    /// plain HTTP anywhere but localhost.
    pub fn new(config: &Config) -> Result<Console, Error> {
        let origin = config.console_origin();
        let url: Url = origin
            .parse()
            .map_err(|e| Error::Config(format!("console origin {origin}: {e}")))?;
        let local = url.host_str().is_some_and(|h| {
            h == "localhost"
                || h.parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        });
        if url.scheme() != "https" && !local {
            return Err(Error::Config(format!(
                "the staff console must be served over https, not {origin}"
            )));
        }
        let webauthn = WebauthnBuilder::new(&config.relying_party.id, &url)
            .and_then(|b| b.rp_name(&config.relying_party.name).build())
            .map_err(|e| Error::Config(format!("console relying party ({origin}): {e}")))?;
        Ok(Console {
            webauthn,
            secure_cookies: url.scheme() == "https",
            origin: url.origin().ascii_serialization(),
        })
    }

    /// The staff relying party.
    pub fn webauthn(&self) -> &Webauthn {
        &self.webauthn
    }
}
