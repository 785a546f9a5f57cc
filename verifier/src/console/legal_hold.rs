//! Placing and lifting a legal hold from the request page (admins only): the
//! same [`holds::place`] and [`holds::lift`] as `recordpass-verifier hold`,
//! audited `legal_hold_placed` / `legal_hold_lifted` with the staff member as
//! the actor. A refusal changes nothing and shows the request page again with
//! the reason next to the field (a bad reason) or above the form (already on
//! hold, not on hold).

use axum::{
    Extension, Form,
    extract::{Path, State},
    response::Response,
};
use serde::Deserialize;

use super::{detail, pages::PageError, session::Staff, workflow};
use crate::{AppState, Error, holds};

/// Why a hold form was refused, shown on the request page.
#[derive(Clone, Debug)]
pub struct Refusal {
    /// The message.
    pub message: String,
    /// Whether it is about the reason field (else the whole form).
    pub reason_field: bool,
    /// The reason as typed, to fill the field again.
    pub typed: String,
}

/// The place form.
#[derive(Deserialize)]
pub struct PlaceForm {
    /// Why (a matter or case reference); sealed, never in the audit trail.
    #[serde(default)]
    pub reason: String,
}

/// `POST /console/requests/{number}/hold`: places a legal hold.
pub async fn place(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Path(number): Path<String>,
    Form(form): Form<PlaceForm>,
) -> Result<Response, PageError> {
    let now = state.clock.unix();
    let refusal = match holds::reason(&form.reason) {
        Err(e) => refusal(e, true, &form.reason)?,
        Ok(reason) => match holds::place(&state.store, now, &staff.email, &number, &reason).await {
            Ok(_) => return Ok(workflow::back_to(&number)),
            Err(e) => refusal(e, false, &form.reason)?,
        },
    };
    show(&state, &staff, &number, refusal).await
}

/// `POST /console/requests/{number}/hold/lift`: lifts the legal hold (the
/// request is purged again once its retention has passed).
pub async fn lift(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Path(number): Path<String>,
) -> Result<Response, PageError> {
    let now = state.clock.unix();
    match holds::lift(&state.store, now, &staff.email, &number).await {
        Ok(_) => Ok(workflow::back_to(&number)),
        Err(e) => {
            let refusal = refusal(e, false, "")?;
            show(&state, &staff, &number, refusal).await
        }
    }
}

/// A refusal of [`holds`] (bad input, nothing changed) to show on the page;
/// any other error as it is.
fn refusal(e: Error, reason_field: bool, typed: &str) -> Result<(Error, Refusal), PageError> {
    let Error::InvalidTransition(message) = &e else {
        return Err(e.into());
    };
    let refusal = Refusal {
        message: message.clone(),
        reason_field,
        typed: typed.to_owned(),
    };
    Ok((e, refusal))
}

/// The request page with the refusal, under the refusal's status; for a
/// request that does not exist, the refusal alone (it says so).
async fn show(
    state: &AppState,
    staff: &Staff,
    number: &str,
    (error, refusal): (Error, Refusal),
) -> Result<Response, PageError> {
    let status = error.status_and_code().0;
    match detail::show(state, staff, number, Some(refusal)).await {
        Ok(mut page) => {
            *page.status_mut() = status;
            Ok(page)
        }
        Err(PageError(Error::NotFound)) => Err(error.into()),
        Err(other) => Err(other),
    }
}
