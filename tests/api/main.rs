//! Integration tests through the verifier's real HTTP interface, with a
//! software passkey (`webauthn-authenticator-rs`) standing in for the browser.
//! One binary, several modules: each extra test binary is another slow link.

mod at_rest;
mod client;
mod console;
mod console_audit;
mod console_exports;
mod console_races;
mod console_release;
mod console_staff;
mod crash;
mod deadlines;
mod email;
mod errors;
mod evidence;
mod flow;
mod group_commit;
mod hostile;
mod http_surface;
mod idempotency;
mod lifecycle;
mod metrics;
mod openapi;
mod operations;
mod postgres_tls;
mod request_rules;
mod returning;
mod scale_out;
mod schema;
mod upgrades;
mod upload_intake;
mod uploads;
mod webhooks;
