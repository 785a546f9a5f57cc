//! `cargo xtask bench`: widget weight (beside Hanko Elements) and load time in
//! headless Chromium, the verifier's signed submissions per second against the
//! machine's limits, and its footprint. Prints one table and writes it, with
//! the machine it ran on, into `docs/benchmarks.md` between the markers (the
//! analysis around them is kept). `--smoke` runs every part tiny, writes
//! nothing and judges nothing: `cargo xtask test` runs it so the bench keeps
//! working.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::setup::CHROMIUM;
use crate::util::{self, announce, cargo, gzip_len, output, run};
use crate::widget::{self, Built};

/// The document the full run writes its table into.
const DOC: &str = "docs/benchmarks.md";
const BEGIN: &str = "<!-- bench:begin (written by `cargo xtask bench`) -->";
const END: &str = "<!-- bench:end -->";
/// The comparison: an embeddable passkey login UI, from npm (`package.json`).
const HANKO: &str = "node_modules/@teamhanko/hanko-elements";
const WIDGET_LOAD: &str = "tests/bench/widget-load.mjs";
const KIB: f64 = 1024.0;

/// Widget budget, gzip bytes.
const WIDGET_GZIP_BUDGET: f64 = 90.0 * KIB;
/// Loader start → interactive, ms.
const INTERACTIVE_BUDGET_MS: f64 = 150.0;
const THROUGHPUT_TARGET: f64 = 0.60;
const P99_TARGET_MS: f64 = 50.0;
const RSS_IDLE_TARGET_KIB: f64 = 30.0 * KIB;
const RSS_PEAK_TARGET_KIB: f64 = 100.0 * KIB;
const READY_TARGET_MS: f64 = 200.0;

/// How much to measure.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every figure, medians of several runs; writes `docs/benchmarks.md`.
    Full,
    /// Two users, one browser load, nothing judged or written.
    Smoke,
}

/// `cargo xtask bench [--smoke]`: builds, then measures.
pub fn run_all(mode: Mode) -> Result<()> {
    measure(&widget::build()?, mode)
}

/// Measures against what `build` produced and prints the table.
pub fn measure(built: &Built, mode: Mode) -> Result<()> {
    let full = mode == Mode::Full;
    let load_before = read_trimmed("/proc/loadavg");
    let mut table = Table::default();
    weight(&mut table, &built.dist, full)?;
    let (verifier, build_secs) = if full {
        release_verifier()?
    } else {
        (built.verifier.clone(), None)
    };
    widget_load(&mut table, &verifier, &built.dist, full)?;
    let figures = verifier_bench(&verifier, full)?;
    throughput(&mut table, &figures, full);
    footprint(&mut table, &figures, &verifier, build_secs, full)?;
    let markdown = table.markdown();
    println!("\n{markdown}");
    if full {
        let load_after = read_trimmed("/proc/loadavg");
        write_doc(&markdown, &machine(&load_before, &load_after))?;
        announce(format_args!("wrote {DOC}"));
    }
    Ok(())
}

/// One row per figure: what, the measurement, the target, PASS/MISS.
#[derive(Default)]
struct Table {
    rows: Vec<[String; 4]>,
}

impl Table {
    fn row(&mut self, what: impl Into<String>, measured: impl Into<String>) {
        self.rows
            .push([what.into(), measured.into(), String::new(), String::new()]);
    }

    /// A row judged against a target (not in smoke runs).
    fn judged(&mut self, what: &str, measured: String, target: &str, pass: bool, full: bool) {
        let verdict = match (full, pass) {
            (false, _) => "(smoke)",
            (true, true) => "PASS",
            (true, false) => "MISS",
        };
        self.rows
            .push([what.into(), measured, target.into(), verdict.into()]);
    }

    fn markdown(&self) -> String {
        let mut out = String::from("| what | measured | target | |\n|---|---|---|---|\n");
        for [what, measured, target, verdict] in &self.rows {
            let _ = writeln!(out, "| {what} | {measured} | {target} | {verdict} |");
        }
        out
    }
}

// ── widget weight ────────────────────────────────────────────────────────────

