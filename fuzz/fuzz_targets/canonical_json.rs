//! RFC 8785 canonicalisation of arbitrary JSON: never panics, and is idempotent
//! (canonicalising canonical JSON changes nothing).

#![no_main]

use libfuzzer_sys::fuzz_target;
use recordpass_request::to_canonical_json;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let Ok(once) = to_canonical_json(&value) else {
        return;
    };
    let reparsed: serde_json::Value = serde_json::from_slice(&once).expect("canonical JSON parses");
    let twice = to_canonical_json(&reparsed).expect("canonicalises again");
    assert_eq!(once, twice, "canonicalisation is idempotent");
});
