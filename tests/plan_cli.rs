//! `throttlebox plan` through the binary: the run folder gets plan.json (parseable, with the
//! analytical estimate beside the simulated fleets), plan.md, a self-contained plan.html with
//! the chart inline, and plan.svg; a bad target is a usage error (exit 2).

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_throttlebox");

#[test]
fn plan_writes_json_markdown_html_and_chart() {
    let results = Path::new(env!("CARGO_TARGET_TMPDIR")).join("plan_cli");
    let _ = std::fs::remove_dir_all(&results);
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/payg-steady.toml");
    let output = Command::new(BIN)
        .args([
            "plan",
            scenario.to_str().unwrap(),
            "--target",
            "p99_ttft<5s,success>=99.5%",
        ])
        .args([
            "--headroom",
            "20%",
            "--strategy",
            "round-robin",
            "--duration",
            "5m",
        ])
        .args([
            "--results",
            results.to_str().unwrap(),
            "--run",
            "p",
            "--jobs",
            "2",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let dir = results.join("p");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("plan.json")).unwrap()).unwrap();
    assert_eq!(json["scenario"], "payg-steady");
    assert_eq!(json["strategies"][0]["strategy"], "round-robin");
    assert_eq!(json["strategies"][0]["best"]["shape"]["payg"], 3);
    assert!(json["analytical"]["ptu"].as_u64().unwrap() >= 15);
    assert!(json["strategies"][0]["knee_rps"].as_f64().unwrap() > 1.25);
    let markdown = std::fs::read_to_string(dir.join("plan.md")).unwrap();
    assert!(
        markdown.contains("| round-robin | 3 × 50k TPM |"),
        "{markdown}"
    );
    assert!(markdown.contains("Analytical estimate"));
    let html = std::fs::read_to_string(dir.join("plan.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<svg"));
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "self-contained"
    );
    let svg = std::fs::read_to_string(dir.join("plan.svg")).unwrap();
    assert!(svg.contains("p99 TTFT (s) against load") && svg.contains("round-robin (3 × 50k TPM)"));
}

/// Same scenario, seed and flags: byte-identical plan.json and chart.
#[test]
fn plans_are_deterministic() {
    let results = Path::new(env!("CARGO_TARGET_TMPDIR")).join("plan_cli_determinism");
    let _ = std::fs::remove_dir_all(&results);
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/payg-steady.toml");
    for run in ["one", "two"] {
        let status = Command::new(BIN)
            .args([
                "plan",
                scenario.to_str().unwrap(),
                "--target",
                "success>=99.5%",
            ])
            .args([
                "--strategy",
                "token-headroom",
                "--duration",
                "3m",
                "--max-payg",
                "4",
            ])
            .args([
                "--results",
                results.to_str().unwrap(),
                "--run",
                run,
                "--jobs",
                "2",
            ])
            .status()
            .unwrap();
        assert!(status.success());
    }
    for file in ["plan.json", "plan.svg", "plan.html", "plan.md"] {
        let one = std::fs::read(results.join("one").join(file)).unwrap();
        let two = std::fs::read(results.join("two").join(file)).unwrap();
        assert!(one == two, "{file} differs between identical plans");
    }
}

#[test]
fn bad_target_is_a_usage_error() {
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/payg-steady.toml");
    let output = Command::new(BIN)
        .args(["plan", scenario.to_str().unwrap(), "--target", "latency<2s"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--target") && stderr.contains("unknown metric"),
        "{stderr}"
    );
}