/// Bytes as served, gzipped (flate2 level 9) and brotli'd (quality 11).
#[derive(Clone, Copy, Default)]
struct Weight {
    raw: usize,
    gzip: usize,
    brotli: usize,
}

impl Weight {
    fn of(bytes: &[u8]) -> Weight {
        Weight {
            raw: bytes.len(),
            gzip: gzip_len(bytes),
            brotli: brotli_len(bytes),
        }
    }

    fn plus(self, other: Weight) -> Weight {
        Weight {
            raw: self.raw + other.raw,
            gzip: self.gzip + other.gzip,
            brotli: self.brotli + other.brotli,
        }
    }

    fn cell(self) -> String {
        let k = |n: usize| n as f64 / KIB;
        format!(
            "{:.1} / {:.1} / {:.1} KiB",
            k(self.raw),
            k(self.gzip),
            k(self.brotli)
        )
    }
}

/// Size after brotli at quality 11 (window 22), what a CDN serves.
fn brotli_len(bytes: &[u8]) -> usize {
    util::brotli(bytes).len()
}

fn weight(table: &mut Table, dist: &Path, full: bool) -> Result<()> {
    let manifest: Value = serde_json::from_slice(&util::read(dist.join("manifest.json"))?)
        .context("target/widget/dist/manifest.json is not JSON")?;
    let mut total = Weight::default();
    for part in ["loader", "glue", "wasm"] {
        let file = manifest[part]
            .as_str()
            .with_context(|| format!("manifest.json has no `{part}`"))?;
        let w = Weight::of(&util::read(dist.join(file))?);
        table.row(format!("widget {part} (raw / gzip / brotli)"), w.cell());
        total = total.plus(w);
    }
    table.judged(
        "**widget total** (raw / gzip / brotli)",
        total.cell(),
        "≤ 90 KiB gzip",
        total.gzip as f64 <= WIDGET_GZIP_BUDGET,
        full,
    );
    let (name, hanko) = hanko_weight()?;
    table.row(format!("{name} (raw / gzip / brotli)"), hanko.cell());
    table.row(
        "widget ÷ Hanko Elements, gzip (same run)",
        format!("{:.2}×", total.gzip as f64 / hanko.gzip as f64),
    );
    Ok(())
}

/// The files `@teamhanko/hanko-elements`' package.json points browsers to.
fn hanko_weight() -> Result<(String, Weight)> {
    let dir = Path::new(HANKO);
    let package: Value = serde_json::from_slice(&util::read(dir.join("package.json"))?)
        .context("run `npm ci` (cargo xtask setup)")?;
    let entry = package
        .pointer("/exports/./import")
        .or_else(|| package.get("module"))
        .or_else(|| package.get("main"))
        .and_then(Value::as_str)
        .context("hanko-elements' package.json names no entry point")?;
    let version = package["version"].as_str().unwrap_or("?");
    let name = format!(
        "Hanko Elements {version} (`{}`)",
        entry.trim_start_matches("./")
    );
    Ok((name, Weight::of(&util::read(dir.join(entry))?)))
}

// ── widget load in Chromium ──────────────────────────────────────────────────

fn widget_load(table: &mut Table, verifier: &Path, dist: &Path, full: bool) -> Result<()> {
    let loads = if full { "10" } else { "1" };
    let text = output(
        Command::new("node")
            .arg(WIDGET_LOAD)
            .env("RECORDPASS_VERIFIER_BIN", absolute(verifier)?)
            .env("RECORDPASS_WIDGET_DIST", absolute(dist)?)
            .env("RECORDPASS_CHROMIUM", CHROMIUM)
            .env("BENCH_LOADS", loads),
    )?;
    let load: Value = serde_json::from_str(text.trim()).context("widget-load.mjs output")?;
    let m = |key: &str| num(&load, &format!("/median/{key}"));
    let n = load["loads"].as_u64().unwrap_or(0);
    table.row(
        format!("widget interactive from navigation start (median of {n} cold loads)"),
        format!("{:.0} ms", m("interactive_ms")),
    );
    table.judged(
        "widget interactive from loader start",
        format!("{:.0} ms", m("after_loader_ms")),
        "≤ 150 ms",
        m("after_loader_ms") <= INTERACTIVE_BUDGET_MS,
        full,
    );
    table.row(
        "main thread until interactive: busy / script / long tasks",
        format!(
            "{:.0} / {:.0} / {:.0} ms",
            m("task_ms"),
            m("script_ms"),
            m("long_tasks_ms")
        ),
    );
    table.judged(
        "cumulative layout shift of the host page (recommended rule)",
        format!(
            "{:.4} (widget {:.0} px tall)",
            m("cls"),
            m("widget_height_px")
        ),
        "0",
        m("cls") == 0.0,
        full,
    );
    Ok(())
}

