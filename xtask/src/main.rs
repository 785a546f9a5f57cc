//! Recordpass build automation, run as `cargo xtask <command>`.

mod bench;
mod ci;
mod demo;
mod fuzz;
mod schemathesis;
mod setup;
mod test;
mod util;
mod widget;

use std::process::ExitCode;

use anyhow::{Context, Result, bail};

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  setup   install prerequisites (Debian packages, wasm32 target,
          wasm-bindgen CLI and schemathesis into .tools/, npm packages)
  build   build the widget into target/widget/dist/ and the verifier
  demo    run the verifier (:8080) and a sample hospital page (:8081)
  test    build, then run the Rust tests, schemathesis and the browser test
  schemathesis
          build, then only the schemathesis step of `test`
  ci      rustfmt, clippy, then test
  bench   measure the widget and the verifier, write docs/benchmarks.md
          (`bench --smoke`: tiny run, nothing judged or written)
  fuzz    run each cargo-fuzz target (`fuzz SECONDS`, default 60 each)";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("fuzz") && args.len() <= 2 {
        let seconds = fuzz::seconds(args.get(1).map(String::as_str))?;
        std::env::set_current_dir(util::workspace_root())
            .context("cannot enter the workspace root")?;
        return fuzz::run_all(seconds);
    }
    // `bench --smoke` is the one command with an option.
    let (args, bench_mode) = match args.as_slice() {
        [bench, smoke] if bench == "bench" && smoke == "--smoke" => {
            (&args[..1], bench::Mode::Smoke)
        }
        _ => (args.as_slice(), bench::Mode::Full),
    };
    let [command] = args else {
        if args.is_empty() {
            println!("{USAGE}");
            return Ok(());
        }
        bail!("expected one command, got `{}`\n\n{USAGE}", args.join(" "));
    };
    std::env::set_current_dir(util::workspace_root()).context("cannot enter the workspace root")?;
    let mut steps = util::Steps::default();
    match command.as_str() {
        "setup" => setup::run_all(),
        "build" => {
            setup::run_all()?;
            widget::print_snippet(&widget::build()?)
        }
        "demo" => {
            setup::run_all()?;
            demo::run()
        }
        "schemathesis" => {
            setup::run_all()?;
            schemathesis::run(&widget::build()?)
        }
        "test" => test::run_all(&mut steps).map(|()| steps.print_summary()),
        "bench" => {
            setup::run_all()?;
            bench::run_all(bench_mode)
        }
        "ci" => ci::run_all(&mut steps).map(|()| steps.print_summary()),
        "help" | "-h" | "--help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => bail!("unknown command `{other}`\n\n{USAGE}"),
    }
}
