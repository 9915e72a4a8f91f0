//! The simulator against results nobody here chose (issue #4): a PAYG deployment's long-run
//! admitted tokens equal its TPM quota; random vs power-of-two-choices over identical FIFO
//! exponential servers match the supermarket model's mean time in system; a trace replay
//! reproduces the trace's request count and token totals exactly.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use throttlebox::metrics::{AttemptRecord, RequestRecord};
use throttlebox::report::RecordSink;
use throttlebox::report::{Mode, ReportError};
use throttlebox::scenario::Scenario;
use throttlebox::sim::{Recording, StopFlag, run_all, simulate_strategy};

fn scenario(text: &str) -> Scenario {
    let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    match Scenario::parse(text, "test.toml", Some(base), &[]) {
        Ok(scenario) => scenario,
        Err(error) => panic!("test scenario invalid: {error}"),
    }
}

/// Tokens a standard deployment admits under twice its quota, per minute, over an hour.
#[test]
fn payg_deployment_at_twice_its_tpm_admits_its_quota() {
    // Every request costs exactly 1,000 estimated tokens (600 prompt + max_tokens 400) and
    // bills exactly that (the mock generates max_tokens). 60,000 TPM = 60 requests a minute;
    // Poisson load of 2 req/s = twice that. RPM (360/min, 60 per 10 s) never binds.
    let s = scenario(
        r#"
name = "payg-2x"
seed = 11
[[fleet.resources]]
name = "east"
region = "East US"
[[fleet.resources.deployments]]
name = "gpt-4o"
model = "gpt-4o"
kind = "standard"
tpm = 60000
latency = { ttft_base = "200ms", tokens_per_second = 100.0 }
[[backends]]
resource = "east"
[workload]
duration = "60m"
[[workload.apps]]
name = "load"
deployment = "gpt-4o"
arrivals = { process = "poisson", rate = 2.0 }
prompt_tokens = { dist = "constant", value = 600 }
max_tokens = { dist = "constant", value = 400 }
output_tokens = { dist = "constant", value = 400 }
[client]
retry = { max_retries = 0 }
[[strategies]]
name = "direct"
preset = "random"
"#,
    );
    let run = run_all(&s, None, 1, "test", &|_| {}).expect("simulation runs");
    let strategy = &run.summary.strategies[0];
    let admitted_tokens = (strategy.tokens_in + strategy.tokens_out) as f64;
    let per_minute = admitted_tokens / 60.0;
    let error = (per_minute - 60_000.0).abs() / 60_000.0;
    assert!(
        error < 0.02,
        "admitted {per_minute:.0} tokens/min against a 60,000 TPM quota ({:.2}% off)",
        error * 100.0
    );
    // And the other half was refused with 429s, not lost.
    assert!(
        strategy.client_429_ratio > 0.45 && strategy.client_429_ratio < 0.55,
        "{}",
        strategy.client_429_ratio
    );
}

/// Mean e2e of requests sent in [from, until).
struct MeanSojourn {
    from: Duration,
    until: Duration,
    sum: f64,
    count: u64,
}

impl RecordSink for MeanSojourn {
    fn request(&mut self, record: &RequestRecord) -> Result<(), ReportError> {
        if record.intended_start >= self.from && record.intended_start < self.until {
            assert_eq!(
                record.status, 200,
                "no request may fail in the supermarket model"
            );
            self.sum += record.e2e().as_secs_f64();
            self.count += 1;
        }
        Ok(())
    }

    fn attempt(&mut self, _: &AttemptRecord) -> Result<(), ReportError> {
        Ok(())
    }
}

fn supermarket(servers: usize, lambda: f64, seconds: u64) -> String {
    let mut text = format!(
        "name = \"supermarket\"\nseed = 5\n[workload]\nduration = \"{seconds}s\"\n\
         [[workload.apps]]\nname = \"poisson\"\ndeployment = \"m\"\n\
         arrivals = {{ process = \"poisson\", rate = {rate} }}\n\
         prompt_tokens = {{ dist = \"constant\", value = 10 }}\n\
         output_tokens = {{ dist = \"constant\", value = 1 }}\n\
         [client]\nretry = {{ max_retries = 0 }}\n\
         [[strategies]]\nname = \"random\"\npreset = \"random\"\n\
         [[strategies]]\nname = \"power-of-two\"\npreset = \"power-of-d\"\nselector = {{ d = 2 }}\n",
        rate = lambda * servers as f64
    );
    for k in 0..servers {
        text.push_str(&format!(
            "[[fleet.resources]]\nname = \"s{k}\"\nregion = \"Lab\"\n\
             [[fleet.resources.deployments]]\nname = \"m\"\nmodel = \"gpt-4o\"\nkind = \"standard\"\n\
             tpm = 1000000000\nrpm = 1000000000\n\
             service = {{ concurrency = 1, service_time = {{ exponential = \"1s\" }} }}\n\
             [[backends]]\nresource = \"s{k}\"\n"
        ));
    }
    text
}

