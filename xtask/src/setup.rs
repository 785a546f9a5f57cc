//! `cargo xtask setup`: installs what the build and the tests need. Every
//! check is cheap, so it is quick when everything is already there.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};

use crate::util::{self, announce, output, run};

/// Debian packages: OpenSSL headers for webauthn-rs, Chromium for the browser test,
/// jq and the openssl CLI for the standard-tools evidence check, PostgreSQL
/// (initdb, pg_ctl) for the integration suite's second backend, Python's venv
/// for schemathesis.
const APT_PACKAGES: &[&str] = &[
    "pkg-config",
    "libssl-dev",
    "chromium",
    "chromium-driver",
    "jq",
    "openssl",
    "postgresql",
    "python3",
    "python3-venv",
];

/// The widget's compilation target.
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// wasm-bindgen CLI, installed per project so its version can follow Cargo.lock.
pub const WASM_BINDGEN: &str = ".tools/bin/wasm-bindgen";

/// wasm-opt from the `binaryen` npm package (Debian's is too old for current rustc output).
pub const WASM_OPT: &str = "node_modules/.bin/wasm-opt";

/// terser (npm), which minifies the widget's loader and wasm-bindgen glue.
pub const TERSER: &str = "node_modules/.bin/terser";

/// Where the browser test finds Chromium.
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// Records which `package-lock.json` node_modules was installed from.
const NPM_STAMP: &str = "node_modules/.recordpass-lock.sha256";

/// Ensures every prerequisite is installed.
pub fn run_all() -> Result<()> {
    apt_packages()?;
    wasm_target()?;
    wasm_bindgen_cli()?;
    crate::schemathesis::install()?;
    npm_packages()
}

fn apt_packages() -> Result<()> {
    let missing = missing_apt_packages()?;
    if missing.is_empty() {
        return Ok(());
    }
    let list = missing.join(" ");
    let is_root = output(Command::new("id").arg("-u")).is_ok_and(|uid| uid.trim() == "0");
    if !is_root || which("apt-get").is_none() {
        bail!(
            "missing Debian packages: {list}\n  install them with:\n    \
             sudo apt-get update && sudo apt-get install -y --no-install-recommends {list}"
        );
    }
    announce(format_args!("installing {list} with apt-get"));
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    run(Command::new("apt-get")
        .env("DEBIAN_FRONTEND", "noninteractive")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(&missing))?;
    let still_missing = missing_apt_packages()?;
    ensure!(
        still_missing.is_empty(),
        "apt-get did not install {}",
        still_missing.join(" ")
    );
    Ok(())
}

/// The packages in [`APT_PACKAGES`] that dpkg does not report as installed.
fn missing_apt_packages() -> Result<Vec<&'static str>> {
    if which("dpkg-query").is_none() {
        bail!(
            "dpkg-query not found: Recordpass's setup expects Debian 12 or Ubuntu; \
             install the equivalents of {} yourself",
            APT_PACKAGES.join(" ")
        );
    }
    // dpkg-query exits 1 when a package is unknown, so read stdout regardless.
    let out = Command::new("dpkg-query")
        .args(["-W", "-f=${Package} ${Status}\n"])
        .args(APT_PACKAGES)
        .output()
        .context("could not run dpkg-query")?;
    let listing = String::from_utf8_lossy(&out.stdout);
    let installed = |pkg: &str| {
        listing.lines().any(|line| {
            line.split_once(' ')
                .is_some_and(|(name, status)| name == pkg && status == "install ok installed")
        })
    };
    Ok(APT_PACKAGES
        .iter()
        .copied()
        .filter(|pkg| !installed(pkg))
        .collect())
}

fn wasm_target() -> Result<()> {
    let installed = output(Command::new("rustup").args(["target", "list", "--installed"]))
        .context("rustup is required (https://rustup.rs)")?;
    if installed.lines().all(|t| t.trim() != WASM_TARGET) {
        run(Command::new("rustup").args(["target", "add", WASM_TARGET]))?;
    }
    Ok(())
}

