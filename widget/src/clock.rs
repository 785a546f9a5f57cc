//! Dates from the browser's clock.

use recordpass_request::Lang;
use time::{Date, Month};

/// Today's date in the requester's time zone (what they think of as today).
pub fn today() -> Date {
    let now = js_sys::Date::new_0();
    let month = Month::try_from(now.get_month() as u8 + 1).unwrap_or(Month::January);
    // Only an absurd clock fails here; then no date of birth counts as "in the future"
    // and the verifier, which checks again, decides.
    Date::from_calendar_date(now.get_full_year() as i32, month, now.get_date() as u8)
        .unwrap_or(Date::MAX)
}

/// Formats an RFC 3339 timestamp as a local date and time in `lang`,
/// falling back to the timestamp itself.
pub fn local_date_time(rfc3339: &str, lang: Lang) -> String {
    let date = js_sys::Date::new(&rfc3339.into());
    if date.get_time().is_nan() {
        return rfc3339.to_owned();
    }
    let options = js_sys::Object::new();
    for (key, value) in [("dateStyle", "long"), ("timeStyle", "short")] {
        // Setting a property on a fresh plain object cannot fail.
        let _ = js_sys::Reflect::set(&options, &key.into(), &value.into());
    }
    date.to_locale_string(lang.tag(), &options).into()
}

/// Formats a `YYYY-MM-DD` calendar date as a long date in `lang`, falling
/// back to the text itself.
pub fn long_date(ymd: &str, lang: Lang) -> String {
    let date = js_sys::Date::new(&format!("{ymd}T12:00:00Z").into());
    if date.get_time().is_nan() {
        return ymd.to_owned();
    }
    let options = js_sys::Object::new();
    for (key, value) in [("dateStyle", "long"), ("timeZone", "UTC")] {
        // Setting a property on a fresh plain object cannot fail.
        let _ = js_sys::Reflect::set(&options, &key.into(), &value.into());
    }
    date.to_locale_date_string(lang.tag(), &options).into()
}

/// Resolves after `ms` milliseconds (never, if there is no window).
pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        if let Some(window) = web_sys::window() {
            // Only fails for absurd arguments; then the promise never resolves.
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    // The promise only ever resolves.
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
