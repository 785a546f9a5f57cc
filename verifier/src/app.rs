//! Shared state and the server's lifecycle.

use std::{future::Future, sync::Arc};
use tokio::net::TcpListener;

use crate::{Clock, Config, Error, Passkeys, Store, assets::Assets, routes};

/// Everything a request handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// Configuration.
    pub config: Arc<Config>,
    /// Database.
    pub store: Store,
    /// Relying party.
    pub passkeys: Arc<Passkeys>,
    /// Built widget files.
    pub assets: Arc<Assets>,
    /// Time source.
    pub clock: Clock,
}

impl AppState {
    /// Opens the database (running migrations), builds the relying party and
    /// loads the widget assets.
    pub async fn new(config: Config, clock: Clock) -> Result<AppState, Error> {
        let store = Store::open(&config.database_url).await?;
        let passkeys = Arc::new(Passkeys::new(&config)?);
        let assets = Arc::new(Assets::load(&config.widget_dir));
        Ok(AppState {
            config: Arc::new(config),
            store,
            passkeys,
            assets,
            clock,
        })
    }
}

/// Serves the verifier on `listener` until `shutdown` completes, then drains.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let app = routes::router(state);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| Error::Internal(format!("server: {e}")))
}
