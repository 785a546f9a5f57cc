//! Test kit: boots the real verifier router on `127.0.0.1:0` with a fresh
//! database and a real SMTP receiver ([`smtp::SmtpServer`]) it sends codes to,
//! and shuts both down when dropped.
//!
//! The database is a SQLite file, or with `RECORDPASS_TEST_DATABASE=postgres`
//! a fresh database on the process's throwaway PostgreSQL cluster
//! ([`postgres::cluster`]): the same tests prove both backends behave alike.

pub mod postgres;
pub mod process;
pub mod smtp;
pub mod user;

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
/// The test site's `privacy_phone`, which denial notices give for complaints.
pub const PRIVACY_PHONE: &str = "+1 (555) 010-0199";

/// `[limits]` for load: the flood guard and code limits raised, so many
/// virtual users can share one address and client.
pub const LOAD_LIMITS: &str = "posts_per_second = 1000000\nposts_burst = 1000000\n\
                               codes_per_address = 1000\ncodes_per_client = 1000000";

/// The verifier's command line ([`process::verifier_bin`]), for its CLI commands.
pub fn verifier_cli() -> std::process::Command {
    process::verifier_command(&process::verifier_bin())
}

/// A fresh one-key keyring, for opening a [`Store`] directly.
pub fn test_vault() -> Arc<recordpass_verifier::vault::Vault> {
    let line = recordpass_verifier::vault::Vault::new_key_line("test-1");
    Arc::new(recordpass_verifier::vault::Vault::parse(&line, None).expect("keyring"))
}

/// Writes a fresh one-key keyring (key id `test-1`) to `dir/keyring` and
/// returns its path, for [`config_toml`].
pub fn write_keyring(dir: &Path) -> PathBuf {
    let path = dir.join("keyring");
    let line = recordpass_verifier::vault::Vault::new_key_line("test-1");
    std::fs::write(&path, format!("{line}\n")).expect("keyring written");
    path
}

