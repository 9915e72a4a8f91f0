//! Live runs judged from what their engine really measured, and written like every other mode:
//!
//! - a run whose in-flight cap (`--max-in-flight 1`) against a slow target makes the engine
//!   drop requests is marked invalid with the dropped count as the reason (the count taken from
//!   the engine's own `engine.json`), `--strict` exits 3 and `gate` refuses it with 3;
//! - a live run's folder holds the same files as a simulated run's of the same scenario (plus
//!   the engine's `engine.json`), `mode` alone telling them apart.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use throttlebox::live::head_to_head::{LiveRunOptions, run_live};
use throttlebox::report::{Mode, RunDir};
use throttlebox::scenario::Scenario;
use throttlebox::sim::run_all;

use crate::cli_support::{BIN, files};

/// One PAYG deployment that takes at least 2 s per answer, 5 requests per second for 30 s.
const SLOW_TARGET: &str = r#"
name = "slow-target"
seed = 3
[[fleet.resources]]
name = "slow"
region = "East US"
[[fleet.resources.deployments]]
name = "gpt-4o"
model = "gpt-4o"
kind = "standard"
capacity = 1000
latency = { ttft_base = "2s", tokens_per_second = 50.0, ttft_jitter = 0.0 }
[[backends]]
resource = "slow"
[workload]
duration = "30s"
[[workload.apps]]
name = "chat"
deployment = "gpt-4o"
arrivals = { process = "constant", rate = 5.0 }
prompt_tokens = { dist = "constant", value = 50 }
max_tokens = { dist = "constant", value = 20 }
output_tokens = { dist = "constant", value = 20 }
stream_share = 1.0
[[strategies]]
name = "direct"
preset = "round-robin"
"#;

fn scratch(name: &str) -> PathBuf {
    crate::cli_support::scratch("live-validity", name)
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&fs::read_to_string(path).expect("readable")).expect("JSON")
}

#[test]
fn a_live_run_that_drops_requests_is_invalid_with_the_dropped_count_as_the_reason() {
    let _cores = crate::live_support::take_the_cores();
    let results = scratch("dropping");
    let scenario = results.join("slow-target.toml");
    fs::write(&scenario, SLOW_TARGET).expect("scenario file");
    // 30 scenario seconds at 10×: 3 s of wall time, a request every 20 ms of wall time, each
    // answered after at least 200 ms: with one request in flight, most are never sent.
    let output = Command::new(BIN)
        .arg("run")
        .arg(&scenario)
        .args(["--time-scale", "10", "--max-in-flight", "1", "--quiet"])
        .args(["--strict", "--run", "capped", "--results"])
        .arg(&results)
        .output()
        .expect("throttlebox runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(3),
        "--strict on an invalid run:\n{stderr}"
    );
    let dir = results.join("capped");
    let engine = json(&dir.join("engine.json"));
    let dropped = engine[0]["engine"]["dropped"].as_u64().expect("dropped");
    let scheduled = engine[0]["engine"]["scheduled"]
        .as_u64()
        .expect("scheduled");
    assert!(dropped > scheduled / 2, "{dropped} of {scheduled} dropped");

    let summary = json(&dir.join("summary.json"));
    assert_eq!(summary["mode"], "live");
    assert_eq!(summary["interrupted"], false);
    let validity = &summary["strategies"][0]["validity"];
    assert_eq!(validity["valid"], false);
    assert_eq!(validity["never_sent"].as_u64(), Some(dropped));
    let reasons: Vec<&str> = validity["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .filter_map(serde_json::Value::as_str)
        .collect();
    let expected = format!("never_sent: {dropped} of {scheduled} scheduled requests never sent");
    assert!(
        reasons.iter().any(|reason| reason.starts_with(&expected)),
        "{expected:?} in {reasons:?}"
    );
    assert!(
        stderr.contains(&expected),
        "the terminal says so too:\n{stderr}"
    );
    let report = fs::read_to_string(dir.join("report.md")).expect("report.md");
    assert!(report.contains("| direct [INVALID] |"), "{report}");
    assert!(report.contains(&expected), "the banner gives the reason");

    // gate refuses it before judging anything (even against another scenario's baseline).
    let baseline =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("results/baselines/ptu-payg-pool.json");
    let gate = Command::new(BIN)
        .arg("gate")
        .arg(&dir)
        .arg("--baseline")
        .arg(&baseline)
        .output()
        .expect("gate runs");
    assert_eq!(gate.status.code(), Some(3), "{gate:?}");
    let markdown = fs::read_to_string(dir.join("gate.md")).expect("gate.md");
    assert!(
        markdown.contains("REFUSED") && markdown.contains(&expected),
        "{markdown}"
    );

    // compare marks the row.
    let compare = Command::new(BIN)
        .arg("compare")
        .arg(&dir)
        .output()
        .expect("compare runs");
    assert!(compare.status.success());
    let table = String::from_utf8_lossy(&compare.stdout);
    assert!(table.contains("capped/direct [INVALID]"), "{table}");
    // A live run has its interval logs now: compare pools its latencies exactly.
    assert!(!table.contains("runs without histograms"), "{table}");
    let pooled = table
        .split("pooled over runs")
        .nth(1)
        .expect("pooled table");
    assert!(
        pooled.lines().any(|line| line.starts_with("direct ")),
        "{pooled}"
    );
}

#[test]
fn a_live_run_folder_holds_the_same_files_as_a_simulated_one() {
    let _cores = crate::live_support::take_the_cores();
    let results = scratch("file-set");
    let mut scenario = Scenario::parse(SLOW_TARGET, "<test>", None, &[]).expect("scenario");
    // Two strategies, five scenario seconds at 20×: a quarter of a second each.
    let mut second = scenario.strategies[0].clone();
    second.config.name = "again".to_string();
    scenario.strategies.push(second);
    scenario.file.workload.duration = Some(std::time::Duration::from_secs(5));

    let sim_dir = RunDir::create(&results, "sim").expect("dir");
    let sim = run_all(&scenario, Some(&sim_dir), 2, "test", &|_| {}).expect("sim runs");
    assert_eq!(sim.summary.mode, Mode::Sim);

    let live_dir = RunDir::create(&results, "live").expect("dir");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let options = LiveRunOptions {
        time_scale: 20.0,
        ..LiveRunOptions::default()
    };
    let live = runtime.block_on(async {
        let (_keep_open, stop) = tokio::sync::watch::channel(false);
        run_live(&scenario, Some(&live_dir), &options, "test", stop)
            .await
            .expect("live run")
    });
    assert_eq!(live.summary.mode, Mode::Live);

    let mut expected = files(sim_dir.path());
    assert!(expected.contains(&"report.html".to_string()));
    assert!(expected.iter().any(|name| name.ends_with(".hlog")));
    expected.push("engine.json".to_string());
    expected.sort();
    assert_eq!(files(live_dir.path()), expected);
}
