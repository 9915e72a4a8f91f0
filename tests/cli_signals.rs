//! SIGINT and SIGTERM during `run`, `sweep`, `sim` and `tune`, through the built binary: a real
//! signal is sent once the child says it is at work (its own progress lines, not a timer), and
//! the test checks what the issue asks — what finished is written completely, marked
//! interrupted, no temporary file is left, a folder without a result is removed, the exit code
//! is 130/143 — and that `gate` refuses the interrupted run with exit code 3.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use rustix::process::{Pid, Signal, kill_process};
use throttlebox::report::run_dir::RUN_FILES;

use crate::cli_support::{BIN, files, fixture, owned};

/// Longest a child may run before the watchdog kills it (the test then fails).
const WATCHDOG: Duration = Duration::from_secs(240);

fn scratch(name: &str) -> PathBuf {
    crate::cli_support::scratch("cli-signals", name)
}

/// Run `throttlebox args…`, send `signal` once a line of its stderr satisfies `ready`, and
/// return how it exited and everything it wrote on stderr.
fn interrupt_when(
    args: &[String],
    ready: impl Fn(&str) -> bool,
    signal: Signal,
) -> (ExitStatus, String) {
    // The child loads the cores for seconds: not beside a live-vs-simulator comparison.
    let _cores = crate::live_support::take_the_cores();
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("throttlebox starts");
    let pid = Pid::from_child(&child);
    let (finished, watchdog) = mpsc::channel::<()>();
    let guard = std::thread::spawn(move || {
        if watchdog.recv_timeout(WATCHDOG).is_err() {
            let _ = kill_process(pid, Signal::KILL);
        }
    });
    let stderr = child.stderr.take().expect("piped stderr");
    let mut text = String::new();
    let mut sent = false;
    for line in BufReader::new(stderr).lines() {
        let line = line.expect("stderr is text");
        text.push_str(&line);
        text.push('\n');
        if !sent && ready(&line) {
            kill_process(pid, signal).expect("signal delivered");
            sent = true;
        }
    }
    let status = child.wait().expect("child ends");
    let _ = finished.send(());
    guard.join().expect("watchdog");
    assert!(sent, "the child never said it was at work:\n{text}");
    (status, text)
}

fn assert_no_temporaries(dir: &Path) {
    let stray: Vec<String> = files(dir)
        .into_iter()
        .filter(|name| {
            Path::new(name)
                .file_name()
                .is_some_and(|file| file.to_string_lossy().starts_with('.'))
        })
        .collect();
    assert!(stray.is_empty(), "temporary files left: {stray:?}");
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&fs::read_to_string(dir.join("summary.json")).expect("summary.json"))
        .expect("summary.json is JSON")
}

/// `done N` of a progress line of the live engine, if it is one.
fn done_count(line: &str) -> Option<u64> {
    let after = line.split(", done ").nth(1)?;
    after.split(',').next()?.trim().parse().ok()
}

fn live_run_args(results: &Path, run: &str) -> Vec<String> {
    vec![
        "run".to_string(),
        fixture().display().to_string(),
        // Ten scenario minutes at 5×: two wall minutes per strategy, three strategies — the
        // signal always lands in the first.
        "--set".to_string(),
        "workload.duration=10m".to_string(),
        "--time-scale".to_string(),
        "5".to_string(),
        "--drain".to_string(),
        "30s".to_string(),
        "--results".to_string(),
        results.display().to_string(),
        "--run".to_string(),
        run.to_string(),
    ]
}

