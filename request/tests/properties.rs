//! Property tests of the canonical form (proptest): any valid request
//! round-trips through its canonical JSON to the same bytes and digest, however
//! that JSON is re-formatted; and changing any single value of the signed
//! document changes the digest.

use proptest::prelude::*;
use recordpass_request::{
    Digest, Lang, RecordsRequest, SignedDocument, SiteOffer, examples, to_canonical_json,
};
use serde_json::Value;
use time::macros::date;

/// The examples, each with the patient's and requester's names, the patient's
/// address and date of birth, and the language drawn at random; only requests
/// that pass validation are used.
fn valid_document() -> impl Strategy<Value = SignedDocument> {
    let name = "[A-Za-zÁÉÍÓÚáéíóúÑñü][A-Za-zÁÉÍÓÚáéíóúÑñü' .-]{0,30}[A-Za-záéíóúñ]";
    let street = "[0-9]{1,5} [A-Za-z ]{3,30}";
    (
        0..3usize,
        name,
        name,
        street,
        (1930..2020i32, 1..13u8, 1..29u8),
        prop::bool::ANY,
    )
        .prop_filter_map(
            "the request must validate",
            |(which, patient, requester, street, (y, m, d), spanish)| {
                let base = match which {
                    0 => examples::self_access(),
                    1 => examples::parent_directive(),
                    _ => examples::representative_authorization(),
                };
                let mut req: RecordsRequest = examples::dated(base, date!(2026 - 11 - 26));
                req.patient.legal_name = patient;
                req.patient.date_of_birth = format!("{y:04}-{m:02}-{d:02}");
                req.patient.address.street = street;
                req.requester.name = requester.clone();
                req.signature = requester;
                if matches!(which, 0) {
                    req.requester.name = req.patient.legal_name.clone();
                    req.signature = req.patient.legal_name.clone();
                }
                let req = req
                    .validate_for(date!(2026 - 11 - 26), &SiteOffer::default())
                    .ok()?;
                let lang = if spanish { Lang::Es } else { Lang::En };
                Some(SignedDocument::new(examples::site(), req, lang))
            },
        )
}

/// Every leaf of a JSON value, by its path of keys and indexes.
fn leaves(value: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match value {
        Value::Object(map) => map.iter().for_each(|(k, v)| {
            path.push(k.clone());
            leaves(v, path, out);
            path.pop();
        }),
        Value::Array(items) if !items.is_empty() => items.iter().enumerate().for_each(|(i, v)| {
            path.push(i.to_string());
            leaves(v, path, out);
            path.pop();
        }),
        _ => out.push(path.clone()),
    }
}

fn leaf_mut<'a>(value: &'a mut Value, path: &[String]) -> &'a mut Value {
    path.iter().fold(value, |v, key| match v {
        Value::Array(items) => &mut items[key.parse::<usize>().expect("index")],
        other => &mut other[key.as_str()],
    })
}

/// A different value for a leaf: strings gain or change a character, booleans
/// flip, numbers move, nulls and empty arrays become strings.
fn changed(old: &Value, pick: &str) -> Value {
    match old {
        Value::String(s) if s.ends_with(pick) => Value::String(format!("{s}x")),
        Value::String(s) => Value::String(format!("{s}{pick}")),
        Value::Bool(b) => Value::Bool(!b),
        Value::Number(n) => Value::from(n.as_i64().unwrap_or(0) + 1),
        _ => Value::String(pick.to_owned()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_valid_request_round_trips_to_the_same_bytes_and_digest(doc in valid_document()) {
        let bytes = doc.canonical_bytes();
        let back: SignedDocument = serde_json::from_slice(&bytes).expect("parses back");
        prop_assert_eq!(&back, &doc);
        prop_assert_eq!(back.canonical_bytes(), bytes.clone());
        prop_assert_eq!(back.digest(), doc.digest());
        // Whitespace and key order of the input do not matter.
        let value: Value = serde_json::from_slice(&bytes).expect("json");
        let pretty = serde_json::to_string_pretty(&value).expect("pretty");
        let reparsed: SignedDocument = serde_json::from_str(&pretty).expect("parses pretty");
        prop_assert_eq!(reparsed.canonical_bytes(), bytes);
    }

    #[test]
    fn any_single_change_changes_the_digest(
        doc in valid_document(),
        index in any::<prop::sample::Index>(),
        pick in "[a-zA-Z0-9ñ]",
    ) {
        let bytes = doc.canonical_bytes();
        let mut value: Value = serde_json::from_slice(&bytes).expect("json");
        let mut paths = Vec::new();
        leaves(&value, &mut Vec::new(), &mut paths);
        let path = &paths[index.index(paths.len())];
        let leaf = leaf_mut(&mut value, path);
        *leaf = changed(leaf, &pick);
        let edited = to_canonical_json(&value).expect("canonical");
        prop_assert_ne!(Digest::of(&edited), doc.digest(), "changed {:?}", path);
    }
}
