//! The embeddable Recordpass records-request form.
//!
//! A hospital page loads `widget.js` (see `loader/widget.js`), which defines
//! the `<recordpass-request>` element, loads this crate's wasm and calls
//! [`mount`] for each element. The form renders inside the element's open
//! shadow root, so it neither inherits the page's layout rules nor leaks
//! styles into the page. Validation, the statement, canonical form, digest and
//! signing challenge all come from `recordpass_request`.

mod api;
mod app;
mod clock;
mod download;
mod error;
mod i18n;
mod json;
mod passkey;
mod progress;
mod steps;
mod verify;

use js_sys::{Array, Reflect};
use recordpass_request::Lang;
use wasm_bindgen::prelude::*;
use web_sys::{CssStyleSheet, HtmlElement, ShadowRoot, ShadowRootInit, ShadowRootMode};

pub use app::{App, Msg, Props};

/// The allocator: talc instead of std's dlmalloc, for a smaller module
/// (docs/benchmarks.md, "Widget weight"). The widget is single-threaded.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// The page-URL fragment that opens the status view (see [`mount`]).
pub const STATUS_FRAGMENT: &str = "#recordpass-status";

/// The widget's stylesheet, scoped to the shadow root.
const STYLE: &str = include_str!("style.css");

/// Renders the request form into `host`'s open shadow root.
///
/// `config` is `{verifier, site, lang, view}`: the verifier's base URL (`http(s)://…`,
/// no trailing slash needed), the site id, a BCP 47 language tag (`es…` selects
/// Spanish, anything else English), and `"status"` to open the returning
/// requester's sign-in and status view first (as does a page URL ending in
/// `#recordpass-status`, the link status emails carry). Any previous content of the shadow root
/// (such as the loader's fallback text) is replaced.
#[wasm_bindgen]
pub fn mount(host: HtmlElement, config: JsValue) -> Result<(), JsValue> {
    let verifier = config_string(&config, "verifier");
    let site = config_string(&config, "site");
    let lang = Lang::from_tag(&config_string(&config, "lang"));
    if !(verifier.starts_with("https://") || verifier.starts_with("http://")) {
        return Err(JsError::new("recordpass: `verifier` must be an http(s) URL").into());
    }
    if site.is_empty() {
        return Err(JsError::new("recordpass: the `site` attribute is required").into());
    }

    let root = shadow_root(&host)?;
    // Not `innerHTML`: that is a Trusted Types sink on strict host pages.
    while let Some(child) = root.first_child() {
        root.remove_child(&child)?;
    }
    attach_style(&root)?;
    let document = host
        .owner_document()
        .ok_or_else(|| JsError::new("recordpass: no document"))?;
    let container = document.create_element("div")?;
    root.append_child(&container)?;

    let status_view = config_string(&config, "view") == "status" || on_status_fragment();
    let props = Props {
        client: api::Client::new(&verifier),
        site: site.into(),
        lang,
        status_view,
    };
    let app = yew::Renderer::<App>::with_root_and_props(container, props).render();
    // A link to `#recordpass-status` on the page itself opens the view too.
    if let Some(window) = web_sys::window() {
        let open = Closure::<dyn Fn()>::new(move || {
            if on_status_fragment() {
                app.send_message(Msg::OpenStatus);
            }
        });
        window.add_event_listener_with_callback("hashchange", open.as_ref().unchecked_ref())?;
        // Lives as long as the page, like the element.
        open.forget();
    }
    Ok(())
}

/// The page's URL ends in [`STATUS_FRAGMENT`].
fn on_status_fragment() -> bool {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .is_some_and(|hash| hash == STATUS_FRAGMENT)
}

/// A string property of the config object, or `""`.
fn config_string(config: &JsValue, key: &str) -> String {
    Reflect::get(config, &JsValue::from_str(key))
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// The host's open shadow root, attached if needed.
fn shadow_root(host: &HtmlElement) -> Result<ShadowRoot, JsValue> {
    match host.shadow_root() {
        Some(root) => Ok(root),
        None => host.attach_shadow(&ShadowRootInit::new(ShadowRootMode::Open)),
    }
}

/// Adds [`STYLE`] to the shadow root: as a constructed stylesheet where
/// supported (not subject to the page's `style-src` CSP), else as `<style>`.
fn attach_style(root: &ShadowRoot) -> Result<(), JsValue> {
    let constructed = Reflect::has(root, &JsValue::from_str("adoptedStyleSheets"))
        .unwrap_or(false)
        .then(CssStyleSheet::new)
        .and_then(Result::ok)
        .filter(|sheet| sheet.replace_sync(STYLE).is_ok());
    if let Some(sheet) = constructed {
        // Keep the loader's sheet (the space it reserves for the first step).
        let sheets = Array::from(&root.adopted_style_sheets());
        sheets.push(&sheet);
        root.set_adopted_style_sheets(&sheets);
        return Ok(());
    }
    let document = root
        .owner_document()
        .ok_or_else(|| JsError::new("recordpass: no document"))?;
    let style = document.create_element("style")?;
    style.set_text_content(Some(STYLE));
    root.append_child(&style)?;
    Ok(())
}