fn check_interrupted_live_run(dir: &Path, stderr: &str) {
    let listing = files(dir);
    let live_only = ["engine.json", "histograms/apim-smart-policy.hlog"];
    for expected in RUN_FILES.iter().chain(&live_only) {
        assert!(
            listing.iter().any(|name| name == expected),
            "{expected} missing from {listing:?}\n{stderr}"
        );
    }
    assert_no_temporaries(dir);
    let summary = summary(dir);
    assert_eq!(summary["interrupted"], true);
    assert_eq!(summary["strategies_planned"], 3);
    let strategies = summary["strategies"].as_array().expect("strategies");
    assert_eq!(
        strategies.len(),
        1,
        "only the strategy in flight was measured"
    );
    let strategy = &strategies[0];
    let validity = &strategy["validity"];
    assert_eq!(validity["valid"], false);
    let reason = validity["reasons"][0].as_str().expect("a reason");
    assert!(reason.starts_with("interrupted:"), "{reason}");
    let covered = validity["covered_s"].as_f64().expect("covered_s");
    assert!(
        covered > 0.0 && covered < 600.0,
        "covered {covered} s of 600"
    );
    // requests.csv is complete: every recorded request, every row whole.
    let mut reader = csv::Reader::from_path(dir.join("requests.csv")).expect("requests.csv");
    let width = reader.headers().expect("header").len();
    let rows: Vec<csv::StringRecord> = reader
        .records()
        .map(|row| row.expect("whole row"))
        .collect();
    assert!(rows.iter().all(|row| row.len() == width));
    assert_eq!(
        rows.len() as u64,
        strategy["requests"].as_u64().expect("requests")
    );
    assert!(!rows.is_empty(), "the signal came after requests were done");
    let report = fs::read_to_string(dir.join("report.md")).expect("report.md");
    let banner = report.lines().nth(2).unwrap_or_default();
    assert!(banner.contains("cannot be trusted"), "{report}");
    assert!(report.contains("the run was interrupted: 1 of 3 strategies written"));
    let html = fs::read_to_string(dir.join("report.html")).expect("report.html");
    assert!(html.contains("id=\"distrust\""));
}

/// Stop a live `run` with `signal` once a request is done; check the exit code and the folder.
fn interrupt_live_run(name: &str, signal: Signal, code: i32, said: &str) -> (PathBuf, PathBuf) {
    let results = scratch(name);
    let (status, stderr) = interrupt_when(
        &live_run_args(&results, "stopped"),
        |line| done_count(line).is_some_and(|done| done > 0),
        signal,
    );
    assert_eq!(status.code(), Some(code), "{stderr}");
    assert!(stderr.contains(said), "{stderr}");
    let dir = results.join("stopped");
    check_interrupted_live_run(&dir, &stderr);
    (results, dir)
}

#[test]
fn sigint_during_run_writes_the_strategy_in_flight_marked_interrupted_and_gate_refuses_it() {
    let (results, dir) = interrupt_live_run("run-sigint", Signal::INT, 130, "SIGINT: stopping");

    // gate refuses it, with its own exit code, and records nothing as a baseline.
    let baseline = results.join("baseline.json");
    let gate = Command::new(BIN)
        .arg("gate")
        .arg(&dir)
        .arg("--update-baseline")
        .arg(&baseline)
        .output()
        .expect("gate runs");
    assert_eq!(gate.status.code(), Some(3), "{gate:?}");
    assert!(!baseline.exists());
    let markdown = fs::read_to_string(dir.join("gate.md")).expect("gate.md");
    assert!(markdown.contains("REFUSED"), "{markdown}");
    assert!(markdown.contains("trust.interrupted"), "{markdown}");
    let xml = fs::read_to_string(dir.join("gate.xml")).expect("gate.xml");
    assert!(
        xml.contains("trust.validity") && xml.contains("<failure"),
        "{xml}"
    );
}

#[test]
fn sigterm_during_run_is_handled_like_sigint_and_exits_143() {
    interrupt_live_run("run-sigterm", Signal::TERM, 143, "SIGTERM: stopping");
}

fn sweep_args(results: &Path, duration: &str) -> Vec<String> {
    vec![
        "sweep".to_string(),
        fixture().display().to_string(),
        "--set".to_string(),
        "seed=1,2,3,4,5,6,7,8".to_string(),
        "--set".to_string(),
        format!("workload.duration={duration}"),
        "--jobs".to_string(),
        "1".to_string(),
        "--run".to_string(),
        "grid".to_string(),
        "--results".to_string(),
        results.display().to_string(),
    ]
}

#[test]
fn sigint_during_sweep_writes_every_finished_cell_and_exits_130() {
    let results = scratch("sweep-sigint");
    let (status, stderr) = interrupt_when(
        &sweep_args(&results, "1h"),
        // A whole cell (its three strategies) is done.
        |line| line.contains("cells complete") && !line.contains(", 0/"),
        Signal::INT,
    );
    assert_eq!(status.code(), Some(130), "{stderr}");
    let dir = results.join("grid");
    assert_no_temporaries(&dir);
    let csv = fs::read_to_string(dir.join("sweep.csv")).expect("sweep.csv");
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let cells: std::collections::BTreeSet<String> = reader
        .records()
        .map(|row| row.expect("whole row")[0].to_string())
        .collect();
    let rows = csv.lines().count() - 1;
    assert!(
        !cells.is_empty() && cells.len() < 8,
        "{} of 8 cells written:\n{stderr}",
        cells.len()
    );
    assert_eq!(
        rows,
        cells.len() * 3,
        "every written cell has all its strategies"
    );
    let markdown = fs::read_to_string(dir.join("sweep.md")).expect("sweep.md");
    assert!(
        markdown.starts_with(&format!(
            "> **Interrupted**: {} of 8 cells finished",
            cells.len()
        )),
        "{markdown}"
    );
}

