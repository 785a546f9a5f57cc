//! `recordpass-verifier`: serve the verifier, list and export submissions,
//! verify evidence bundles offline, print the embed snippet.

use clap::{Parser, Subcommand};
use recordpass_request::SignedDocument;
use recordpass_verifier::{
    AppState, Clock, Config, Error, Store, clock,
    console::{self, Role},
    evidence::{Exporter, Reader, to_pretty_json, verify_bundle},
    holds, rekey, retention,
    seal::{PublishedSealKey, SealKey, SealPublicKey},
    serve, serve_metrics, site_info, store,
    vault::{Field, Vault},
};
use std::{path::PathBuf, process::ExitCode};
use tokio::net::TcpListener;

#[derive(Parser)]
#[command(version, about = "Recordpass verifier")]
struct Cli {
    /// Configuration file (see verifier/recordpass.example.toml).
    #[arg(
        long,
        global = true,
        env = "RECORDPASS_CONFIG",
        default_value = "recordpass.toml"
    )]
    config: PathBuf,
    /// Log lines on standard error: `text` for people, `json` (one object per
    /// line) for log collectors. Levels come from `RUST_LOG` (default `info,sqlx=warn`).
    #[arg(
        long,
        global = true,
        env = "RECORDPASS_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Text
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service until interrupted.
    Serve,
    /// Signed requests, for HIM staff.
    #[command(subcommand)]
    Submissions(SubmissionsCommand),
    /// HIM staff console accounts.
    #[command(subcommand)]
    Staff(StaffCommand),
    /// The console's hash-chained audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Re-seal stored personal data with the active encryption key, in batches
    /// that each commit; run again to resume after an interruption. Ends with a
    /// check that every value is sealed with the active key (else it fails).
    RotateKey {
        /// Values per transaction.
        #[arg(long, default_value_t = 200)]
        batch_size: u32,
        /// Stop after this many batches (the rest is left for the next run).
        #[arg(long)]
        max_batches: Option<u32>,
        /// Change nothing: count, per column, the values sealed with each key
        /// (fails if some are sealed with a key not in the keyring).
        #[arg(long, conflicts_with_all = ["batch_size", "max_batches"])]
        check: bool,
    },
    /// Delete signed requests closed more than `[retention] signed_request_days`
    /// ago (authorizations: also expired that long ago), with their evidence and
    /// timeline, unless on legal hold; and expired transient state. Lists each
    /// request number purged and each one kept past its closing, and why.
    Purge {
        /// Only list and count what would be deleted.
        #[arg(long)]
        dry_run: bool,
    },
    /// Legal holds: a held request is kept by every purge (audited, actor `cli`).
    #[command(subcommand)]
    Hold(HoldCommand),
    /// Write a consistent copy of the live SQLite database to a new file (for
    /// PostgreSQL, use `pg_dump`). The keyring is not in it: keep it separately.
    Backup {
        /// The copy to create.
        out: PathBuf,
    },
    /// Print a new keyring line (`<id> <base64 key>`) for `[encryption] key_file`.
    NewKey {
        /// Key id (A-Z a-z 0-9 -); default: today's date.
        #[arg(long)]
        id: Option<String>,
    },
    /// Print the HTML snippet a web team pastes into its page.
    Snippet {
        /// Public URL of this verifier (default: the configured `public_url`).
        #[arg(long)]
        base_url: Option<String>,
        /// The site to embed (`[[sites]] id`; default: the first configured).
        #[arg(long)]
        site: Option<String>,
    },
    /// Check an evidence bundle offline (needs no configuration, database or network).
    VerifyBundle {
        /// The bundle (`recordpass.evidence.v1` JSON).
        file: PathBuf,
        /// The verifier's seal key, fetched from its `/.well-known/recordpass-seal-key`
        /// (that JSON, or the PEM in it).
        #[arg(long)]
        seal_key: Option<PathBuf>,
        /// A proof-of-authority file to check against the digests the signed
        /// document names (repeat for several).
        #[arg(long)]
        attachment: Vec<PathBuf>,
    },
    /// Print the OpenAPI 3.1 document (committed as docs/api/openapi.json; no configuration needed).
    Openapi,
}

