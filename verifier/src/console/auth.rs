//! Staff access: one-time enrolment links, passkey enrolment (user
//! verification required) and passkey sign-in, all as database-held,
//! single-use ceremonies; sign-out; the admin's staff page.

use askama::Template;
use axum::{
    Extension, Form, Json,
    extract::State,
    http::{HeaderMap, header},
    response::{IntoResponse, Response},
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;
use webauthn_rs::DEFAULT_AUTHENTICATOR_TIMEOUT;
use webauthn_rs::prelude::{
    CreationChallengeResponse, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, RequestChallengeResponse, Uuid,
};
use webauthn_rs_proto::{
    AllowCredentials, PublicKeyCredentialRequestOptions, UserVerificationPolicy,
};

use super::{
    Role, audit,
    pages::{PageError, render},
    session::{self, Staff, hash_token},
};
use recordpass_request::{Field, FieldError, Problem, api::ApiError};

use crate::{
    AppState, Config, Error, Store, db,
    passkeys::{from_json, to_json},
    routes::ApiJson,
    tokens::random_token,
};

/// The longest staff email accepted (RFC 5321's path limit, as for requesters).
pub const MAX_EMAIL_BYTES: usize = 254;

/// A staff email as invites and sign-in accept it: trimmed and lower-cased, at
/// most [`MAX_EMAIL_BYTES`] long, a valid address. Anything else is `422
/// invalid_request` on field `email` (syntax alone says nothing about who is
/// staff), so nothing longer or stranger reaches the database or the audit log.
pub fn staff_email(raw: &str) -> Result<String, Error> {
    let email = raw.trim().to_lowercase();
    let problem = if email.is_empty() {
        Problem::Required
    } else if email.len() > MAX_EMAIL_BYTES {
        Problem::TooLong
    } else if email.parse::<lettre::Address>().is_err() {
        Problem::InvalidEmail
    } else {
        return Ok(email);
    };
    Err(Error::InvalidRequest(vec![FieldError {
        field: Field::Email,
        problem,
    }]))
}

/// Whether an invite for `email` with `role` may add a passkey: the address
/// is new (`None`), or belongs to an enabled member who already has `role`
/// (their id). An invite never re-enables a member or changes a role: a
/// disabled member is re-enabled on the Staff page first, and an invite with
/// another role is refused (`409 invalid_transition`).
async fn member_for_invite(
    conn: &mut db::Connection,
    email: &str,
    role: Role,
) -> Result<Option<String>, Error> {
    let Some(row) = super::staff_access::find_member(conn, email).await? else {
        return Ok(None);
    };
    if row.get::<Option<i64>, _>("disabled_at").is_some() {
        return Err(Error::InvalidTransition(format!(
            "{email}'s access is disabled: an admin must re-enable it on the Staff page before an invite can add a passkey"
        )));
    }
    let current: String = row.get("role");
    if current != role.as_str() {
        return Err(Error::InvalidTransition(format!(
            "{email} is already staff as {current}: an invite only adds a passkey (invite them as {current}); change a role with Change role on the Staff page"
        )));
    }
    Ok(Some(row.get("id")))
}

/// Creates a one-time enrolment link for `email` with `role`, valid for
/// `console.invite_ttl_secs`; only the token's hash is stored. For an existing
/// member the link adds a passkey (see [`member_for_invite`] for what is refused).
pub async fn invite(
    store: &Store,
    config: &Config,
    now: i64,
    by: &str,
    email: &str,
    role: Role,
) -> Result<String, Error> {
    let email = staff_email(email)?;
    let token = random_token();
    let ttl = i64::try_from(config.console.invite_ttl_secs).unwrap_or(i64::MAX);
    let mut tx = store.begin().await?;
    db::lock_audit_log(&mut tx).await?;
    member_for_invite(&mut tx, &email, role).await?;
    sqlx::query(
        "INSERT INTO staff_invites (token_hash, email, role, invited_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(hash_token(&token))
    .bind(&email)
    .bind(role.as_str())
    .bind(by)
    .bind(now)
    .bind(now.saturating_add(ttl))
    .execute(&mut *tx)
    .await?;
    let event = audit::Event {
        actor: by,
        action: "staff_invite",
        target: &email,
        detail: json!({"role": role.as_str()}),
    };
    audit::append(&mut tx, now, event).await?;
    tx.commit().await?;
    // The token travels in the fragment: never sent to a server, never logged.
    Ok(format!("{}/console/enrol#{token}", config.console_origin()))
}

#[derive(Serialize, Deserialize)]
struct EnrolContext {
    token_hash: String,
    staff_id: String,
    email: String,
    role: Role,
}

/// Whose sign-in a ceremony is: a staff member's, or a decoy for an address
/// that has no (enabled) staff account.
#[derive(Serialize, Deserialize)]
enum SignInContext {
    Staff { staff_id: String },
    Decoy { email: String },
}

/// Who a failed sign-in names in the audit trail: a staff member's own
/// address, or for any other address only a keyed hash of it, so a mistyped
/// or a patient's address is not kept in the permanent log.
fn sign_in_failure_actor(state: &AppState, email: &str, staff: bool) -> String {
    if staff {
        return email.to_owned();
    }
    let hash = state
        .store
        .vault()
        .keyed_hash("staff sign-in failure", email);
    format!("not-staff:{}", URL_SAFE_NO_PAD.encode(&hash[..16]))
}

/// `POST /console/api/enrol/start` body.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct EnrolStart {
    /// The token from the enrolment link.
    pub token: String,
}

/// Passkey creation options for the browser.
#[derive(Serialize, utoipa::ToSchema)]
pub struct EnrolStarted {
    /// Ceremony to finish.
    pub ceremony_id: String,
    /// Who is enrolling.
    pub email: String,
    /// `navigator.credentials.create` options.
    #[schema(value_type = recordpass_request::openapi::CreationOptions)]
    pub options: CreationChallengeResponse,
}

/// `POST /console/api/enrol/finish` body.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct EnrolFinish {
    /// Ceremony id.
    pub ceremony_id: String,
    /// The new credential.
    #[schema(value_type = recordpass_request::openapi::NewCredential)]
    pub credential: RegisterPublicKeyCredential,
}

