//! `throttlebox sweep` end to end through the binary: the strategies the axes reach run in
//! every cell and the others once, `--strategy` restricts the run, the best value of each
//! metric is chosen per strategy among the cells meeting `--constraint`, the CSV and Markdown
//! use the metric vocabulary, `sweep.html` has a chart per metric, and usage errors exit 2.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use crate::cli_support::succeeded;

fn results() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sweep-cli")
}

fn sweep(run: &str, args: &[&str]) -> (csv::StringRecord, Vec<csv::StringRecord>, String) {
    let _ = std::fs::remove_dir_all(results().join(run));
    let output = Command::new(env!("CARGO_BIN_EXE_throttlebox"))
        .arg("sweep")
        .args(args)
        .args(["--jobs", "2", "--run", run])
        .arg("--results")
        .arg(results())
        .output()
        .expect("throttlebox runs");
    succeeded(&output);
    let csv = std::fs::read_to_string(results().join(run).join("sweep.csv")).expect("sweep.csv");
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers = reader.headers().expect("header").clone();
    let rows = reader.records().map(|r| r.expect("row")).collect();
    let markdown = std::fs::read_to_string(results().join(run).join("sweep.md")).expect("sweep.md");
    (headers, rows, markdown)
}

fn column(headers: &csv::StringRecord, name: &str) -> usize {
    headers
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {headers:?}"))
}

#[test]
fn the_axes_strategies_run_in_every_cell_and_the_others_once() {
    let (headers, rows, markdown) = sweep(
        "grid",
        &[
            "--set",
            "breaker.trip_duration=10s,60s",
            "--set",
            "breaker.accept_retry_after=true,false",
            "--set",
            "workload.duration=3m",
        ],
    );
    assert_eq!(&headers[0], "breaker.trip_duration");
    assert_eq!(&headers[1], "breaker.accept_retry_after");
    // The vocabulary's names, not the old `e2e_p99_s`.
    column(&headers, "p99_e2e");
    column(&headers, "p99_ttft");
    assert!(!headers.iter().any(|h| h == "e2e_p99_s"));
    let strategy = column(&headers, "strategy");
    let reached = ["apim-pool (seed JSON)", "apim-pool trip 10s"];
    for name in reached {
        let cells: BTreeSet<(String, String)> = rows
            .iter()
            .filter(|r| &r[strategy] == name)
            .map(|r| (r[0].to_string(), r[1].to_string()))
            .collect();
        assert_eq!(cells.len(), 4, "{name} runs in every cell");
    }
    // The four strategies without an APIM breaker: one row each, no axis values.
    let once: Vec<&csv::StringRecord> = rows
        .iter()
        .filter(|r| !reached.contains(&&r[strategy]))
        .collect();
    assert_eq!(once.len(), 4);
    assert!(once.iter().all(|r| r[0].is_empty() && r[1].is_empty()));
    assert_eq!(rows.len(), 4 * 2 + 4);
    // The breaker settings reach the pool: its success differs between a 10 s and a 60 s trip.
    let success = column(&headers, "success_ratio");
    let of = |trip: &str| {
        rows.iter()
            .find(|r| &r[0] == trip && &r[1] == "false" && &r[strategy] == "apim-pool (seed JSON)")
            .map(|r| r[success].to_string())
            .expect("row present")
    };
    assert_ne!(of("10s"), of("60s"));
    assert!(markdown.contains("### apim-pool trip 10s"), "{markdown}");
    assert!(markdown.contains("### Not reached by the axes (simulated once)"));
    assert!(markdown.contains("**"), "best values are bold:\n{markdown}");
    let html = std::fs::read_to_string(results().join("grid/sweep.html")).expect("sweep.html");
    // Two axes: a heatmap per metric and reached strategy.
    for id in ["chart-cost-0-0", "chart-success_ratio-1-0"] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id} missing");
    }
}

#[test]
fn strategy_restricts_the_run_and_the_best_cell_meets_the_constraints() {
    let (headers, rows, markdown) = sweep(
        "constrained",
        &[
            "--strategy",
            "apim-pool trip 10s",
            "--set",
            "breaker.trip_duration=5s,40s,80s",
            "--constraint",
            "success>=99%",
        ],
    );
    let strategy = column(&headers, "strategy");
    assert!(rows.iter().all(|r| &r[strategy] == "apim-pool trip 10s"));
    assert_eq!(rows.len(), 3);
    let meets = column(&headers, "meets_constraints");
    let cost = column(&headers, "cost");
    let success = column(&headers, "success_ratio");
    let value = |r: &csv::StringRecord, c: usize| r[c].parse::<f64>().expect("number");
    for row in &rows {
        assert_eq!(&row[meets] == "true", value(row, success) >= 0.99);
    }
    let feasible_best = rows
        .iter()
        .filter(|r| &r[meets] == "true")
        .map(|r| value(r, cost))
        .fold(f64::INFINITY, f64::min);
    let overall_best = rows
        .iter()
        .map(|r| value(r, cost))
        .fold(f64::INFINITY, f64::min);
    assert!(
        overall_best < feasible_best,
        "the premise: a cell that breaks the constraint is cheaper"
    );
    assert!(
        markdown.contains(&format!("**{feasible_best:.4}**")),
        "{markdown}"
    );
    assert!(
        !markdown.contains(&format!("**{overall_best:.4}**")),
        "{markdown}"
    );
    assert!(!markdown.contains("Not reached"), "{markdown}");
    let html =
        std::fs::read_to_string(results().join("constrained/sweep.html")).expect("sweep.html");
    // One axis: a curve chart per metric.
    assert!(html.contains("id=\"chart-cost\""));
}

#[test]
fn bad_axes_and_unknown_strategies_are_usage_errors() {
    for (args, expected) in [
        (vec!["--set", "breaker.trip_duration"], "key=value"),
        (
            vec![
                "--set",
                "breaker.trip_duration=5s,10s",
                "--strategy",
                "nope",
            ],
            "round-robin",
        ),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_throttlebox"))
            .arg("sweep")
            .args(&args)
            .arg("--results")
            .arg(results())
            .output()
            .expect("throttlebox runs");
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{stderr}");
    }
}