/// The test verifier's configuration file: one site (`riverside`, origin
/// [`SITE_ORIGIN`], complaint contact "the Privacy Office" at
/// [`PRIVACY_PHONE`]), the database at `database_url`, codes sent in `email_mode`
/// through an SMTP relay on `127.0.0.1:smtp_port`, `limits` (TOML lines) as
/// `[limits]`, and personal data sealed with the keyring file `keyring`
/// ([`write_keyring`]).
/// [`TestVerifier`] runs with it; the bench also starts the real binary with it.
pub fn config_toml(
    database_url: &str,
    keyring: &Path,
    widget_dir: &Path,
    email_mode: &str,
    smtp_port: u16,
    limits: &str,
) -> String {
    format!(
        r#"
        listen = "127.0.0.1:0"
        metrics_listen = "off"
        database_url = "{database_url}"
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
        status_url = "{SITE_ORIGIN}/records"
        privacy_phone = "{PRIVACY_PHONE}"
        privacy_contact = {{ en = "the Privacy Office", es = "la Oficina de Privacidad" }}
        [email]
        mode = "{email_mode}"
        [smtp]
        host = "127.0.0.1"
        port = {smtp_port}
        tls = "none"
        from = "Riverside General Hospital <records@localhost>"
        timeout_secs = 5
        [encryption]
        key_file = "{keyring}"
        [limits]
        {limits}
        "#,
        widget = widget_dir.display(),
        keyring = keyring.display(),
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
        TestVerifier::start_on(TestDatabase::from_env(), limits).await
    }

    /// Starts a verifier on `database` (whatever `RECORDPASS_TEST_DATABASE`
    /// says) with `limits` (TOML lines) as its `[limits]` section.
    pub async fn start_on(database: TestDatabase, limits: &str) -> TestVerifier {
        TestVerifier::start_with("smtp", limits, database, "", |_| {}).await
    }

    /// Starts a verifier with `sections` (TOML tables, e.g. `[[webhooks]]`)
    /// appended to the usual configuration.
    pub async fn start_with_sections(sections: &str) -> TestVerifier {
        let limits = "posts_burst = 200\ncodes_per_address = 10";
        TestVerifier::start_with("smtp", limits, TestDatabase::from_env(), sections, |_| {}).await
    }

    /// Starts the usual verifier with its parsed configuration changed by
    /// `change` (a key removed, say); `config_path` keeps the file as written.
    pub async fn start_changed(change: impl FnOnce(&mut Config)) -> TestVerifier {
        let limits = "posts_burst = 200\ncodes_per_address = 10";
        TestVerifier::start_with("smtp", limits, TestDatabase::from_env(), "", change).await
    }

    /// Starts a verifier in demo mode: codes go to `GET /demo/outbox`.
    pub async fn start_demo() -> TestVerifier {
        TestVerifier::start_with("demo-outbox", "", TestDatabase::from_env(), "", |_| {}).await
    }

    async fn start_with(
        email_mode: &str,
        limits: &str,
        database: TestDatabase,
        sections: &str,
        change: impl FnOnce(&mut Config),
    ) -> TestVerifier {
        let smtp = smtp::SmtpServer::start().await;
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url = database.create(dir.path()).await;
        let keyring = write_keyring(dir.path());
        // Bound first so the console's origin (the public URL) names the real port.
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let config_text = format!(
            "public_url = \"http://localhost:{}\"\n{}\n{sections}",
            addr.port(),
            config_toml(
                &database_url,
                &keyring,
                &dir.path().join("no-widget"),
                email_mode,
                smtp.addr.port(),
                limits,
            )
        );
        let mut config: Config = toml::from_str(&config_text).expect("test config parses");
        change(&mut config);
        config.check().expect("test config is valid");
        let config_path = dir.path().join("recordpass.toml");
        std::fs::write(&config_path, &config_text).expect("config file written");
        let instance = Instance {
            config,
            config_path,
            clock: Clock::system(),
            smtp,
            dir,
        };
        instance.serve(listener).await
    }

    /// Rows in `table` of this verifier's database.
    pub async fn count(&self, table: recordpass_verifier::store::Table) -> i64 {
        self.store.count(table).await.expect("count rows")
    }

    /// Absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Starts a second instance of this verifier, on another port, sharing
    /// its configuration and database (as behind a load balancer).
    pub async fn another_instance(&self) -> TestVerifier {
        self.another_instance_with(|_| {}).await
    }

    /// [`TestVerifier::another_instance`] with its configuration changed by
    /// `change` (an instance not yet updated in a rolling change, say).
    pub async fn another_instance_with(&self, change: impl FnOnce(&mut Config)) -> TestVerifier {
        let mut config = self.config.clone();
        change(&mut config);
        let instance = Instance {
            config,
            config_path: self.config_path.clone(),
            clock: self.clock.clone(),
            smtp: smtp::SmtpServer::start().await,
            dir: tempfile::tempdir().expect("temp dir"),
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        instance.serve(listener).await
    }
}

/// What a [`TestVerifier`] is started from.
struct Instance {
    config: Config,
    config_path: PathBuf,
    clock: Clock,
    smtp: smtp::SmtpServer,
    dir: tempfile::TempDir,
}

impl Instance {
    /// Opens the database, then serves on `listener` (and metrics on a port of
    /// their own) until the returned verifier is dropped.
    async fn serve(self, listener: TcpListener) -> TestVerifier {
        let addr = listener.local_addr().expect("local addr");
        let state = AppState::new(self.config.clone(), self.clock.clone())
            .await
            .expect("verifier starts");
        let store = state.store.clone();
        let seal = state.seal.clone();
        let (metrics_url, tx) = launch(listener, state).await;
        TestVerifier {
            base_url: format!("http://{addr}"),
            metrics_url,
            addr,
            store,
            clock: self.clock,
            config: self.config,
            config_path: self.config_path,
            seal,
            smtp: self.smtp,
            shutdown: Some(tx),
            _dir: self.dir,
        }
    }
}

/// Serves `state` on `listener` and its metrics on a port of their own; returns
/// the metrics URL and the sender that shuts the server down.
async fn launch(listener: TcpListener, state: AppState) -> (String, oneshot::Sender<()>) {
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
    (metrics_url, tx)
}

/// The database behind each [`TestVerifier`], from `RECORDPASS_TEST_DATABASE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TestDatabase {
    /// A SQLite file in the verifier's temporary directory (unset or `sqlite`).
    Sqlite,
    /// A fresh database on [`postgres::cluster`] (`postgres`).
    Postgres,
}

impl TestDatabase {
    /// The backend `RECORDPASS_TEST_DATABASE` asks for; panics on anything else.
    pub fn from_env() -> TestDatabase {
        match std::env::var("RECORDPASS_TEST_DATABASE").as_deref() {
            Err(_) | Ok("sqlite") => TestDatabase::Sqlite,
            Ok("postgres") => TestDatabase::Postgres,
            Ok(other) => panic!("RECORDPASS_TEST_DATABASE={other}: use sqlite or postgres"),
        }
    }

    /// Creates an empty database (a file in `dir` for SQLite) and returns its URL.
    pub async fn create(self, dir: &Path) -> String {
        match self {
            TestDatabase::Sqlite => format!("sqlite://{}", dir.join("recordpass.db").display()),
            TestDatabase::Postgres => postgres::cluster().create_database().await,
        }
    }
}

impl Drop for TestVerifier {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A PDF of `bytes` (at least the sample's size) the verifier accepts: the
/// sample proof with a comment of filler after its header line, in varied
/// bytes so that nothing on the way can shrink it.
pub fn large_pdf(bytes: usize) -> Vec<u8> {
    let sample = recordpass_request::examples::PROOF_PDF;
    let header = sample.iter().position(|&b| b == b'\n').map_or(0, |i| i + 1);
    let filler = bytes.saturating_sub(sample.len() + 2);
    let mut pdf = Vec::with_capacity(bytes.max(sample.len()));
    pdf.extend_from_slice(&sample[..header]);
    pdf.push(b'%');
    pdf.extend((0..filler).map(|i| b'a' + (i.wrapping_mul(7919) % 26) as u8));
    pdf.push(b'\n');
    pdf.extend_from_slice(&sample[header..]);
    pdf
}
