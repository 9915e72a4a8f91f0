//! The `[workload]` table: the documented example parses, unknown keys are refused, and
//! validation names the key path and the value.

use std::path::Path;

use serde::Deserialize;
use throttlebox::workload::{Workload, WorkloadConfig};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    workload: WorkloadConfig,
}

const EXAMPLE: &str = r#"
[workload]
duration = "10m"
[[workload.apps]]
name = "chat"
deployment = "gpt-4o"
arrivals = { process = "poisson", rate = 20.0 }
prompt_tokens = { dist = "lognormal", median = 1000, sigma = 0.8, max = 8000 }
max_tokens = { dist = "constant", value = 800 }
output_tokens = { dist = "exponential", mean = 200 }
stream_share = 0.5
priority = 1
sessions = 100
[[workload.apps]]
name = "burst"
deployment = "gpt-4o-mini"
arrivals = { process = "spikes", base = 2.0, spikes = [{ at = "2m", for = "30s", rate = 50.0 }] }
prompt_tokens = { dist = "empirical", values = [100, 200, 4000] }
output_tokens = { dist = "normal", mean = 100, std = 30, min = 10 }
[workload.trace]
path = "scenarios/data/azure-conv-10min.csv"
format = "azure-2023"
speedup = 1.0
rate_scale = 1.0
window = { from = "0s", until = "10m" }
deployment = "gpt-4o"
max_tokens = "output"
stream_share = 0.0
"#;

fn parse(text: &str) -> Result<WorkloadConfig, toml::de::Error> {
    toml::from_str::<ScenarioFile>(text).map(|file| file.workload)
}

fn validation_error(text: &str) -> String {
    parse(text)
        .expect("parses")
        .validate()
        .expect_err("should be refused")
        .to_string()
}

#[test]
fn documented_example_parses_validates_and_round_trips() {
    let cfg = parse(EXAMPLE).expect("example parses");
    cfg.validate().expect("example is valid");
    let workload = Workload::new(&cfg, Path::new(env!("CARGO_MANIFEST_DIR")), 1).expect("builds");
    assert_eq!(workload.app_names(), ["chat", "burst", "trace"]);
    assert_eq!(workload.deployments().len(), 2);
    let serialized = toml::to_string(&cfg).expect("serializes");
    let back: WorkloadConfig = toml::from_str(&serialized).expect("re-parses");
    assert_eq!(back, cfg);
}

#[test]
fn unknown_keys_are_refused() {
    let typo = EXAMPLE.replace("stream_share = 0.5", "stream_shares = 0.5");
    let error = parse(&typo).expect_err("typo refused").to_string();
    assert!(error.contains("stream_shares"), "{error}");
    let typo = EXAMPLE.replace("median = 1000", "medain = 1000");
    assert!(parse(&typo).is_err());
    let typo = EXAMPLE.replace("process = \"poisson\"", "process = \"poison\"");
    assert!(parse(&typo).is_err());
    let format = EXAMPLE.replace("format = \"azure-2023\"", "format = \"azure-2025\"");
    let error = parse(&format).expect_err("unknown format").to_string();
    assert!(
        error.contains("azure-2025") && error.contains("azure-2024"),
        "{error}"
    );
    let max = EXAMPLE.replace("max_tokens = \"output\"", "max_tokens = \"outputs\"");
    let error = parse(&max).expect_err("unknown keyword").to_string();
    assert!(error.contains("outputs"), "{error}");
}

#[test]
fn validation_names_key_path_and_value() {
    let cases = [
        (
            "rate = 20.0",
            "rate = -3.0",
            "workload.apps[0].arrivals.rate",
            "-3",
        ),
        (
            "sigma = 0.8",
            "sigma = -1.0",
            "workload.apps[0].prompt_tokens.sigma",
            "-1",
        ),
        (
            "stream_share = 0.5",
            "stream_share = 1.5",
            "workload.apps[0].stream_share",
            "1.5",
        ),
        (
            "sessions = 100",
            "sessions = 0",
            "workload.apps[0].sessions",
            "0",
        ),
        (
            "rate_scale = 1.0",
            "rate_scale = 0.0",
            "workload.trace.rate_scale",
            "0",
        ),
        (
            "until = \"10m\"",
            "until = \"0s\"",
            "workload.trace.window.until",
            "0",
        ),
        (
            "for = \"30s\", rate = 50.0",
            "for = \"30s\", rate = -50.0",
            "workload.apps[1].arrivals.spikes[0].rate",
            "-50",
        ),
        (
            "min = 10",
            "min = 10, max = 5",
            "workload.apps[1].output_tokens.min",
            "10",
        ),
        (
            "name = \"burst\"",
            "name = \"chat\"",
            "workload.apps[1].name",
            "chat",
        ),
    ];
    for (from, to, path, value) in cases {
        let error = validation_error(&EXAMPLE.replacen(from, to, 1));
        assert!(
            error.contains(path) && error.contains(value),
            "{from} -> {to}: {error}"
        );
    }
    let no_duration = EXAMPLE.replace("duration = \"10m\"", "");
    assert!(validation_error(&no_duration).contains("workload.duration"));
    let error = validation_error("[workload]\nduration = \"1m\"\n");
    assert!(error.contains("workload"), "{error}");
    let gamma = EXAMPLE.replace(
        "process = \"poisson\", rate = 20.0",
        "process = \"gamma\", rate = 20.0, burstiness = 0",
    );
    assert!(validation_error(&gamma).contains("workload.apps[0].arrivals.burstiness"));
    let steps = EXAMPLE.replace(
        "process = \"poisson\", rate = 20.0",
        "process = \"steps\", steps = [{ at = \"1m\", rate = 1.0 }, { at = \"30s\", rate = 2.0 }]",
    );
    assert!(validation_error(&steps).contains("workload.apps[0].arrivals.steps[1].at"));
    let diurnal = EXAMPLE.replace(
        "process = \"poisson\", rate = 20.0",
        "process = \"diurnal\", mean = 5.0, amplitude = 6.0, period = \"1h\"",
    );
    assert!(validation_error(&diurnal).contains("workload.apps[0].arrivals.amplitude"));
}

#[test]
fn trace_alone_needs_no_duration() {
    let cfg = parse(
        "[workload.trace]\npath = \"scenarios/data/azure-conv-10min.csv\"\ndeployment = \"d\"\n",
    )
    .expect("parses");
    let workload = Workload::new(&cfg, Path::new(env!("CARGO_MANIFEST_DIR")), 1).expect("valid");
    assert_eq!(workload.duration(), None);
    assert_eq!(workload.requests().count(), 2_867);
}
