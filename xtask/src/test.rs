//! `cargo xtask test`: the Rust test suites, then the browser end-to-end test
//! against a real verifier and the built widget. Nothing is ever skipped: a
//! missing prerequisite fails the run.

use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, ensure};

use crate::bench;
use crate::schemathesis;
use crate::setup::{self, CHROMIUM};
use crate::util::{Steps, cargo, run};
use crate::widget::{self, Built};

/// The browser tests, run with `node --test`.
const BROWSER_TESTS: &str = "tests/browser/";

/// Sets up, builds and runs every test.
pub fn run_all(steps: &mut Steps) -> Result<()> {
    steps.run("setup", setup::run_all)?;
    build_and_test(steps)
}

/// Builds, then runs every test; expects setup to be done.
pub fn build_and_test(steps: &mut Steps) -> Result<()> {
    let built = steps.run("build", widget::build)?;
    steps.run("cargo test (api on SQLite)", || {
        run(cargo().args(["test", "--workspace"]))
    })?;
    // The same HTTP suite again, each verifier on a fresh database of a
    // throwaway PostgreSQL cluster the tests start themselves. `--workspace`
    // keeps the features (and so the build) of the step before.
    steps.run("api suite on PostgreSQL", || {
        run(cargo()
            .args(["test", "--workspace", "--test", "api"])
            .env("RECORDPASS_TEST_DATABASE", "postgres"))
    })?;
    steps.run("schemathesis", || schemathesis::run(&built))?;
    steps.run("browser test", || browser_tests(&built))?;
    steps.run("bench smoke", || bench::measure(&built, bench::Mode::Smoke))
}

fn browser_tests(built: &Built) -> Result<()> {
    ensure!(
        Path::new(CHROMIUM).is_file(),
        "{CHROMIUM} is missing: run `cargo xtask setup`"
    );
    let absolute = |path: &Path| {
        fs::canonicalize(path).with_context(|| format!("{} is missing", path.display()))
    };
    run(Command::new("node")
        .args(["--test", BROWSER_TESTS])
        .env("RECORDPASS_VERIFIER_BIN", absolute(&built.verifier)?)
        .env("RECORDPASS_WIDGET_DIST", absolute(&built.dist)?)
        .env("RECORDPASS_CHROMIUM", CHROMIUM))
}
