//! Serving a fleet from the command line: bind every listener, print where each one is, wait
//! for Ctrl-C, drain open responses for at most `drain`. Shared by `aoai-mock` and
//! `throttlebox mock`.

use std::io::Write;
use std::time::Duration;

use super::server::{RunningFleet, ServeOptions};
use crate::config::FleetConfig;

/// Serve `config` with `options` until Ctrl-C, printing one `listening <resource> <url>
/// region=…` line per data listener on stdout (scripts read the ports from it when `port =
/// 0`), then `admin <url>` for the admin listener.
pub fn serve_until_ctrl_c(
    config: &FleetConfig,
    drain: Duration,
    options: &ServeOptions,
) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let fleet = RunningFleet::start_with(config, options).await?;
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
            if let Some(admin) = fleet.admin {
                let token = match options.admin.as_ref().and_then(|a| a.token.as_ref()) {
                    Some(_) => "bearer token required",
                    None => "no token",
                };
                writeln!(
                    out,
                    "admin http://{admin} (GET /metrics, GET|PATCH /admin/config; {token})"
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
        let panicked = fleet.panicked_connections();
        if panicked > 0 {
            eprintln!("{panicked} connections were lost to a panic in the server (a bug)");
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
