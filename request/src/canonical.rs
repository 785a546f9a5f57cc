//! Canonical JSON: RFC 8785 (JSON Canonicalization Scheme), so any JCS
//! implementation (e.g. Python's `rfc8785`) reproduces the bytes, and hence the digest.
//!
//! `serde_jcs` sorts keys by UTF-16 code units in its serializer, independent
//! of `serde_json::Map` ordering (which a `preserve_order` feature would change).

use serde::Serialize;

/// Serialises `value` to RFC 8785 canonical JSON bytes.
pub fn to_canonical_json<T: Serialize>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    serde_jcs::to_vec(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn keys_are_sorted_at_every_depth_without_whitespace() {
        let v = json!({"b": [ {"z": 1, "a": "x"} ], "a": null, "é": true, "Z": "q"});
        let bytes = to_canonical_json(&v).expect("serialises");
        assert_eq!(
            String::from_utf8(bytes).expect("utf8"),
            r#"{"Z":"q","a":null,"b":[{"a":"x","z":1}],"é":true}"#
        );
    }

    #[test]
    fn strings_are_escaped_like_json_stringify() {
        let v = json!({"s": "quote\" back\\ nl\n tab\t ctl\u{1} ñ / 😀"});
        let text = String::from_utf8(to_canonical_json(&v).expect("serialises")).expect("utf8");
        assert_eq!(
            text,
            "{\"s\":\"quote\\\" back\\\\ nl\\n tab\\t ctl\\u0001 ñ / 😀\"}"
        );
    }

    /// RFC 8785 section 3.2.2, "Sample Canonicalized JSON Data".
    #[test]
    fn rfc8785_sample_data() {
        let input = r#"{
            "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
            "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
            "literals": [null, true, false]
        }"#;
        let value: Value = serde_json::from_str(input).expect("parses");
        let expected = r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#;
        assert_eq!(
            String::from_utf8(to_canonical_json(&value).expect("ok")).expect("utf8"),
            expected
        );
    }

    /// RFC 8785 section 3.2.3, "Sorting of Object Properties" (by UTF-16 code units).
    #[test]
    fn rfc8785_property_sorting() {
        let input = r#"{
            "\u20ac": "Euro Sign",
            "\r": "Carriage Return",
            "\ufb33": "Hebrew Letter Dalet With Dagesh",
            "1": "One",
            "\ud83d\ude00": "Emoji: Grinning Face",
            "\u0080": "Control",
            "\u00f6": "Latin Small Letter O With Diaeresis"
        }"#;
        let value: Value = serde_json::from_str(input).expect("parses");
        let text = String::from_utf8(to_canonical_json(&value).expect("ok")).expect("utf8");
        let order: Vec<&str> = [
            "Carriage Return",
            "One",
            "Control",
            "Latin Small",
            "Euro Sign",
            "Emoji",
            "Hebrew",
        ]
        .into_iter()
        .collect();
        let positions: Vec<usize> = order
            .iter()
            .map(|k| text.find(k).expect("present"))
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
    }

    #[test]
    fn canonical_form_is_a_fixed_point() {
        let v = json!({"k": {"y": [3, 2, 1], "x": "ü"}});
        let once = to_canonical_json(&v).expect("serialises");
        let reparsed: Value = serde_json::from_slice(&once).expect("parses");
        assert_eq!(to_canonical_json(&reparsed).expect("serialises"), once);
    }
}
