//! The smallest Yew app with one text field and one button, built with the
//! widget's profile, to measure what Yew itself costs (docs/benchmarks.md).

use wasm_bindgen::prelude::*;
use yew::prelude::*;

#[function_component]
fn Floor() -> Html {
    let name = use_state(String::new);
    let oninput = {
        let name = name.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(input) = e.target_dyn_into::<web_sys::HtmlInputElement>() {
                name.set(input.value());
            }
        })
    };
    html! {
        <form>
            <label>{ "Name" }<input {oninput} value={(*name).clone()} /></label>
            <button type="submit">{ "Continue" }</button>
        </form>
    }
}

/// Renders the app into `host`.
#[wasm_bindgen]
pub fn mount(host: web_sys::Element) {
    yew::Renderer::<Floor>::with_root(host).render();
}
