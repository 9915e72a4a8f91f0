//! Calibrating Azure's public LLM inference trace 2023 (conversation; Patel et al.,
//! "Splitwise", ISCA 2024; CC-BY 4.0; read from `../shared/data` as `workload_trace.rs` does)
//! with a column mapping. The trace has arrival times and token counts but no latency, so the
//! calibration is workload-only and says so. Re-simulated (the calibrated scenario run through
//! the simulator, its requests recorded), it reproduces, within the stated bounds:
//! - the trace's request count in each clock hour (18:00 and 19:00 UTC) within 3%;
//! - with empirical lengths, the 10th, 50th, 90th and 99th percentiles of prompt and
//!   completion tokens within 3%;
//! - with fitted log-normal lengths, the median within 10% (the log-normal is a summary: its
//!   tails are reported, not bounded).
//!
//! Expected figures come from the CSV by plain string splitting, independently of the reader.

use std::path::PathBuf;
use std::sync::Arc;

use throttlebox::calibrate::{Calibration, Options, TokenModel, calibrate};
use throttlebox::metrics::{AttemptRecord, RequestRecord};
use throttlebox::report::RecordSink;
use throttlebox::report::{Mode, ReportError};
use throttlebox::scenario::Scenario;
use throttlebox::sim::{Recording, StopFlag, simulate_strategy};

const TRACE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/azure-llm-2023/AzureLLMInferenceTrace_conv.csv"
);
const MAPPING: &str = "columns:time=TIMESTAMP,prompt=ContextTokens,completion=GeneratedTokens";

/// (hour of day, prompt, completion) of every trace row, by plain splitting.
fn trace_rows() -> Vec<(u32, f64, f64)> {
    let text = std::fs::read_to_string(TRACE).expect("trace readable");
    text.lines()
        .skip(1)
        .filter(|line| !line.is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            let hour = fields[0][11..13].parse().expect("hour");
            (
                hour,
                fields[1].parse().expect("prompt"),
                fields[2].parse().expect("completion"),
            )
        })
        .collect()
}

/// Nearest-rank percentile of unsorted values.
fn percentile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1]
}

#[derive(Default)]
struct Keep(Vec<RequestRecord>);

impl RecordSink for Keep {
    fn request(&mut self, record: &RequestRecord) -> Result<(), ReportError> {
        self.0.push(*record);
        Ok(())
    }

    fn attempt(&mut self, _: &AttemptRecord) -> Result<(), ReportError> {
        Ok(())
    }
}

fn calibrate_trace(tokens: TokenModel) -> Calibration {
    let options = Options {
        format: MAPPING.parse().expect("mapping"),
        tokens,
        deployment: None,
        provisioned: Vec::new(),
        max_tokens: None,
        model: "gpt-4o".to_string(),
        template: None,
        seed: Some(2023),
        bootstrap: 50,
        name: "azure-conv-2023".to_string(),
        bin_s: None,
        skip_bad_rows: false,
    };
    calibrate(&[PathBuf::from(TRACE)], &options).expect("the trace calibrates")
}

/// The calibrated scenario through the simulator (its first strategy): (hour, prompt,
/// completion) of every request.
fn resimulate(calibration: &Calibration) -> Vec<(u32, f64, f64)> {
    let scenario = Scenario::parse(&calibration.scenario, "calibrated", None, &[]).expect("loads");
    let workload = scenario.workload().expect("workload");
    let duration = scenario.duration(&workload).expect("duration");
    let setup = Arc::new(scenario.run_setup(Mode::Sim, duration));
    let mut keep = Keep::default();
    let outcome = simulate_strategy(
        &scenario,
        &workload,
        0,
        setup,
        Recording::SummaryOnly,
        &mut keep,
        &StopFlag::new(),
    )
    .expect("simulation");
    assert_eq!(
        outcome.summary.success_ratio, 1.0,
        "the placeholder fleet throttles nothing"
    );
    let start_s = calibration.workload.start_ns.rem_euclid(86_400_000_000_000) as f64 / 1e9;
    keep.0
        .iter()
        .map(|r| {
            let hour = ((start_s + r.intended_start.as_secs_f64()) / 3600.0) as u32;
            (
                hour,
                f64::from(r.prompt_tokens),
                f64::from(r.completion_tokens),
            )
        })
        .collect()
}

/// Prompt (`pick` 1) or completion (2) lengths of `rows`.
fn lengths(rows: &[(u32, f64, f64)], pick: usize) -> Vec<f64> {
    rows.iter()
        .map(|r| if pick == 1 { r.1 } else { r.2 })
        .collect()
}

fn assert_hourly_counts(trace: &[(u32, f64, f64)], again: &[(u32, f64, f64)]) {
    for hour in [18, 19] {
        let count = |rows: &[(u32, f64, f64)]| rows.iter().filter(|r| r.0 == hour).count() as f64;
        let (logged, simulated) = (count(trace), count(again));
        assert!(logged > 1000.0, "hour {hour}: {logged} trace rows");
        assert!(
            (simulated - logged).abs() <= 0.03 * logged,
            "hour {hour}: {simulated} re-simulated vs {logged} in the trace"
        );
    }
}

#[test]
fn the_azure_conversation_trace_calibrates_workload_only_and_re_simulates_its_hours_and_token_quantiles()
 {
    let calibration = calibrate_trace(TokenModel::Empirical);
    assert!(calibration.workload_only);
    assert!(
        calibration
            .notes
            .iter()
            .any(|n| n.text.starts_with("workload-only calibration"))
    );
    assert_eq!(calibration.calls, 19_366);
    let trace = trace_rows();
    let again = resimulate(&calibration);
    assert_hourly_counts(&trace, &again);
    for (what, pick) in [("prompt", 1usize), ("completion", 2)] {
        let (logged, simulated) = (lengths(&trace, pick), lengths(&again, pick));
        for q in [0.1, 0.5, 0.9, 0.99] {
            let (a, b) = (percentile(&logged, q), percentile(&simulated, q));
            assert!(
                (a - b).abs() <= 0.03 * a,
                "{what} p{}: trace {a} vs re-simulated {b}",
                q * 100.0
            );
        }
    }
}

#[test]
fn a_lognormal_fit_of_the_trace_keeps_the_rate_and_the_median_lengths() {
    let calibration = calibrate_trace(TokenModel::Lognormal);
    let trace = trace_rows();
    let again = resimulate(&calibration);
    assert_hourly_counts(&trace, &again);
    for (what, pick) in [("prompt", 1usize), ("completion", 2)] {
        let (a, b) = (
            percentile(&lengths(&trace, pick), 0.5),
            percentile(&lengths(&again, pick), 0.5),
        );
        assert!(
            (a - b).abs() <= 0.10 * a,
            "{what} median: trace {a} vs log-normal re-simulation {b}"
        );
    }
}
