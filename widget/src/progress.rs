//! Progress that survives an accidental reload within the tab: the answers
//! and the current step in `sessionStorage` (never `localStorage`), with the
//! time of the last change. They are forgotten once the request is
//! submitted, when the requester clears them, when the tab closes, and —
//! at the next load — when they were last changed more than
//! [`KEEP_FOR_MINUTES`] ago.

use recordpass_request::RecordsRequest;
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

/// Saves the answers so far (the typed signature is never kept).
pub fn save(site: &str, step: FormStep, input: &RecordsRequest) {
    let mut input = input.clone();
    input.signature.clear();
    let saved = Saved {
        step,
        input,
        saved_at: js_sys::Date::now(),
    };
    if let (Some(storage), Some(json)) = (storage(), crate::json::encode(&saved)) {
        let _ = storage.set_item(&key(site), &json);
    }
}

/// The saved step and answers, if any were changed in the last
/// [`KEEP_FOR_MINUTES`]; older (or unreadable) ones are deleted.
pub fn restore(site: &str) -> Option<(FormStep, RecordsRequest)> {
    let json = storage()?.get_item(&key(site)).ok().flatten()?;
    match crate::json::decode::<Saved>(&json) {
        Some(saved) if fresh(saved.saved_at, js_sys::Date::now()) => {
            Some((saved.step, saved.input))
        }
        _ => {
            clear(site);
            None
        }
    }
}

/// Forgets the saved answers.
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
}
