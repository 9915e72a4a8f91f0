//! `throttlebox sweep` end to end through the binary: the grid's cells, the CSV and the
//! Markdown table with the best value of each metric in bold, and usage errors exit 2.

use std::path::PathBuf;
use std::process::Command;

fn results() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sweep-cli")
}

#[test]
fn a_two_axis_grid_writes_every_cell_and_marks_the_best() {
    let run = "grid";
    let _ = std::fs::remove_dir_all(results().join(run));
    let output = Command::new(env!("CARGO_BIN_EXE_throttlebox"))
        .args([
            "sweep",
            "--set",
            "breaker.trip_duration=10s,60s",
            "--set",
            "breaker.accept_retry_after=true,false",
        ])
        .args(["--set", "workload.duration=3m", "--jobs", "2", "--run", run])
        .arg("--results")
        .arg(results())
        .output()
        .expect("throttlebox runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let csv = std::fs::read_to_string(results().join(run).join("sweep.csv")).expect("sweep.csv");
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers = reader.headers().expect("header").clone();
    assert_eq!(&headers[0], "breaker.trip_duration");
    assert_eq!(&headers[1], "breaker.accept_retry_after");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    // 4 cells × the default scenario's 6 strategies.
    assert_eq!(rows.len(), 4 * 6);
    let cells: std::collections::BTreeSet<(String, String)> = rows
        .iter()
        .map(|r| (r[0].to_string(), r[1].to_string()))
        .collect();
    assert_eq!(cells.len(), 4);
    // The breaker settings reach the strategies that have a breaker: the APIM pool's results
    // differ between a 10 s and a 60 s trip.
    let success = |trip: &str| {
        rows.iter()
            .find(|r| &r[0] == trip && &r[1] == "false" && &r[2] == "apim-pool (seed JSON)")
            .map(|r| r[3].to_string())
            .expect("row present")
    };
    assert_ne!(success("10s"), success("60s"));
    let markdown = std::fs::read_to_string(results().join(run).join("sweep.md")).expect("sweep.md");
    assert!(markdown.contains("**"), "best values are bold:\n{markdown}");
    assert_eq!(
        markdown
            .lines()
            .filter(|l| l.starts_with("| ") && !l.starts_with("| breaker"))
            .count(),
        24
    );
}

#[test]
fn a_bad_axis_is_a_usage_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_throttlebox"))
        .args(["sweep", "--set", "breaker.trip_duration"])
        .arg("--results")
        .arg(results())
        .output()
        .expect("throttlebox runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("key=value"));
}