// ── verifier ─────────────────────────────────────────────────────────────────

/// Builds the release verifier, timing the build; returns the binary.
fn release_verifier() -> Result<(PathBuf, Option<f64>)> {
    let start = Instant::now();
    run(cargo().args(["build", "--release", "--package", "recordpass-verifier"]))?;
    let secs = start.elapsed().as_secs_f64();
    Ok((
        util::target_dir().join("release/recordpass-verifier"),
        Some(secs),
    ))
}

/// Runs the Rust harness (`tests/bench/main.rs`) and reads its JSON.
fn verifier_bench(verifier: &Path, full: bool) -> Result<Value> {
    let out = util::target_dir().join("bench");
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let out = absolute(&out)?.join("verifier.json");
    let mut command = cargo();
    // Full: optimised (`bench` profile). Smoke: the test profile cargo test already built.
    command.args(if full { ["bench"] } else { ["test"] });
    command.args(["--package", "recordpass-tests", "--bench", "verifier", "--"]);
    if !full {
        command.arg("--smoke");
    }
    command
        .arg("--out")
        .arg(&out)
        .arg("--verifier-bin")
        .arg(absolute(verifier)?);
    run(&mut command)?;
    serde_json::from_slice(&util::read(&out)?).context("the bench harness wrote no JSON")
}

fn throughput(table: &mut Table, f: &Value, full: bool) {
    let cores = num(f, "/cores");
    let verifies = num(f, "/p256_verifications_per_second_per_core");
    let commits = num(f, "/sqlite_commits_per_second");
    let group = num(f, "/sqlite_grouped_rows_per_commit");
    let grouped = num(f, "/sqlite_grouped_rows_per_second");
    // With group commit one durable commit carries a batch, so the disk's term
    // of the limit is rows made durable per second in batches, not commits/s.
    let limit = (cores * verifies).min(grouped);
    table.row(
        "machine: P-256 verifications/s (p256 0.14, one core) × cores",
        format!("{verifies:.0} × {cores:.0} = {:.0}/s", cores * verifies),
    );
    table.row(
        "machine: durable SQLite commits/s (1-row INSERT, WAL, synchronous=FULL)",
        format!("{commits:.0}/s"),
    );
    table.row(
        format!("machine: rows made durable/s with group commit ({group:.0} rows per commit)"),
        format!("{grouped:.0}/s"),
    );
    let levels = f["levels"].as_array().cloned().unwrap_or_default();
    for level in &levels {
        let c = num(level, "/concurrency");
        let rate = num(level, "/per_second");
        let (p50, p99) = (num(level, "/p50_ms"), num(level, "/p99_ms"));
        let measured = format!(
            "{rate:.0}/s, p50 {p50:.1} ms, p99 {p99:.1} ms; {:.0} % of limit",
            100.0 * rate / limit
        );
        let what = format!("signed submissions, SQLite, concurrency {c:.0}");
        if c >= 64.0 {
            table.judged(&what, measured, "p99 < 50 ms", p99 < P99_TARGET_MS, full);
        } else {
            table.row(what, measured);
        }
    }
    let best = levels
        .iter()
        .map(|l| num(l, "/per_second"))
        .fold(0.0, f64::max);
    table.judged(
        "best throughput ÷ min(cores × verifications/s, grouped rows/s)",
        format!("{best:.0} ÷ {limit:.0} = {:.0} %", 100.0 * best / limit),
        "≥ 60 %",
        best / limit >= THROUGHPUT_TARGET,
        full,
    );
    // The release binary in its own process under the footprint's load: its
    // CPU time alone, without the load generator's, per submission.
    let separate = num(f, "/footprint/load/per_second");
    let cpu = num(f, "/footprint/cpu_seconds_under_load");
    let done = num(f, "/footprint/load/submissions");
    if done > 0.0 && cpu > 0.0 {
        let c = num(f, "/footprint/load/concurrency");
        let cpu_ms = 1e3 * cpu / done;
        let alone = cores * 1e3 / cpu_ms;
        let profile = if full { "release" } else { "dev" };
        table.row(
            format!("{profile} verifier, own process, concurrency {c:.0}: rate; its CPU per submission"),
            format!(
                "{separate:.0}/s; {cpu_ms:.2} ms → {alone:.0}/s on {cores:.0} cores without the load generator ({:.0} % of limit)",
                100.0 * alone / limit
            ),
        );
    }
    // Same harness on PostgreSQL (the tests' cluster on this machine, fsync on):
    // reported beside SQLite, not judged against SQLite's commit limit.
    for level in f["postgres_levels"].as_array().into_iter().flatten() {
        let c = num(level, "/concurrency");
        let rate = num(level, "/per_second");
        let (p50, p99) = (num(level, "/p50_ms"), num(level, "/p99_ms"));
        table.row(
            format!("signed submissions, PostgreSQL, concurrency {c:.0}"),
            format!("{rate:.0}/s, p50 {p50:.1} ms, p99 {p99:.1} ms"),
        );
    }
}

