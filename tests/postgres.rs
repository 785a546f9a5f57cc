//! A throwaway PostgreSQL cluster for the tests: one per test process, started
//! on first use with Debian's `initdb` and `pg_ctl` (`/usr/lib/postgresql/<N>/bin`,
//! or `RECORDPASS_PG_BIN`) in a temporary directory, listening on 127.0.0.1 at
//! a free port (its unix socket stays in that directory), password-protected,
//! TLS offered with a certificate for 127.0.0.1 from a CA made for the run
//! ([`Cluster::ca_file`]). Each caller gets a fresh database on it
//! ([`Cluster::create_database`]).
//!
//! Nothing outlives the test process: a watchdog child, in its own process
//! group, blocks reading a pipe only this process holds open; when the process
//! ends, however it ends, the read returns and the watchdog stops the cluster
//! (`pg_ctl stop -m immediate`) and removes its directory.

use sqlx::{Connection as _, Executor as _, postgres::PgConnection};
use std::{
    fs,
    io::Read as _,
    os::unix::{
        fs::{MetadataExt as _, PermissionsExt as _},
        process::CommandExt as _,
    },
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        OnceLock,
        atomic::{AtomicU32, Ordering},
    },
};

/// The user the server runs as when the tests run as root (PostgreSQL
/// refuses to run as root); Debian's `postgresql` package creates it.
const SERVER_USER: &str = "postgres";
/// The cluster's superuser.
const ROLE: &str = "recordpass";

/// A running cluster.
pub struct Cluster {
    port: u16,
    ca: PathBuf,
    password: String,
    databases: AtomicU32,
    /// Never waited for: its stdin pipe stays open for the life of this
    /// process, and closing (when the process ends) wakes it to clean up.
    _watchdog: Child,
}

/// The process's cluster, started on first use.
pub fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(Cluster::start)
}

impl Cluster {
    fn start() -> Cluster {
        let bin = bin_dir();
        let dir = tempfile::Builder::new()
            .prefix("recordpass-pg-")
            .tempdir()
            .expect("temp dir")
            .keep(); // the watchdog removes it
        let as_server = ServerUser::for_this_process(&dir);
        let data = dir.join("data");
        // First, so that a failure below still stops and removes everything.
        let watchdog = watchdog(&as_server, &bin.join("pg_ctl"), &dir, &data);

        let password = random_hex();
        let pwfile = dir.join("password");
        fs::write(&pwfile, &password).expect("password file");
        as_server.run(
            Command::new(bin.join("initdb"))
                .arg("--pgdata")
                .arg(&data)
                .args(["--username", ROLE, "--auth", "scram-sha-256"])
                .arg(format!("--pwfile={}", pwfile.display()))
                .args(["--encoding", "UTF8", "--no-locale", "--no-sync"]),
            "initdb",
        );
        let port = free_port();
        let ca = tls_files(&as_server, &dir);
        // Durable defaults (fsync on): the bench measures this cluster too.
        // Room for many small pools (one per test verifier).
        let settings = format!(
            "\nlisten_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{}'\n\
             max_connections = 300\nssl = on\nssl_cert_file = 'server.crt'\n\
             ssl_key_file = 'server.key'\n",
            dir.display()
        );
        for file in ["server.crt", "server.key"] {
            fs::rename(dir.join(file), data.join(file)).expect("TLS files into the data dir");
        }
        let conf = data.join("postgresql.conf");
        let mut text = fs::read_to_string(&conf).expect("postgresql.conf");
        text.push_str(&settings);
        fs::write(&conf, text).expect("postgresql.conf written");
        let log = dir.join("server.log");
        let mut started = as_server.command(Command::new(bin.join("pg_ctl")).args([
            "--pgdata",
            &data.display().to_string(),
            "--log",
            &log.display().to_string(),
            "--wait",
            "start",
        ]));
        let status = started.stdout(Stdio::null()).status().expect("run pg_ctl");
        if !status.success() {
            let log = fs::read_to_string(&log).unwrap_or_default();
            panic!("pg_ctl start failed ({status}):\n{log}");
        }
        Cluster {
            port,
            ca,
            password,
            databases: AtomicU32::new(0),
            _watchdog: watchdog,
        }
    }

    /// `postgres://` URL of database `name`.
    pub fn url(&self, name: &str) -> String {
        format!(
            "postgres://{ROLE}:{}@127.0.0.1:{}/{name}",
            self.password, self.port
        )
    }

