//! `cargo xtask fuzz [SECONDS]`: runs every cargo-fuzz target in `fuzz/` for a
//! bounded time each (default 60 s), starting from the committed seeds in
//! `fuzz/corpus/<target>/`; what libFuzzer learns goes to `fuzz/corpus-work/`
//! (ignored by git). Installs what it needs once: the nightly toolchain
//! (libFuzzer's sanitizer flags need it) and cargo-fuzz into `.tools/`.
//! A crash stops the run and names the input in `fuzz/artifacts/<target>/`:
//! turn it into a regression test, then fix the cause (docs/fuzzing.md).

use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::util::{self, announce, run};

/// The targets, as named in `fuzz/Cargo.toml`.
pub const TARGETS: [&str; 4] = [
    "request_json",
    "canonical_json",
    "evidence_bundle",
    "upload_sniff",
];
const CARGO_FUZZ_VERSION: &str = "0.13.1";
const CARGO_FUZZ: &str = ".tools/bin/cargo-fuzz";

/// Runs each target for `seconds`.
pub fn run_all(seconds: u64) -> Result<()> {
    nightly()?;
    cargo_fuzz()?;
    for target in TARGETS {
        let work = format!("fuzz/corpus-work/{target}");
        std::fs::create_dir_all(&work).with_context(|| format!("cannot create {work}"))?;
        announce(format_args!("fuzzing {target} for {seconds} s"));
        run(Command::new(CARGO_FUZZ)
            .current_dir(util::workspace_root())
            .env("RUSTUP_TOOLCHAIN", "nightly")
            .args(["fuzz", "run", "--fuzz-dir", "fuzz", target])
            .arg(&work)
            .arg(format!("fuzz/corpus/{target}"))
            .arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .arg("-print_final_stats=1"))
        .with_context(|| {
            format!("{target} found a crash: see fuzz/artifacts/{target}/ and docs/fuzzing.md")
        })?;
    }
    Ok(())
}

fn nightly() -> Result<()> {
    let ok = Command::new("rustc")
        .env("RUSTUP_TOOLCHAIN", "nightly")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        announce("installing the nightly toolchain (libFuzzer needs it; once)");
        run(Command::new("rustup").args([
            "toolchain",
            "install",
            "nightly",
            "--profile",
            "minimal",
        ]))?;
    }
    Ok(())
}

fn cargo_fuzz() -> Result<()> {
    let version = Command::new(CARGO_FUZZ)
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    if version
        .as_deref()
        .is_some_and(|v| v.contains(CARGO_FUZZ_VERSION))
    {
        return Ok(());
    }
    announce(format_args!(
        "installing cargo-fuzz {CARGO_FUZZ_VERSION} into .tools/ (once)"
    ));
    let root = util::workspace_root().join(".tools");
    run(util::cargo()
        .args(["install", "cargo-fuzz", "--root"])
        .arg(&root)
        .args(["--version", CARGO_FUZZ_VERSION]))?;
    Ok(())
}

/// Parses `fuzz [SECONDS]`.
pub fn seconds(arg: Option<&str>) -> Result<u64> {
    match arg {
        None => Ok(60),
        Some(s) => match s.parse() {
            Ok(n) if n > 0 => Ok(n),
            _ => bail!("fuzz takes a number of seconds per target, got `{s}`"),
        },
    }
}
