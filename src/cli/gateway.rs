//! `throttlebox gateway`: serve one strategy of a scenario as an AOAI-speaking proxy over the
//! scenario's pool until Ctrl-C. Backends are the URLs given with `--backend NAME=URL`, else
//! the fleet's fixed ports (`port = …` in the scenario's `[fleet]`).

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, bail};
use throttlebox::live::LiveClock;
use throttlebox::live::gateway::{GatewaySettings, RunningGateway};
use throttlebox::scenario::Scenario;

use super::Outcome;
use super::deprecated::ScenarioArg;
use super::live_common::block_on;
use super::sim::load;

/// `throttlebox gateway`.
#[derive(Debug, clap::Args)]
pub struct GatewayArgs {
    #[command(flatten)]
    pub scenario: ScenarioArg,
    /// The strategy to serve (its name in the scenario).
    #[arg(long)]
    pub strategy: String,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// A pool backend's base URL, `NAME=http://host:port` (repeatable; the URLs `throttlebox
    /// mock` prints).
    #[arg(long = "backend", value_name = "NAME=URL")]
    pub backends: Vec<String>,
    /// Scenario time runs K times faster than the wall clock (match the fleet's).
    #[arg(long, default_value_t = 1.0, value_parser = super::live_common::parse_time_scale)]
    pub time_scale: f64,
    /// Override a scenario setting (as in `sim`), repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Longest wait for open responses after Ctrl-C.
    #[arg(long, default_value = "10s", value_parser = throttlebox::duration::parse)]
    pub drain: Duration,
    /// Largest request body the gateway reads (413 above it; `B`, `KiB`, `MiB`, `GiB`);
    /// default: the fleet's `max_body_bytes`.
    #[arg(long, value_parser = aoai_mock::http::flags::parse_bytes)]
    pub max_body: Option<u64>,
    #[command(flatten)]
    pub limits: aoai_mock::http::flags::LimitFlags,
}

/// The pool's URLs: `--backend` values, else the fleet's fixed ports.
fn backend_urls(scenario: &Scenario, given: &[String]) -> anyhow::Result<Vec<String>> {
    let mut pairs = Vec::new();
    for text in given {
        let (name, url) = text
            .split_once('=')
            .with_context(|| format!("--backend {text:?}: expected NAME=URL"))?;
        if !scenario.pool.iter().any(|backend| backend.name == name) {
            let names: Vec<&str> = scenario.pool.iter().map(|b| b.name.as_str()).collect();
            bail!(
                "--backend {text:?}: no pool backend named {name:?} (pool: {})",
                names.join(", ")
            );
        }
        pairs.push((name.to_string(), url.to_string()));
    }
    let fleet = scenario.fleet();
    scenario
        .pool
        .iter()
        .map(|backend| {
            if let Some((_, url)) = pairs.iter().find(|(name, _)| *name == backend.name) {
                return Ok(url.clone());
            }
            let resource = &fleet.resources[backend.resource];
            let port = resource.port;
            if port == 0 {
                bail!(
                    "backend {:?} has no URL: pass --backend {}=http://HOST:PORT (the URL `throttlebox mock` prints) or set a fixed port in the scenario's fleet",
                    backend.name,
                    backend.name
                );
            }
            Ok(format!(
                "http://{}",
                std::net::SocketAddr::new(resource.addr(fleet.bind), port)
            ))
        })
        .collect()
}

/// Run the command.
pub fn run(args: GatewayArgs) -> anyhow::Result<Outcome> {
    let scenario = load(args.scenario.path("gateway"), &args.sets)?;
    let index = scenario
        .strategies
        .iter()
        .position(|strategy| strategy.config.name == args.strategy)
        .with_context(|| {
            let names: Vec<&str> = scenario
                .strategies
                .iter()
                .map(|s| s.config.name.as_str())
                .collect();
            format!(
                "--strategy {:?}: not in the scenario (strategies: {})",
                args.strategy,
                names.join(", ")
            )
        })?;
    let urls = backend_urls(&scenario, &args.backends)?;
    let mut settings = GatewaySettings::from_scenario(&scenario, index, &urls, args.listen)?;
    settings.limits = args.limits.limits();
    settings.max_body_bytes = args.max_body.unwrap_or(settings.max_body_bytes);
    block_on(async move {
        let gateway = RunningGateway::start(settings, LiveClock::start(args.time_scale)).await?;
        println!("listening {} strategy={:?}", gateway.url(), args.strategy);
        for (backend, url) in scenario.pool.iter().zip(&urls) {
            println!("  backend {} {url}", backend.name);
        }
        tokio::signal::ctrl_c().await?;
        eprintln!(
            "shutting down: waiting up to {:?} for open responses",
            args.drain
        );
        let refused = gateway.refused_connections();
        if refused > 0 {
            eprintln!(
                "{refused} client connections were closed on arrival: the gateway was at its \
                 connection cap (half the open-file limit)"
            );
        }
        let panicked = gateway.panicked_connections();
        if panicked > 0 {
            eprintln!("{panicked} connections were lost to a panic in the gateway (a bug)");
        }
        if tokio::time::timeout(args.drain, gateway.shutdown())
            .await
            .is_err()
        {
            eprintln!("some responses were still open; exiting anyway");
        }
        anyhow::Ok(())
    })??;
    Ok(Outcome::Ok)
}
