//! Serving a fleet from the command line: bind every listener, print where each one is, wait
//! for Ctrl-C, drain open responses for at most `drain`. Shared by `aoai-mock` and
//! `throttlebox mock`.

use std::io::Write;
use std::time::Duration;

use super::server::RunningFleet;
use crate::config::FleetConfig;

/// Serve `config` until Ctrl-C, printing one `listening <resource> <url> region=…` line per
/// listener on stdout (scripts read the ports from it when `port = 0`).
pub fn serve_until_ctrl_c(config: &FleetConfig, drain: Duration) -> std::io::Result<()> {
    serve_scaled_until_ctrl_c(config, drain, 1.0)
}

/// [`serve_until_ctrl_c`] with the fleet's clock `time_scale` times faster than the wall clock.
pub fn serve_scaled_until_ctrl_c(
    config: &FleetConfig,
    drain: Duration,
    time_scale: f64,
) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let fleet = RunningFleet::start_scaled(config, time_scale).await?;
        {
            let mut out = std::io::stdout().lock();
            for listener in &fleet.listeners {
                writeln!(
                    out,
                    "listening {} {} region={:?}",
                    listener.resource,
                    listener.url(),
                    listener.region
                )?;
            }
            out.flush()?;
        }
        tokio::signal::ctrl_c().await?;
        let refused = fleet.refused_connections();
        if refused > 0 {
            eprintln!(
                "{refused} client connections were closed on arrival: the listeners were at \
                 their share of the open-file limit"
            );
        }
        eprintln!(
            "shutting down: waiting up to {} for open responses",
            crate::duration::format(drain)
        );
        if tokio::time::timeout(drain, fleet.shutdown()).await.is_err() {
            eprintln!("some responses were still open; exiting anyway");
        }
        Ok(())
    })
}
