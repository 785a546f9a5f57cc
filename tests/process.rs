//! The real verifier binary as a child process: started with a config file,
//! found by the "listening on http://ADDR" line it prints, killed when dropped.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long the verifier may take to print "listening".
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// `target/<profile>/recordpass-verifier`, next to the running test's `deps/`
/// directory. `cargo xtask test` builds it first; with plain `cargo test`,
/// build it yourself (`cargo build -p recordpass-verifier`).
pub fn verifier_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target profile dir");
    let bin = dir.join(format!(
        "recordpass-verifier{}",
        std::env::consts::EXE_SUFFIX
    ));
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p recordpass-verifier` (cargo xtask test does)",
        bin.display()
    );
    bin
}

/// The verifier's command line, without `RECORDPASS_*` variables from the
/// environment (the config file decides).
pub fn verifier_command(bin: &Path) -> Command {
    let mut command = Command::new(bin);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("RECORDPASS_") {
            command.env_remove(key);
        }
    }
    command
}

/// A started `recordpass-verifier serve`, killed when dropped.
pub struct VerifierProcess {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
}

impl VerifierProcess {
    /// Spawns `bin serve --config config` (stderr to `log`) and waits until it
    /// listens; returns it and how long that took. Blocking.
    pub fn start(
        bin: &Path,
        config: &Path,
        log: &Path,
    ) -> Result<(VerifierProcess, Duration), String> {
        VerifierProcess::start_with(bin, &[], config, log)
    }

    /// As [`VerifierProcess::start`], with `args` (e.g. `--log-format json`)
    /// before `serve`.
    pub fn start_with(
        bin: &Path,
        args: &[&str],
        config: &Path,
        log: &Path,
    ) -> Result<(VerifierProcess, Duration), String> {
        let log = std::fs::File::create(log).map_err(|e| e.to_string())?;
        let began = Instant::now();
        let mut child = verifier_command(bin)
            .args(args)
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
        let verifier = VerifierProcess {
            child,
            base_url: base_url.unwrap_or_default(),
        };
        if verifier.base_url.is_empty() {
            return Err(format!("{} did not print \"listening\"", bin.display()));
        }
        Ok((verifier, took))
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `SIGTERM` (the service manager's stop), without waiting.
    pub fn terminate(&self) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "SIGTERM sent");
    }

    /// Waits up to `limit` (blocking; `Duration::ZERO` only looks) for the
    /// process to exit; its status, or `None` if it is still running.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let began = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if began.elapsed() >= limit {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `kill -9`: no shutdown, no flush, nothing finishes.
    pub fn kill_hard(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for VerifierProcess {
    fn drop(&mut self) {
        self.kill_hard();
    }
}