/// `POST /console/api/sign-in/start` body.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct SignInStart {
    /// Staff email address.
    pub email: String,
}

/// Assertion options for the browser.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SignInStarted {
    /// Ceremony to finish.
    pub ceremony_id: String,
    /// `navigator.credentials.get` options.
    #[schema(value_type = recordpass_request::openapi::AssertionOptions)]
    pub options: RequestChallengeResponse,
}

/// `POST /console/api/sign-in/finish` body.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct SignInFinish {
    /// Ceremony id.
    pub ceremony_id: String,
    /// The assertion.
    #[schema(value_type = recordpass_request::openapi::Assertion)]
    pub credential: PublicKeyCredential,
}

async fn put_ceremony(
    state: &AppState,
    kind: &str,
    ceremony_state: String,
    context: String,
) -> Result<String, Error> {
    let id = random_token();
    let now = state.clock.unix();
    let ttl = state.config.ceremony_ttl().as_secs() as i64;
    let pool = state.store.pool();
    sqlx::query("DELETE FROM staff_ceremonies WHERE expires_at <= $1")
        .bind(now)
        .execute(pool)
        .await?;
    sqlx::query(
        "INSERT INTO staff_ceremonies (id, kind, state, context, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&id)
    .bind(kind)
    .bind(ceremony_state)
    .bind(context)
    .bind(now + ttl)
    .execute(pool)
    .await?;
    Ok(id)
}

async fn take_ceremony(
    conn: &mut db::Connection,
    id: &str,
    kind: &str,
    now: i64,
) -> Result<(String, String), Error> {
    let row = sqlx::query(
        "DELETE FROM staff_ceremonies WHERE id = $1 AND kind = $2 AND expires_at > $3
         RETURNING state, context",
    )
    .bind(id)
    .bind(kind)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(Error::CeremonyExpired)?;
    Ok((row.get("state"), row.get("context")))
}

/// `POST /console/api/enrol/start`: checks the link and returns creation options.
#[utoipa::path(
    post,
    path = "/console/api/enrol/start",
    tag = "staff",
    request_body = EnrolStart,
    responses(
        (status = 200, description = "Options for `navigator.credentials.create`.", body = EnrolStarted),
        (status = 403, description = "`forbidden`: `Origin` is not the console's.", body = ApiError),
        (status = 409, description = "`invalid_transition`: the address belongs to a disabled member (re-enable first) or to a member with another role.", body = ApiError),
        (status = 410, description = "`ceremony_expired`: the link is unknown, used or expired.", body = ApiError),
    ),
)]
pub async fn enrol_start(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<EnrolStart>,
) -> Result<Json<EnrolStarted>, Error> {
    let now = state.clock.unix();
    let token_hash = hash_token(&body.token);
    let row = sqlx::query(
        "SELECT email, role FROM staff_invites
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(&token_hash)
    .bind(now)
    .fetch_optional(state.store.pool())
    .await?
    .ok_or(Error::CeremonyExpired)?;
    let email: String = row.get("email");
    let role = Role::parse(row.get("role")).ok_or(Error::Internal("stored role".into()))?;
    let mut conn = state.store.pool().acquire().await?;
    let existing = member_for_invite(&mut conn, &email, role).await?;
    drop(conn);
    let staff_id = match existing {
        Some(id) => Uuid::parse_str(&id).map_err(|e| Error::Internal(e.to_string()))?,
        None => Uuid::new_v4(),
    };
    let (options, reg) = state
        .console
        .webauthn()
        .start_passkey_registration(staff_id, &email, &email, None)
        .map_err(Error::PasskeyRejected)?;
    let context = EnrolContext {
        token_hash,
        staff_id: staff_id.to_string(),
        email: email.clone(),
        role,
    };
    let ceremony_id = put_ceremony(&state, "enrol", to_json(&reg)?, to_json(&context)?).await?;
    Ok(Json(EnrolStarted {
        ceremony_id,
        email,
        options,
    }))
}

/// `POST /console/api/enrol/finish`: verifies the new passkey, uses the link
/// up, creates (or re-keys) the staff member and signs them in.
#[utoipa::path(
    post,
    path = "/console/api/enrol/finish",
    tag = "staff",
    request_body = EnrolFinish,
    responses(
        (status = 200, description = "Signed in: the session cookie is set; go to `redirect`.", body = Object),
        (status = 400, description = "`passkey_rejected`, or `malformed_json`.", body = ApiError),
        (status = 403, description = "`forbidden`: `Origin` is not the console's; `origin_not_allowed`: the passkey's is not.", body = ApiError),
        (status = 409, description = "`credential_already_registered`; `invalid_transition`: meanwhile the member was disabled or their role changed (the link stays usable).", body = ApiError),
        (status = 410, description = "`ceremony_expired`, or the link was used meanwhile.", body = ApiError),
    ),
)]
pub async fn enrol_finish(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<EnrolFinish>,
) -> Result<Response, Error> {
    let now = state.clock.unix();
    let mut tx = state.store.begin().await?;
    let (reg, context) = take_ceremony(&mut tx, &body.ceremony_id, "enrol", now).await?;
    let context: EnrolContext = from_json(&context)?;
    let reg: PasskeyRegistration = from_json(&reg)?;
    let passkey = match state
        .console
        .webauthn()
        .finish_passkey_registration(&body.credential, &reg)
    {
        Ok(p) => p,
        Err(e) => {
            tx.commit().await?;
            return Err(Error::PasskeyRejected(e));
        }
    };
    // Serialise with staff changes (disable, revoke) and check again: the
    // member may have been disabled since the link was made.
    db::lock_audit_log(&mut tx).await?;
    let existing = match member_for_invite(&mut tx, &context.email, context.role).await {
        Ok(existing) => existing,
        Err(e) => {
            tx.commit().await?;
            return Err(e);
        }
    };
    let used = sqlx::query(
        "UPDATE staff_invites SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $3",
    )
    .bind(now)
    .bind(&context.token_hash)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if used.rows_affected() != 1 {
        tx.commit().await?;
        return Err(Error::CeremonyExpired);
    }
    // The member's stored id, not the one drawn at start: with two open links
    // for one new address, the second adds its passkey to the member the
    // first created.
    let staff_id = match existing {
        Some(id) => id,
        None => {
            sqlx::query("INSERT INTO staff (id, email, role, created_at) VALUES ($1, $2, $3, $4)")
                .bind(&context.staff_id)
                .bind(&context.email)
                .bind(context.role.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await?;
            context.staff_id.clone()
        }
    };
    let credential_id = URL_SAFE_NO_PAD.encode(passkey.cred_id());
    let inserted = sqlx::query(
        "INSERT INTO staff_passkeys (credential_id, staff_id, passkey, created_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT (credential_id) DO NOTHING",
    )
    .bind(&credential_id)
    .bind(&staff_id)
    .bind(to_json(&passkey)?)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() != 1 {
        return Err(Error::CredentialAlreadyRegistered);
    }
    let event = audit::Event {
        actor: &context.email,
        action: "staff_enrolled",
        target: &context.email,
        detail: json!({"role": context.role.as_str(), "credential_id": credential_id}),
    };
    audit::append(&mut tx, now, event).await?;
    let token = session::create(&mut tx, &staff_id, now).await?;
    tx.commit().await?;
    Ok(signed_in(&state, &token))
}

fn signed_in(state: &AppState, token: &str) -> Response {
    (
        [(header::SET_COOKIE, session::set_cookie(state, Some(token)))],
        Json(json!({"redirect": "/console"})),
    )
        .into_response()
}

/// `POST /console/api/sign-in/start`: assertion options for the staff member's passkeys.
#[utoipa::path(
    post,
    path = "/console/api/sign-in/start",
    tag = "staff",
    request_body = SignInStart,
    responses(
        (status = 200, description = "Options for `navigator.credentials.get`.", body = SignInStarted),
        (status = 400, description = "`malformed_json`. An address with no enabled staff account gets options too (a decoy whose finish fails with `credential_unknown`), so this answer does not reveal who is staff.", body = ApiError),
        (status = 403, description = "`forbidden`: `Origin` is not the console's.", body = ApiError),
        (status = 422, description = "`invalid_request`: `email` is empty, longer than 254 characters or not an address (nothing is stored or audited).", body = ApiError),
    ),
)]
pub async fn sign_in_start(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SignInStart>,
) -> Result<Json<SignInStarted>, Error> {
    let email = staff_email(&body.email)?;
    let rows = sqlx::query(
        "SELECT s.id, p.passkey FROM staff s JOIN staff_passkeys p ON p.staff_id = s.id
         WHERE s.email = $1 AND s.disabled_at IS NULL",
    )
    .bind(&email)
    .fetch_all(state.store.pool())
    .await?;
    let Some(first) = rows.first() else {
        return decoy_sign_in(&state, email).await;
    };
    let staff_id: String = first.get("id");
    let keys = rows
        .iter()
        .map(|r| from_json::<Passkey>(r.get("passkey")))
        .collect::<Result<Vec<_>, _>>()?;
    let (options, auth) = state
        .console
        .webauthn()
        .start_passkey_authentication(&keys)
        .map_err(Error::PasskeyRejected)?;
    let context = to_json(&SignInContext::Staff { staff_id })?;
    let ceremony_id = put_ceremony(&state, "sign_in", to_json(&auth)?, context).await?;
    Ok(Json(SignInStarted {
        ceremony_id,
        options,
    }))
}

