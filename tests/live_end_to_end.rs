//! End to end over loopback: a scenario run live (in-process mock fleet + gateway + open-loop
//! engine) agrees with the mock's own counters, and the breaker trips the gateway logged are the
//! ones the report counts.

use crate::live_support;

use throttlebox::metrics::BackendIndex;

const OVERLOADED_PAIR: &str = r#"
name = "overloaded-pair"
seed = 11
[fleet.switches]
emit_reset_headers = true
[[fleet.resources]]
name = "small"
region = "East US"
[[fleet.resources.deployments]]
name = "gpt-4o"
model = "gpt-4o"
kind = "standard"
capacity = 3                  # 3,000 TPM, 18 RPM: overloaded at once
latency = { ttft_base = "200ms", tokens_per_second = 100.0 }
[[fleet.resources]]
name = "large"
region = "Sweden Central"
[[fleet.resources.deployments]]
name = "gpt-4o"
model = "gpt-4o"
kind = "standard"
capacity = 200
latency = { ttft_base = "300ms", tokens_per_second = 80.0 }
faults = [ { kind = "server_errors", from = "10s", until = "14s", rate = 0.5, status = 500 } ]
[[backends]]
resource = "small"
[[backends]]
resource = "large"
[workload]
duration = "30s"
[[workload.apps]]
name = "chat"
deployment = "gpt-4o"
arrivals = { process = "poisson", rate = 6.0 }
prompt_tokens = { dist = "constant", value = 200 }
max_tokens = { dist = "constant", value = 100 }
output_tokens = { dist = "constant", value = 40 }
stream_share = 0.5
[client]
retry = { max_retries = 1, sdk = "openai-python" }
[[strategies]]
name = "round-robin"
preset = "round-robin"
[[strategies]]
name = "powerproxy"
preset = "powerproxy"
"#;

#[test]
fn per_backend_counts_statuses_and_breaker_trips_match_the_mock() {
    let scenario = live_support::inline(OVERLOADED_PAIR);
    let run = live_support::run(&scenario, 10.0);
    assert_eq!(run.outcomes.len(), 2);
    for (summary, outcome) in run.summary.strategies.iter().zip(&run.outcomes) {
        let fleet = outcome.fleet_metrics.as_ref().expect("in-process fleet");
        assert_eq!(outcome.engine.dropped, 0);
        // In process, the engine, the gateway (both sides) and the mock share the open-file
        // limit: the engine's in-flight cap is a quarter of it at most.
        let quarter = aoai_mock::http::sockets::connection_budget(4).expect("a unix limit");
        assert!(
            (1..=quarter as u64).contains(&outcome.engine.max_in_flight),
            "cap {} vs a quarter of the limit {quarter}",
            outcome.engine.max_in_flight
        );
        assert!(
            summary.requests > 100,
            "{}: {} requests",
            summary.name,
            summary.requests
        );
        let mut backend_429s = 0;
        for (index, backend) in summary.backends.iter().enumerate() {
            let counters = &fleet
                .get(&backend.name, "gpt-4o")
                .unwrap_or_else(|| panic!("{} in the fleet", backend.name))
                .counters;
            let mock_429s = counters.throttled_tokens
                + counters.throttled_requests
                + counters.throttled_utilization
                + counters.throttled_capacity;
            assert_eq!(
                backend.attempts, counters.requests,
                "{} / {}: attempts recorded vs requests the mock answered",
                summary.name, backend.name
            );
            assert_eq!(
                backend.throttled, mock_429s,
                "{} / {}: 429s",
                summary.name, backend.name
            );
            assert_eq!(
                backend.server_error, counters.fault_errors,
                "{} / {}: 5xx",
                summary.name, backend.name
            );
            assert_eq!(
                backend.ok, counters.admitted,
                "{} / {}: admitted = answered 2xx",
                summary.name, backend.name
            );
            backend_429s += mock_429s;
            let trips = outcome
                .breaker_timeline
                .iter()
                .filter(|event| event.backend == index as BackendIndex)
                .fold((0u32, false), |(trips, open), event| {
                    match (open, event.open) {
                        (false, true) => (trips + 1, true),
                        (true, false) => (trips, false),
                        _ => (trips, open),
                    }
                })
                .0;
            assert_eq!(
                backend.breaker_trips, trips,
                "{} / {}: trips",
                summary.name, backend.name
            );
        }
        assert!(
            backend_429s > 0,
            "{}: the small deployment is overloaded",
            summary.name
        );
        let attempts: u64 = summary.backends.iter().map(|b| b.attempts).sum();
        assert_eq!(
            summary.attempts, attempts,
            "{}: every attempt has a backend",
            summary.name
        );
    }
    let powerproxy = &run.summary.strategies[1];
    let trips: u32 = powerproxy.backends.iter().map(|b| b.breaker_trips).sum();
    assert!(trips > 0, "powerproxy throttles a backend on its 429s");
}
