//! schemathesis (PyPI, pinned in `tests/schemathesis/requirements.txt`, installed
//! into `.tools/venv/`) against a live verifier: every operation in the OpenAPI
//! document it serves, a bounded and reproducible set of cases
//! (`tests/schemathesis/schemathesis.toml`). Fails on any 5xx, any response
//! the document does not describe, or invalid input that is not refused.

use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};

use crate::demo::Verifier;
use crate::util::{self, announce, output};
use crate::widget::Built;

/// The virtual environment schemathesis is installed into.
const VENV: &str = ".tools/venv";
/// Its command-line tool.
const ST: &str = ".tools/venv/bin/st";
/// The pinned version, one `name==version` line.
const REQUIREMENTS: &str = "tests/schemathesis/requirements.txt";
/// Custom serializers (raw `application/pdf` bodies for uploads).
const HOOKS: &str = "tests/schemathesis/hooks.py";
/// Checks, case budget, seed and test data.
const CONFIG: &str = "tests/schemathesis/schemathesis.toml";

/// Installs the pinned schemathesis into [`VENV`] unless it is already there.
pub fn install() -> Result<()> {
    let wanted = pinned_version()?;
    if installed_version().as_deref() == Some(wanted.as_str()) {
        return Ok(());
    }
    announce(format_args!(
        "installing schemathesis {wanted} into {VENV}/ (once)"
    ));
    util::run(Command::new("python3").args(["-m", "venv", "--clear", VENV]))
        .context("python3 with the venv module is required (Debian: python3-venv)")?;
    util::run(Command::new(Path::new(VENV).join("bin/pip")).args([
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--requirement",
        REQUIREMENTS,
    ]))?;
    let got = installed_version();
    ensure!(
        got.as_deref() == Some(wanted.as_str()),
        "{ST} reports version {got:?}, {REQUIREMENTS} pins {wanted}"
    );
    Ok(())
}

fn pinned_version() -> Result<String> {
    let text = fs::read_to_string(REQUIREMENTS).context("cannot read the schemathesis pin")?;
    text.lines()
        .find_map(|line| line.trim().strip_prefix("schemathesis=="))
        .map(str::to_owned)
        .with_context(|| format!("{REQUIREMENTS} has no `schemathesis==VERSION` line"))
}

/// The version `st --version` reports (`st, version 4.32.5`), if it runs.
fn installed_version() -> Option<String> {
    let out = output(Command::new(ST).arg("--version")).ok()?;
    Some(out.trim().rsplit(' ').next()?.to_owned())
}

/// Starts the built verifier on a fresh database and runs schemathesis against it.
pub fn run(built: &Built) -> Result<()> {
    let dir = util::target_dir().join("schemathesis");
    if dir.exists() {
        fs::remove_dir_all(&dir).with_context(|| format!("cannot clear {}", dir.display()))?;
    }
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let config = dir.join("recordpass.toml");
    crate::demo::write_keyring(&built.verifier, &dir.join("keyring"))?;
    util::write(&config, verifier_config(&dir, &built.dist)?)?;
    let mut command = util::verifier(&built.verifier);
    // Thousands of requests: keep warnings and errors (every 5xx logs one).
    command.env("RUST_LOG", "warn");
    let verifier = Verifier::start_command(command, &config)?;

    let mut st = Command::new(ST);
    st.env("SCHEMATHESIS_HOOKS", HOOKS)
        .arg("--config-file")
        .arg(CONFIG)
        .args(["--no-color", "run"])
        .arg(format!("{}/openapi.json", verifier.url));
    let line = util::command_line(&st);
    announce(format_args!("$ {line}"));
    let out = st
        .output()
        .with_context(|| format!("could not start `{line}` (run `cargo xtask setup`)"))?;
    let report = String::from_utf8_lossy(&out.stdout);
    print!("{report}");
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    drop(verifier);
    let Some(summary) = summary(&report) else {
        bail!(
            "schemathesis printed no `N generated` summary ({})",
            out.status
        );
    };
    ensure!(out.status.success(), "schemathesis failed: {summary}");
    announce(format_args!("schemathesis: {summary}"));
    Ok(())
}

/// The verifier's configuration: one site and high rate limits, so that
/// cases reach the handlers; codes go to the in-memory demo outbox.
fn verifier_config(dir: &Path, widget_dir: &Path) -> Result<String> {
    let db = fs::canonicalize(dir)?.join("recordpass.db");
    let widget_dir = serde_json::to_string(&fs::canonicalize(widget_dir)?)?;
    Ok(format!(
        r#"# Written by `cargo xtask test` for the schemathesis step.
listen = "127.0.0.1:0"
metrics_listen = "off"
database_url = "sqlite://{db}"
widget_dir = {widget_dir}

[relying_party]
id = "localhost"
name = "Riverside General Hospital"

[[sites]]
id = "riverside"
name = "Riverside General Hospital"
him_phone = "+1 (555) 010-0100"
origins = ["http://localhost:8081"]

[email]
mode = "demo-outbox"

[encryption]
key_file = "{keyring}"

[limits]
posts_burst = 1000000
posts_per_second = 1000000
codes_per_address = 1000000
codes_per_client = 1000000
"#,
        db = db.display(),
        keyring = fs::canonicalize(dir)?.join("keyring").display(),
    ))
}

/// `"1038 cases (1038 generated, 1038 passed) over 11 operations"` from the report.
fn summary(report: &str) -> Option<String> {
    // `1038 generated, 1038 passed`, not warnings that mention generated data.
    let cases = report.lines().map(str::trim).find(|line| {
        line.split_once(" generated")
            .is_some_and(|(n, _)| n.parse::<u64>().is_ok())
    })?;
    let operations = report
        .lines()
        .find_map(|line| line.trim().strip_prefix("Tested:"))
        .map_or_else(|| "?".to_owned(), |n| n.trim().to_owned());
    Some(format!("{cases}; operations tested: {operations}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_summary() {
        let report = "Schema validation mismatch: 5 operations mostly rejected generated data\n\
                      API Operations:\n  Selected: 11/11\n  Tested: 11\n\nTest cases:\n  \
                      1038 generated, 1038 passed\n";
        assert_eq!(
            summary(report).as_deref(),
            Some("1038 generated, 1038 passed; operations tested: 11")
        );
        assert_eq!(summary("error: connection refused"), None);
    }
}