/// Answers an address with no enabled staff account as if it had one: options
/// shaped like webauthn-rs's, with a fresh challenge and a made-up credential
/// id that stays the same for the address (a keyed hash under a key that
/// rotation does not replace, like a real credential id), and a ceremony that
/// can only fail at finish. So the sign-in page does not reveal who is staff.
async fn decoy_sign_in(state: &AppState, email: String) -> Result<Json<SignInStarted>, Error> {
    let mut challenge = [0u8; 32];
    rand::rng().fill_bytes(&mut challenge);
    let credential_id = state
        .store
        .vault()
        .keyed_hash("staff sign-in decoy", &email)
        .to_vec();
    let options = RequestChallengeResponse {
        public_key: PublicKeyCredentialRequestOptions {
            challenge: challenge.to_vec(),
            timeout: u32::try_from(DEFAULT_AUTHENTICATOR_TIMEOUT.as_millis()).ok(),
            rp_id: state.config.relying_party.id.clone(),
            allow_credentials: vec![AllowCredentials {
                type_: "public-key".into(),
                id: credential_id,
                // The console does not send `getTransports()`, so real
                // staff passkeys have none either.
                transports: None,
            }],
            user_verification: UserVerificationPolicy::Required,
            hints: None,
            extensions: None,
        },
        mediation: None,
    };
    let context = to_json(&SignInContext::Decoy { email })?;
    let ceremony_id = put_ceremony(state, "sign_in", "{}".into(), context).await?;
    Ok(Json(SignInStarted {
        ceremony_id,
        options,
    }))
}

