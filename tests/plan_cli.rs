//! `throttlebox plan` through the binary: the run folder gets plan.json (parseable, with the
//! calculator figures beside the simulated fleets), plan.md opening with the recommendation,
//! a self-contained plan.html with both charts inline, plan.svg and plan-cost.svg; a run too
//! short for the PTU bucket is warned about; a bad target or an unpriced deployment type is a
//! usage error (exit 2).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_throttlebox");

/// `throttlebox plan FILE --slo TARGETS EXTRA… --jobs 2` into `<tmp>/<folder>/<run>` (the
/// folder emptied first when `run` is the first of it); the output and the run folder.
fn plan_run(
    file: &str,
    target: &str,
    extra: &[&str],
    folder: &str,
    run: &str,
) -> (Output, PathBuf) {
    let results = Path::new(env!("CARGO_TARGET_TMPDIR")).join(folder);
    let _ = std::fs::remove_dir_all(results.join(run));
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let output = Command::new(BIN)
        .args(["plan", scenario.to_str().unwrap(), "--slo", target])
        .args(extra)
        .args([
            "--results",
            results.to_str().unwrap(),
            "--run",
            run,
            "--jobs",
            "2",
        ])
        .output()
        .unwrap();
    (output, results.join(run))
}

#[test]
fn plan_writes_json_markdown_html_and_chart() {
    let (output, dir) = plan_run(
        "scenarios/payg-steady.toml",
        "p99_ttft<5s,success>=99.5%",
        &["--headroom", "20%", "--strategy", "round-robin"],
        "plan_cli",
        "p",
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("plan.json")).unwrap()).unwrap();
    assert_eq!(json["scenario"], "payg-steady");
    assert_eq!(json["strategies"][0]["strategy"], "round-robin");
    let recommendation = &json["strategies"][0]["recommendation"];
    assert_eq!(recommendation["fleet"]["shape"]["payg"], 3);
    assert_eq!(recommendation["fleet"]["shape"]["ptu"], 0);
    assert!(
        recommendation["cost"]["total"]["per_month"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    // The documented calculator figure (busiest minute) beside the mean-rate one, per type.
    assert_eq!(json["analytical"][0]["deployment_type"], "global");
    assert_eq!(json["analytical"][0]["mean_rate"]["ptu"], 50);
    assert_eq!(json["analytical"][0]["calculator"]["ptu"], 60);
    assert!(json["strategies"][0]["knee_rps"].as_f64().unwrap() > 1.25);
    let markdown = std::fs::read_to_string(dir.join("plan.md")).unwrap();
    let (opening, evidence) = markdown.split_once("## Evidence").unwrap();
    assert!(
        opening.contains("**round-robin**: deploy 3 × 50k TPM pay-as-you-go (no PTU)")
            && opening.contains("per month"),
        "{markdown}"
    );
    assert!(evidence.contains("**calculator** (busiest minute, as documented)"));
    assert!(evidence.contains("break-even"));
    let html = std::fs::read_to_string(dir.join("plan.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<svg"));
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "self-contained"
    );
    // Recommendation, then the cost chart, then the evidence.
    let at = |needle: &str| html.find(needle).unwrap_or_else(|| panic!("{needle}"));
    assert!(at("Recommendation") < at("Monthly cost against load"));
    assert!(at("Monthly cost against load") < at("Evidence"));
    let svg = std::fs::read_to_string(dir.join("plan.svg")).unwrap();
    assert!(svg.contains("p99 TTFT (s) against load") && svg.contains("round-robin (3 × 50k TPM)"));
    let cost = std::fs::read_to_string(dir.join("plan-cost.svg")).unwrap();
    for line in ["PAYG", "PTU hourly", "PTU 1-year reservation", "hybrid:"] {
        assert!(cost.contains(line), "{line} in plan-cost.svg");
    }
}

/// A run shorter than the PTU bucket needs is warned about, on stderr and in the plan.
#[test]
fn a_short_run_is_warned_about() {
    let (output, dir) = plan_run(
        "tests/fixtures/plan-hybrid.toml",
        "success>=99.5%",
        &["--duration", "3m", "--max-payg", "2", "--no-spillover"],
        "plan_cli_short",
        "p",
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("warning: the run (3m) is shorter than") && stderr.contains("--duration"),
        "{stderr}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("plan.json")).unwrap()).unwrap();
    assert_eq!(json["run"]["seconds"], 180.0);
    assert_eq!(json["run"]["lengthened"], false);
    assert!(!json["run"]["warnings"].as_array().unwrap().is_empty());
    assert_eq!(json["spillover"], false);
}

/// Same scenario, seed and flags: byte-identical plan.json and chart.
#[test]
fn plans_are_deterministic() {
    // A PTU fleet with pool and spillover overflow: rows simulated on two threads, refinement
    // bisections run in parallel over a shared cache.
    let mut dirs = Vec::new();
    for run in ["one", "two"] {
        let (output, dir) = plan_run(
            "tests/fixtures/plan-hybrid.toml",
            "success>=99.5%",
            &["--duration", "3m", "--max-payg", "2"],
            "plan_cli_determinism",
            run,
        );
        assert!(output.status.success(), "{output:?}");
        dirs.push(dir);
    }
    for file in [
        "plan.json",
        "plan.svg",
        "plan-cost.svg",
        "plan.html",
        "plan.md",
    ] {
        let one = std::fs::read(dirs[0].join(file)).unwrap();
        let two = std::fs::read(dirs[1].join(file)).unwrap();
        assert!(one == two, "{file} differs between identical plans");
    }
}

#[test]
fn an_unpriced_deployment_type_is_a_usage_error() {
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/plan-hybrid.toml");
    let output = Command::new(BIN)
        .args(["plan", scenario.to_str().unwrap(), "--slo", "success>=99%"])
        .args(["--ptu-type", "regional"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("[costs.ptu.regional]"), "{stderr}");
}

#[test]
fn bad_target_is_a_usage_error() {
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/payg-steady.toml");
    let output = Command::new(BIN)
        .args(["plan", scenario.to_str().unwrap(), "--slo", "latency<2s"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--slo") && stderr.contains("unknown metric"),
        "{stderr}"
    );
}
