//! Recordpass verifier: runs passkey ceremonies for the widget, stores signed
//! requests durably, and gives HIM staff tools to read them.
//!
//! Start with [`AppState::new`] and [`serve`]; [`routes::router`] builds the
//! axum router on its own for in-process tests.

pub mod app;
pub mod assets;
pub mod clock;
pub mod config;
#[cfg(test)]
mod config_reference;
pub mod console;
pub mod db;
pub mod email;
pub mod error;
pub mod evidence;
mod group_commit;
pub mod holds;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod passkeys;
mod registration;
pub mod rekey;
pub mod retention;
pub mod returning;
pub mod routes;
pub mod seal;
mod signing;
pub mod site_info;
pub mod store;
mod tokens;
pub mod upload_intake;
pub mod uploads;
pub mod vault;
pub mod webhooks;
pub mod zone;

pub use app::{AppState, serve, serve_metrics};
pub use clock::Clock;
pub use config::Config;
pub use error::Error;
pub use passkeys::Passkeys;
pub use store::Store;
