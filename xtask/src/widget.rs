//! `cargo xtask build`: the widget pipeline (cargo → wasm-bindgen → wasm-opt
//! → content-hashed assets, filled-in loader, manifest) and the verifier.
//!
//! Output layout and placeholders: `docs/architecture.md`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::setup::{TERSER, WASM_BINDGEN, WASM_OPT, WASM_TARGET};
use crate::util::{self, announce, gzip_len, run, sha256_hex, sri_sha384};

const WIDGET_PACKAGE: &str = "recordpass-widget";
const VERIFIER_PACKAGE: &str = "recordpass-verifier";
const LOADER_SOURCE: &str = "widget/loader/widget.js";

/// Features enabled in rustc's default `wasm32-unknown-unknown` output; wasm-opt
/// must accept (and may use) exactly these.
const WASM_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// What `build` produced.
pub struct Built {
    /// `target/widget/dist`: everything the verifier serves for the widget.
    pub dist: PathBuf,
    /// The verifier binary (dev profile).
    pub verifier: PathBuf,
}

/// Builds the widget bundle and the verifier.
pub fn build() -> Result<Built> {
    let dist = build_widget()?;
    let verifier = build_verifier()?;
    Ok(Built { dist, verifier })
}

/// Builds the widget into `target/widget/dist` and returns that directory.
pub fn build_widget() -> Result<PathBuf> {
    let target = util::target_dir();
    run(util::cargo().args([
        "build",
        "--package",
        WIDGET_PACKAGE,
        "--target",
        WASM_TARGET,
        "--profile",
        "widget",
    ]))?;
    let compiled = target
        .join(WASM_TARGET)
        .join("widget/recordpass_widget.wasm");

    let bindgen = target.join("widget/bindgen");
    recreate_dir(&bindgen)?;
    run(Command::new(WASM_BINDGEN)
        .arg(&compiled)
        .arg("--out-dir")
        .arg(&bindgen)
        .args([
            "--target",
            "no-modules",
            "--no-modules-global",
            "recordpassWidget",
        ])
        .args(["--out-name", "recordpass_widget", "--no-typescript"])
        .args(["--remove-name-section", "--remove-producers-section"]))?;
    let glue = minify(&bindgen.join("recordpass_widget.js"))?;
    let wasm = smallest_wasm(&bindgen.join("recordpass_widget_bg.wasm"))?;

    let dist = target.join("widget/dist");
    publish(&dist, &glue, &wasm)?;
    Ok(dist)
}

/// The JavaScript file at `path`, minified with terser (its `/*!` banner
/// comments kept). Top-level names are not mangled, so the glue's global
/// (`recordpassWidget`) keeps its name.
fn minify(path: &Path) -> Result<Vec<u8>> {
    let minified = path.with_extension("min.js");
    run(Command::new(TERSER)
        .arg(path)
        .args(["--compress", "--mangle", "--output"])
        .arg(&minified))?;
    util::read(&minified)
}

/// wasm-opt's passes. Measured on the widget (docs/benchmarks.md): `-Oz` and
/// `-Os` shrink the raw file 10 % but *grow* it 3 % gzipped (they undo the
/// regularity rustc's `opt-level = "z"` output compresses well with), while
/// `-O1 --converge` shrinks it 5 % raw and 1.6 % gzipped and brotli'd.
const WASM_OPT_PASSES: &[&str] = &["-O1", "--converge"];

/// Runs wasm-opt ([`WASM_OPT_PASSES`]) and returns whichever wasm is smaller
/// *gzipped*: that is what browsers download.
fn smallest_wasm(plain_path: &Path) -> Result<Vec<u8>> {
    let optimised_path = plain_path.with_extension("opt.wasm");
    run(Command::new(WASM_OPT)
        .args(WASM_OPT_PASSES)
        .args(WASM_FEATURES)
        .arg(plain_path)
        .arg("-o")
        .arg(&optimised_path))?;
    let plain = util::read(plain_path)?;
    let optimised = util::read(&optimised_path)?;
    let (plain_gz, optimised_gz) = (gzip_len(&plain), gzip_len(&optimised));
    let keep_optimised = optimised_gz < plain_gz;
    announce(format_args!(
        "wasm-opt {}: {} → {} bytes raw, {plain_gz} → {optimised_gz} bytes gzipped: keeping the {} file",
        WASM_OPT_PASSES.join(" "),
        plain.len(),
        optimised.len(),
        if keep_optimised {
            "optimised"
        } else {
            "unoptimised"
        },
    ));
    Ok(if keep_optimised { optimised } else { plain })
}

