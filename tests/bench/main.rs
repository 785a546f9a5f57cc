//! The verifier's benchmark: complete signed submissions against the real
//! router (in process, durable settings) at several concurrencies, on SQLite
//! and on PostgreSQL (the tests' throwaway cluster, fsync on, same machine),
//! the machine's limits measured in the same run, and the real binary's
//! start-up time and memory. Writes its figures as JSON for `cargo xtask bench`,
//! which adds the widget's figures and prints the table (docs/benchmarks.md).
//!
//! ```text
//! cargo bench -p recordpass-tests --bench verifier -- --out FILE [--verifier-bin PATH] [--smoke]
//!     [--levels 16,64] [--backend sqlite|postgres] [--uploads CLIENTS,ROUNDS,MIB[,IN_FLIGHT]]
//! ```
//! `--smoke` runs every part with two users and no timing (the test suite
//! runs it so the bench keeps working); without `--verifier-bin` the binary's
//! footprint is not measured. `--levels` and `--backend` narrow a run (for
//! profiling one level, or comparing commits quickly), `--uploads` sets the
//! upload figure's load (e.g. a full-size upload figure in a smoke run) and
//! optionally `uploads_in_flight` (default: the verifier's);
//! `cargo xtask bench` passes none of them.

// The integration tests' requester, for its sample request (`ana_request`):
// the bench signs what the tests sign, without a copy to keep in step.
#[path = "../api/client.rs"]
#[allow(dead_code)]
mod client;
mod footprint;
mod limits;
mod load;
mod stats;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use load::Plan;
use recordpass_tests::user::{Error, Target};
use recordpass_tests::{TestDatabase, TestVerifier};
use serde_json::{Value, json};

/// The bench measures the verifier's work, not its flood guard.
const LIMITS: &str = recordpass_tests::LOAD_LIMITS;

/// Rows per durable commit for the commit limit "with group commit": the
/// largest batch the verifier can form at the highest concurrency measured.
const GROUP: u32 = 64;

/// How much of everything to measure.
struct Settings {
    levels: &'static [usize],
    load: Plan,
    limit_runs: usize,
    limit_each: Duration,
    starts: usize,
    footprint_users: usize,
    footprint_load: Plan,
    uploads: footprint::UploadLoad,
}

const FULL: Settings = Settings {
    levels: &[1, 16, 64],
    load: Plan {
        warmup: Duration::from_secs(1),
        runs: 3,
        duration: Duration::from_secs(3),
    },
    limit_runs: 3,
    limit_each: Duration::from_secs(1),
    starts: 5,
    footprint_users: 64,
    footprint_load: Plan {
        warmup: Duration::ZERO,
        runs: 1,
        duration: Duration::from_secs(5),
    },
    // 16 requesters each send a 9 MiB scan at once, three times over.
    uploads: footprint::UploadLoad {
        clients: 16,
        rounds: 3,
        bytes: 9 * 1024 * 1024,
        in_flight: None,
    },
};

const SMOKE: Settings = Settings {
    levels: &[1, 2],
    load: Plan {
        warmup: Duration::ZERO,
        runs: 1,
        duration: Duration::ZERO,
    },
    limit_runs: 1,
    limit_each: Duration::from_millis(20),
    starts: 1,
    footprint_users: 2,
    footprint_load: Plan {
        warmup: Duration::ZERO,
        runs: 1,
        duration: Duration::ZERO,
    },
    uploads: footprint::UploadLoad {
        clients: 2,
        rounds: 1,
        bytes: 256 * 1024,
        in_flight: None,
    },
};

/// Command-line arguments (`cargo bench` adds `--bench`, which is ignored).
struct Args {
    smoke: bool,
    out: Option<PathBuf>,
    verifier_bin: Option<PathBuf>,
    /// Only these concurrencies (default: the settings' levels).
    levels: Option<Vec<usize>>,
    /// Only this backend (default: both).
    backend: Option<TestDatabase>,
    /// The upload figure's load (default: the settings').
    uploads: Option<footprint::UploadLoad>,
}

