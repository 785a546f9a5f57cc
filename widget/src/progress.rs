//! Progress that survives an accidental reload within the tab: the answers
//! and the current step in `sessionStorage` (never `localStorage`), cleared
//! once the request is submitted.

use recordpass_request::RecordsRequest;
use serde::{Deserialize, Serialize};

use crate::steps::wizard::FormStep;

#[derive(Serialize, Deserialize)]
struct Saved {
    step: FormStep,
    input: RecordsRequest,
}

fn key(site: &str) -> String {
    format!("recordpass:{site}")
}

fn storage() -> Option<web_sys::Storage> {
    // Storage can be unavailable (private modes, sandboxed frames): then nothing is kept.
    web_sys::window()?.session_storage().ok().flatten()
}

/// Saves the answers so far (the typed signature is never kept).
pub fn save(site: &str, step: FormStep, input: &RecordsRequest) {
    let mut input = input.clone();
    input.signature.clear();
    let saved = Saved { step, input };
    if let (Some(storage), Some(json)) = (storage(), crate::json::encode(&saved)) {
        let _ = storage.set_item(&key(site), &json);
    }
}

/// The saved step and answers, if any.
pub fn restore(site: &str) -> Option<(FormStep, RecordsRequest)> {
    let json = storage()?.get_item(&key(site)).ok().flatten()?;
    let saved: Saved = crate::json::decode(&json)?;
    Some((saved.step, saved.input))
}

/// Forgets the saved answers.
pub fn clear(site: &str) {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(&key(site));
    }
}
