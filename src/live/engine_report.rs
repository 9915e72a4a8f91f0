//! The load engine's own account in a live run's files: `engine.json` (every counter, per
//! strategy) and the "Load engine" section of `report.md`. Requests the engine never sent (due
//! while at the in-flight cap) or cancelled (still in flight when a Ctrl-C drain ran out) are
//! not records, so the ratios above that section leave them out: the section says how many
//! there were, beside the send lag that shows how punctual the sends were.

use super::load::EngineStats;

/// `engine.json`: `[{ "strategy": name, "engine": stats }, …]`, pretty-printed.
pub fn engine_json<'a>(runs: impl Iterator<Item = (&'a str, &'a EngineStats)>) -> String {
    let entries: Vec<serde_json::Value> = runs
        .map(|(strategy, engine)| serde_json::json!({ "strategy": strategy, "engine": engine }))
        .collect();
    serde_json::to_string_pretty(&entries).unwrap_or_default() + "\n"
}

/// The "Load engine" section of `report.md`.
pub fn engine_markdown<'a>(runs: impl Iterator<Item = (&'a str, &'a EngineStats)>) -> String {
    let mut text = String::from(
        "\n## Load engine\n\n\
         Send lag is the actual minus the intended send time (wall clock); latency above is \
         measured from the intended time, so a wait for a free connection under a connection \
         cap counts there, not in send lag.\n\n\
         | strategy | sent | never sent (cap) | cancelled | records lost | in-flight cap | connection cap | peak in flight | send lag p50 / p99 / max | decision lag p99 | engine CPU busy / waiting |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---|---:|---|\n",
    );
    let mut unsent = 0;
    for (strategy, engine) in runs {
        unsent += engine.dropped + engine.cancelled;
        let lag = &engine.send_lag_wall_us;
        let share = |share: Option<f64>| {
            share.map_or_else(|| "—".to_string(), |share| format!("{:.0}%", share * 100.0))
        };
        text.push_str(&format!(
            "| {strategy}{} | {} | {} | {} | {} | {} | {} | {} | {} / {} / {} µs | {} µs | {} / {} |\n",
            if engine.interrupted {
                " (interrupted)"
            } else {
                ""
            },
            engine.sent,
            engine.dropped,
            engine.cancelled,
            engine.records_lost,
            engine.max_in_flight,
            engine
                .max_connections
                .map_or_else(|| "—".to_string(), |cap| cap.to_string()),
            engine.peak_in_flight,
            lag.p50,
            lag.p99,
            lag.max,
            engine.decision_lag_wall_us.p99,
            share(engine.cpu_saturation),
            share(engine.cpu_wait)
        ));
    }
    if unsent > 0 {
        text.push_str(&format!(
            "\n**{unsent} scheduled requests have no record** (never sent at the in-flight cap, or \
             cancelled after a stop): the ratios and latencies above leave them out. Raise \
             `--max-in-flight` (and the open-file limit) or lower the rate.\n"
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::load::LagQuantiles;

    fn stats(dropped: u64) -> EngineStats {
        EngineStats {
            scheduled: 1_000,
            sent: 1_000 - dropped,
            dropped,
            max_in_flight: 100,
            peak_in_flight: 100,
            send_lag_wall_us: LagQuantiles {
                p50: 60,
                p99: 400,
                p999: 900,
                max: 1_500,
            },
            ..EngineStats::default()
        }
    }

    #[test]
    fn requests_without_records_are_called_out() {
        let clean = stats(0);
        let capped = EngineStats {
            max_connections: Some(16),
            records_lost: 4,
            cpu_saturation: Some(0.42),
            cpu_wait: Some(0.31),
            ..stats(37)
        };
        let text = engine_markdown([("rr", &clean), ("p2c", &capped)].into_iter());
        assert!(
            text.contains(
                "| rr | 1000 | 0 | 0 | 0 | 100 | — | 100 | 60 / 400 / 1500 µs | 0 µs | — / — |"
            ),
            "{text}"
        );
        assert!(
            text.contains("| p2c | 963 | 37 | 0 | 4 | 100 | 16 | 100 |")
                && text.contains("| 42% / 31% |"),
            "{text}"
        );
        assert!(
            text.contains("**37 scheduled requests have no record**"),
            "{text}"
        );
        let quiet = engine_markdown([("rr", &clean)].into_iter());
        assert!(!quiet.contains("no record"), "{quiet}");
    }

    #[test]
    fn engine_json_names_each_strategy() {
        let clean = stats(0);
        let json: serde_json::Value =
            serde_json::from_str(&engine_json([("rr", &clean)].into_iter())).expect("json");
        assert_eq!(json[0]["strategy"], "rr");
        assert_eq!(json[0]["engine"]["max_in_flight"], 100);
        assert!(json[0]["engine"]["max_connections"].is_null());
        assert_eq!(json[0]["engine"]["send_lag_wall_us"]["p99"], 400);
    }
}
