//! Shared state and the server's lifecycle.

use std::{future::Future, sync::Arc};
use tokio::net::TcpListener;

use crate::{
    Clock, Config, Error, Passkeys, Store,
    assets::Assets,
    console,
    email::Email,
    group_commit::GroupCommit,
    metrics::{self, Metrics},
    routes,
    seal::SealKey,
    webhooks::Webhooks,
};

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
    /// The key that seals evidence bundles.
    pub seal: Arc<SealKey>,
    /// Sends email verification codes.
    pub email: Arc<Email>,
    /// The HIM staff console (its relying party and cookie policy).
    pub console: Arc<console::Console>,
    /// Prometheus metrics ([`crate::metrics`]).
    pub metrics: Arc<Metrics>,
    /// Outgoing webhooks ([`crate::webhooks`]).
    pub webhooks: Arc<Webhooks>,
    /// Signature finishes waiting to be stored ([`crate::group_commit`]).
    pub finishes: Arc<GroupCommit>,
    /// What upload bodies may hold while they arrive, and the turns to seal
    /// and store them ([`crate::upload_intake`]).
    pub uploads: Arc<crate::upload_intake::Intake>,
    /// When each requester's status list was last audited ([`crate::returning::requests`]).
    pub list_views: Arc<crate::returning::requests::ListViews>,
}

impl AppState {
    /// Opens the database (running migrations), builds the relying party and
    /// loads the widget assets.
    pub async fn new(config: Config, clock: Clock) -> Result<AppState, Error> {
        let store = Store::open(&config.database_url, Arc::new(config.encryption.vault()?)).await?;
        let passkeys = Arc::new(Passkeys::new(&config)?);
        let assets = Arc::new(Assets::load(&config.widget_dir));
        let seal = Arc::new(SealKey::load(&config, &store).await?);
        let email = Arc::new(Email::new(&config, clock.clone())?);
        let console = Arc::new(console::Console::new(&config)?);
        let webhooks = Arc::new(Webhooks::new(&config)?);
        let metrics = Arc::new(Metrics::new(&email.deliveries, &webhooks.counters));
        let uploads = Arc::new(crate::upload_intake::Intake::new(&config.limits));
        Ok(AppState {
            config: Arc::new(config),
            store,
            passkeys,
            assets,
            clock,
            seal,
            email,
            console,
            metrics,
            webhooks,
            finishes: Arc::default(),
            uploads,
            list_views: Arc::default(),
        })
    }
}

/// Serves the verifier on `listener` until `shutdown` completes, then drains.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    // Expired ceremonies, codes and sessions go while the verifier serves.
    let purge = tokio::spawn(crate::retention::run_background(state.clone()));
    // Webhook deliveries run until the server has drained, then finish the
    // attempts under way (each bounded by its timeout).
    let (stop_webhooks, stopped) = tokio::sync::watch::channel(false);
    let webhooks = tokio::spawn(crate::webhooks::worker::run(state.clone(), stopped));
    let grace = std::time::Duration::from_secs(state.webhooks.settings.timeout_secs + 5);
    let email = state.email.clone();
    let head_timeout = state.config.request_timeout();
    let app = routes::router(state);
    serve_http(listener, app, head_timeout, shutdown).await;
    purge.abort();
    // Emails the drained requests started (codes, status notices) still go out.
    email.drain().await;
    let _ = stop_webhooks.send(true);
    let abort = webhooks.abort_handle();
    if tokio::time::timeout(grace, webhooks).await.is_err() {
        abort.abort();
    }
    Ok(())
}

/// Serves `app` over HTTP/1.1 on `listener` until `shutdown` completes, then
/// stops accepting and lets every open connection finish its request.
///
/// What `axum::serve` does, plus a deadline for the request head: a client
/// must send its request line and headers within `head_timeout` (the
/// `request_timeout_secs` that then bounds the rest of the request), or the
/// connection is closed, so a client trickling its headers cannot hold it.
/// Each request carries the peer address (`ConnectInfo`), recorded with each
/// signature and used by rate limits.
async fn serve_http(
    listener: TcpListener,
    app: axum::Router,
    head_timeout: std::time::Duration,
    shutdown: impl Future<Output = ()>,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt as _;

    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(head_timeout);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(connection) => connection,
                Err(e) => {
                    // Out of file descriptors and the like: wait, then go on.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let app = app.clone();
        let service =
            hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let mut req = req.map(axum::body::Body::new);
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                app.clone().oneshot(req)
            });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Serves `GET /metrics` on its own `listener` (see [`crate::metrics`]).
pub async fn serve_metrics(listener: TcpListener, state: AppState) -> Result<(), Error> {
    axum::serve(listener, metrics::router(state))
        .await
        .map_err(|e| Error::Internal(format!("metrics server: {e}")))
}

impl AppState {
    /// Stores a new single-use ceremony that expires after the configured
    /// lifetime, and returns its id.
    pub async fn open_ceremony(
        &self,
        kind: crate::store::CeremonyKind,
        site_id: &str,
        state: String,
        context: String,
    ) -> Result<String, Error> {
        let now = self.clock.unix();
        let ttl = i64::try_from(self.config.ceremony_ttl().as_secs()).unwrap_or(i64::MAX);
        let ceremony = crate::store::Ceremony {
            id: crate::tokens::random_token(),
            kind,
            site_id: site_id.to_owned(),
            state,
            context,
            created_at: now,
            expires_at: now.saturating_add(ttl),
        };
        self.store.put_ceremony(&ceremony).await?;
        Ok(ceremony.id)
    }
}
