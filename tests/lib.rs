//! Test kit: boots the real verifier router on `127.0.0.1:0` with a fresh
//! SQLite database, and shuts it down when dropped.

use recordpass_verifier::{AppState, Clock, Config, Store, serve};
use std::net::SocketAddr;
use tokio::{net::TcpListener, sync::oneshot};

/// The page origin the test site allows.
pub const SITE_ORIGIN: &str = "http://localhost:8081";
/// The test site's id.
pub const SITE_ID: &str = "riverside";

/// A running verifier.
pub struct TestVerifier {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// Bound address.
    pub addr: SocketAddr,
    /// Direct access to the same database, to assert on what was stored.
    pub store: Store,
    /// The verifier's clock; advance it to expire ceremonies.
    pub clock: Clock,
    /// The configuration it runs with.
    pub config: Config,
    shutdown: Option<oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

impl TestVerifier {
    /// Starts a verifier with one site (`riverside`, origin [`SITE_ORIGIN`]).
    pub async fn start() -> TestVerifier {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("recordpass.db");
        let config_text = format!(
            r#"
            listen = "127.0.0.1:0"
            database_url = "sqlite://{db}"
            widget_dir = "{widget}"
            ceremony_ttl_secs = 300
            [relying_party]
            id = "localhost"
            name = "Riverside General Hospital"
            [[sites]]
            id = "{SITE_ID}"
            name = "Riverside General Hospital"
            him_phone = "+1 (555) 010-0100"
            origins = ["{SITE_ORIGIN}"]
            "#,
            db = db.display(),
            widget = dir.path().join("no-widget").display(),
        );
        let config: Config = toml::from_str(&config_text).expect("test config parses");
        config.check().expect("test config is valid");
        let clock = Clock::system();
        let state = AppState::new(config.clone(), clock.clone())
            .await
            .expect("verifier starts");
        let store = state.store.clone();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let (tx, rx) = oneshot::channel();
        tokio::spawn(serve(listener, state, async {
            let _ = rx.await;
        }));
        TestVerifier {
            base_url: format!("http://{addr}"),
            addr,
            store,
            clock,
            config,
            shutdown: Some(tx),
            _dir: dir,
        }
    }

    /// Absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }
}

impl Drop for TestVerifier {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
