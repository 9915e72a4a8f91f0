//! The `aoai-mock` binary: serve a mock fleet from a TOML file until Ctrl-C. Exit codes: 0 after
//! a clean shutdown, 2 for a usage or input error (the message names the file, key and value).

use anyhow::Context;
use aoai_mock::config::FleetConfig;
use aoai_mock::http::ServeOptions;
use aoai_mock::http::flags::{AdminFlags, LimitFlags};
use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// A faithful Azure OpenAI backend emulator.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Fleet file (TOML): resources, deployments, switches, latency, faults.
    #[arg(long, short)]
    config: PathBuf,
    /// Longest wait for open responses to finish after Ctrl-C.
    #[arg(long, default_value = "10s", value_parser = aoai_mock::duration::parse)]
    drain: Duration,
    #[command(flatten)]
    limits: LimitFlags,
    #[command(flatten)]
    admin: AdminFlags,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    // One socket per client connection: lift the soft open-file limit to the hard one.
    aoai_mock::http::sockets::raise_open_file_limit();
    let origin = args.config.display().to_string();
    let text =
        std::fs::read_to_string(&args.config).with_context(|| format!("reading {origin}"))?;
    let (config, deprecations) = FleetConfig::from_toml_str_noting(&text, &origin)?;
    for note in deprecations {
        eprintln!("warning: deprecated: {note}");
    }
    let options = ServeOptions {
        time_scale: 1.0,
        limits: args.limits.limits(),
        admin: args.admin.options(),
    };
    aoai_mock::http::serve_until_ctrl_c(&config, args.drain, &options).context("serving the fleet")
}
