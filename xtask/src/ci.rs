//! `cargo xtask ci`: formatting, lints (host and wasm32), then every test.

use anyhow::Result;

use crate::setup::{self, WASM_TARGET};
use crate::test;
use crate::util::{Steps, cargo, run};

/// Everything CI checks, in order of how fast it fails.
pub fn run_all(steps: &mut Steps) -> Result<()> {
    steps.run("setup", setup::run_all)?;
    steps.run("rustfmt", || run(cargo().args(["fmt", "--all", "--check"])))?;
    steps.run("clippy", || {
        run(cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))
    })?;
    steps.run("clippy (widget, wasm32)", || {
        run(cargo()
            .args([
                "clippy",
                "--package",
                "recordpass-widget",
                "--target",
                WASM_TARGET,
            ])
            .args(["--", "-D", "warnings"]))
    })?;
    test::build_and_test(steps)
}