fn wasm_bindgen_cli() -> Result<()> {
    let wanted = locked_version("wasm-bindgen")?;
    if installed_wasm_bindgen().as_deref() == Some(wanted.as_str()) {
        return Ok(());
    }
    announce(format_args!(
        "installing wasm-bindgen-cli {wanted} into .tools/ (about 2 minutes, once)"
    ));
    // Not --locked: the CLI's own lockfile pins crates this registry lacks.
    // An absolute --root: cargo resolves a relative one against another directory.
    let root = util::workspace_root().join(".tools");
    std::fs::create_dir_all(&root).context("cannot create .tools/")?;
    run(util::cargo()
        .args(["install", "wasm-bindgen-cli", "--force", "--root"])
        .arg(&root)
        .args(["--version", &format!("={wanted}")]))?;
    let got = installed_wasm_bindgen();
    ensure!(
        got.as_deref() == Some(wanted.as_str()),
        "{WASM_BINDGEN} reports version {got:?}, Cargo.lock wants {wanted}"
    );
    Ok(())
}

/// The version `wasm-bindgen --version` reports, if it runs.
fn installed_wasm_bindgen() -> Option<String> {
    let out = output(Command::new(WASM_BINDGEN).arg("--version")).ok()?;
    Some(out.trim().strip_prefix("wasm-bindgen ")?.to_owned())
}

/// The single version of `package` in Cargo.lock.
fn locked_version(package: &str) -> Result<String> {
    let lock = std::fs::read_to_string("Cargo.lock").context("cannot read Cargo.lock")?;
    parse_locked_version(&lock, package)
}

fn parse_locked_version(lock: &str, package: &str) -> Result<String> {
    let name_line = format!("name = \"{package}\"");
    let versions: Vec<&str> = lock
        .split("[[package]]")
        .filter(|block| block.lines().any(|line| line.trim() == name_line))
        .filter_map(|block| {
            block
                .lines()
                .find_map(|line| line.trim().strip_prefix("version = \"")?.strip_suffix('"'))
        })
        .collect();
    match versions.as_slice() {
        [version] => Ok((*version).to_owned()),
        [] => bail!("Cargo.lock has no `{package}` package"),
        _ => bail!(
            "Cargo.lock has several `{package}` versions: {}",
            versions.join(", ")
        ),
    }
}

fn npm_packages() -> Result<()> {
    let lock = util::read("package-lock.json")?;
    let wanted = util::sha256_hex(&lock);
    let current = std::fs::read_to_string(NPM_STAMP).unwrap_or_default();
    let complete = Path::new(WASM_OPT).exists()
        && Path::new(TERSER).exists()
        && Path::new("node_modules/playwright-core").is_dir();
    if current.trim() == wanted && complete {
        return Ok(());
    }
    for tool in ["node", "npm"] {
        if which(tool).is_none() {
            bail!("`{tool}` not found: install Node.js 20 or newer with npm");
        }
    }
    run(Command::new("npm").args(["ci", "--no-audit", "--no-fund"]))?;
    ensure!(
        Path::new(WASM_OPT).exists(),
        "npm ci did not provide {WASM_OPT}"
    );
    util::write(NPM_STAMP, wanted)
}

/// Finds `program` on PATH.
fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"
[[package]]
name = "wasm-bindgen"
version = "0.2.130"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "wasm-bindgen-futures"
version = "0.4.80"
"#;

    #[test]
    fn finds_the_exact_package_version() {
        assert_eq!(
            parse_locked_version(LOCK, "wasm-bindgen").ok().as_deref(),
            Some("0.2.130")
        );
        assert_eq!(
            parse_locked_version(LOCK, "wasm-bindgen-futures")
                .ok()
                .as_deref(),
            Some("0.4.80")
        );
        assert!(parse_locked_version(LOCK, "yew").is_err());
    }

    #[test]
    fn refuses_ambiguous_versions() {
        let twice = format!("{LOCK}\n[[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.99\"\n");
        assert!(parse_locked_version(&twice, "wasm-bindgen").is_err());
    }
}
