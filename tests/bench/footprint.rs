//! The real verifier binary: time from process start to "listening"
//! (configuration read, database created, migrations applied, port bound),
//! resident memory idle and at peak under load (`/proc/PID/status`), and the
//! CPU time the verifier process itself spends per signed submission under
//! that load (`/proc/PID/stat`), which separates its cost from the load
//! generator's on the same cores. Then, in a fresh process, its peak memory
//! while many clients upload large proof-of-authority files at once
//! ([`uploads`]), with the default `[limits] upload_buffer_mib` and
//! `uploads_in_flight`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use recordpass_tests::{config_toml, process::VerifierProcess, smtp::SmtpServer, write_keyring};
use serde_json::{Value, json};

use crate::load::{self, Plan};
use crate::stats::median;
use recordpass_tests::user::{Error, Target};

/// How long it sits before its idle memory is read.
const SETTLE: Duration = Duration::from_secs(1);

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
    let keyring = write_keyring(dir.path());
    for i in 0..starts.max(1) {
        let config = config_toml(
            &format!(
                "sqlite://{}",
                dir.path().join(format!("footprint-{i}.db")).display()
            ),
            &keyring,
            &dir.path().join("no-widget"),
            "smtp",
            smtp.addr.port(),
            limits,
        );
        let config_path = dir.path().join(format!("footprint-{i}.toml"));
        std::fs::write(&config_path, config).map_err(|e| e.to_string())?;
        let log = dir.path().join(format!("footprint-{i}.log"));
        let bin = bin.to_owned();
        let (verifier, took) =
            tokio::task::spawn_blocking(move || VerifierProcess::start(&bin, &config_path, &log))
                .await
                .map_err(|e| e.to_string())??;
        start_ms.push(took.as_secs_f64() * 1e3);
        last = Some(verifier);
    }
    let verifier = last.ok_or("no verifier started")?;
    let pid = verifier.pid();
    tokio::time::sleep(SETTLE).await;
    let idle_kb = status_kb(pid, "VmRSS")?;
    let target = Arc::new(Target::external(verifier.base_url.clone(), smtp));
    let mut virtual_users = load::register_users(&target, users).await?;
    let cpu_before = cpu_seconds(pid)?;
    let loaded = load::level(&mut virtual_users, users, plan).await?;
    let cpu = cpu_seconds(pid)? - cpu_before;
    let peak_kb = status_kb(pid, "VmHWM")?;
    let after_kb = status_kb(pid, "VmRSS")?;
    drop(verifier);
    Ok(json!({
        "start_ms": median(&start_ms),
        "start_ms_runs": start_ms,
        "rss_idle_kb": idle_kb,
        "rss_peak_kb": peak_kb,
        "rss_after_load_kb": after_kb,
        "cpu_seconds_under_load": cpu,
        "load": loaded,
    }))
}

/// The upload figure's load: `clients` upload a file of `bytes` at once,
/// `rounds` times.
#[derive(Clone, Copy)]
pub struct UploadLoad {
    /// Simultaneous uploads per round.
    pub clients: usize,
    /// Rounds, one after the other.
    pub rounds: usize,
    /// Size of each file (a PDF the verifier accepts).
    pub bytes: usize,
    /// `[limits] uploads_in_flight` (`None`: the verifier's default).
    pub in_flight: Option<usize>,
}

