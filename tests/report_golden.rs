//! Golden files for `summary.json`, `report.md` and the terminal table of the fixture run,
//! and byte-identical run directories for the same records.
//!
//! Rewrite the golden files deliberately with `UPDATE_GOLDEN=1 cargo test --test report_golden`
//! and review the diff.

use crate::report_fixture;

use std::fs;
use std::path::{Path, PathBuf};

use report_fixture::{
    priority_records, record_priority, record_round_robin, round_robin_records, setup,
};
use throttlebox::report::StrategyRecorder;
use throttlebox::report::{
    RecordSink, RunDir, RunOutputs, StrategyOutputs, Summary, head_to_head_table, report_markdown,
    summary_json, write_run,
};

fn golden_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

fn check_golden(name: &str, actual: &str) {
    let path = golden_path(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|value| value == "1") {
        fs::write(&path, actual).expect("write golden file");
        return;
    }
    let expected = fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "{}: {error}; run with UPDATE_GOLDEN=1 to create it",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "{} differs from the output (UPDATE_GOLDEN=1 rewrites it):\n--- golden\n{expected}\n--- actual\n{actual}",
        path.display()
    );
}

#[test]
fn summary_json_matches_golden_and_reads_back() {
    let summary = report_fixture::summary();
    let json = summary_json(&summary).unwrap();
    check_golden("summary.json", &json);
    let read: Summary = serde_json::from_str(&json).unwrap();
    assert_eq!(read, summary);
}

#[test]
fn report_md_matches_golden() {
    check_golden("report.md", &report_markdown(&report_fixture::summary()));
}

#[test]
fn terminal_table_matches_golden() {
    check_golden(
        "head_to_head.txt",
        &head_to_head_table(&report_fixture::summary()),
    );
}

/// Produce a whole run directory the way a driver does: records streamed to the run folder's
/// sink and the recorders as they are produced, then the rest through the one writer.
fn write_fixture_run(results: &Path) -> PathBuf {
    let setup = setup();
    let dir = RunDir::create(results, "fixture-run").unwrap();
    let mut sink = dir.csv_sink(setup.clone()).unwrap();
    let mut recorders = Vec::new();
    for (strategy, (request_records, attempt_records)) in
        [priority_records(), round_robin_records()]
            .into_iter()
            .enumerate()
    {
        let mut recorder = StrategyRecorder::new(strategy as u16, setup.clone());
        if strategy == 0 {
            record_priority(&mut recorder);
        } else {
            record_round_robin(&mut recorder);
        }
        for record in &attempt_records {
            sink.attempt(record).unwrap();
        }
        for record in &request_records {
            sink.request(record).unwrap();
        }
        recorders.push(recorder);
    }
    sink.commit().unwrap();
    let finished: Vec<_> = recorders
        .into_iter()
        .map(StrategyRecorder::finish_recording)
        .collect();
    let summary = Summary::new(
        &setup,
        finished
            .iter()
            .map(|(summary, _, _)| summary.clone())
            .collect(),
    )
    .with_command("throttlebox sim scenarios/fixture.toml --seed 7");
    let outputs = RunOutputs {
        setup: &setup,
        summary: &summary,
        strategies: finished
            .iter()
            .map(|(summary, series, histograms)| StrategyOutputs {
                name: summary.name.as_str(),
                series,
                histograms,
            })
            .collect(),
        report_appendix: String::new(),
        extra_files: Vec::new(),
    };
    write_run(&dir, &outputs).unwrap();
    dir.path().to_path_buf()
}

#[test]
fn the_same_records_give_byte_identical_run_directories() {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report_golden");
    let _ = fs::remove_dir_all(&root);
    let first = write_fixture_run(&root.join("a"));
    let second = write_fixture_run(&root.join("b"));
    let files = [
        "summary.json",
        "requests.csv",
        "attempts.csv",
        "timeseries.csv",
        "report.md",
        "report.html",
        "histograms",
    ];
    for name in files.iter().filter(|name| name.contains('.')) {
        let a = fs::read(first.join(name)).unwrap();
        let b = fs::read(second.join(name)).unwrap();
        assert!(!a.is_empty(), "{name} is empty");
        assert!(
            a == b,
            "{name} differs between two runs of the same records"
        );
    }
    // The streamed path and the in-memory path agree with the golden summary.
    let golden = fs::read_to_string(golden_path("summary.json")).unwrap();
    assert_eq!(
        fs::read_to_string(first.join("summary.json")).unwrap(),
        golden
    );
    // 10 + 8 requests, 13 + 7 attempts, each plus a header.
    let lines = |name: &str| {
        fs::read_to_string(first.join(name))
            .unwrap()
            .lines()
            .count()
    };
    assert_eq!(lines("requests.csv"), 19);
    assert_eq!(lines("attempts.csv"), 21);
    let mut entries: Vec<_> = fs::read_dir(&first)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    entries.sort();
    let mut expected: Vec<_> = files.iter().map(|name| name.to_string()).collect();
    expected.sort();
    assert_eq!(entries, expected);
}

#[test]
fn run_names_that_escape_the_results_directory_are_refused() {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report_golden_names");
    for bad in ["", "..", "a/b", "."] {
        let error = RunDir::create(&root, bad).unwrap_err().to_string();
        assert!(error.contains("run name"), "{error}");
    }
}
