//! The pre-flight check through the binary: a scenario whose length or rate is absurd is
//! refused before anything runs — exit 2, the estimate in the message, no run folder — by
//! `sim`, `sweep`, `run` and `plan` alike, unless `--allow-large`.

use std::path::PathBuf;
use std::process::Command;

fn results() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("preflight-cli")
}

fn refused(args: &[&str]) -> String {
    let _ = std::fs::remove_dir_all(results());
    let output = Command::new(env!("CARGO_BIN_EXE_throttlebox"))
        .args(args)
        .arg("--results")
        .arg(results())
        .args(["--run", "refused"])
        .output()
        .expect("throttlebox runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(
        !results().join("refused").exists(),
        "{args:?}: a refused run leaves no folder"
    );
    assert!(stderr.contains("--allow-large"), "{args:?}: {stderr}");
    stderr
}

#[test]
fn a_century_long_or_terahertz_scenario_is_refused_with_its_estimate() {
    let century = refused(&["sim", "--set", "workload.duration=876000h"]);
    assert!(
        century.contains("e10 requests over 876000h of scenario time"),
        "{century}"
    );
    assert!(century.contains("TiB of results"), "{century}");
    let flood = refused(&["sim", "--set", "workload.apps[chat].arrivals.rate=1e12"]);
    assert!(flood.contains("e15 requests"), "{flood}");
    assert!(flood.contains("of memory"), "{flood}");
    refused(&[
        "sweep",
        "--set",
        "workload.duration=3m,876000h",
        "--set",
        "seed=1",
    ]);
    let live = refused(&["run", "--set", "workload.duration=876000h"]);
    assert!(live.contains("of wall-clock time"), "{live}");
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/payg-steady.toml");
    refused(&[
        "plan",
        scenario,
        "--target",
        "p99_ttft<2s",
        "--duration",
        "876000h",
    ]);
}

#[test]
fn every_shipped_scenario_passes_as_shipped() {
    use throttlebox::scenario::Scenario;
    use throttlebox::scenario::preflight::{Job, refuse_unless_allowed};
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("scenarios/") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|ext| ext != "toml") {
            continue;
        }
        let scenario = Scenario::load(&path, &[]).expect("shipped scenarios load");
        for job in [
            Job::Sim { jobs: 8 },
            Job::Live {
                time_scale: 1.0,
                max_in_flight: 10_000,
            },
        ] {
            let estimate = refuse_unless_allowed(&scenario, job, false)
                .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
            assert!(estimate.requests > 0.0, "{}", path.display());
        }
        checked += 1;
    }
    assert!(checked >= 5, "{checked} scenarios");
}
