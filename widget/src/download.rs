//! Saving a file the requester asked for (the signed file of a request) without
//! leaving the page: a `Blob`, an object URL and a click on a detached link.

use wasm_bindgen::JsCast;
use web_sys::{Blob, BlobPropertyBag, HtmlAnchorElement, Url};

/// Offers `text` as a JSON file named `name`; false if the browser refused.
pub fn save(name: &str, text: &str) -> bool {
    try_save(name, text).is_some()
}

fn try_save(name: &str, text: &str) -> Option<()> {
    let parts = js_sys::Array::of1(&text.into());
    let options = BlobPropertyBag::new();
    options.set_type("application/json");
    let blob = Blob::new_with_str_sequence_and_options(&parts, &options).ok()?;
    let url = Url::create_object_url_with_blob(&blob).ok()?;
    let document = web_sys::window()?.document()?;
    let link: HtmlAnchorElement = document.create_element("a").ok()?.dyn_into().ok()?;
    link.set_href(&url);
    link.set_download(name);
    link.click();
    // Revoked on the next turn, once the browser has started the download.
    let revoke = wasm_bindgen::closure::Closure::once_into_js(move || {
        let _ = Url::revoke_object_url(&url);
    });
    web_sys::window()?
        .set_timeout_with_callback(revoke.unchecked_ref())
        .ok()?;
    Some(())
}
