//! Interval logs and `throttlebox compare`: the per-strategy `histograms/*.hlog` of a run
//! merge back to exactly the run's full-run histograms, logs of several runs pool, and the
//! `compare` command reads existing run directories into one head-to-head table.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use throttlebox::metrics::intervals::{E2E_TAG, TTFT_TAG};
use throttlebox::report::{
    HISTOGRAMS_DIR, MergedHistograms, RunDir, compare, hlog_file_names, load_runs,
};
use throttlebox::scenario::{Override, Scenario};
use throttlebox::sim::{SimRun, run_all};

const SCENARIO: &str = "tests/fixtures/report-golden-small.toml";

fn tmp() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("compare-runs")
}

fn run(name: &str, seed: u64) -> (PathBuf, SimRun) {
    let _ = fs::remove_dir_all(tmp().join(name));
    let dir = RunDir::create(&tmp(), name).expect("run dir");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(SCENARIO);
    let seed = Override::parse(&format!("seed={seed}")).expect("override");
    let scenario = Scenario::load(&path, &[seed]).expect("fixture scenario loads");
    let sim = run_all(&scenario, Some(&dir), 2, "throttlebox sim", &|_| {}).expect("runs");
    (dir.path().to_path_buf(), sim)
}

fn merged(dir: &Path, strategy_names: &[&str], index: usize) -> MergedHistograms {
    let file = &hlog_file_names(strategy_names)[index];
    let mut merged = MergedHistograms::new();
    merged
        .add_file(&dir.join(HISTOGRAMS_DIR).join(file))
        .expect("interval log reads back");
    merged
}

#[test]
fn interval_logs_merge_back_to_the_full_run_histograms_exactly() {
    let (dir, sim) = run("exact", 7);
    let names: Vec<&str> = sim
        .summary
        .strategies
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    for (index, outcome) in sim.outcomes.iter().enumerate() {
        let recorded = outcome
            .recorded_in_full()
            .expect("a run folder records in full");
        let merged = merged(&dir, &names, index);
        assert!(merged.intervals() >= 12, "a 2-minute run in 10 s intervals");
        for (tag, full) in [
            (E2E_TAG, &recorded.histograms.e2e),
            (TTFT_TAG, &recorded.histograms.ttft),
        ] {
            let histogram = merged.tag(tag).expect("tag present");
            assert_eq!(
                histogram.len(),
                full.count(),
                "{} {tag}: sample count",
                names[index]
            );
            let max = u64::try_from(full.max().expect("samples").as_micros()).expect("µs");
            for step in 0..=1000 {
                let q = f64::from(step) / 1000.0;
                let from_log = histogram
                    .median_equivalent(histogram.value_at_quantile(q))
                    .min(max);
                let expected = u64::try_from(full.quantile(q).expect("q").as_micros()).expect("µs");
                assert_eq!(from_log, expected, "{} {tag} q={q}", names[index]);
            }
        }
        // The summary's percentiles are those of the merged log.
        let from_log = merged.latency(E2E_TAG);
        let summary = &sim.summary.strategies[index].e2e;
        assert_eq!(from_log.count, summary.count);
        assert_eq!(from_log.p50_s, summary.p50_s);
        assert_eq!(from_log.p99_s, summary.p99_s);
    }
}

#[test]
fn logs_of_several_runs_pool_every_request() {
    let (first, first_sim) = run("pool-a", 7);
    let (second, second_sim) = run("pool-b", 8);
    let names: Vec<&str> = first_sim
        .summary
        .strategies
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    for index in 0..names.len() {
        let mut pooled = merged(&first, &names, index);
        pooled
            .add_file(
                &second
                    .join(HISTOGRAMS_DIR)
                    .join(&hlog_file_names(&names)[index]),
            )
            .expect("second log");
        let (a, b) = (
            &first_sim.summary.strategies[index].e2e,
            &second_sim.summary.strategies[index].e2e,
        );
        let both = pooled.latency(E2E_TAG);
        assert_eq!(both.count, a.count + b.count);
        // A pooled quantile lies between the two runs' quantiles.
        for (pooled, a, b) in [
            (both.p50_s, a.p50_s, b.p50_s),
            (both.p99_s, a.p99_s, b.p99_s),
        ] {
            let (pooled, a, b) = (pooled.unwrap(), a.unwrap(), b.unwrap());
            assert!(
                a.min(b) <= pooled && pooled <= a.max(b),
                "{pooled} not in [{a}, {b}]"
            );
        }
    }
}

