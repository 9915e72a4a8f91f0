//! Every shipped scenario loads and runs; bad scenario input gets an error naming the file,
//! the key path and the value, never a panic.

use std::path::{Path, PathBuf};

use throttlebox::scenario::{Override, Scenario};
use throttlebox::sim::run_all;

fn scenarios_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

#[test]
fn every_shipped_scenario_loads_and_every_strategy_serves_traffic() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(scenarios_dir())
        .expect("scenarios/")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 4, "{files:?}");
    for path in files {
        // Two simulated minutes are enough to prove the file runs end to end.
        let scenario = match Scenario::load(&path, &[]) {
            Ok(s) => s,
            Err(error) => panic!("{}: {error}", path.display()),
        };
        let short = if scenario.file.workload.trace.is_some() {
            Override::parse("workload.trace.window.until=2m")
        } else {
            Override::parse("workload.duration=2m")
        }
        .expect("override");
        let scenario = Scenario::load(&path, &[short]).expect("shortened scenario");
        let run = run_all(&scenario, None, 2, "test", &|_| {}).expect("runs");
        for strategy in &run.summary.strategies {
            assert!(
                strategy.requests > 0,
                "{}: {} sent nothing",
                path.display(),
                strategy.name
            );
            assert!(
                strategy.outcomes.ok > 0,
                "{}: {} served nothing",
                path.display(),
                strategy.name
            );
        }
    }
}

#[test]
fn the_embedded_default_is_the_shipped_ptu_payg_pool() {
    let embedded = Scenario::embedded_default(&[]).expect("embedded default");
    let shipped = Scenario::load(&scenarios_dir().join("ptu-payg-pool.toml"), &[]).expect("file");
    assert_eq!(embedded.file, shipped.file);
}

fn error_of(text: &str) -> String {
    match Scenario::parse(text, "bad.toml", Some(Path::new(".").to_path_buf()), &[]) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(error) => error.to_string(),
    }
}

const GOOD: &str = r#"
name = "ok"
seed = 1
[[fleet.resources]]
name = "east"
region = "East US"
[[fleet.resources.deployments]]
name = "gpt-4o"
model = "gpt-4o"
kind = "standard"
tpm = 10000
[[backends]]
resource = "east"
[workload]
duration = "1m"
[[workload.apps]]
name = "chat"
deployment = "gpt-4o"
arrivals = { process = "poisson", rate = 1.0 }
prompt_tokens = { dist = "constant", value = 100 }
output_tokens = { dist = "constant", value = 10 }
[[strategies]]
name = "rr"
preset = "round-robin"
"#;

#[test]
fn the_reference_scenario_of_these_tests_is_valid() {
    Scenario::parse(GOOD, "good.toml", Some(Path::new(".").to_path_buf()), &[]).expect("valid");
}

#[test]
fn errors_name_file_key_and_value() {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "seed = 1",
            "seed = 1\nsurprise = true",
            &["bad.toml", "surprise"],
        ),
        (
            "resource = \"east\"",
            "resource = \"west\"",
            &["bad.toml", "backends[0].resource", "west"],
        ),
        (
            "tpm = 10000",
            "tpm = 10000\nseed = 3",
            &["bad.toml", "seed"],
        ),
        (
            "rate = 1.0",
            "rate = -2.0",
            &["bad.toml", "workload.apps[0].arrivals.rate", "-2"],
        ),
        (
            "duration = \"1m\"",
            "duration = \"1 fortnight\"",
            &["bad.toml", "1 fortnight"],
        ),
        (
            "preset = \"round-robin\"",
            "preset = \"round-robin\"\nbreaker = { trip_duration = \"30s\" }",
            &["bad.toml", "breaker"],
        ),
        (
            "preset = \"round-robin\"",
            "preset = \"fastest-please\"",
            &["bad.toml", "fastest-please"],
        ),
        (
            "deployment = \"gpt-4o\"",
            "deployment = \"gpt-5\"",
            &["bad.toml", "gpt-5"],
        ),
        (
            "resource = \"east\"",
            "resource = \"east\"\nnon_streaming_fraction = 1.5",
            &["bad.toml", "backends[0].non_streaming_fraction", "1.5"],
        ),
    ];
    for (from, to, needles) in cases {
        assert!(GOOD.contains(from), "{from}");
        let message = error_of(&GOOD.replacen(from, to, 1));
        for needle in *needles {
            assert!(
                message.contains(needle),
                "error for {to:?} lacks {needle:?}: {message}"
            );
        }
    }
}

#[test]
fn the_fleet_seed_is_the_scenario_seed() {
    let message = error_of(&GOOD.replace(
        "[[fleet.resources]]\nname = \"east\"",
        "[fleet]\nseed = 9\n[[fleet.resources]]\nname = \"east\"",
    ));
    assert!(message.contains("fleet.seed"), "{message}");
}

#[test]
fn set_overrides_go_through_the_same_validation() {
    let bad = Override::parse("workload.apps[chat].arrivals.rate=-1").expect("parses");
    let error = Scenario::parse(GOOD, "good.toml", None, &[bad])
        .map(|_| ())
        .expect_err("refused");
    assert!(
        error.to_string().contains("workload.apps[0].arrivals.rate"),
        "{error}"
    );
    let typo = Override::parse("workload.apps[nochat].arrivals.rate=2").expect("parses");
    let error = Scenario::parse(GOOD, "good.toml", None, &[typo])
        .map(|_| ())
        .expect_err("refused");
    assert!(error.to_string().contains("nochat"), "{error}");
}
