//! Helpers shared by the commands: announcing, running processes, paths,
//! hashing and timing.

use std::ffi::OsString;
use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use std::{env, fs};

use anyhow::{Context, Result, ensure};
use base64::Engine as _;
use flate2::{Compression, write::GzEncoder};
use sha2::{Digest, Sha256, Sha384};
use std::io::Write as _;

/// The workspace root; `main` makes it the working directory, so every other
/// path in xtask is relative to it.
pub fn workspace_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// Cargo's target directory (`CARGO_TARGET_DIR` or `target/`).
pub fn target_dir() -> PathBuf {
    env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from)
}

/// Prints a progress line to stderr.
pub fn announce(message: impl Display) {
    eprintln!("xtask: {message}");
}

/// The cargo that runs xtask, so subcommands use the same toolchain.
pub fn cargo() -> Command {
    Command::new(env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo")))
}

/// A command for the verifier binary, without the `RECORDPASS_*` variables it
/// would read as configuration overrides: the given config file decides.
pub fn verifier(binary: &Path) -> Command {
    let mut command = Command::new(binary);
    for (key, _) in env::vars_os() {
        if key.to_string_lossy().starts_with("RECORDPASS_") {
            command.env_remove(key);
        }
    }
    command
}

/// The command line, for messages.
pub fn command_line(cmd: &Command) -> String {
    let program = cmd.get_program().to_string_lossy();
    let program = program.rsplit('/').next().unwrap_or_default();
    let args = cmd.get_args().map(|a| a.to_string_lossy());
    std::iter::once(program.into())
        .chain(args)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Announces and runs `cmd` with inherited stdio; fails unless it exits 0.
pub fn run(cmd: &mut Command) -> Result<()> {
    let line = command_line(cmd);
    announce(format_args!("$ {line}"));
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{line}`"))?;
    ensure!(status.success(), "`{line}` failed ({status})");
    Ok(())
}

/// Runs `cmd` quietly and returns its stdout; fails unless it exits 0.
pub fn output(cmd: &mut Command) -> Result<String> {
    let line = command_line(cmd);
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("could not start `{line}`"))?;
    ensure!(
        out.status.success(),
        "`{line}` failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    );
    String::from_utf8(out.stdout).with_context(|| format!("`{line}` printed non-UTF-8 output"))
}

/// Reads a file, naming it in the error.
pub fn read(path: impl AsRef<Path>) -> Result<Vec<u8>> {
    let path = path.as_ref();
    fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Writes a file, naming it in the error.
pub fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> Result<()> {
    let path = path.as_ref();
    fs::write(path, contents).with_context(|| format!("cannot write {}", path.display()))
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Subresource Integrity value (`sha384-<base64>`).
pub fn sri_sha384(bytes: &[u8]) -> String {
    let digest = Sha384::digest(bytes);
    format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// Size after gzip at level 9, roughly what a server sends compressed.
pub fn gzip_len(bytes: &[u8]) -> usize {
    gzip(bytes).len()
}

/// `bytes` gzipped at level 9.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

/// `bytes` compressed with brotli at quality 11 (window 2^22).
pub fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut writer = brotli::CompressorWriter::new(Vec::new(), 4096, 11, 22);
    // Writing into a Vec cannot fail.
    let _ = writer.write_all(bytes);
    writer.into_inner()
}

/// Runs named steps, timing each, and prints a summary at the end.
#[derive(Default)]
pub struct Steps {
    done: Vec<(String, Duration)>,
}

impl Steps {
    /// Runs one step; its failure names the step.
    pub fn run<T>(&mut self, name: &str, step: impl FnOnce() -> Result<T>) -> Result<T> {
        announce(format_args!("── {name} ──"));
        let start = Instant::now();
        let value = step().with_context(|| format!("step `{name}` failed"))?;
        let took = start.elapsed();
        announce(format_args!("✓ {name} ({:.1} s)", took.as_secs_f64()));
        self.done.push((name.to_owned(), took));
        Ok(value)
    }

    /// Prints every step with its duration and the total.
    pub fn print_summary(&self) {
        let width = self
            .done
            .iter()
            .map(|(name, _)| name.len())
            .max()
            .unwrap_or(0);
        eprintln!("\nxtask: summary");
        for (name, took) in &self.done {
            eprintln!("  ✓ {name:<width$}  {:>7.1} s", took.as_secs_f64());
        }
        let total: Duration = self.done.iter().map(|(_, took)| *took).sum();
        eprintln!("  {:<width$}    {:>7.1} s", "total", total.as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_match_known_vectors() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // `printf abc | openssl dgst -sha384 -binary | base64`
        assert_eq!(
            sri_sha384(b"abc"),
            "sha384-ywB1P0WjXou1oD1pmsZQBycsMqsO3tFjGotgWkP/W+2AhgcroefMI1i67KE0yCWn"
        );
    }

    #[test]
    fn gzip_shrinks_repetitive_input() {
        let len = gzip_len(&[b'a'; 10_000]);
        assert!(len > 0 && len < 100, "{len}");
    }
}
