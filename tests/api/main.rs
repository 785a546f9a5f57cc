//! Integration tests through the verifier's real HTTP interface, with a
//! software passkey (`webauthn-authenticator-rs`) standing in for the browser.
//! One binary, several modules: each extra test binary is another slow link.

mod client;
mod console;
mod email;
mod errors;
mod evidence;
mod flow;
mod http_surface;
mod postgres_tls;
mod request_rules;
mod scale_out;
mod schema;
