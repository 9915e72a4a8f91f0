//! The conformance lab notices a real system that died mid-run (issue #13: a LiteLLM 1.108.7
//! proxy that crashed at request 229 was tabulated as if it were the preset's behaviour). The
//! real LiteLLM proxy is SIGKILLed once a set number of requests got an HTTP answer — the
//! lab's own self-check, `--kill-system-after`, triggered by the driver's record lines, no
//! timer — and `throttlebox conform` must say where it stopped, mark the table invalid and exit
//! 3. The rule's other side (a transport error or two is not death; a silent tail of at least
//! `SILENT_TAIL` requests is) is pinned by the unit tests of `src/conformance/liveness.rs`.
//! Needs the lab's Python (`.ci/install-python-deps`); fails, never skips, without it.

use std::path::Path;
use std::process::Command;

use crate::cli_support::{BIN, scratch};
use throttlebox::conformance::liveness::SILENT_TAIL;

/// Requests answered before the kill.
const KILL_AFTER: u64 = 12;

fn lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

#[test]
fn a_proxy_killed_mid_run_is_reported_as_stopped_not_tabulated() {
    // LiteLLM's proxy takes a good share of a core: not alongside the other lab runs.
    let _turn = crate::live_support::take_the_cores();
    let results = scratch("conformance-liveness", "killed");
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/conformance-lab.toml");
    let output = Command::new(BIN)
        .arg("conform")
        .arg(&scenario)
        .args(["--system", "litellm-proxy", "--strategy", "litellm-shuffle"])
        .args(["--set", "workload.duration=30s", "--seeds", "2"])
        .args(["--drain", "30s", "--startup-timeout", "120s"])
        .args(["--kill-system-after", &KILL_AFTER.to_string()])
        .arg("--results")
        .arg(&results)
        .args(["--run", "killed"])
        .output()
        .expect("throttlebox runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(3),
        "a run whose system died is untrusted (exit 3)\n{stderr}"
    );
    let dir = results.join("killed");
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("conformance.json")).expect("conformance.json"),
    )
    .expect("JSON");
    let stopped = &report["stopped"];
    let request = stopped["request"].as_u64().expect("a stop request");
    let scheduled = stopped["scheduled"].as_u64().expect("scheduled");
    assert_eq!(stopped["cause"]["kind"], "exited", "{stopped}");
    assert!(
        stopped["cause"]["status"]
            .as_str()
            .is_some_and(|status| status.contains("SIGKILL") || status.contains("signal: 9")),
        "{stopped}"
    );
    // KILL_AFTER distinct requests were answered before the kill, so the last answered id is at
    // least KILL_AFTER − 1; and it died with the better part of the schedule left.
    assert!(
        (KILL_AFTER..=scheduled - SILENT_TAIL).contains(&request),
        "stopped at {request} of {scheduled}"
    );
    let records = lines(&dir.join("litellm-proxy-records.jsonl"));
    let answered_after = records
        .iter()
        .filter(|r| r["id"].as_u64() >= Some(request) && r["status"].as_u64() != Some(0))
        .count();
    assert_eq!(
        answered_after, 0,
        "nothing answered from request {request} on"
    );
    assert!(
        records.iter().any(|r| r["id"].as_u64() == Some(request - 1)
            && r["status"].as_u64().is_some_and(|status| status > 0)),
        "request {} was the last one answered",
        request - 1
    );
    // The verdict names the request and its intended send time from the schedule.
    let schedule = lines(&dir.join("schedule.jsonl"));
    let at = schedule[request as usize]["at_s"].as_f64().expect("at_s");
    let verdict = format!("litellm-proxy stopped answering at request {request} (t = {at:.1} s)");
    let markdown = std::fs::read_to_string(dir.join("conformance.md")).expect("conformance.md");
    assert!(
        markdown.starts_with("## litellm-proxy vs `litellm-shuffle`")
            && markdown
                .lines()
                .next()
                .is_some_and(|l| l.ends_with("INVALID")),
        "{markdown}"
    );
    assert!(
        markdown.contains(&format!("**Invalid run: {verdict}")),
        "{markdown}"
    );
    assert!(
        markdown.contains("litellm-proxy.log (last lines)"),
        "{markdown}"
    );
    // The figures are shown for the record, agreeing or disagreeing with nothing.
    assert!(
        markdown.contains("| invalid run |") && !markdown.contains("| yes |"),
        "{markdown}"
    );
    assert!(stderr.contains(&verdict), "{stderr}");
}