/// `POST /console/api/sign-in/finish`: verifies the assertion (user
/// verification required), updates the passkey's counter, starts a session.
#[utoipa::path(
    post,
    path = "/console/api/sign-in/finish",
    tag = "staff",
    request_body = SignInFinish,
    responses(
        (status = 200, description = "Signed in: the session cookie is set; go to `redirect`.", body = Object),
        (status = 400, description = "`passkey_rejected`, `credential_unknown`, or `malformed_json`.", body = ApiError),
        (status = 403, description = "`forbidden`: `Origin` is not the console's; `origin_not_allowed`: the passkey's is not.", body = ApiError),
        (status = 410, description = "`ceremony_expired`.", body = ApiError),
    ),
)]
pub async fn sign_in_finish(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SignInFinish>,
) -> Result<Response, Error> {
    let now = state.clock.unix();
    let mut tx = state.store.begin().await?;
    // First, as staff changes take it: a revocation or a concurrent sign-in
    // commits before this reads the passkey (PostgreSQL), so a revoked passkey
    // cannot open a session and the stored counter never goes back.
    db::lock_audit_log(&mut tx).await?;
    let (auth, context) = take_ceremony(&mut tx, &body.ceremony_id, "sign_in", now).await?;
    let staff_id = match from_json(&context)? {
        SignInContext::Staff { staff_id } => staff_id,
        SignInContext::Decoy { email } => {
            let member: Option<Option<i64>> =
                sqlx::query_scalar("SELECT disabled_at FROM staff WHERE email = $1")
                    .bind(&email)
                    .fetch_optional(&mut *tx)
                    .await?;
            let reason = match member {
                None => "no staff account",
                Some(Some(_)) => "access disabled",
                Some(None) => "no passkey",
            };
            let who = sign_in_failure_actor(&state, &email, member.is_some());
            let event = audit::Event {
                actor: &who,
                action: "sign_in_failed",
                target: &who,
                detail: json!({ "reason": reason }),
            };
            audit::append(&mut tx, now, event).await?;
            tx.commit().await?;
            return Err(Error::CredentialUnknown);
        }
    };
    let auth: PasskeyAuthentication = from_json(&auth)?;
    let email: String = sqlx::query_scalar("SELECT email FROM staff WHERE id = $1")
        .bind(&staff_id)
        .fetch_one(&mut *tx)
        .await?;
    let result = match state
        .console
        .webauthn()
        .finish_passkey_authentication(&body.credential, &auth)
    {
        Ok(r) if r.user_verified() => r,
        Ok(_) | Err(_) => {
            let event = audit::Event {
                actor: &email,
                action: "sign_in_failed",
                target: &email,
                detail: json!({}),
            };
            audit::append(&mut tx, now, event).await?;
            tx.commit().await?;
            return Err(Error::CredentialUnknown);
        }
    };
    let credential_id = URL_SAFE_NO_PAD.encode(result.cred_id());
    let stored: String = sqlx::query_scalar(
        "SELECT passkey FROM staff_passkeys WHERE credential_id = $1 AND staff_id = $2",
    )
    .bind(&credential_id)
    .bind(&staff_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Error::CredentialUnknown)?;
    let mut passkey: Passkey = from_json(&stored)?;
    if let Err(e) = crate::passkeys::record_use(&mut passkey, &result) {
        let event = audit::Event {
            actor: &email,
            action: "sign_in_failed",
            target: &email,
            detail: json!({"reason": "signature counter did not advance"}),
        };
        audit::append(&mut tx, now, event).await?;
        tx.commit().await?;
        return Err(e);
    }
    sqlx::query(
        "UPDATE staff_passkeys SET passkey = $1, last_used_at = $2 WHERE credential_id = $3",
    )
    .bind(to_json(&passkey)?)
    .bind(now)
    .bind(&credential_id)
    .execute(&mut *tx)
    .await?;
    let event = audit::Event {
        actor: &email,
        action: "sign_in",
        target: &email,
        detail: json!({"credential_id": credential_id}),
    };
    audit::append(&mut tx, now, event).await?;
    let token = session::create(&mut tx, &staff_id, now).await?;
    tx.commit().await?;
    Ok(signed_in(&state, &token))
}