fn footprint(
    table: &mut Table,
    f: &Value,
    verifier: &Path,
    build_secs: Option<f64>,
    full: bool,
) -> Result<()> {
    let idle = num(f, "/footprint/rss_idle_kb");
    let peak = num(f, "/footprint/rss_peak_kb");
    let start = num(f, "/footprint/start_ms");
    let c = num(f, "/footprint/load/concurrency");
    table.judged(
        "verifier RSS idle",
        format!("{:.1} MiB", idle / KIB),
        "< 30 MiB",
        idle < RSS_IDLE_TARGET_KIB,
        full,
    );
    table.judged(
        &format!("verifier RSS peak (VmHWM) under load, concurrency {c:.0}"),
        format!("{:.1} MiB", peak / KIB),
        "< 100 MiB",
        peak < RSS_PEAK_TARGET_KIB,
        full,
    );
    // A fresh process while many requesters upload large files at once: the
    // bodies held at once are bounded (`[limits] upload_buffer_mib`), the rest
    // refused as busy before their body is kept.
    let u = |p: &str| num(f, &format!("/uploads/{p}"));
    table.judged(
        &format!(
            "verifier RSS peak (VmHWM), {:.0} clients each uploading a {:.1} MiB PDF at once, {:.0} rounds",
            u("clients"),
            u("file_bytes") / KIB / KIB,
            u("rounds")
        ),
        format!(
            "{:.1} MiB; {:.0} stored, {:.0} refused as busy",
            u("rss_peak_kb") / KIB,
            u("stored"),
            u("busy")
        ),
        "< 100 MiB",
        u("rss_peak_kb") < RSS_PEAK_TARGET_KIB,
        full,
    );
    table.judged(
        "verifier start → listening (fresh SQLite, migrations), median",
        format!("{start:.0} ms"),
        "< 200 ms",
        start < READY_TARGET_MS,
        full,
    );
    let size = std::fs::metadata(verifier)
        .with_context(|| format!("{} is missing", verifier.display()))?
        .len();
    let profile = if full { "release" } else { "dev" };
    let build = build_secs.map_or(String::new(), |s| {
        format!(" (cargo build this run: {s:.0} s)")
    });
    table.row(
        format!("verifier binary size ({profile})"),
        format!("{:.1} MiB{build}", size as f64 / KIB / KIB),
    );
    Ok(())
}

