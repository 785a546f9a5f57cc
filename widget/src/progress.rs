//! Progress that survives an accidental reload within the tab: the answers
//! and the current step in `sessionStorage` (never `localStorage`), with the
//! time of the last change, and — from the moment a signed finish is sent
//! until its answer arrives — the [`Pending`] finish (its idempotency key).
//! They are forgotten once the request is submitted, when the requester
//! clears them, when the tab closes, and — at the next load — when they were
//! last changed more than [`KEEP_FOR_MINUTES`] ago.

use recordpass_request::{Lang, RecordsRequest};
use serde::{Deserialize, Serialize};

use crate::steps::wizard::FormStep;

/// How long saved answers stay usable after their last change.
pub const KEEP_FOR_MINUTES: u32 = 30;

#[derive(Serialize, Deserialize)]
struct Saved {
    step: FormStep,
    input: RecordsRequest,
    /// Milliseconds since the Unix epoch (browser clock) of the last change;
    /// entries without it are older than this rule and are discarded.
    #[serde(default)]
    saved_at: f64,
    /// A signed finish whose answer has not arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pending: Option<Pending>,
}

/// A signed finish was sent and its answer never arrived, so the request may
/// be stored. Kept so that after a reload the request stays locked and a new
/// signature of the same answers, by the same passkey, reuses the key: the
/// verifier then answers with the stored submission instead of a second one
/// (it matches keys per requester, that is per passkey).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    /// The `idempotency_key` the finish's signing ceremony was started with.
    pub key: String,
    /// The passkey that signed it (a public credential id, not a secret).
    pub credential_id: String,
    /// The address that passkey stands for.
    pub email: String,
    /// The language the document was signed in (part of its digest).
    pub lang: Lang,
}

/// What [`restore`] found.
pub struct Restored {
    /// The step to show.
    pub step: FormStep,
    /// The answers (the typed signature is never kept).
    pub input: RecordsRequest,
    /// A finish whose answer never arrived.
    pub pending: Option<Pending>,
}

fn key(site: &str) -> String {
    format!("recordpass:{site}")
}

fn storage() -> Option<web_sys::Storage> {
    // Storage can be unavailable (private modes, sandboxed frames): then nothing is kept.
    web_sys::window()?.session_storage().ok().flatten()
}

/// True if answers saved at `saved_at` may still be restored at `now` (both
/// in milliseconds): within [`KEEP_FOR_MINUTES`], and not from the future.
pub fn fresh(saved_at: f64, now: f64) -> bool {
    let age = now - saved_at;
    (0.0..=f64::from(KEEP_FOR_MINUTES) * 60_000.0).contains(&age)
}

/// Saves the answers so far and the pending finish, if any (the typed
/// signature is never kept).
pub fn save(site: &str, step: FormStep, input: &RecordsRequest, pending: Option<&Pending>) {
    let saved = entry(step, input, pending, js_sys::Date::now());
    if let (Some(storage), Some(json)) = (storage(), crate::json::encode(&saved)) {
        let _ = storage.set_item(&key(site), &json);
    }
}

/// What [`save`] keeps at `now`: everything but the typed signature.
fn entry(step: FormStep, input: &RecordsRequest, pending: Option<&Pending>, now: f64) -> Saved {
    let mut input = input.clone();
    input.signature.clear();
    Saved {
        step,
        input,
        saved_at: now,
        pending: pending.cloned(),
    }
}

/// The saved step, answers and pending finish, if they were changed in the
/// last [`KEEP_FOR_MINUTES`]; older (or unreadable) ones are deleted.
pub fn restore(site: &str) -> Option<Restored> {
    let json = storage()?.get_item(&key(site)).ok().flatten()?;
    match crate::json::decode::<Saved>(&json) {
        Some(saved) if fresh(saved.saved_at, js_sys::Date::now()) => Some(Restored {
            step: saved.step,
            input: saved.input,
            pending: saved.pending,
        }),
        _ => {
            clear(site);
            None
        }
    }
}

/// Forgets the saved answers and the pending finish.
pub fn clear(site: &str) {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(&key(site));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_kept_for_thirty_minutes_after_the_last_change() {
        let minute = 60_000.0;
        let saved = 1_800_000_000_000.0;
        assert!(fresh(saved, saved));
        assert!(fresh(saved, saved + 29.0 * minute));
        assert!(fresh(saved, saved + 30.0 * minute));
        assert!(!fresh(saved, saved + 31.0 * minute));
        assert!(
            !fresh(0.0, saved),
            "entries saved before the rule are dropped"
        );
        assert!(
            !fresh(saved + minute, saved),
            "a clock set back drops them too"
        );
    }

    /// An unanswered finish's key is kept with the answers (never the typed
    /// signature), and entries saved before it existed still restore.
    #[test]
    fn a_pending_finish_is_kept_with_the_answers() {
        let pending = Pending {
            key: "3f2c6f0e-9a51-4f6e-8d0e-0b1d2c3e4f50".into(),
            credential_id: "Y3JlZGVudGlhbA".into(),
            email: "pat.parent@example.org".into(),
            lang: Lang::Es,
        };
        let mut input = RecordsRequest {
            signature: "Pat Parent".into(),
            ..RecordsRequest::default()
        };
        input.requester.email = pending.email.clone();
        let saved = entry(FormStep::Sign, &input, Some(&pending), 1.0);
        let json = crate::json::encode(&saved).unwrap();
        assert!(
            !json.contains("Pat Parent"),
            "the signature is not kept: {json}"
        );
        let back: Saved = serde_json::from_str(&json).unwrap();
        assert_eq!(back.pending, Some(pending));
        assert_eq!(back.input.requester.email, "pat.parent@example.org");

        let without = Saved {
            pending: None,
            ..back
        };
        let json = crate::json::encode(&without).unwrap();
        assert!(!json.contains("pending"), "{json}");
        let older: Saved = serde_json::from_str(&json).unwrap();
        assert_eq!(older.pending, None);
    }
}
