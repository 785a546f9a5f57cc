//! Disabling and re-enabling staff members (admins only). A disabled member
//! cannot sign in, and their sessions end at once. An admin cannot disable
//! themselves, and the last active admin cannot be disabled.

use axum::{
    Extension, Form,
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::json;
use sqlx::Row;

use super::{audit, pages::PageError, session::Staff};
use crate::{AppState, Error, db};

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
    let row = sqlx::query("SELECT id, role, disabled_at FROM staff WHERE email = $1")
        .bind(&email)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(Error::NotFound)?;
    let id: String = row.get("id");
    let role: String = row.get("role");
    if disable {
        if id == staff.id {
            return Err(
                Error::InvalidTransition("you cannot disable your own access".into()).into(),
            );
        }
        let other_admins: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM staff WHERE role = 'admin' AND disabled_at IS NULL AND id <> $1",
        )
        .bind(&id)
        .fetch_one(&mut *tx)
        .await?;
        if role == "admin" && other_admins == 0 {
            return Err(
                Error::InvalidTransition("the last admin cannot be disabled".into()).into(),
            );
        }
        sqlx::query("UPDATE staff SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL")
            .bind(now)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM staff_sessions WHERE staff_id = $1")
            .bind(&id)
            .execute(&mut *tx)
            .await?;
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
    Ok((
        StatusCode::SEE_OTHER,
        [(header::LOCATION, HeaderValue::from_static("/console/staff"))],
    )
        .into_response())
}
