//! The latency fit against calls drawn from the mock's own model with known parameters.

use super::*;
use aoai_mock::config::{DeploymentConfig, FleetConfig, ResourceConfig};
use aoai_mock::model::{Completion, Fleet, Outcome, RequestShape};
use rand::Rng;

/// Calls drawn from the mock's own latency model with known parameters, with in-flight
/// counts swept from 0 to 100 so the load factor shows.
fn mock_calls(load_factor: f64, stream: bool) -> Vec<LatencyRow> {
    let mut deployment = DeploymentConfig::standard("d", "gpt-4o", 1_000_000_000);
    deployment.latency = LatencyConfig {
        ttft_base: Some(Duration::from_millis(400)),
        ttft_per_prompt_token: Some(Duration::from_micros(50)),
        ttft_jitter: Some(0.25),
        tokens_per_second: Some(70.0),
        tps_jitter: Some(0.15),
        load_factor: Some(load_factor),
        ..LatencyConfig::default()
    };
    let config = FleetConfig {
        resources: vec![ResourceConfig::new("r", "East US", vec![deployment])],
        ..FleetConfig::default()
    };
    let mut fleet = Fleet::new(&config);
    let resource = fleet.resource_index("r").unwrap();
    let mut rng = crate::seed::stream(5, "calls");
    let mut open = std::collections::VecDeque::new();
    (0..3000)
        .map(|k| {
            let target = (k / 30 % 10) * 11;
            while open.len() > target {
                let ticket = open.pop_front().unwrap();
                fleet.complete(
                    Duration::ZERO,
                    &ticket,
                    Completion::Completed {
                        completion_tokens: 1,
                    },
                );
            }
            let in_flight = open.len();
            let prompt = rng.random_range(100..4000u32);
            let completion = rng.random_range(20..600u32);
            let shape = RequestShape {
                stream,
                forced_completion_tokens: Some(completion),
                ..RequestShape::chat(prompt, None)
            };
            let Outcome::Admitted(plan) =
                fleet.admit(Duration::ZERO, resource, "d", &shape).outcome
            else {
                panic!("admitted")
            };
            open.push_back(plan.ticket);
            LatencyRow {
                prompt: f64::from(prompt),
                gaps: f64::from(completion - 1),
                e2e: plan.total.as_secs_f64(),
                ttft: stream.then(|| plan.ttft().as_secs_f64()),
                load: (in_flight as f64 / SATURATION_IN_FLIGHT).min(1.0),
            }
        })
        .collect()
}

/// Fit `rows` of a standard deployment with 60 resamples.
fn fit(rows: &[LatencyRow], notes: &mut Vec<Note>) -> LatencyFit {
    fit_latency("d", rows, false, &mut Bootstrap::new(1, "l", 60), notes)
}

fn close(what: &str, got: f64, want: f64, tolerance: f64) {
    assert!(
        (got - want).abs() <= tolerance,
        "{what}: {got} vs {want} ± {tolerance}"
    );
}

#[test]
fn durations_alone_recover_the_mock_latency_and_its_load_factor() {
    for stream in [false, true] {
        let rows = mock_calls(1.0, stream);
        let mut notes = Vec::new();
        let fit = fit(&rows, &mut notes);
        let value = |k: usize| fit.params[k].expect("fitted").value;
        let truth = [0.4, 50e-6, 0.25, 70.0, 0.15, 1.0];
        for (k, param) in fit.params.iter().enumerate() {
            if let Some(param) = param {
                assert!(
                    param.ci_contains(truth[k]),
                    "{}: {param:?} (stream {stream})",
                    PARAM_NAMES[k]
                );
            }
        }
        close("ttft_base", value(0), 0.4, 0.05);
        close("per token µs", value(1) * 1e6, 50.0, 25.0);
        match fit.params[2] {
            Some(jitter) => close("ttft_jitter", jitter.value, 0.25, 0.06),
            None => assert!(
                !stream
                    && notes
                        .iter()
                        .any(|n| n.text.starts_with("ttft_jitter not identified"))
            ),
        }
        close("tokens_per_second", value(3), 70.0, 4.0);
        close("tps_jitter", value(4), 0.15, 0.05);
        close("load_factor", value(5), 1.0, 0.15);
        assert!(
            fit.params[3].unwrap().ci_contains(70.0),
            "{:?}",
            fit.params[3]
        );
    }
}

#[test]
fn no_load_dependence_is_said_and_left_at_zero() {
    let rows = mock_calls(0.0, false);
    let mut notes = Vec::new();
    let fit = fit(&rows, &mut notes);
    assert_eq!(fit.config.load_factor, None);
    assert!(fit.params[5].is_none());
    assert!(
        notes.iter().any(|n| n.text.contains("no load dependence")),
        "{notes:?}"
    );
    let few = fit_latency(
        "d",
        &rows[..10],
        false,
        &mut Bootstrap::new(1, "l", 10),
        &mut notes,
    );
    assert_eq!(few.config, LatencyConfig::default());
    assert!(notes.iter().any(|n| n.text.contains("need 30")));
}
