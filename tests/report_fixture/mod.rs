//! A small hand-built run shared by the report tests. Every figure the tests assert is
//! worked out by hand in the comments below.
//!
//! Backends: 0 `ptu-east` (100 PTU), 1 `payg-west`, 2 `payg-spill` (spillover target).
//! Strategy 0 `priority`, 10 requests, request i (0..=9):
//! - intended start i s, actual start i s + i ms (send lag 0..9 ms)
//! - 0..=7 succeed, stream, e2e (i+1)·100 ms, TTFT (i+1)·50 ms, 1000 prompt / 200 completion
//!   - 0..=5: one attempt on ptu-east
//!   - 6: ptu-east 429, then payg-west 200 (1 gateway retry)
//!   - 7: ptu-east 200 spilled over to payg-spill
//! - 8: ptu-east 429, payg-west 429 (1 gateway retry), client sees 429, e2e 50 ms
//! - 9: payg-west 500, client retry, payg-west 500; client sees 500, e2e 1.2 s
//!
//! Strategy 1 `round-robin`: 8 non-streaming requests on payg-west, e2e 300 ms:
//! - 0..=3 start at i · 2.5 s and succeed (200);
//! - 4..=7 start at i · 1.2 s and fail each in one of the classes that are neither 429 nor
//!   5xx: 4 exhausted (the gateway answers 503 without an attempt), 5 connection failed,
//!   6 client timeout, 7 a 400 — so the row is 50 % success, 0 % 429, 0 % 5xx, 50 % other.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use throttlebox::metrics::{AttemptRecord, BackendsTried, ErrorClass, RequestRecord};
use throttlebox::report::{
    BackendInfo, CostConfig, DeploymentPrices, Mode, RunSetup, SloConfig, StrategyRecorder,
    StrategySummary, Summary,
};

pub fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

pub fn setup() -> Arc<RunSetup> {
    let mut costs = CostConfig {
        ptu_per_hour: 2.0,
        payg_input_per_1k: 0.01,
        payg_output_per_1k: 0.03,
        ..CostConfig::default()
    };
    costs.deployments.insert(
        "payg-spill".to_string(),
        DeploymentPrices {
            payg_input_per_1k: Some(0.02),
            ..DeploymentPrices::default()
        },
    );
    Arc::new(RunSetup {
        scenario: "fixture".to_string(),
        seed: 7,
        mode: Mode::Sim,
        duration: Duration::from_secs(10),
        strategies: vec!["priority".to_string(), "round-robin".to_string()],
        backends: vec![
            BackendInfo {
                name: "ptu-east".to_string(),
                provisioned_ptus: 100,
            },
            BackendInfo {
                name: "payg-west".to_string(),
                provisioned_ptus: 0,
            },
            BackendInfo {
                name: "payg-spill".to_string(),
                provisioned_ptus: 0,
            },
        ],
        apps: vec!["chat".to_string()],
        costs,
        slo: SloConfig {
            p99_ttft: Some(ms(300)),
            p99_e2e: Some(ms(600)),
            min_success_ratio: Some(0.8),
            max_client_429_ratio: Some(0.1),
            max_cost: Some(0.5),
            ..SloConfig::default()
        },
    })
}

fn attempt(
    id: u64,
    number: u32,
    backend: u16,
    start: Duration,
    end: Duration,
    status: u16,
) -> AttemptRecord {
    AttemptRecord {
        strategy: 0,
        request_id: id,
        attempt: number,
        backend,
        start,
        first_token: None,
        end,
        status,
        error: ErrorClass::from_status(status),
        spilled_over: false,
    }
}

