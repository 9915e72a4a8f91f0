//! `throttlebox gate` end to end through the binary: an unchanged scenario passes against its
//! own baseline (exit 0); a breaker made worse fails (exit 1) with a failing JUnit case named
//! after the broken rule; usage and input errors exit 2 and name the flag, file and field.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use quick_junit::{Report, TestCaseStatus};

const BIN: &str = env!("CARGO_BIN_EXE_throttlebox");
/// Five-minute trips that ignore Retry-After: the seed pool's breaker made worse.
const WORSE_BREAKER: [&str; 4] = [
    "--set",
    "strategies[apim-pool (seed JSON)].breaker.trip_duration=5m",
    "--set",
    "strategies[apim-pool (seed JSON)].breaker.accept_retry_after=false",
];

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("run throttlebox")
}

fn sim(results: &Path, run_name: &str, extra: &[&str]) {
    let mut args = vec![
        "sim",
        "--results",
        results.to_str().unwrap(),
        "--run",
        run_name,
        "--jobs",
        "2",
    ];
    args.extend_from_slice(extra);
    let output = run(&args);
    assert!(output.status.success(), "{output:?}");
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn unchanged_scenario_passes_and_a_worse_breaker_fails() {
    let dir = scratch("gate_cli_pass_fail");
    let baseline = dir.join("baseline.json");
    let baseline = baseline.to_str().unwrap();
    sim(&dir, "base", &[]);
    sim(&dir, "again", &[]);
    sim(&dir, "worse", &WORSE_BREAKER);
    let base = dir.join("base");
    let recorded = run(&[
        "gate",
        base.to_str().unwrap(),
        "--update-baseline",
        baseline,
    ]);
    assert!(recorded.status.success(), "{}", text(&recorded));

    // The same scenario again: identical figures, every rule passes.
    let again = dir.join("again");
    let pass = run(&["gate", again.to_str().unwrap(), "--baseline", baseline]);
    assert_eq!(pass.status.code(), Some(0), "{}", text(&pass));
    let report = junit(&again);
    assert!(report.failures == 0 && report.tests > 0);
    let markdown = std::fs::read_to_string(again.join("gate.md")).unwrap();
    assert!(
        markdown.starts_with("### throttlebox gate: ✅ PASS"),
        "{markdown}"
    );

    // The seed pool's breaker made worse: exit 1, the rule's case fails with actual vs expected.
    let worse = dir.join("worse");
    let fail = run(&["gate", worse.to_str().unwrap(), "--baseline", baseline]);
    assert_eq!(fail.status.code(), Some(1), "{}", text(&fail));
    let report = junit(&worse);
    let suite = report
        .test_suites
        .iter()
        .find(|suite| suite.name.as_str() == "apim-pool (seed JSON)")
        .expect("a suite per strategy");
    let case = suite
        .test_cases
        .iter()
        .find(|case| case.name.as_str() == "budget.success_ratio")
        .expect("a case per rule");
    let TestCaseStatus::NonSuccess { message, .. } = &case.status else {
        panic!("budget.success_ratio should fail: {:?}", case.status);
    };
    let message = message.as_ref().unwrap().as_str();
    assert!(
        message.contains("vs baseline 100.00 %") && message.contains("exceeds budget -0.5pt"),
        "{message}"
    );
    // The other strategies did not change, so none of their rules fail.
    for other in report
        .test_suites
        .iter()
        .filter(|suite| suite.name.as_str() != "apim-pool (seed JSON)")
    {
        assert_eq!(other.failures, 0, "{}", other.name.as_str());
    }
    let markdown = std::fs::read_to_string(worse.join("gate.md")).unwrap();
    assert!(markdown.contains("❌ FAIL") && markdown.contains("`budget.success_ratio`"));

    // Looser budgets on the command line let the same run through the budget rules (the
    // absolute SLO still fails it). The worse breaker also slows the requests that do succeed
    // (p99 TTFT +11% since gpt-4o's output tokens weigh 4× on the PTU), so both are loosened.
    let loose = run(&[
        "gate",
        worse.to_str().unwrap(),
        "--baseline",
        baseline,
        "--budget",
        "success_ratio=-80pt",
        "--budget",
        "p99_ttft=+50%",
    ]);
    assert_eq!(loose.status.code(), Some(1));
    let report = junit(&worse);
    let failing: Vec<String> = report
        .test_suites
        .iter()
        .flat_map(|suite| &suite.test_cases)
        .filter(|case| matches!(case.status, TestCaseStatus::NonSuccess { .. }))
        .map(|case| case.name.as_str().to_string())
        .collect();
    assert_eq!(failing, ["slo.min_success_ratio"]);
}

fn junit(run_dir: &Path) -> Report {
    let xml = std::fs::read_to_string(run_dir.join("gate.xml")).unwrap();
    Report::deserialize_from_str(&xml).expect("valid JUnit XML")
}

#[test]
fn usage_and_input_errors_exit_2_and_name_the_culprit() {
    let dir = scratch("gate_cli_errors");
    sim(&dir, "base", &[]);
    let base = dir.join("base");
    let base = base.to_str().unwrap();
    let baseline = dir.join("baseline.json");
    let baseline = baseline.to_str().unwrap();
    assert!(
        run(&["gate", base, "--update-baseline", baseline])
            .status
            .success()
    );

    // Neither --baseline nor --update-baseline.
    assert_eq!(run(&["gate", base]).status.code(), Some(2));
    // A budget in the wrong direction.
    let bad_budget = run(&[
        "gate",
        base,
        "--baseline",
        baseline,
        "--budget",
        "p99_ttft=-10%",
    ]);
    assert_eq!(bad_budget.status.code(), Some(2));
    assert!(
        text(&bad_budget).contains("--budget: p99_ttft"),
        "{}",
        text(&bad_budget)
    );
    // A missing run folder.
    let missing = run(&["gate", "/nonexistent/run", "--baseline", baseline]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing).contains("/nonexistent/run/summary.json"));

    // A summary.json lacking a field: the file and the field are named.
    let broken = dir.join("broken");
    std::fs::create_dir_all(&broken).unwrap();
    let summary = std::fs::read_to_string(dir.join("base/summary.json")).unwrap();
    std::fs::write(
        broken.join("summary.json"),
        summary.replacen("\"seed\": 42,", "", 1),
    )
    .unwrap();
    let malformed = run(&["gate", broken.to_str().unwrap(), "--baseline", baseline]);
    assert_eq!(malformed.status.code(), Some(2));
    let message = text(&malformed);
    assert!(
        message.contains("broken/summary.json") && message.contains("missing field `seed`"),
        "{message}"
    );

    // A baseline of another seed is refused unless forced.
    let other_seed = dir.join("other-seed");
    sim(&dir, "other-seed", &["--set", "seed=7"]);
    let refused = run(&["gate", other_seed.to_str().unwrap(), "--baseline", baseline]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        text(&refused).contains("seed is \"42\" but the run's is \"7\""),
        "{}",
        text(&refused)
    );
    let forced = run(&[
        "gate",
        other_seed.to_str().unwrap(),
        "--baseline",
        baseline,
        "--force",
    ]);
    assert!(
        matches!(forced.status.code(), Some(0 | 1)),
        "{}",
        text(&forced)
    );
}