/// `POST /console/sign-out`.
pub async fn sign_out(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    session::end(&state, &headers).await?;
    let event = audit::Event {
        actor: &staff.email,
        action: "sign_out",
        target: &staff.email,
        detail: json!({}),
    };
    audit::record(&state, event).await?;
    Ok((
        axum::http::StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, session::set_cookie(&state, None)),
            (
                header::LOCATION,
                axum::http::HeaderValue::from_static("/console/sign-in"),
            ),
        ],
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "console/sign_in.html")]
struct SignInPage {
    /// The form arrived as a plain post: the page's script did not run.
    script_needed: bool,
}

#[derive(Template)]
#[template(path = "console/enrol.html")]
struct EnrolPage;

/// `GET /console/sign-in`.
pub async fn sign_in_page() -> Result<Response, PageError> {
    render(&SignInPage {
        script_needed: false,
    })
}

/// `POST /console/sign-in`: the form posted without its script (blocked,
/// not loaded yet, or turned off). A passkey needs the script, so the page
/// says so; the form posts rather than gets, so the address typed never
/// lands in a URL (history, proxy logs).
pub async fn sign_in_without_script() -> Result<Response, PageError> {
    render(&SignInPage {
        script_needed: true,
    })
}

/// `GET /console/enrol` (the token is in the URL fragment, read by the script).
pub async fn enrol_page() -> Result<Response, PageError> {
    render(&EnrolPage)
}

