//! Demo mode's outbox: the last messages "sent", on `GET /demo/outbox`.
//! Only exists with `email.mode = "demo-outbox"`, which the configuration
//! allows only with a localhost relying party.

use std::{collections::VecDeque, sync::Mutex};

use axum::{
    extract::State,
    http::{HeaderValue, header},
    response::{Html, IntoResponse, Response},
};

use super::message::{Letter, escape};
use crate::{AppState, Clock, Error, store::UnixTime};

/// Messages kept.
const KEEP: usize = 20;

/// The demo outbox (process memory: it stands in for someone's mailbox).
pub struct Outbox {
    clock: Clock,
    letters: Mutex<VecDeque<(UnixTime, Letter)>>,
}

impl Outbox {
    /// An empty outbox.
    pub fn new(clock: Clock) -> Outbox {
        Outbox {
            clock,
            letters: Mutex::new(VecDeque::new()),
        }
    }

    /// Keeps `letter`, dropping the oldest beyond [`KEEP`].
    pub fn push(&self, letter: Letter) {
        let now = self.clock.unix();
        let mut letters = self.letters.lock().unwrap_or_else(|e| e.into_inner());
        letters.push_front((now, letter));
        letters.truncate(KEEP);
    }

    /// Newest first.
    pub fn letters(&self) -> Vec<(UnixTime, Letter)> {
        let letters = self.letters.lock().unwrap_or_else(|e| e.into_inner());
        letters.iter().cloned().collect()
    }
}

/// `GET /demo/outbox`: 404 unless in demo mode.
pub async fn page(State(state): State<AppState>) -> Result<Response, Error> {
    let outbox = state.email.outbox().ok_or(Error::NotFound)?;
    let items: String = outbox
        .letters()
        .iter()
        .map(|(at, letter)| {
            let at = crate::clock::rfc3339(*at).unwrap_or_default();
            format!(
                "<article data-testid=\"message\"><h2>{subject}</h2>\n<p>To: {to} · {at}</p>\n\
                 <pre lang=\"{lang}\">{text}</pre></article>\n",
                subject = escape(&letter.subject),
                to = escape(&letter.to),
                lang = letter.lang.tag(),
                text = escape(&letter.text),
            )
        })
        .collect();
    let body = if items.is_empty() {
        "<p>No messages yet.</p>".to_owned()
    } else {
        items
    };
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"5\"><title>Demo outbox</title></head>\n\
         <body><h1>Demo outbox</h1>\n<p>Demo mode: verification emails are shown here instead \
         of being sent. Newest first; refreshes every 5 seconds.</p>\n{body}</body></html>\n"
    );
    let mut response = Html(html).into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'"),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
