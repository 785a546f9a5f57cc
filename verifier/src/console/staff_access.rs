//! Disabling and re-enabling staff members, changing a role, and revoking a
//! passkey (admins only). A disabled member cannot sign in, and their sessions
//! end at once; a revoked passkey is deleted and its owner's sessions end. An
//! admin cannot disable themselves or change their own role, and the console
//! always keeps an active admin with a passkey: the last one cannot be
//! disabled, demoted, or lose their last passkey.

use axum::{
    Extension, Form,
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::json;
use sqlx::Row;

use super::{Role, audit, pages::PageError, session::Staff};
use crate::{AppState, Error, db};

/// Active admins other than `$1` who have a passkey ([`another_admin_can_sign_in`]).
const OTHER_ADMINS_WHO_CAN_SIGN_IN: &str = "SELECT COUNT(*) FROM staff s
    WHERE s.role = 'admin' AND s.disabled_at IS NULL AND s.id <> $1
    AND EXISTS (SELECT 1 FROM staff_passkeys p WHERE p.staff_id = s.id)";

/// The disable / enable form.
#[derive(Deserialize)]
pub struct AccessForm {
    /// The member's email.
    pub email: String,
    /// `disable` or `enable`.
    pub action: String,
}

/// `POST /console/staff/access`: disables or re-enables a member; audited.
pub async fn change(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Form(form): Form<AccessForm>,
) -> Result<Response, PageError> {
    let disable = match form.action.as_str() {
        "disable" => true,
        "enable" => false,
        _ => return Err(Error::InvalidRequest(vec![]).into()),
    };
    let email = form.email.trim().to_lowercase();
    let now = state.clock.unix();
    let mut tx = state.store.begin().await?;
    // Serialise staff changes with the audit log's lock, so two admins
    // disabling each other cannot both succeed.
    db::lock_audit_log(&mut tx).await?;
    let row = find_member(&mut tx, &email).await?.ok_or(Error::NotFound)?;
    let id: String = row.get("id");
    let role: String = row.get("role");
    if disable {
        if id == staff.id {
            return Err(
                Error::InvalidTransition("you cannot disable your own access".into()).into(),
            );
        }
        if role == "admin" && !another_admin_can_sign_in(&mut tx, &id).await? {
            return Err(
                Error::InvalidTransition("the last admin cannot be disabled".into()).into(),
            );
        }
        sqlx::query("UPDATE staff SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL")
            .bind(now)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        end_sessions(&mut tx, &id).await?;
    } else {
        sqlx::query("UPDATE staff SET disabled_at = NULL WHERE id = $1")
            .bind(&id)
            .execute(&mut *tx)
            .await?;
    }
    let event = audit::Event {
        actor: &staff.email,
        action: if disable {
            "staff_disabled"
        } else {
            "staff_enabled"
        },
        target: &email,
        detail: json!({"role": role}),
    };
    audit::append(&mut tx, now, event).await?;
    tx.commit().await?;
    Ok(back_to_staff_page())
}

/// The role form.
#[derive(Deserialize)]
pub struct RoleForm {
    /// The member's email.
    pub email: String,
    /// The new role.
    pub role: String,
}

/// `POST /console/staff/role`: gives another member a new role, effective on
/// their next click; audited `staff_role_changed` (from, to). An admin cannot
/// change their own role, and the last active admin stays an admin. Invites
/// never change a role; this is the only way.
pub async fn change_role(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Form(form): Form<RoleForm>,
) -> Result<Response, PageError> {
    let role = Role::parse(&form.role).ok_or(Error::InvalidRequest(vec![]))?;
    let email = form.email.trim().to_lowercase();
    let now = state.clock.unix();
    let mut tx = state.store.begin().await?;
    db::lock_audit_log(&mut tx).await?;
    let row = find_member(&mut tx, &email).await?.ok_or(Error::NotFound)?;
    let id: String = row.get("id");
    let from: String = row.get("role");
    if id == staff.id {
        return Err(Error::InvalidTransition(
            "you cannot change your own role: ask another admin".into(),
        )
        .into());
    }
    if from == role.as_str() {
        return Ok(back_to_staff_page());
    }
    let active = row.get::<Option<i64>, _>("disabled_at").is_none();
    if from == "admin" && active && !another_admin_can_sign_in(&mut tx, &id).await? {
        return Err(
            Error::InvalidTransition("the last active admin must stay an admin".into()).into(),
        );
    }
    sqlx::query("UPDATE staff SET role = $1 WHERE id = $2")
        .bind(role.as_str())
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    let event = audit::Event {
        actor: &staff.email,
        action: "staff_role_changed",
        target: &email,
        detail: json!({"from": from, "to": role.as_str()}),
    };
    audit::append(&mut tx, now, event).await?;
    tx.commit().await?;
    Ok(back_to_staff_page())
}

fn back_to_staff_page() -> Response {
    see_other("/console/staff")
}

fn see_other(to: &'static str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, HeaderValue::from_static(to))],
    )
        .into_response()
}