/// `manifest.json`: served paths (relative to the dist root) and their SRI values.
/// `release_loader` is the loader the snippet names: content-hashed, so it never
/// changes, and pages that embed it keep loading this release after an upgrade
/// as long as `assets/` keeps its files (docs/operations.md, "Upgrading").
#[derive(Serialize)]
struct Manifest {
    loader: String,
    loader_integrity: String,
    release_loader: String,
    release_loader_integrity: String,
    glue: String,
    glue_integrity: String,
    wasm: String,
    wasm_integrity: String,
}

/// One served file.
struct Asset {
    path: String,
    integrity: String,
    bytes: Vec<u8>,
}

impl Asset {
    /// `assets/<stem>-<first 16 hex of SHA-256>.<ext>`.
    fn hashed(stem: &str, ext: &str, bytes: Vec<u8>) -> Asset {
        let hash = sha256_hex(&bytes);
        Asset::named(format!("assets/{stem}-{}.{ext}", &hash[..16]), bytes)
    }

    fn named(path: String, bytes: Vec<u8>) -> Asset {
        Asset {
            integrity: sri_sha384(&bytes),
            path,
            bytes,
        }
    }
}

/// Writes the hashed assets, the two filled-in loaders (`widget.js` and the
/// release's `assets/widget-<hash>.js`) and the manifest to `dist`.
fn publish(dist: &Path, glue: &[u8], wasm: &[u8]) -> Result<()> {
    let glue = Asset::hashed("recordpass_widget", "js", glue.to_vec());
    let wasm = Asset::hashed("recordpass_widget_bg", "wasm", wasm.to_vec());
    let source = fs::read_to_string(LOADER_SOURCE)
        .with_context(|| format!("cannot read the loader source {LOADER_SOURCE}"))?;
    // Paths in a loader are relative to its own URL: `assets/…` from
    // `/widget.js`, the bare file name from `/assets/widget-<hash>.js`.
    let loader_in = |dir: &str, name: &str| -> Result<Vec<u8>> {
        let relative = |a: &Asset| a.path.strip_prefix(dir).unwrap_or(&a.path).to_owned();
        let filled = fill_loader(
            &source,
            &[
                ("__RECORDPASS_GLUE__", &relative(&glue)),
                ("__RECORDPASS_GLUE_INTEGRITY__", &glue.integrity),
                ("__RECORDPASS_WASM__", &relative(&wasm)),
                ("__RECORDPASS_WASM_INTEGRITY__", &wasm.integrity),
            ],
        )
        .with_context(|| format!("in {LOADER_SOURCE}"))?;
        let path = dist.with_file_name(name);
        util::write(&path, filled)?;
        minify(&path)
    };
    let loader = Asset::named("widget.js".into(), loader_in("", "widget.filled.js")?);
    let release = Asset::hashed("widget", "js", loader_in("assets/", "release.filled.js")?);

    recreate_dir(dist)?;
    util::write(dist.join("manifest.json"), {
        let manifest = Manifest {
            loader: loader.path.clone(),
            loader_integrity: loader.integrity.clone(),
            release_loader: release.path.clone(),
            release_loader_integrity: release.integrity.clone(),
            glue: glue.path.clone(),
            glue_integrity: glue.integrity.clone(),
            wasm: wasm.path.clone(),
            wasm_integrity: wasm.integrity.clone(),
        };
        serde_json::to_string_pretty(&manifest)? + "\n"
    })?;
    fs::create_dir_all(dist.join("assets"))?;
    let served = [loader, glue, wasm];
    for asset in served.iter().chain([&release]) {
        // Pre-compressed copies, which the verifier serves by Accept-Encoding.
        let path = &asset.path;
        util::write(dist.join(format!("{path}.br")), util::brotli(&asset.bytes))?;
        util::write(dist.join(format!("{path}.gz")), util::gzip(&asset.bytes))?;
        util::write(dist.join(path), &asset.bytes)?;
    }
    print_sizes(dist, &served);
    Ok(())
}

