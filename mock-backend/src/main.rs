//! The `aoai-mock` binary: serve a mock fleet from a TOML file until Ctrl-C.

use anyhow::Context;
use aoai_mock::config::FleetConfig;
use aoai_mock::http::RunningFleet;
use clap::Parser;
use std::path::PathBuf;
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
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let origin = args.config.display().to_string();
    let text =
        std::fs::read_to_string(&args.config).with_context(|| format!("reading {origin}"))?;
    let config = FleetConfig::from_toml_str(&text, &origin)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting tokio")?;
    runtime.block_on(async move {
        let fleet = RunningFleet::start(&config)
            .await
            .context("binding listeners")?;
        for listener in &fleet.listeners {
            println!(
                "listening {} {} region={:?}",
                listener.resource,
                listener.url(),
                listener.region
            );
        }
        tokio::signal::ctrl_c()
            .await
            .context("waiting for Ctrl-C")?;
        eprintln!(
            "shutting down: waiting up to {} for open responses",
            aoai_mock::duration::format(args.drain)
        );
        if tokio::time::timeout(args.drain, fleet.shutdown())
            .await
            .is_err()
        {
            eprintln!("some responses were still open; exiting anyway");
        }
        Ok(())
    })
}