/// The member with `email`, if any: `id`, `role`, `disabled_at`.
pub(super) async fn find_member(
    conn: &mut db::Connection,
    email: &str,
) -> Result<Option<sqlx::any::AnyRow>, Error> {
    Ok(
        sqlx::query("SELECT id, role, disabled_at FROM staff WHERE email = $1")
            .bind(email)
            .fetch_optional(&mut *conn)
            .await?,
    )
}

/// Whether an active admin other than `id` has a passkey: while one does,
/// disabling, demoting or revoking `id` cannot lock the console out.
async fn another_admin_can_sign_in(tx: &mut db::Connection, id: &str) -> Result<bool, Error> {
    let others: i64 = sqlx::query_scalar(OTHER_ADMINS_WHO_CAN_SIGN_IN)
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    Ok(others > 0)
}

/// Ends every session of member `id` (their next click asks them to sign in).
async fn end_sessions(tx: &mut db::Connection, id: &str) -> Result<(), Error> {
    sqlx::query("DELETE FROM staff_sessions WHERE staff_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// The revoke form.
#[derive(Deserialize)]
pub struct RevokeForm {
    /// The passkey's credential id (base64url), as the Staff page lists it.
    pub credential_id: String,
}

/// `POST /console/staff/passkeys/revoke`: deletes one passkey (a lost or
/// stolen device) and ends its owner's sessions; audited
/// `staff_passkey_revoked`. Any member's passkey may be revoked, an admin's own
/// too (then they sign in again with another one), except the last passkey of
/// the last active admin who has one: that would lock every admin out.
pub async fn revoke_passkey(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Form(form): Form<RevokeForm>,
) -> Result<Response, PageError> {
    let now = state.clock.unix();
    let mut tx = state.store.begin().await?;
    db::lock_audit_log(&mut tx).await?;
    let row = sqlx::query(
        "SELECT s.id, s.email, s.role, s.disabled_at FROM staff_passkeys p
         JOIN staff s ON s.id = p.staff_id WHERE p.credential_id = $1",
    )
    .bind(&form.credential_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Error::NotFound)?;
    let id: String = row.get("id");
    let email: String = row.get("email");
    let role: String = row.get("role");
    if role == "admin" && row.get::<Option<i64>, _>("disabled_at").is_none() {
        let own_left: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM staff_passkeys WHERE staff_id = $1 AND credential_id <> $2",
        )
        .bind(&id)
        .bind(&form.credential_id)
        .fetch_one(&mut *tx)
        .await?;
        if own_left == 0 && !another_admin_can_sign_in(&mut tx, &id).await? {
            return Err(Error::InvalidTransition(
                "this is the last passkey of the last active admin: add another passkey or admin first"
                    .into(),
            )
            .into());
        }
    }
    sqlx::query("DELETE FROM staff_passkeys WHERE credential_id = $1")
        .bind(&form.credential_id)
        .execute(&mut *tx)
        .await?;
    end_sessions(&mut tx, &id).await?;
    let event = audit::Event {
        actor: &staff.email,
        action: "staff_passkey_revoked",
        target: &email,
        detail: json!({"credential_id": form.credential_id, "role": role}),
    };
    audit::append(&mut tx, now, event).await?;
    tx.commit().await?;
    // Revoking one's own passkey ends one's own session too.
    Ok(if id == staff.id {
        see_other("/console/sign-in")
    } else {
        back_to_staff_page()
    })
}