#[derive(Subcommand)]
enum StaffCommand {
    /// Print a one-time enrolment link (the first admin is created this way).
    Invite {
        /// The staff member's work email.
        #[arg(long)]
        email: String,
        /// admin, specialist or auditor.
        #[arg(long)]
        role: String,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the whole chain; fails and names the first broken link. Prints
    /// the chain's head as an anchor (`SEQ:HASH`) to keep outside the database.
    Verify {
        /// An anchor kept elsewhere (this command's output, or the verifier's
        /// "audit chain head" log line): fails if the chain no longer has it.
        #[arg(long = "anchor", value_name = "SEQ:HASH")]
        anchors: Vec<console::audit::Anchor>,
    },
}

#[derive(Subcommand)]
enum HoldCommand {
    /// Place a legal hold on a signed request.
    Add {
        /// Request number, e.g. RP-7K3M-9QXD.
        number: String,
        /// Why (a matter or case reference); stored sealed, shown by `hold list`.
        #[arg(long)]
        reason: String,
    },
    /// Lift the legal hold on a request: purged again once its retention has passed.
    Remove {
        /// Request number.
        number: String,
    },
    /// List the legal holds in force.
    List,
}

#[derive(Subcommand)]
enum SubmissionsCommand {
    /// List every submission, newest first.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Write a submission's sealed evidence bundle (see docs/evidence.md).
    Export {
        /// Request number, e.g. RP-7K3M-9QXD.
        number: String,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(cli.command, Command::Serve) {
        fix_mmap_threshold();
    }
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Error> {
    if let Command::VerifyBundle {
        file,
        seal_key,
        attachment,
    } = &cli.command
    {
        return verify_bundle_file(file, seal_key.as_deref(), attachment);
    }
    if let Command::Openapi = cli.command {
        print!("{}", recordpass_verifier::openapi::to_json());
        return Ok(());
    }
    if let Command::NewKey { id } = &cli.command {
        let id = id.clone().unwrap_or_else(|| {
            let today = time::OffsetDateTime::now_utc().date();
            format!("{today}")
        });
        // Checked by parsing it back, so a bad id is refused here, not at start-up.
        let line = Vault::new_key_line(&id);
        Vault::parse(&line, None)?;
        println!("{line}");
        return Ok(());
    }
    let config = Config::load(&cli.config)?;
    match cli.command {
        Command::Serve => {
            for warning in config.sites.iter().flat_map(site_info::warnings) {
                tracing::warn!("{warning}");
            }
            let listener = TcpListener::bind(config.listen)
                .await
                .map_err(|e| Error::Config(format!("cannot listen on {}: {e}", config.listen)))?;
            let addr = listener
                .local_addr()
                .map_err(|e| Error::Internal(e.to_string()))?;
            let metrics = match config.metrics_listen {
                Some(at) => Some(TcpListener::bind(at).await.map_err(|e| {
                    Error::Config(format!("cannot listen on {at} (metrics_listen): {e}"))
                })?),
                None => None,
            };
            let state = AppState::new(config, Clock::system()).await?;
            // Scrapes are short: the metrics listener simply stops with the process.
            if let Some(metrics) = metrics {
                let at = metrics
                    .local_addr()
                    .map_err(|e| Error::Internal(e.to_string()))?;
                tracing::info!("metrics on http://{at}/metrics");
                tokio::spawn(serve_metrics(metrics, state.clone()));
            }
            // Tests and the demo read this line to find the port.
            println!("listening on http://{addr}");
            serve(listener, state, shutdown_signal()).await
        }
        Command::Submissions(SubmissionsCommand::List { json }) => {
            let store = open_store(&config).await?;
            list_submissions(&store, json).await
        }
        Command::Submissions(SubmissionsCommand::Export { number, out }) => {
            let store = open_store(&config).await?;
            let seal = SealKey::load(&config, &store).await?;
            let public_url = config.public_base_url();
            if config.public_url.is_none() {
                eprintln!(
                    "note: public_url is not configured; the bundle tells auditors to fetch \
                     the seal key from {public_url}"
                );
            }
            let exporter = Exporter {
                rp_id: &config.relying_party.id,
                public_url: &public_url,
                seal: &seal,
                reader: Reader::Him,
            };
            let now = Clock::system().unix();
            let bundle = exporter.export(&store, &number, now).await?;
            let detail = serde_json::json!({"sealed_at": bundle.seal.sealed_at});
            console::audit::record_cli(&store, now, "export_bundle", &number, detail).await?;
            let text = to_pretty_json(&bundle)?;
            match out {
                Some(path) => {
                    std::fs::write(&path, text).map_err(|e| {
                        Error::Internal(format!("cannot write {}: {e}", path.display()))
                    })?;
                    eprintln!(
                        "wrote {} (sealed with key {})",
                        path.display(),
                        bundle.seal.key_id
                    );
                }
                None => print!("{text}"),
            }
            Ok(())
        }
        Command::VerifyBundle { .. } | Command::NewKey { .. } | Command::Openapi => Ok(()),
        Command::Purge { dry_run } => {
            let store = open_store(&config).await?;
            let now = Clock::system().unix();
            let signed = retention::purge_signed(&store, &config, now, dry_run).await?;
            print!("{signed}");
            if dry_run {
                println!(
                    "dry run: nothing deleted (retention {} days)",
                    config.retention.signed_request_days
                );
            } else {
                let transient = retention::purge_transient(&store, &config, now).await?;
                println!("expired transient rows: {}", transient.total());
            }
            Ok(())
        }
        Command::Hold(command) => {
            let store = open_store(&config).await?;
            hold(&store, command).await
        }
        Command::Backup { out } => {
            let store = open_store(&config).await?;
            store.backup(&out).await?;
            let copy = Store::open(
                &format!("sqlite://{}", out.display()),
                std::sync::Arc::new(config.encryption.vault()?),
            )
            .await?;
            let n = copy.count(store::Table::Submissions).await?;
            println!(
                "wrote {} ({n} signed requests); the keyring is not in it, keep it separately",
                out.display()
            );
            Ok(())
        }
        Command::RotateKey {
            batch_size,
            max_batches,
            check,
        } => {
            let store = open_store(&config).await?;
            let vault = store.vault();
            if check {
                let census = rekey::census(&store).await?;
                print!("{}", census.report(vault));
                return match census.not_in_keyring(vault) {
                    0 => Ok(()),
                    n => Err(Error::Internal(format!(
                        "{n} values are sealed with keys not in the keyring"
                    ))),
                };
            }
            let active = vault.active_id();
            let mut budget = max_batches;
            for field in Field::ALL {
                let report = rekey::rotate_column(&store, field, batch_size, &mut budget).await?;
                println!("{}: {} re-sealed", report.column, report.resealed);
                if !report.complete {
                    println!("stopped early: run rotate-key again to finish (active key {active})");
                    return Ok(());
                }
            }
            let (text, left) = rekey::census(&store).await?.final_check(active);
            print!("{text}");
            match left {
                0 => Ok(()),
                n => Err(Error::Internal(format!(
                    "rotate-key is not done: {n} values are not sealed with key {active}"
                ))),
            }
        }
        Command::Staff(StaffCommand::Invite { email, role }) => {
            let role = Role::parse(&role).ok_or_else(|| {
                Error::Config(format!(
                    "unknown role {role:?}: use admin, specialist or auditor"
                ))
            })?;
            let store = open_store(&config).await?;
            let link =
                console::auth::invite(&store, &config, Clock::system().unix(), "cli", &email, role)
                    .await?;
            eprintln!(
                "One-time enrolment link for {email} ({}), valid {} hours:",
                role.as_str(),
                config.console.invite_ttl_secs / 3600
            );
            println!("{link}");
            Ok(())
        }
        Command::Audit(AuditCommand::Verify { anchors }) => {
            let store = open_store(&config).await?;
            let verdict = console::audit::verify_against(&store, &anchors).await?;
            match verdict {
                console::audit::Verdict::Intact { .. } => {
                    println!("{verdict}");
                    if !anchors.is_empty() {
                        println!("{} anchor(s) match", anchors.len());
                    }
                    if let Some(head) = console::audit::head(&store).await? {
                        println!("head anchor: {head}");
                    }
                    Ok(())
                }
                console::audit::Verdict::Broken { .. } => Err(Error::Evidence(verdict.to_string())),
            }
        }
        Command::Snippet { base_url, site } => {
            let assets = recordpass_verifier::assets::Assets::load(&config.widget_dir);
            let base = base_url
                .or_else(|| config.public_url.as_ref().map(|u| u.to_string()))
                .unwrap_or_else(|| format!("http://localhost:{}", config.listen.port()));
            let site = config.site_or_first(site.as_deref()).ok_or_else(|| {
                Error::Config(format!("no site has the id {:?}", site.unwrap_or_default()))
            })?;
            let embed = assets.embed(&base, site).ok_or_else(|| {
                Error::Config("the widget is not built: run `cargo xtask build`".into())
            })?;
            println!(
                "{}\n\n<!-- Content-Security-Policy needs: {} -->",
                embed.snippet, embed.csp
            );
            Ok(())
        }
    }
}

/// Opens the configured database with the configured keyring.
async fn open_store(config: &Config) -> Result<Store, Error> {
    Store::open(
        &config.database_url,
        std::sync::Arc::new(config.encryption.vault()?),
    )
    .await
}

/// `hold add / remove / list`.
async fn hold(store: &Store, command: HoldCommand) -> Result<(), Error> {
    let now = Clock::system().unix();
    match command {
        HoldCommand::Add { number, reason } => {
            holds::place(store, now, "cli", &number, &reason).await?;
            println!("{number} is on legal hold: no purge removes it until `hold remove {number}`");
        }
        HoldCommand::Remove { number } => {
            let held = holds::lift(store, now, "cli", &number).await?;
            println!(
                "legal hold on {number} lifted (placed by {} at {}); purge removes it once its \
                 retention has passed",
                held.placed_by,
                rfc3339(held.placed_at)
            );
        }
        HoldCommand::List => {
            let all = holds::list(store).await?;
            if all.is_empty() {
                println!("No legal holds.");
                return Ok(());
            }
            println!(
                "{:<13} {:<20} {:<10} REASON",
                "NUMBER", "PLACED (UTC)", "BY"
            );
            for h in all {
                println!(
                    "{:<13} {:<20} {:<10} {}",
                    h.request_number,
                    rfc3339(h.placed_at),
                    h.placed_by,
                    h.reason
                );
            }
        }
    }
    Ok(())
}

async fn list_submissions(store: &Store, json: bool) -> Result<(), Error> {
    let submissions = store.submissions().await?;
    // Patient details are about to be shown: audited first, as in the console.
    let detail = serde_json::json!({"submissions": submissions.len(), "json": json});
    console::audit::record_cli(
        store,
        Clock::system().unix(),
        "list_submissions",
        "",
        detail,
    )
    .await?;
    if json {
        let rows: Vec<_> = submissions
            .iter()
            .map(|s| {
                serde_json::json!({
                    "request_number": s.request_number,
                    "received_at": rfc3339(s.received_at),
                    "site_id": s.site_id,
                    "digest": s.digest,
                    "credential_id": s.credential_id,
                    "user_verified": s.user_verified,
                    "document": serde_json::from_str::<serde_json::Value>(&s.document).ok(),
                })
            })
            .collect();
        let text =
            serde_json::to_string_pretty(&rows).map_err(|e| Error::Internal(e.to_string()))?;
        println!("{text}");
        return Ok(());
    }
    if submissions.is_empty() {
        println!("No submissions yet.");
        return Ok(());
    }
    println!(
        "{:<13} {:<20} {:<10} {:<28} {:<16} UV",
        "NUMBER", "RECEIVED (UTC)", "SITE", "PATIENT", "DIGEST"
    );
    for s in &submissions {
        let patient = serde_json::from_str::<SignedDocument>(&s.document)
            .map(|d| d.summary().patient_name)
            .unwrap_or_else(|_| "(unreadable)".into());
        println!(
            "{:<13} {:<20} {:<10} {:<28} {:<16} {}",
            s.request_number,
            rfc3339(s.received_at),
            s.site_id,
            patient.chars().take(28).collect::<String>(),
            &s.digest[..16.min(s.digest.len())],
            if s.user_verified { "yes" } else { "no" }
        );
    }
    Ok(())
}

/// glibc's allocator raises its mmap threshold each time it frees a large
/// block, after which an upload's 10 MiB buffers are kept in the arena of
/// whichever thread freed them: one upload at a time still took the release
/// binary from 17 to 125–140 MiB (16 clients × 9 MiB × 3 rounds), 60 MiB with
/// the threshold fixed at 128 KiB (docs/benchmarks.md). glibc reads that
/// setting only from the environment at start, so `serve` starts itself again
/// with it (same process id, arguments and environment otherwise), unless it
/// is already set. Without glibc, or if that fails, it serves as it is.
fn fix_mmap_threshold() {
    #[cfg(all(unix, target_env = "gnu"))]
    {
        const VAR: &str = "MALLOC_MMAP_THRESHOLD_";
        if std::env::var_os(VAR).is_none()
            && let Ok(exe) = std::env::current_exe()
        {
            use std::os::unix::process::CommandExt as _;
            let err = std::process::Command::new(exe)
                .args(std::env::args_os().skip(1))
                .env(VAR, "131072")
                .exec();
            eprintln!("note: could not restart with {VAR} set ({err}); serving without it");
        }
    }
}

fn rfc3339(unix: i64) -> String {
    clock::rfc3339(unix).unwrap_or_else(|| unix.to_string())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = terminate => {} }
    tracing::info!("shutting down");
}

/// Prints every check; fails (non-zero exit) unless all hold.
fn verify_bundle_file(
    file: &std::path::Path,
    seal_key: Option<&std::path::Path>,
    attachments: &[PathBuf],
) -> Result<(), Error> {
    let read = |path: &std::path::Path| {
        std::fs::read(path)
            .map_err(|e| Error::Evidence(format!("cannot read {}: {e}", path.display())))
    };
    let bundle = read(file)?;
    let pinned = match seal_key {
        Some(path) => {
            let text = String::from_utf8_lossy(&read(path)?).into_owned();
            let pem = serde_json::from_str::<PublishedSealKey>(&text)
                .map(|k| k.public_key_pem)
                .unwrap_or(text);
            Some(SealPublicKey::from_pem(&pem)?)
        }
        None => None,
    };
    let mut report = verify_bundle(&bundle, pinned.as_ref());
    let signed = signed_attachments(&bundle);
    for path in attachments {
        let bytes = read(path)?;
        let digest = recordpass_request::Digest::of(&bytes);
        let named = signed
            .iter()
            .find(|a| a.sha256 == digest && a.size == bytes.len() as u64);
        report.checks.push(recordpass_verifier::evidence::Check {
            name: "attachment",
            ok: named.is_some(),
            detail: match named {
                Some(a) => format!(
                    "{} is the signed {} (SHA-256 {digest})",
                    path.display(),
                    a.name
                ),
                None => format!(
                    "{} (SHA-256 {digest}, {} bytes) is not a file the signed document names",
                    path.display(),
                    bytes.len()
                ),
            },
        });
    }
    println!("{report}");
    if report.ok() {
        Ok(())
    } else {
        Err(Error::Evidence(format!(
            "{} is not verified: {}",
            file.display(),
            report.failed().join(", ")
        )))
    }
}

/// The attachments the bundle's signed document names (none if it does not parse;
/// the bundle checks report that).
fn signed_attachments(bundle: &[u8]) -> Vec<recordpass_request::upload::Attachment> {
    serde_json::from_slice::<serde_json::Value>(bundle)
        .ok()
        .and_then(|b| b["document"]["canonical"].as_str().map(str::to_owned))
        .and_then(|text| serde_json::from_str::<recordpass_request::SignedDocument>(&text).ok())
        .map(|doc| doc.request.requester.attachments)
        .unwrap_or_default()
}