/// Strategy 0's records: requests and attempts.
pub fn priority_records() -> (Vec<RequestRecord>, Vec<AttemptRecord>) {
    let mut requests = Vec::new();
    let mut attempts = Vec::new();
    for i in 0..10u64 {
        let intended = Duration::from_secs(i);
        let actual = intended + ms(i);
        let mut record = RequestRecord {
            strategy: 0,
            request_id: i,
            app: 0,
            intended_start: intended,
            actual_start: actual,
            prompt_tokens: 1000,
            stream: true,
            attempts: 1,
            ..RequestRecord::default()
        };
        match i {
            0..=7 => {
                record.end = intended + ms((i + 1) * 100);
                record.first_token = Some(intended + ms((i + 1) * 50));
                record.status = 200;
                record.completion_tokens = 200;
                match i {
                    6 => {
                        let switch = actual + ms(5);
                        attempts.push(attempt(i, 1, 0, actual, switch, 429));
                        attempts.push(attempt(i, 2, 1, switch, record.end, 200));
                        record.attempts = 2;
                        record.gateway_retries = 1;
                        record.backends_tried = [0, 1].into_iter().collect();
                        record.final_backend = Some(1);
                    }
                    _ => {
                        let mut only = attempt(i, 1, 0, actual, record.end, 200);
                        only.first_token = record.first_token;
                        if i == 7 {
                            only.spilled_over = true;
                            record.spilled_over = true;
                            record.served_by = Some(2);
                        }
                        attempts.push(only);
                        record.backends_tried = [0].into_iter().collect();
                        record.final_backend = Some(0);
                    }
                }
            }
            8 => {
                record.end = intended + ms(50);
                record.status = 429;
                record.error = ErrorClass::Throttled;
                record.attempts = 2;
                record.gateway_retries = 1;
                record.backends_tried = [0, 1].into_iter().collect();
                record.final_backend = Some(1);
                attempts.push(attempt(i, 1, 0, actual, actual + ms(10), 429));
                attempts.push(attempt(i, 2, 1, actual + ms(10), record.end, 429));
            }
            _ => {
                record.end = intended + ms(1200);
                record.status = 500;
                record.error = ErrorClass::ServerError;
                record.attempts = 2;
                record.client_retries = 1;
                record.backends_tried = [1, 1].into_iter().collect();
                record.final_backend = Some(1);
                attempts.push(attempt(i, 1, 1, actual, actual + ms(500), 500));
                attempts.push(attempt(i, 2, 1, actual + ms(600), record.end, 500));
            }
        }
        requests.push(record);
    }
    (requests, attempts)
}

/// Strategy 1's records.
pub fn round_robin_records() -> (Vec<RequestRecord>, Vec<AttemptRecord>) {
    let mut requests = Vec::new();
    let mut attempts = Vec::new();
    let ok = (ErrorClass::None, 200u16);
    let outcomes = [
        ok,
        ok,
        ok,
        ok,
        (ErrorClass::Exhausted, 503),
        (ErrorClass::ConnectError, 0),
        (ErrorClass::Timeout, 0),
        (ErrorClass::ClientError, 400),
    ];
    for (i, (error, status)) in (0u64..).zip(outcomes) {
        let start = if i < 4 { ms(i * 2500) } else { ms(i * 1200) };
        let end = start + ms(300);
        let tried = error != ErrorClass::Exhausted;
        requests.push(RequestRecord {
            strategy: 1,
            request_id: i,
            intended_start: start,
            actual_start: start,
            end,
            status,
            error,
            attempts: u32::from(tried),
            backends_tried: if tried {
                BackendsTried::from_iter([1])
            } else {
                BackendsTried::default()
            },
            final_backend: tried.then_some(1),
            prompt_tokens: 500,
            completion_tokens: if error == ErrorClass::None { 100 } else { 0 },
            ..RequestRecord::default()
        });
        if tried {
            let mut only = attempt(i, 1, 1, start, end, status);
            only.strategy = 1;
            only.error = error;
            attempts.push(only);
        }
    }
    (requests, attempts)
}

/// Feed strategy 0's records plus its breaker and utilization events.
pub fn record_priority(recorder: &mut StrategyRecorder) {
    let (requests, attempts) = priority_records();
    for record in &attempts {
        recorder.add_attempt(record);
    }
    for record in &requests {
        recorder.add_request(record);
    }
    recorder.utilization_sample(ms(500), 0, 50.0);
    recorder.utilization_sample(ms(1500), 0, 70.0);
    recorder.utilization_sample(ms(1700), 0, 90.0);
    recorder.breaker_transition(ms(8500), 1, true, "5xx");
    recorder.breaker_transition(ms(8700), 1, true, "5xx again (ignored: already open)");
    recorder.breaker_transition(ms(9250), 1, false, "probe ok");
    // Still open when the run ends (at 10.2 s, the last record's end).
    recorder.breaker_transition(ms(9500), 0, true, "429");
}

pub fn record_round_robin(recorder: &mut StrategyRecorder) {
    let (requests, attempts) = round_robin_records();
    for record in &attempts {
        recorder.add_attempt(record);
    }
    for record in &requests {
        recorder.add_request(record);
    }
}

pub fn priority_summary() -> StrategySummary {
    let mut recorder = StrategyRecorder::new(0, setup());
    record_priority(&mut recorder);
    recorder.finish()
}

/// The whole fixture run summarised.
pub fn summary() -> Summary {
    let setup = setup();
    let mut priority = StrategyRecorder::new(0, setup.clone());
    record_priority(&mut priority);
    let mut round_robin = StrategyRecorder::new(1, setup.clone());
    record_round_robin(&mut round_robin);
    Summary::new(&setup, vec![priority.finish(), round_robin.finish()])
        .with_command("throttlebox sim scenarios/fixture.toml --seed 7")
}
