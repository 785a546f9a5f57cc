//! JSON in and out of the widget with as little serde code as possible.
//!
//! The signed document needs RFC 8785 canonical JSON, which brings serde_json's
//! serializer; every body is written with it (canonical JSON is JSON), so no
//! second serializer is linked. Answers are parsed by the browser
//! (`JSON.parse`) and read with serde-wasm-bindgen, which costs less per type
//! than a serde_json parser instantiated for each.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// `value` as (canonical) JSON text.
pub fn encode<T: Serialize>(value: &T) -> Option<String> {
    let bytes = recordpass_request::to_canonical_json(value).ok()?;
    String::from_utf8(bytes).ok()
}

/// Parses `text` as a `T`.
pub fn decode<T: DeserializeOwned>(text: &str) -> Option<T> {
    let value = js_sys::JSON::parse(text).ok()?;
    serde_wasm_bindgen::from_value(value).ok()
}