/// Replaces each placeholder, all of which must occur, and refuses leftover
/// `__RECORDPASS_…__` tokens (the bare prefix may appear, e.g. in a check).
fn fill_loader(source: &str, values: &[(&str, &str)]) -> Result<String> {
    const PREFIX: &str = "__RECORDPASS_";
    let mut filled = source.to_owned();
    for (placeholder, value) in values {
        if !filled.contains(placeholder) {
            bail!("the loader lacks the placeholder {placeholder}");
        }
        filled = filled.replace(placeholder, value);
    }
    let leftover = filled.match_indices(PREFIX).find_map(|(at, _)| {
        let token: String = filled[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        (token.len() > PREFIX.len() + 2 && token.ends_with("__")).then_some(token)
    });
    if let Some(token) = leftover {
        bail!("the loader has an unknown placeholder {token}");
    }
    Ok(filled)
}

fn print_sizes(dist: &Path, served: &[Asset]) {
    let rows: Vec<(&str, usize, usize)> = served
        .iter()
        .map(|a| (a.path.as_str(), a.bytes.len(), gzip_len(&a.bytes)))
        .collect();
    let width = rows.iter().map(|(path, ..)| path.len()).max().unwrap_or(0);
    eprintln!("\nserved from {}:", dist.display());
    eprintln!(
        "  {:<width$}  {:>10}  {:>10}",
        "file", "raw bytes", "gzip -9"
    );
    for (path, raw, gz) in &rows {
        eprintln!("  {path:<width$}  {raw:>10}  {gz:>10}");
    }
    let (raw, gz) = rows
        .iter()
        .fold((0, 0), |(r, g), (_, raw, gz)| (r + raw, g + gz));
    eprintln!("  {:<width$}  {raw:>10}  {gz:>10}\n", "total");
}

fn recreate_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        fs::remove_dir_all(dir).with_context(|| format!("cannot remove {}", dir.display()))?;
    }
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))
}

/// Prints the embed snippet for a verifier on http://localhost:8080, rendered
/// by the verifier itself from its example configuration.
pub fn print_snippet(built: &Built) -> Result<()> {
    let snippet = util::output(util::verifier(&built.verifier).args([
        "snippet",
        "--config",
        "verifier/recordpass.example.toml",
    ]))?;
    println!(
        "Embed snippet (verifier at http://localhost:8080):\n\n{}\n",
        snippet.trim()
    );
    Ok(())
}

/// Builds the verifier (dev profile) and returns its binary.
pub fn build_verifier() -> Result<PathBuf> {
    run(util::cargo().args(["build", "--package", VERIFIER_PACKAGE]))?;
    let binary = util::target_dir().join("debug").join(VERIFIER_PACKAGE);
    if !binary.is_file() {
        bail!(
            "cargo built {VERIFIER_PACKAGE} but {} is missing",
            binary.display()
        );
    }
    Ok(binary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_every_placeholder() {
        let source = "load(__RECORDPASS_GLUE__, __RECORDPASS_GLUE_INTEGRITY__)";
        let check = r#"if (GLUE.indexOf("__RECORDPASS_") === 0) fail()"#;
        let filled = fill_loader(check, &[]);
        assert_eq!(
            filled.ok().as_deref(),
            Some(check),
            "the bare prefix is not a placeholder"
        );
        let filled = fill_loader(
            source,
            &[
                ("__RECORDPASS_GLUE__", "a.js"),
                ("__RECORDPASS_GLUE_INTEGRITY__", "sha384-x"),
            ],
        );
        assert_eq!(filled.ok().as_deref(), Some("load(a.js, sha384-x)"));
    }

    #[test]
    fn refuses_missing_and_unknown_placeholders() {
        let values = [("__RECORDPASS_GLUE__", "a.js")];
        assert!(fill_loader("load()", &values).is_err());
        let err = fill_loader("load(__RECORDPASS_GLUE__, __RECORDPASS_WASM__)", &values)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("__RECORDPASS_WASM__"), "{err}");
    }

    #[test]
    fn hashed_names_use_16_hex_digits_of_sha256() {
        let asset = Asset::hashed("glue", "js", b"abc".to_vec());
        assert_eq!(asset.path, "assets/glue-ba7816bf8f01cfea.js");
        assert!(asset.integrity.starts_with("sha384-"));
    }
}