// ── report ───────────────────────────────────────────────────────────────────

/// The machine, from /proc, and how busy it was.
fn machine(load_before: &str, load_after: &str) -> String {
    let cpuinfo = read_trimmed("/proc/cpuinfo");
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name")?.split_once(':'))
        .map_or("unknown CPU", |(_, m)| m.trim());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = read_trimmed("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or_else(|| "?".into(), |kib| format!("{:.1} GiB", kib / KIB / KIB));
    let kernel = read_trimmed("/proc/sys/kernel/osrelease");
    let load = |l: &str| l.split_whitespace().take(3).collect::<Vec<_>>().join(" ");
    format!(
        "- CPU: {model}; `nproc`: {cores}; memory: {mem}; Linux {kernel}\n\
         - load average (1/5/15 min) before: {}, after: {}\n",
        load(load_before),
        load(load_after),
    )
}

/// Replaces the part of `docs/benchmarks.md` between the markers.
fn write_doc(table: &str, machine: &str) -> Result<()> {
    let generated =
        format!("{BEGIN}\nMeasured with `cargo xtask bench` on:\n\n{machine}\n{table}{END}");
    let doc = std::fs::read_to_string(DOC).unwrap_or_default();
    let doc = match (doc.find(BEGIN), doc.find(END)) {
        (Some(begin), Some(end)) if begin < end => {
            format!("{}{generated}{}", &doc[..begin], &doc[end + END.len()..])
        }
        _ if doc.is_empty() => format!("# Benchmarks\n\n{generated}\n"),
        _ => bail!("{DOC} lacks the markers `{BEGIN}` … `{END}`"),
    };
    util::write(DOC, doc)
}

/// A number in `value` at JSON pointer `ptr` (NaN when absent).
fn num(value: &Value, ptr: &str) -> f64 {
    value
        .pointer(ptr)
        .and_then(Value::as_f64)
        .unwrap_or(f64::NAN)
}

fn read_trimmed(path: &str) -> String {
    std::fs::read_to_string(path).map_or_else(|_| String::new(), |s| s.trim().to_owned())
}

fn absolute(path: &Path) -> Result<PathBuf> {
    std::fs::canonicalize(path).with_context(|| format!("{} is missing", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brotli_and_gzip_shrink_repetitive_input() {
        let w = Weight::of(&[b'a'; 10_000]);
        assert_eq!(w.raw, 10_000);
        assert!(w.gzip < 100 && w.brotli < 100, "{} {}", w.gzip, w.brotli);
    }

    #[test]
    fn the_upload_figure_is_judged_against_the_peak_memory_target() {
        let figures = serde_json::json!({
            "footprint": {"rss_idle_kb": 17000.0, "rss_peak_kb": 30000.0, "start_ms": 50.0,
                          "load": {"concurrency": 64}},
            "uploads": {"clients": 16, "rounds": 3, "file_bytes": 9437184,
                        "stored": 3, "busy": 45, "rss_peak_kb": 90.0 * KIB},
        });
        let mut table = Table::default();
        let binary = std::env::current_exe().expect("test binary");
        footprint(&mut table, &figures, &binary, None, true).expect("row");
        let md = table.markdown();
        assert!(
            md.contains(
                "| verifier RSS peak (VmHWM), 16 clients each uploading a 9.0 MiB PDF at once, \
                 3 rounds | 90.0 MiB; 3 stored, 45 refused as busy | < 100 MiB | PASS |"
            ),
            "{md}"
        );
    }

    #[test]
    fn table_judges_only_full_runs() {
        let mut table = Table::default();
        table.judged("a", "1".into(), "≤ 2", true, true);
        table.judged("b", "3".into(), "≤ 2", false, true);
        table.judged("c", "3".into(), "≤ 2", false, false);
        let md = table.markdown();
        assert!(md.contains("| a | 1 | ≤ 2 | PASS |"), "{md}");
        assert!(md.contains("| b | 3 | ≤ 2 | MISS |"), "{md}");
        assert!(md.contains("| c | 3 | ≤ 2 | (smoke) |"), "{md}");
    }
}
