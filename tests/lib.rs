//! Test kit: boots the real verifier router on `127.0.0.1:0` with a fresh
//! SQLite database and a real SMTP receiver ([`smtp::SmtpServer`]) it sends
//! codes to, and shuts both down when dropped.

pub mod smtp;

use recordpass_verifier::{AppState, Clock, Config, Store, seal::SealKey, serve, serve_metrics};
use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
};
use tokio::{net::TcpListener, sync::oneshot};

/// The page origin the test site allows.
pub const SITE_ORIGIN: &str = "http://localhost:8081";
/// The test site's id.
pub const SITE_ID: &str = "riverside";

/// The test verifier's configuration file: one site (`riverside`, origin
/// [`SITE_ORIGIN`]), SQLite at `db`, codes sent in `email_mode` through an SMTP
/// relay on `127.0.0.1:smtp_port`, and `limits` (TOML lines) as `[limits]`.
/// [`TestVerifier`] runs with it; the bench also starts the real binary with it.
pub fn config_toml(
    db: &Path,
    widget_dir: &Path,
    email_mode: &str,
    smtp_port: u16,
    limits: &str,
) -> String {
    format!(
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
        [email]
        mode = "{email_mode}"
        [smtp]
        host = "127.0.0.1"
        port = {smtp_port}
        tls = "none"
        from = "Riverside General Hospital <records@localhost>"
        timeout_secs = 5
        [limits]
        {limits}
        "#,
        db = db.display(),
        widget = widget_dir.display(),
    )
}

/// A running verifier.
pub struct TestVerifier {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// `http://127.0.0.1:<port>/metrics`, the separate metrics listener.
    pub metrics_url: String,
    /// Bound address.
    pub addr: SocketAddr,
    /// Direct access to the same database, to assert on what was stored.
    pub store: Store,
    /// The verifier's clock; advance it to expire ceremonies.
    pub clock: Clock,
    /// The configuration it runs with.
    pub config: Config,
    /// The same configuration as a file, for running the CLI against this verifier.
    pub config_path: PathBuf,
    /// The key sealing this verifier's evidence bundles.
    pub seal: Arc<SealKey>,
    /// The SMTP server the verifier sends codes to.
    pub smtp: smtp::SmtpServer,
    shutdown: Option<oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

impl TestVerifier {
    /// Starts a verifier with one site (`riverside`, origin [`SITE_ORIGIN`]).
    /// The flood guard allows bursts of 200 and an address 10 codes, so that
    /// tests of other things do not trip them.
    pub async fn start() -> TestVerifier {
        TestVerifier::start_with_limits("posts_burst = 200\ncodes_per_address = 10").await
    }

    /// Starts a verifier with `limits` (TOML lines) as its `[limits]` section.
    pub async fn start_with_limits(limits: &str) -> TestVerifier {
        TestVerifier::start_with("smtp", limits).await
    }

    /// Starts a verifier in demo mode: codes go to `GET /demo/outbox`.
    pub async fn start_demo() -> TestVerifier {
        TestVerifier::start_with("demo-outbox", "").await
    }

    async fn start_with(email_mode: &str, limits: &str) -> TestVerifier {
        let smtp = smtp::SmtpServer::start().await;
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("recordpass.db");
        // Bound first so the console's origin (the public URL) names the real port.
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let config_text = format!(
            "public_url = \"http://localhost:{}\"\n{}",
            addr.port(),
            config_toml(
                &db,
                &dir.path().join("no-widget"),
                email_mode,
                smtp.addr.port(),
                limits,
            )
        );
        let config: Config = toml::from_str(&config_text).expect("test config parses");
        config.check().expect("test config is valid");
        let config_path = dir.path().join("recordpass.toml");
        std::fs::write(&config_path, &config_text).expect("config file written");
        let clock = Clock::system();
        let state = AppState::new(config.clone(), clock.clone())
            .await
            .expect("verifier starts");
        let store = state.store.clone();
        let seal = state.seal.clone();
        let metrics = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let metrics_url = format!(
            "http://{}/metrics",
            metrics.local_addr().expect("metrics address")
        );
        tokio::spawn(serve_metrics(metrics, state.clone()));
        let (tx, rx) = oneshot::channel();
        tokio::spawn(serve(listener, state, async {
            let _ = rx.await;
        }));
        TestVerifier {
            base_url: format!("http://{addr}"),
            metrics_url,
            addr,
            store,
            clock,
            config,
            config_path,
            seal,
            smtp,
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
