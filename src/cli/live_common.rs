//! What the live commands share: the tokio runtime and printing a live run's results.

use std::future::Future;

use throttlebox::live::head_to_head::LiveRun;
use throttlebox::report::{RunDir, head_to_head_table};

/// Run `body` on a multi-threaded runtime.
pub fn block_on<F: Future>(body: F) -> anyhow::Result<F::Output> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    Ok(runtime.block_on(body))
}

/// Print the comparison table, the engine's account and where the files are (nothing when no
/// strategy was measured).
pub fn report(run: &LiveRun, dir: &RunDir) {
    if run.outcomes.is_empty() {
        return;
    }
    println!("{}", head_to_head_table(&run.summary));
    for (strategy, outcome) in run.summary.strategies.iter().zip(&run.outcomes) {
        let engine = &outcome.engine;
        eprintln!(
            "  {}: sent {}, dropped {}, cancelled {}, peak in flight {} (cap {}{}), send lag (wall) p50 {} µs, p99 {} µs, max {} µs{}{}{}",
            strategy.name,
            engine.sent,
            engine.dropped,
            engine.cancelled,
            engine.peak_in_flight,
            engine.max_in_flight,
            engine
                .max_connections
                .map_or(String::new(), |cap| format!(", {cap} connections")),
            engine.send_lag_wall_us.p50,
            engine.send_lag_wall_us.p99,
            engine.send_lag_wall_us.max,
            engine.cpu_saturation.map_or(String::new(), |busy| format!(
                ", engine CPU busy {:.0}%{}",
                busy * 100.0,
                engine.cpu_wait.map_or(String::new(), |wait| format!(
                    " / waiting {:.0}%",
                    wait * 100.0
                ))
            )),
            if engine.records_lost > 0 {
                format!(", {} records lost", engine.records_lost)
            } else {
                String::new()
            },
            if engine.interrupted {
                " (interrupted)"
            } else {
                ""
            }
        );
    }
    eprintln!("results in {}", dir.path().display());
}

/// `--time-scale`: a finite number above zero.
pub fn parse_time_scale(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() && value > 0.0 => Ok(value),
        _ => Err(format!(
            "{text:?} is not a number above zero (e.g. 1, 10, 60)"
        )),
    }
}