#[test]
fn compare_builds_one_row_per_run_and_strategy() {
    let (first, _) = run("cmp-a", 7);
    let (second, _) = run("cmp-b", 8);
    let comparison =
        compare(load_runs(&[first.clone(), second.clone()]).expect("runs load")).expect("compare");
    let rows: Vec<&str> = comparison
        .combined
        .strategies
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(
        rows,
        [
            "cmp-a/apim-smart-policy",
            "cmp-a/powerproxy",
            "cmp-a/round-robin",
            "cmp-b/apim-smart-policy",
            "cmp-b/powerproxy",
            "cmp-b/round-robin"
        ]
    );
    assert_eq!(comparison.pooled.len(), 3);
    assert!(
        comparison
            .pooled
            .iter()
            .all(|entry| entry.runs == ["cmp-a", "cmp-b"])
    );
    let markdown = comparison.render_markdown();
    for heading in [
        "## Runs",
        "## Head to head",
        "## Traffic per backend",
        "## Latency pooled",
    ] {
        assert!(markdown.contains(heading), "{heading} missing");
    }
    assert!(markdown.contains("| cmp-b/round-robin |"));

    // The same directory twice gets a distinct label.
    let twice = load_runs(&[first.clone(), first]).expect("loads");
    assert_eq!(twice[1].label, "cmp-a#2");
}

#[test]
fn the_compare_command_prints_and_writes_markdown() {
    let (first, _) = run("cli-a", 7);
    let (second, _) = run("cli-b", 8);
    let out = tmp().join("cli-compare.md");
    let output = Command::new(env!("CARGO_BIN_EXE_throttlebox"))
        .arg("compare")
        .arg(&first)
        .arg(&second)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("binary runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("cli-a/powerproxy") && stdout.contains("cli-b/powerproxy"));
    assert!(stdout.contains("pooled over runs"));
    let markdown = fs::read_to_string(&out).expect("compare.md written to --out");
    assert!(markdown.starts_with("# throttlebox compare"));

    // Without --out it goes into the first run's folder.
    let output = Command::new(env!("CARGO_BIN_EXE_throttlebox"))
        .arg("compare")
        .arg(&first)
        .output()
        .expect("binary runs");
    assert!(output.status.success());
    assert!(first.join("compare.md").is_file());
}

#[test]
fn compare_refuses_missing_and_foreign_summaries_with_the_file_named() {
    let empty = tmp().join("not-a-run");
    fs::create_dir_all(&empty).expect("dir");
    let _ = fs::remove_file(empty.join("summary.json"));
    let error = load_runs(std::slice::from_ref(&empty))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("not-a-run") && error.contains("summary.json"),
        "{error}"
    );

    fs::write(empty.join("summary.json"), r#"{"schema_version": 99}"#).expect("write");
    let error = load_runs(std::slice::from_ref(&empty))
        .unwrap_err()
        .to_string();
    assert!(error.contains("schema_version 99"), "{error}");

    // Version 1 had no validity: reading it as version 2 would take any run for a valid one.
    fs::write(empty.join("summary.json"), r#"{"schema_version": 1}"#).expect("write");
    let error = load_runs(std::slice::from_ref(&empty))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("schema_version 1, but this throttlebox reads version 2"),
        "{error}"
    );

    fs::write(
        empty.join("summary.json"),
        r#"{"schema_version": 2, "mode": "sim"}"#,
    )
    .expect("w");
    let error = load_runs(std::slice::from_ref(&empty))
        .unwrap_err()
        .to_string();
    assert!(error.contains("does not match schema 2"), "{error}");

    let output = Command::new(env!("CARGO_BIN_EXE_throttlebox"))
        .arg("compare")
        .arg(&empty)
        .output()
        .expect("binary runs");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("not-a-run"));
}
