//! JSON in and out of the widget through one copy of serde_json's code.
//!
//! The signed document needs RFC 8785 canonical JSON, which brings a
//! serializer and serde_json's `Value` parser; every other body goes through
//! those two as well, so no second serializer or per-type parser is linked.

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