struct Member {
    id: String,
    email: String,
    role: String,
    since: String,
    disabled: Option<String>,
    me: bool,
    passkeys: Vec<MemberPasskey>,
}

/// One of a member's passkeys as the Staff page lists it (no key material).
struct MemberPasskey {
    credential_id: String,
    /// The credential id's first characters, to tell passkeys apart.
    short_id: String,
    added: String,
    last_used: Option<String>,
}

#[derive(Template)]
#[template(path = "console/staff.html")]
struct StaffPage<'a> {
    staff: &'a Staff,
    members: Vec<Member>,
    link: Option<String>,
    roles: [Role; 3],
}

async fn staff_page_with(
    state: &AppState,
    staff: &Staff,
    link: Option<String>,
) -> Result<Response, PageError> {
    let rows =
        sqlx::query("SELECT id, email, role, created_at, disabled_at FROM staff ORDER BY email")
            .fetch_all(state.store.pool())
            .await?;
    let zone = state.config.console_zone();
    let time_text = |unix: i64| zone.time_text(unix);
    let mut members: Vec<Member> = rows
        .iter()
        .map(|r| Member {
            id: r.get("id"),
            email: r.get("email"),
            role: r.get("role"),
            since: time_text(r.get("created_at")),
            disabled: r.get::<Option<i64>, _>("disabled_at").map(time_text),
            me: r.get::<String, _>("id") == staff.id,
            passkeys: Vec::new(),
        })
        .collect();
    let passkeys = sqlx::query(
        "SELECT credential_id, staff_id, created_at, last_used_at FROM staff_passkeys
         ORDER BY created_at, credential_id",
    )
    .fetch_all(state.store.pool())
    .await?;
    for r in &passkeys {
        let owner: String = r.get("staff_id");
        let credential_id: String = r.get("credential_id");
        if let Some(m) = members.iter_mut().find(|m| m.id == owner) {
            m.passkeys.push(MemberPasskey {
                short_id: credential_id.chars().take(8).collect(),
                credential_id,
                added: time_text(r.get("created_at")),
                last_used: r.get::<Option<i64>, _>("last_used_at").map(time_text),
            });
        }
    }
    render(&StaffPage {
        staff,
        members,
        link,
        roles: Role::ALL,
    })
}

/// `GET /console/staff`: staff members and the invite form.
pub async fn staff_page(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
) -> Result<Response, PageError> {
    staff_page_with(&state, &staff, None).await
}

/// The invite form.
#[derive(Deserialize)]
pub struct InviteForm {
    /// Invitee's email.
    pub email: String,
    /// Invitee's role.
    pub role: String,
}

/// `POST /console/staff/invite`: shows the new one-time link once.
pub async fn invite_form(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Form(form): Form<InviteForm>,
) -> Result<Response, PageError> {
    let role = Role::parse(&form.role).ok_or(Error::InvalidRequest(vec![]))?;
    let link = invite(
        &state.store,
        &state.config,
        state.clock.unix(),
        &staff.email,
        &form.email,
        role,
    )
    .await?;
    staff_page_with(&state, &staff, Some(link)).await
}