/// Starts `bin` on a fresh database with `limits` (and `load`'s
/// `uploads_in_flight`, if any), then sends `load`'s uploads, each round all at once:
/// peak resident memory (`VmHWM`), files stored, and uploads refused as busy
/// (`503` `unavailable`: the upload buffer had no room for the body, which
/// answers before the body is read).
pub async fn uploads(bin: &Path, limits: &str, load: UploadLoad) -> Result<Value, Error> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let smtp = SmtpServer::start().await;
    let keyring = write_keyring(dir.path());
    // Each client its own address (the bench is the proxy), so the per-client
    // hourly upload limit does not decide what is measured.
    let config = format!(
        "trust_forwarded_for = true\n{}",
        config_toml(
            &format!("sqlite://{}", dir.path().join("uploads.db").display()),
            &keyring,
            &dir.path().join("no-widget"),
            "smtp",
            smtp.addr.port(),
            &match load.in_flight {
                Some(n) => format!("{limits}\nuploads_in_flight = {n}"),
                None => limits.to_owned(),
            },
        )
    );
    let config_path = dir.path().join("uploads.toml");
    std::fs::write(&config_path, config).map_err(|e| e.to_string())?;
    let log = dir.path().join("uploads.log");
    let bin = bin.to_owned();
    let (verifier, _) =
        tokio::task::spawn_blocking(move || VerifierProcess::start(&bin, &config_path, &log))
            .await
            .map_err(|e| e.to_string())??;
    let pid = verifier.pid();
    tokio::time::sleep(SETTLE).await;
    let idle_kb = status_kb(pid, "VmRSS")?;
    let file: &'static [u8] = Box::leak(recordpass_tests::large_pdf(load.bytes).into_boxed_slice());
    let url = format!(
        "{}/api/v1/sites/{}/uploads",
        verifier.base_url,
        recordpass_tests::SITE_ID
    );
    let http = reqwest::Client::new();
    let (mut stored, mut busy) = (0u64, 0u64);
    let started = std::time::Instant::now();
    for round in 0..load.rounds {
        let sends = (0..load.clients).map(|client| {
            let request = http
                .post(&url)
                .header("Origin", recordpass_tests::SITE_ORIGIN)
                .header("Content-Type", "application/pdf")
                .header(recordpass_request::api::FILE_NAME_HEADER, "proof.pdf")
                .header("X-Forwarded-For", format!("10.9.{round}.{client}"))
                .body(reqwest::Body::from(file));
            tokio::spawn(async move {
                let resp = request.send().await.map_err(|e| e.to_string())?;
                let status = resp.status();
                let retry_after = resp.headers().contains_key("retry-after");
                let body: Value = resp.json().await.unwrap_or(Value::Null);
                Ok::<_, Error>((status.as_u16(), retry_after, body))
            })
        });
        let sends: Vec<_> = sends.collect();
        for send in sends {
            match send.await.map_err(|e| e.to_string())?? {
                (201, _, _) => stored += 1,
                // Refused for want of room in the upload buffer (a timeout or a lost
                // database race is `unavailable` too, without `Retry-After`: an error here).
                (503, true, body) if body["code"] == "unavailable" => busy += 1,
                (status, _, body) => return Err(format!("upload answered {status}: {body}")),
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let peak_kb = status_kb(pid, "VmHWM")?;
    drop(verifier);
    Ok(json!({
        "clients": load.clients,
        "rounds": load.rounds,
        "file_bytes": load.bytes,
        "uploads_in_flight": load.in_flight,
        "stored": stored,
        "busy": busy,
        "seconds": seconds,
        "rss_idle_kb": idle_kb,
        "rss_peak_kb": peak_kb,
    }))
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

/// User plus system CPU time of every thread of process `pid` so far, in
/// seconds (`/proc/PID/stat` fields 14 and 15, in clock ticks).
fn cpu_seconds(pid: u32) -> Result<f64, Error> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).map_err(|e| e.to_string())?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok());
    // Field 3 (state) is fields[0]: utime (14) and stime (15) are [11] and [12].
    let (user, system) = ticks(11)
        .zip(ticks(12))
        .ok_or_else(|| format!("no utime/stime in /proc/{pid}/stat"))?;
    Ok((user + system) as f64 / clock_ticks_per_second()?)
}

/// `getconf CLK_TCK`: the unit of `/proc/PID/stat`'s CPU times.
fn clock_ticks_per_second() -> Result<f64, Error> {
    let out = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .map_err(|e| format!("getconf CLK_TCK: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|&hz| hz > 0.0)
        .ok_or_else(|| "getconf CLK_TCK printed no positive number".to_owned())
}