impl Args {
    fn parse() -> Result<Args, Error> {
        let mut args = Args {
            smoke: false,
            out: None,
            verifier_bin: None,
            levels: None,
            backend: None,
            uploads: None,
        };
        let mut it = std::env::args().skip(1);
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--smoke" => args.smoke = true,
                "--out" => args.out = it.next().map(PathBuf::from),
                "--verifier-bin" => args.verifier_bin = it.next().map(PathBuf::from),
                "--levels" => {
                    let list = it.next().unwrap_or_default();
                    let levels = list
                        .split(',')
                        .map(|n| n.trim().parse::<usize>().ok().filter(|&n| n > 0))
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| format!("--levels: expected e.g. 16,64, got `{list}`"))?;
                    args.levels = Some(levels);
                }
                "--backend" => {
                    args.backend = Some(match it.next().as_deref() {
                        Some("sqlite") => TestDatabase::Sqlite,
                        Some("postgres") => TestDatabase::Postgres,
                        other => {
                            return Err(format!("--backend: sqlite or postgres, got {other:?}"));
                        }
                    })
                }
                "--uploads" => {
                    let list = it.next().unwrap_or_default();
                    let n: Vec<usize> = list
                        .split(',')
                        .filter_map(|n| n.trim().parse().ok().filter(|&n| n > 0))
                        .collect();
                    let (clients, rounds, mib, in_flight) = match n[..] {
                        [c, r, m] => (c, r, m, None),
                        [c, r, m, permits] => (c, r, m, Some(permits)),
                        _ => return Err(format!("--uploads: expected e.g. 16,3,9, got `{list}`")),
                    };
                    args.uploads = Some(footprint::UploadLoad {
                        clients,
                        rounds,
                        bytes: mib * 1024 * 1024,
                        in_flight,
                    });
                }
                "--bench" => {}
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        Ok(args)
    }
}

fn main() -> std::process::ExitCode {
    let result = Args::parse().and_then(|args| {
        let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
        let figures = runtime.block_on(measure(&args))?;
        let text = serde_json::to_string_pretty(&figures).map_err(|e| e.to_string())?;
        match &args.out {
            Some(path) => std::fs::write(path, text).map_err(|e| e.to_string()),
            None => {
                println!("{text}");
                Ok(())
            }
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Every figure, as JSON.
async fn measure(args: &Args) -> Result<Value, Error> {
    let settings = if args.smoke { &SMOKE } else { &FULL };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    progress(
        "limits: P-256 verifications/s on one core, durable SQLite commits/s and grouped rows/s",
    );
    let (runs, each) = (settings.limit_runs, settings.limit_each);
    let verifies =
        tokio::task::spawn_blocking(move || limits::p256_verifications_per_second(runs, each))
            .await
            .map_err(|e| e.to_string())??;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let commits = limits::sqlite_rows_per_second(dir.path(), 1, runs, each).await?;
    let grouped = limits::sqlite_rows_per_second(dir.path(), GROUP, runs, each).await?;

    let levels_of = settings.levels.to_vec();
    let levels_of = args.levels.as_deref().unwrap_or(&levels_of);
    let wanted = |database| args.backend.is_none_or(|b| b == database);
    let levels = match wanted(TestDatabase::Sqlite) {
        true => levels_on(TestDatabase::Sqlite, levels_of, settings.load).await?,
        false => Vec::new(),
    };
    let postgres_levels = match wanted(TestDatabase::Postgres) {
        true => levels_on(TestDatabase::Postgres, levels_of, settings.load).await?,
        false => Vec::new(),
    };

    let (footprint, uploads) = match &args.verifier_bin {
        Some(bin) => {
            progress(format_args!("footprint of {}", bin.display()));
            let (n, plan) = (settings.footprint_users, settings.footprint_load);
            let footprint = footprint::measure(bin, LIMITS, settings.starts, n, plan).await?;
            let load = args.uploads.unwrap_or(settings.uploads);
            progress(format_args!(
                "footprint under uploads: {} clients × {} rounds of {} KiB files",
                load.clients,
                load.rounds,
                load.bytes / 1024
            ));
            (footprint, footprint::uploads(bin, LIMITS, load).await?)
        }
        None => (Value::Null, Value::Null),
    };
    Ok(json!({
        "smoke": args.smoke,
        "cores": cores,
        "p256_verifications_per_second_per_core": verifies,
        "sqlite_commits_per_second": commits,
        "sqlite_grouped_rows_per_commit": GROUP,
        "sqlite_grouped_rows_per_second": grouped,
        // One durable commit per submission at most: starting a ceremony commits
        // lightly, and on SQLite concurrent finishes share one (group commit).
        "commits_per_submission": 1,
        "levels": levels,
        "postgres_levels": postgres_levels,
        "footprint": footprint,
        "uploads": uploads,
    }))
}

/// Signed submissions per second at each of `levels`, against an in-process
/// verifier on `database`.
async fn levels_on(
    database: TestDatabase,
    levels: &[usize],
    plan: Plan,
) -> Result<Vec<Value>, Error> {
    let users = levels.iter().copied().max().unwrap_or(1);
    progress(format_args!(
        "in-process verifier on {database:?}: registering {users} users"
    ));
    let target = Arc::new(Target::in_process(
        TestVerifier::start_on(database, LIMITS).await,
    ));
    let mut virtual_users = load::register_users(&target, users).await?;
    let mut measured = Vec::new();
    for &concurrency in levels {
        progress(format_args!(
            "{database:?}: signed submissions at concurrency {concurrency}"
        ));
        measured.push(load::level(&mut virtual_users, concurrency, plan).await?);
    }
    Ok(measured)
}

/// A progress line on stderr.
fn progress(message: impl std::fmt::Display) {
    eprintln!("bench: {message}");
}