/// Mitzenmacher's supermarket model (balancing.md §10.1): n FIFO exp(1) servers, Poisson λn,
/// join the shortest of d samples; T_1(0.7) = 1/(1 − 0.7) = 3.3333, T_2(0.7) = 1.6145.
#[test]
fn random_and_power_of_two_match_the_supermarket_model() {
    let (servers, lambda, seconds, warmup) = (64, 0.7, 6_000, 300);
    let s = scenario(&supermarket(servers, lambda, seconds));
    let workload = s.workload().expect("workload");
    let setup = Arc::new(s.run_setup(Mode::Sim, Duration::from_secs(seconds)));
    for (index, expected) in [(0, 1.0 / (1.0 - lambda)), (1, 1.6145)] {
        let mut sink = MeanSojourn {
            from: Duration::from_secs(warmup),
            until: Duration::from_secs(seconds),
            sum: 0.0,
            count: 0,
        };
        simulate_strategy(
            &s,
            &workload,
            index,
            setup.clone(),
            Recording::SummaryOnly,
            &mut sink,
            &StopFlag::new(),
        )
        .expect("simulation runs");
        let mean = sink.sum / sink.count as f64;
        let error = (mean - expected).abs() / expected;
        eprintln!(
            "{}: {mean:.4} vs {expected:.4} over {} requests",
            s.strategies[index].config.name, sink.count
        );
        assert!(
            error < 0.03,
            "{}: mean time in system {mean:.4} vs the model's {expected:.4} ({:.2}% off, {} requests)",
            s.strategies[index].config.name,
            error * 100.0,
            sink.count
        );
    }
}

/// Totals of a trace file computed by plain string splitting (independent of the replayer).
fn trace_totals(path: &std::path::Path) -> (u64, u64, u64) {
    let text = std::fs::read_to_string(path).expect("trace readable");
    let mut totals = (0, 0, 0);
    for line in text.lines().skip(1).filter(|line| !line.is_empty()) {
        let fields: Vec<&str> = line.split(',').collect();
        totals.0 += 1;
        totals.1 += fields[1].trim().parse::<u64>().expect("context tokens");
        totals.2 += fields[2].trim().parse::<u64>().expect("generated tokens");
    }
    totals
}

#[test]
fn trace_replay_reproduces_count_and_token_totals_exactly() {
    let s = scenario(
        r#"
name = "trace"
seed = 3
[[fleet.resources]]
name = "east"
region = "East US"
[[fleet.resources.deployments]]
name = "gpt-4o"
model = "gpt-4o"
kind = "standard"
tpm = 1000000000
rpm = 1000000000
latency = { ttft_base = "300ms", tokens_per_second = 80.0 }
[[backends]]
resource = "east"
[workload.trace]
path = "data/azure-conv-10min.csv"
format = "azure-2023"
deployment = "gpt-4o"
max_tokens = "output"
[client]
retry = { max_retries = 0 }
[[strategies]]
name = "direct"
preset = "round-robin"
"#,
    );
    let (rows, context, generated) = trace_totals(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/data/azure-conv-10min.csv"),
    );
    let run = run_all(&s, None, 1, "test", &|_| {}).expect("simulation runs");
    let strategy = &run.summary.strategies[0];
    assert_eq!(strategy.requests, rows);
    assert_eq!(strategy.outcomes.ok, rows, "every request succeeds");
    assert_eq!(strategy.tokens_in, context);
    assert_eq!(strategy.tokens_out, generated);
}

/// K gateway instances keep their own breaker state (APIM: "different instances of the gateway
/// don't synchronize"): each must see its own 429 before it stops sending to the PTU backend,
/// so more requests reach the saturated PTU with 4 instances than with 1.
#[test]
fn gateway_instances_do_not_share_breaker_state() {
    let attempts_on_ptu = |gateways: u32| {
        let text = include_str!("../scenarios/ptu-payg-pool.toml");
        let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let sets = [throttlebox::scenario::Override::parse(&format!(
            "strategies[apim-pool trip 10s].gateways={gateways}"
        ))
        .expect("override")];
        let s = Scenario::parse(text, "ptu-payg-pool.toml", Some(base), &sets).expect("scenario");
        let run = run_all(&s, None, 1, "test", &|_| {}).expect("runs");
        let strategy = run
            .summary
            .strategies
            .iter()
            .find(|s| s.name == "apim-pool trip 10s")
            .expect("strategy");
        (
            strategy.backends[0].throttled,
            strategy.backends[0].breaker_trips,
        )
    };
    let (throttled_one, _) = attempts_on_ptu(1);
    let (throttled_four, _) = attempts_on_ptu(4);
    assert!(
        throttled_four > throttled_one,
        "4 independent instances must each learn of the saturated PTU: {throttled_four} vs {throttled_one} 429s"
    );
}