#[test]
fn sigterm_before_any_sweep_cell_finished_leaves_no_folder_and_exits_143() {
    let results = scratch("sweep-sigterm");
    let (status, stderr) = interrupt_when(
        // Cells of ten scenario hours: the first is far from done when the signal lands.
        &sweep_args(&results, "10h"),
        |line| line.starts_with("sweeping "),
        Signal::TERM,
    );
    assert_eq!(status.code(), Some(143), "{stderr}");
    assert!(stderr.contains("no result written: removed"), "{stderr}");
    assert!(
        !results.join("grid").exists(),
        "a folder without a result is removed"
    );
}

#[test]
fn sigterm_during_sim_keeps_the_finished_strategies_and_no_part_file() {
    let results = scratch("sim-sigterm");
    let args = owned(&[
        "sim",
        &fixture().display().to_string(),
        "--set",
        "workload.duration=3h",
        "--jobs",
        "1",
        "--run",
        "stopped",
        "--results",
        &results.display().to_string(),
    ]);
    // One thread: when the first strategy is done, the second is streaming its part files.
    let (status, stderr) = interrupt_when(&args, |line| line.contains("done:"), Signal::TERM);
    assert_eq!(status.code(), Some(143), "{stderr}");
    let dir = results.join("stopped");
    assert_no_temporaries(&dir);
    let summary = summary(&dir);
    assert_eq!(summary["interrupted"], true);
    let written = summary["strategies"].as_array().expect("strategies").len();
    assert!(
        (1..3).contains(&written),
        "{written} of 3 strategies written"
    );
    // Only finished strategies, each complete: its records are all in requests.csv.
    let mut reader = csv::Reader::from_path(dir.join("requests.csv")).expect("requests.csv");
    let rows = reader.records().count() as u64;
    let recorded: u64 = summary["strategies"]
        .as_array()
        .expect("strategies")
        .iter()
        .map(|strategy| strategy["requests"].as_u64().expect("requests"))
        .sum();
    assert_eq!(rows, recorded);
    assert!(
        summary["strategies"]
            .as_array()
            .expect("strategies")
            .iter()
            .all(|strategy| strategy["validity"]["valid"] == true),
        "a simulated strategy that finished is valid"
    );
}

#[test]
fn sigint_during_tune_keeps_what_was_found_and_exits_130() {
    let results = scratch("tune-sigint");
    let args = owned(&[
        "tune",
        "--strategy",
        "apim-pool trip 10s",
        "--set",
        "workload.duration=1h",
        "--param",
        "breaker.trip_duration=5s..120s",
        "--objective",
        "min cost",
        "--constraint",
        "success>=99%",
        "--seeds",
        "3",
        "--jobs",
        "2",
        "--run",
        "stopped",
        "--results",
        &results.display().to_string(),
    ]);
    // The first evaluation line comes when the design is done; the signal lands in the
    // promoted rungs, hours of simulated traffic from the end.
    let (status, stderr) =
        interrupt_when(&args, |line| line.contains("evaluation 1 ("), Signal::INT);
    assert_eq!(status.code(), Some(130), "{stderr}");
    let dir = results.join("stopped");
    assert_no_temporaries(&dir);
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("tune.json")).expect("tune.json"))
            .expect("JSON");
    assert_eq!(json["interrupted"], true);
    assert!(
        json["evaluations"]
            .as_array()
            .is_some_and(|e| !e.is_empty())
    );
    assert!(
        json["recommendation"]["values"][0]["value"].is_string(),
        "{json}"
    );
    let markdown = fs::read_to_string(dir.join("tune.md")).expect("tune.md");
    assert!(markdown.contains("**Interrupted**"), "{markdown}");
    assert!(dir.join("tune.html").is_file());
}
