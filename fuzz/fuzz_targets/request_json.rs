//! The request parser and canonicaliser: any body the verifier might receive
//! as a signing request either fails to parse or validate, or yields a
//! document whose canonical bytes parse back to the same bytes and digest.

#![no_main]

use libfuzzer_sys::fuzz_target;
use recordpass_request::{Lang, SignedDocument, SiteOffer, api::StartSigning, examples};
use time::macros::date;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<StartSigning>(data) else {
        return;
    };
    let Ok(request) = body
        .request
        .validate_for(date!(2026 - 11 - 26), &SiteOffer::default())
    else {
        return;
    };
    let lang = if body.lang == Lang::Es {
        Lang::Es
    } else {
        Lang::En
    };
    let doc = SignedDocument::new(examples::site(), request, lang);
    let bytes = doc.canonical_bytes();
    let back: SignedDocument = serde_json::from_slice(&bytes).expect("canonical bytes parse back");
    assert_eq!(back.canonical_bytes(), bytes, "canonical form is stable");
    assert_eq!(back.digest(), doc.digest());
});