    /// `pg_dump` of the database at `url` (as a backup would hold it), as bytes.
    pub fn dump(&self, url: &str) -> Vec<u8> {
        let out = std::process::Command::new(bin_dir().join("pg_dump"))
            .arg("--dbname")
            .arg(url)
            .output()
            .expect("pg_dump runs");
        assert!(
            out.status.success(),
            "pg_dump: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// The CA certificate that issued the server's (for `sslrootcert`).
    pub fn ca_file(&self) -> &Path {
        &self.ca
    }

    /// Creates a new, empty database and returns its URL.
    pub async fn create_database(&self) -> String {
        let n = self.databases.fetch_add(1, Ordering::Relaxed);
        let name = format!("test_{n}");
        let mut admin = PgConnection::connect(&self.url("postgres"))
            .await
            .expect("connect to the test cluster");
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("CREATE DATABASE");
        admin.close().await.expect("close");
        self.url(&name)
    }
}

/// Runs the server's programs as [`SERVER_USER`] when this process is root.
struct ServerUser {
    as_root: bool,
}

impl ServerUser {
    /// Hands `dir` to the server's user when this process is root.
    fn for_this_process(dir: &Path) -> ServerUser {
        let as_root = fs::metadata("/proc/self").expect("/proc/self").uid() == 0;
        if as_root {
            let id = |flag: &str| -> u32 {
                let out = Command::new("id")
                    .args([flag, SERVER_USER])
                    .output()
                    .expect("run id");
                assert!(
                    out.status.success(),
                    "no user {SERVER_USER}: install Debian's postgresql package"
                );
                String::from_utf8_lossy(&out.stdout)
                    .trim()
                    .parse()
                    .expect("numeric id")
            };
            std::os::unix::fs::chown(dir, Some(id("-u")), Some(id("-g"))).expect("chown");
        }
        ServerUser { as_root }
    }

    /// `program` as a command run by the server's user.
    fn command(&self, program: &mut Command) -> Command {
        let mut command = if self.as_root {
            let mut c = Command::new("runuser");
            c.args(["-u", SERVER_USER, "--"]).arg(program.get_program());
            c
        } else {
            Command::new(program.get_program())
        };
        command.args(program.get_args()).current_dir("/");
        command
    }

    /// Runs `program` as the server's user; panics with its output on failure.
    fn run(&self, program: &mut Command, what: &str) {
        let out = self
            .command(program)
            .output()
            .unwrap_or_else(|e| panic!("run {what}: {e}"));
        assert!(
            out.status.success(),
            "{what} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A CA and a server certificate for 127.0.0.1 it issued (P-256, valid two
/// days), made in `dir` with the `openssl` CLI as the server's user (the key
/// must belong to it, mode 0600). Returns the CA certificate's path.
fn tls_files(as_server: &ServerUser, dir: &Path) -> PathBuf {
    let openssl = |args: &[&str], what: &str| {
        as_server.run(Command::new("openssl").args(args), what);
    };
    let path = |name: &str| dir.join(name).display().to_string();
    let key = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    openssl(
        &[
            &["req", "-x509"][..],
            &key,
            &["-days", "2", "-subj", "/CN=recordpass test CA"],
            &["-keyout", &path("ca.key"), "-out", &path("ca.crt")],
        ]
        .concat(),
        "openssl: test CA",
    );
    openssl(
        &[
            &["req"][..],
            &key,
            &["-subj", "/CN=127.0.0.1"],
            &["-keyout", &path("server.key"), "-out", &path("server.csr")],
        ]
        .concat(),
        "openssl: server key",
    );
    fs::write(dir.join("server.ext"), "subjectAltName = IP:127.0.0.1\n").expect("extensions");
    openssl(
        &[
            "x509",
            "-req",
            "-days",
            "2",
            "-in",
            &path("server.csr"),
            "-CA",
            &path("ca.crt"),
            "-CAkey",
            &path("ca.key"),
            "-CAcreateserial",
            "-extfile",
            &path("server.ext"),
            "-out",
            &path("server.crt"),
        ],
        "openssl: server certificate",
    );
    fs::set_permissions(dir.join("server.key"), fs::Permissions::from_mode(0o600))
        .expect("chmod server.key");
    dir.join("ca.crt")
}

/// Starts the watchdog that stops the cluster in `data` and removes `dir`
/// once its stdin closes (when this process ends).
fn watchdog(as_server: &ServerUser, pg_ctl: &Path, dir: &Path, data: &Path) -> Child {
    let stop = as_server.command(Command::new(pg_ctl).args(["--mode", "immediate"]));
    let script = r#"dir=$1; data=$2; shift 2
read -r _
"$@" --pgdata "$data" stop >/dev/null 2>&1
rm -rf "$dir""#;
    Command::new("sh")
        .args(["-c", script, "pg-watchdog"])
        .arg(dir)
        .arg(data)
        .arg(stop.get_program())
        .args(stop.get_args())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own process group: a Ctrl-C to the test run does not kill it first.
        .process_group(0)
        .spawn()
        .expect("start the cluster watchdog")
}

/// The directory with `initdb`, `pg_ctl` and `pg_dump`: `RECORDPASS_PG_BIN`,
/// or the newest `/usr/lib/postgresql/<version>/bin`.
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("RECORDPASS_PG_BIN") {
        return dir.into();
    }
    let newest = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .max();
    newest.map(|(_, bin)| bin).expect(
        "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): \
         apt-get install postgresql, or set RECORDPASS_PG_BIN",
    )
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

fn random_hex() -> String {
    let mut bytes = [0u8; 16];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .expect("/dev/urandom");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
