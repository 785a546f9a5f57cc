//! The real verifier binary: time from process start to "listening"
//! (configuration read, database created, migrations applied, port bound),
//! resident memory idle and at peak under load (`/proc/PID/status`).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use recordpass_tests::{config_toml, smtp::SmtpServer};
use serde_json::{Value, json};

use crate::load::{self, Plan};
use crate::stats::median;
use crate::user::{Error, Target};

/// How long the verifier may take to print "listening".
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long it sits before its idle memory is read.
const SETTLE: Duration = Duration::from_secs(1);

/// A started verifier process, killed when dropped.
struct Verifier {
    child: Child,
    base_url: String,
}

impl Drop for Verifier {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `bin` `starts` times on a fresh database (median start-up time), then
/// loads the last one with `users` users at concurrency `users` for `plan`.
pub async fn measure(
    bin: &Path,
    limits: &str,
    starts: usize,
    users: usize,
    plan: Plan,
) -> Result<Value, Error> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let smtp = Arc::new(SmtpServer::start().await);
    let mut start_ms = Vec::with_capacity(starts);
    let mut last = None;
    for i in 0..starts.max(1) {
        let config = config_toml(
            &format!(
                "sqlite://{}",
                dir.path().join(format!("footprint-{i}.db")).display()
            ),
            &dir.path().join("no-widget"),
            "smtp",
            smtp.addr.port(),
            limits,
        );
        let config_path = dir.path().join(format!("footprint-{i}.toml"));
        std::fs::write(&config_path, config).map_err(|e| e.to_string())?;
        let log = dir.path().join(format!("footprint-{i}.log"));
        let bin = bin.to_owned();
        let (verifier, took) = tokio::task::spawn_blocking(move || start(&bin, &config_path, &log))
            .await
            .map_err(|e| e.to_string())??;
        start_ms.push(took.as_secs_f64() * 1e3);
        last = Some(verifier);
    }
    let verifier = last.ok_or("no verifier started")?;
    let pid = verifier.child.id();
    tokio::time::sleep(SETTLE).await;
    let idle_kb = status_kb(pid, "VmRSS")?;
    let target = Arc::new(Target::external(verifier.base_url.clone(), smtp));
    let mut virtual_users = load::register_users(&target, users).await?;
    let loaded = load::level(&mut virtual_users, users, plan).await?;
    let peak_kb = status_kb(pid, "VmHWM")?;
    let after_kb = status_kb(pid, "VmRSS")?;
    drop(verifier);
    Ok(json!({
        "start_ms": median(&start_ms),
        "start_ms_runs": start_ms,
        "rss_idle_kb": idle_kb,
        "rss_peak_kb": peak_kb,
        "rss_after_load_kb": after_kb,
        "load": loaded,
    }))
}

/// Spawns `bin serve` and waits for its "listening on http://ADDR" line.
fn start(bin: &Path, config: &Path, log: &Path) -> Result<(Verifier, Duration), Error> {
    let log = std::fs::File::create(log).map_err(|e| e.to_string())?;
    let mut command = Command::new(bin);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("RECORDPASS_") {
            command.env_remove(key);
        }
    }
    let began = Instant::now();
    let mut child = command
        .arg("serve")
        .arg("--config")
        .arg(config)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("listening on ") {
                let _ = tx.send(url.to_owned());
            }
        }
    });
    let base_url = rx.recv_timeout(START_TIMEOUT);
    let took = began.elapsed();
    let verifier = Verifier {
        child,
        base_url: base_url.unwrap_or_default(),
    };
    if verifier.base_url.is_empty() {
        return Err(format!("{} did not print \"listening\"", bin.display()));
    }
    Ok((verifier, took))
}

/// A `kB` field of `/proc/PID/status`.
fn status_kb(pid: u32, field: &str) -> Result<u64, Error> {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| e.to_string())?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no {field} in /proc/{pid}/status"))
}
