//! GuideLLM 0.8.1 against `throttlebox load` on the same seeded draws (issue #13 item 5).
//!
//! A fresh `throttlebox mock` plans every admitted request's TTFT and token speed from its
//! deployment's seeded latency stream, two normal draws per request in arrival order. Here the
//! draws cannot depend on the request either — no TTFT per prompt token, no load factor,
//! completion lengths fixed in the fleet (GuideLLM sends no `x-mock-completion-tokens`) — so
//! the k-th streamed request of 20 tokens to reach a fresh fleet of this scenario meets the
//! same (TTFT, inter-token latency) draw whoever sends it. The test plans those draws in-process
//! with the mock's own model (`aoai_mock::model::Fleet`), then sends the same 21 requests, one
//! at a time at a constant 4 a second, from `throttlebox load` (the built binary) to one fresh
//! fleet and from GuideLLM (the real package, offline, the mock's v1 surface) to another, and
//! pairs each tool's k-th request with the k-th draw. [`ROUNDS`] such pairs of runs; every
//! figure below is the median over the rounds, so that one scheduling stall of the loaded
//! 2-core machine in one round (measured up to 64 ms on one request) does not decide it. It
//! holds:
//!
//! - per request, the excess over the planned draw: its median is 0–[`EXCESS_S`] for TTFT and
//!   e2e in both tools (the mock's pacing and the client's overhead; measured 2.2–3.3 ms), the
//!   two tools' within [`AGREE_S`] of each other (measured ≤ 0.9 ms: the issue's "~1 ms"),
//!   and for ITL both within [`EXCESS_ITL_S`] of the draw and [`AGREE_ITL_S`] of each other;
//! - the percentiles both report (p50, p95, p99 of TTFT, ITL and e2e): each is the nearest-rank
//!   percentile of the tool's own requests (so the two are computed alike: 21 values, no rank
//!   is a tie); for TTFT and e2e never below the planned draw's percentile by more than
//!   [`BELOW_S`] nor above it by more than [`STALL_S`], and the two tools' within
//!   [`AGREE_PERCENTILE_S`]; for ITL within [`STALL_S`] / 19 of the draw's and
//!   [`AGREE_PERCENTILE_ITL_S`] of each other. A percentile is one request's figure, so a stall
//!   moves it where the median excess barely moves: the tight agreement is held there.
//!
//! A regression in the engine's timing, the mock's pacing or either tool's reading of the
//! stream shows as one of these. Needs `target/guidellm-venv` (`.ci/install-python-deps`);
//! fails, never skips, without it.

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use aoai_mock::model::{Completion, Fleet, Outcome, RequestShape};
use rustix::process::{Pid, Signal, kill_process_group};
use throttlebox::metrics::intervals::{E2E_TAG, TTFT_TAG};
use throttlebox::report::{HISTOGRAMS_DIR, MergedHistograms, Summary, hlog_file_names};
use throttlebox::scenario::Scenario;

use crate::cli_support::{BIN, Mock, scratch, succeeded};

/// Requests each tool sends: 21, so that p50, p95 and p99 fall on ranks 11, 20 and 21, none of
/// them a tie between two ranks whatever a tool's rounding of q × n.
const REQUESTS: usize = 21;
/// Completion tokens of every request (fixed in the fleet, asked as `max_tokens` by both).
const TOKENS: u32 = 20;
/// Arrival rate of both tools (constant): one request at a time (e2e ≈ 0.2 s < 0.25 s apart).
const RATE: u32 = 4;
/// The quantiles both tools report.
const QUANTILES: [(f64, &str); 3] = [(0.50, "p50"), (0.95, "p95"), (0.99, "p99")];

/// Rounds, each a fresh pair of fleets: every figure is the median over them, so that one
/// scheduling stall of a loaded machine in one round does not decide it.
const ROUNDS: usize = 3;

// The bounds, against what 36 runs measured (62 rounds, load averages 1.6–12 on the shared
// 2-core machine, `nice -n 19`; docs/conformance.md, "GuideLLM"). "Measured" is of the median
// over the rounds unless a single round is named.

/// Largest median excess of a tool's TTFT or e2e over the planned draw (measured 2.2–3.3 ms;
/// single rounds 2.0–5.0 ms).
const EXCESS_S: f64 = 0.006;
/// Largest difference between the two tools' median excesses, TTFT or e2e (measured ≤ 0.9 ms;
/// single rounds ≤ 3.0 ms).
const AGREE_S: f64 = 0.002;
/// Largest |median excess| of a tool's ITL (a mean over 19 gaps: measured ≤ 0.04 ms).
const EXCESS_ITL_S: f64 = 0.00015;
/// Largest difference between the two tools' median ITL excesses (measured ≤ 0.04 ms).
const AGREE_ITL_S: f64 = 0.0001;
/// Largest difference between the two tools' reported TTFT or e2e percentile (measured
/// ≤ 3.2 ms at p50 and p95, ≤ 4.9 ms at p99 — the slowest of 21 requests, the one a stall in
/// either tool moves; single rounds up to 61 ms).
const AGREE_PERCENTILE_S: f64 = 0.008;
/// The same for ITL (measured ≤ 0.22 ms: throttlebox's ITL spans to the end of the body, so a
/// stall after the last token counts in it, over 19 gaps).
const AGREE_PERCENTILE_ITL_S: f64 = 0.0005;
/// How far below the planned draw's a reported TTFT or e2e percentile may read: half a bucket
/// of throttlebox's histograms (≤ 0.064 ms at these latencies); a client cannot see a token
/// before the mock planned it.
const BELOW_S: f64 = 0.0001;
/// How far above the planned draw's a reported TTFT or e2e percentile may read: stalls on a
/// loaded machine (measured up to 6.9 ms above; single rounds up to 64 ms). An ITL percentile
/// may read this over 19 gaps above or below it (a late last or first token).
const STALL_S: f64 = 0.025;
/// How far throttlebox's TTFT and e2e percentiles (histogram, µs) may be from the nearest-rank
/// percentile of its `requests.csv` (rounded to the millisecond): 0.5 ms + half a bucket.
const CSV_ROUNDING_S: f64 = 0.0006;
/// Longest GuideLLM may take (about 30 s on the 2-core machine: its start-up dominates).
const WATCHDOG: Duration = Duration::from_secs(240);

/// One standard deployment whose draws do not depend on the request: TTFT 100 ms × jitter,
/// 200 tokens/s × jitter, 20 tokens; 21 streamed requests at a constant 4 a second.
const SCENARIO: &str = r#"
name = "guidellm-crosscheck"
seed = 7
[[fleet.resources]]
name = "only"
region = "East US"
[[fleet.resources.deployments]]
name = "gpt-4o"
model = "gpt-4o"
kind = "standard"
capacity = 100
completion_tokens = { dist = "constant", value = 20 }
latency = { ttft_base = "100ms", ttft_per_prompt_token = "0s", tokens_per_second = 200.0 }
[[backends]]
resource = "only"
[workload]
duration = "5250ms"
[[workload.apps]]
name = "chat"
deployment = "gpt-4o"
arrivals = { process = "constant", rate = 4.0 }
prompt_tokens = { dist = "constant", value = 10 }
output_tokens = { dist = "constant", value = 20 }
stream_share = 1.0
[client]
retry = { max_retries = 0 }
timeout = "20s"
[[strategies]]
name = "direct"
preset = "round-robin"
"#;

/// One request's TTFT, inter-token latency and end-to-end latency (seconds).
type Sample = [f64; 3];
/// The three metrics, in [`Sample`] order.
const METRICS: [&str; 3] = ["TTFT", "ITL", "e2e"];

/// What one tool measured.
struct Measured {
    /// Per request, in the order the requests reached the mock: the order of the draws.
    samples: Vec<Sample>,
    /// The percentiles it reports: `[metric][quantile]`, in [`METRICS`] and [`QUANTILES`] order.
    reported: [[f64; 3]; 3],
}

/// The value of nearest rank ⌈q·n⌉ (as hdrhistogram and GuideLLM's `Percentiles` pick it).
fn nearest_rank(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn median(values: &[f64]) -> f64 {
    nearest_rank(values, 0.5)
}

/// Metric `m` of every sample.
fn column(samples: &[Sample], m: usize) -> Vec<f64> {
    samples.iter().map(|sample| sample[m]).collect()
}

/// Nearest-rank percentiles of every metric of `samples`.
fn percentiles(samples: &[Sample]) -> [[f64; 3]; 3] {
    [0, 1, 2].map(|m| QUANTILES.map(|(q, _)| nearest_rank(&column(samples, m), q)))
}

/// Each request's excess over its planned draw, metric `m`.
fn excess(measured: &[Sample], planned: &[Sample], m: usize) -> Vec<f64> {
    measured
        .iter()
        .zip(planned)
        .map(|(measured, planned)| measured[m] - planned[m])
        .collect()
}

/// The draws the mock plans for [`REQUESTS`] streamed requests, from its own model and in
/// arrival order: TTFT, the inter-token latency and the offset of the last token.
fn planned(scenario: &Scenario) -> Vec<Sample> {
    let mut fleet = Fleet::new(scenario.fleet());
    let resource = fleet.resource_index("only").expect("resource");
    let shape = RequestShape {
        stream: true,
        include_usage: true,
        ..RequestShape::chat(10, Some(TOKENS))
    };
    (0..REQUESTS as u64)
        .map(|index| {
            let now = Duration::from_millis(1000 * index / u64::from(RATE));
            let answer = fleet.admit(now, resource, "gpt-4o", &shape);
            let Outcome::Admitted(plan) = answer.outcome else {
                panic!("planned request {index} refused: {:?}", answer.outcome)
            };
            assert_eq!(plan.completion_tokens, TOKENS);
            let completion = Completion::Completed {
                completion_tokens: plan.completion_tokens,
            };
            fleet.complete(now + plan.total, &plan.ticket, completion);
            [
                plan.ttft().as_secs_f64(),
                plan.schedule.itl().as_secs_f64(),
                plan.total.as_secs_f64(),
            ]
        })
        .collect()
}

/// `throttlebox load` against a fresh mock. Reported: TTFT and e2e percentiles as its summary
/// computes them (nearest rank, middle of the histogram bucket), read from its histogram log at
/// full precision (`summary.json` rounds them to the millisecond); ITL, which it does not
/// report, per request from `requests.csv` as GuideLLM defines it, (e2e − TTFT) / (tokens − 1).
fn throttlebox_load(dir: &Path, scenario: &Path) -> Measured {
    let mock = Mock::start(scenario, &[]);
    let output = Command::new(BIN)
        .arg("load")
        .arg(scenario)
        .args(["--target", &mock.url, "--quiet", "--run", "load"])
        .arg("--results")
        .arg(dir)
        .output()
        .expect("throttlebox load runs");
    drop(mock);
    succeeded(&output);
    let run = dir.join("load");
    let summary: Summary =
        serde_json::from_str(&fs::read_to_string(run.join("summary.json")).expect("summary.json"))
            .expect("summary parses");
    let strategy = &summary.strategies[0];
    assert_eq!(
        (strategy.requests, strategy.outcomes.ok),
        (REQUESTS as u64, REQUESTS as u64),
        "throttlebox load: every request answered"
    );
    let mut reader = csv::Reader::from_path(run.join("requests.csv")).expect("requests.csv");
    let header = reader.headers().expect("header").clone();
    let at = |name: &str| header.iter().position(|h| h == name).expect(name);
    let (start, ttft, e2e, tokens) = (
        at("intended_start_s"),
        at("ttft_s"),
        at("e2e_s"),
        at("completion_tokens"),
    );
    let mut rows: Vec<(f64, Sample)> = reader
        .records()
        .map(|row| {
            let row = row.expect("row");
            let number = |at: usize| row[at].parse::<f64>().expect("a number");
            assert_eq!(number(tokens), f64::from(TOKENS), "throttlebox: {row:?}");
            let gaps = f64::from(TOKENS - 1);
            let sample = [
                number(ttft),
                (number(e2e) - number(ttft)) / gaps,
                number(e2e),
            ];
            (number(start), sample)
        })
        .collect();
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    let samples: Vec<Sample> = rows.into_iter().map(|(_, sample)| sample).collect();
    assert_eq!(samples.len(), REQUESTS);
    let mut histograms = MergedHistograms::new();
    for name in hlog_file_names(&[strategy.name.as_str()]) {
        histograms
            .add_file(&run.join(HISTOGRAMS_DIR).join(name))
            .expect("histogram log");
    }
    let logged = |tag: &str| {
        let histogram = histograms.tag(tag).expect("a histogram");
        assert_eq!(histogram.len(), REQUESTS as u64, "{tag} histogram");
        QUANTILES
            .map(|(q, _)| histogram.median_equivalent(histogram.value_at_quantile(q)) as f64 * 1e-6)
    };
    Measured {
        reported: [logged(TTFT_TAG), percentiles(&samples)[1], logged(E2E_TAG)],
        samples,
    }
}

/// GuideLLM's `guidellm` command in the checkout's venv, or a failure naming the installer.
fn guidellm_command() -> PathBuf {
    let command = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/guidellm-venv/bin/guidellm");
    assert!(
        command.is_file(),
        "{} is missing: run .ci/install-python-deps (it installs GuideLLM 0.8.1 into \
         target/guidellm-venv)",
        command.display()
    );
    command
}

/// Run GuideLLM to its end (its own process group, killed whole past [`WATCHDOG`]).
fn run_bounded(command: &mut Command) -> Output {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("guidellm starts");
    let group = Pid::from_child(&child);
    let (finished, watchdog) = mpsc::channel::<()>();
    let guard = std::thread::spawn(move || {
        if watchdog.recv_timeout(WATCHDOG).is_err() {
            let _ = kill_process_group(group, Signal::KILL);
        }
    });
    let output = child.wait_with_output().expect("guidellm ends");
    let _ = finished.send(());
    guard.join().expect("watchdog");
    output
}

/// GuideLLM 0.8.1 against a fresh mock, offline: the same 21 requests (prompts from a local
/// JSONL file, 20 output tokens each) at a constant 4 a second, its JSON report read back:
/// the percentiles it reports and every request's own TTFT, ITL and latency.
fn guidellm(command: &Path, dir: &Path, scenario: &Path) -> Measured {
    let data = dir.join("data.jsonl");
    let rows: String = (0..REQUESTS)
        .map(|index| {
            format!("{{\"prompt\": \"Tell me about request {index}.\", \"output_tokens_count\": {TOKENS}}}\n")
        })
        .collect();
    fs::write(&data, rows).expect("data.jsonl");
    let out = dir.join("out.json");
    let mock = Mock::start(scenario, &[]);
    let output = run_bounded(
        Command::new(command)
            .current_dir(dir)
            .env("HF_HUB_OFFLINE", "1")
            .env("HF_DATASETS_OFFLINE", "1")
            .env("HF_HOME", dir.join("hf-home"))
            // One worker process, not ten: four requests a second need no more, and ten
            // Python processes starting on two cores is most of GuideLLM's time and load.
            .env("GUIDELLM__MAX_WORKER_PROCESSES", "1")
            .arg("run")
            .arg("--backend")
            .arg(format!(
                "kind=openai_http,target={}/openai,model=gpt-4o,validate_backend=false,api_key=x",
                mock.url
            ))
            .arg("--data")
            .arg(format!("kind=json_file,path={}", data.display()))
            .args(["--profile", &format!("kind=constant,rate={RATE}")])
            .args([
                "--constraint",
                &format!("kind=max_requests,count={REQUESTS}"),
            ])
            .arg("--output")
            .arg(format!("kind=json,path={}", out.display()))
            .arg("--disable-console"),
    );
    drop(mock);
    assert!(
        output.status.success(),
        "guidellm: {:?}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&out).expect("out.json")).expect("out.json");
    let benchmark = &report["benchmarks"][0];
    let number = |value: &serde_json::Value, what: &str| {
        value
            .as_f64()
            .unwrap_or_else(|| panic!("guidellm: no {what}"))
    };
    // The k-th request of the constant schedule is due at start + k / rate (k from 1): the
    // k-th to reach the mock, the k-th draw.
    let mut samples: Vec<Option<Sample>> = vec![None; REQUESTS];
    for request in benchmark["requests"]["successful"]
        .as_array()
        .expect("successful requests")
    {
        assert_eq!(
            request["output_tokens"].as_u64(),
            Some(u64::from(TOKENS)),
            "guidellm: {request}"
        );
        let info = &request["info"];
        let due = number(&info["timings"]["targeted_start"], "targeted start")
            - number(&info["scheduler_start_time"], "scheduler start");
        let index = (due * f64::from(RATE)).round() as usize - 1;
        assert!(
            index < REQUESTS && samples[index].is_none(),
            "guidellm: request due at {due} s"
        );
        samples[index] = Some([
            number(&request["time_to_first_token_ms"], "TTFT") * 1e-3,
            number(&request["inter_token_latency_ms"], "ITL") * 1e-3,
            number(&request["request_latency"], "latency"),
        ]);
    }
    let samples: Vec<Sample> = samples.into_iter().flatten().collect();
    assert_eq!(
        samples.len(),
        REQUESTS,
        "guidellm: every request answered (its scheduler's state: {})",
        benchmark["scheduler_state"]
    );
    let metrics = &benchmark["metrics"];
    let reported = |name: &str, to_seconds: f64| {
        QUANTILES.map(|(_, key)| {
            number(&metrics[name]["successful"]["percentiles"][key], name) * to_seconds
        })
    };
    Measured {
        samples,
        reported: [
            reported("time_to_first_token_ms", 1e-3),
            reported("inter_token_latency_ms", 1e-3),
            reported("request_latency", 1.0),
        ],
    }
}

/// One round: `throttlebox load` and GuideLLM, each against a fresh mock.
struct Round {
    load: Measured,
    guide: Measured,
}

/// The median over the rounds of `figure` of each round.
fn over_rounds(rounds: &[Round], figure: impl Fn(&Round) -> f64) -> f64 {
    median(&rounds.iter().map(figure).collect::<Vec<_>>())
}

/// The median over the rounds of one tool's median excess over the draws, metric `m`.
fn median_excess(
    rounds: &[Round],
    plan: &[Sample],
    m: usize,
    tool: fn(&Round) -> &Measured,
) -> f64 {
    over_rounds(rounds, |round| {
        median(&excess(&tool(round).samples, plan, m))
    })
}

/// The median over the rounds of one tool's reported percentile `i` of metric `m`.
fn reported(rounds: &[Round], m: usize, i: usize, tool: fn(&Round) -> &Measured) -> f64 {
    over_rounds(rounds, |round| tool(round).reported[m][i])
}

fn load_of(round: &Round) -> &Measured {
    &round.load
}

fn guide_of(round: &Round) -> &Measured {
    &round.guide
}

/// The figures side by side (ms), medians over the rounds: each reported percentile with the
/// planned draw's, each tool's median excess over its draws; then every round's own.
fn table(plan: &[Sample], rounds: &[Round]) -> String {
    let planned = percentiles(plan);
    let ms = |value: f64| value * 1e3;
    let mut text = String::from("metric  figure         planned  throttlebox  guidellm  gl − tb\n");
    for (m, name) in METRICS.iter().enumerate() {
        for (i, (_, key)) in QUANTILES.iter().enumerate() {
            let (t, g) = (
                reported(rounds, m, i, load_of),
                reported(rounds, m, i, guide_of),
            );
            text.push_str(&format!(
                "{name:<6}  {key:<13}  {:>7.3}  {:>11.3}  {:>8.3}  {:>+7.3}\n",
                ms(planned[m][i]),
                ms(t),
                ms(g),
                ms(g - t)
            ));
        }
        let (t, g) = (
            median_excess(rounds, plan, m, load_of),
            median_excess(rounds, plan, m, guide_of),
        );
        text.push_str(&format!(
            "{name:<6}  {:<13}  {:>7}  {:>11.3}  {:>8.3}  {:>+7.3}\n",
            "excess median",
            "",
            ms(t),
            ms(g),
            ms(g - t)
        ));
    }
    for (k, round) in rounds.iter().enumerate() {
        text.push_str(&format!("round {k}:"));
        for (m, name) in METRICS.iter().enumerate() {
            let t = median(&excess(&round.load.samples, plan, m));
            let g = median(&excess(&round.guide.samples, plan, m));
            let reported = |tool: &Measured| {
                tool.reported[m]
                    .map(|value| format!("{:.3}", ms(value)))
                    .join("/")
            };
            text.push_str(&format!(
                "  {name} excess {:.3} | {:.3}, p50/95/99 {} | {}",
                ms(t),
                ms(g),
                reported(&round.load),
                reported(&round.guide)
            ));
        }
        text.push('\n');
    }
    text
}

/// Each tool's reported percentiles are the nearest-rank percentiles of its own requests (the
/// two compute them alike, so they can be compared).
fn assert_nearest_rank(round: &Round) {
    let (own_load, own_guide) = (
        percentiles(&round.load.samples),
        percentiles(&round.guide.samples),
    );
    for (m, name) in METRICS.iter().enumerate() {
        for (i, (_, key)) in QUANTILES.iter().enumerate() {
            let (t, g) = (round.load.reported[m][i], round.guide.reported[m][i]);
            assert!(
                (g - own_guide[m][i]).abs() <= 1e-9,
                "{name} {key}: GuideLLM reports {g}, the nearest rank of its requests is {}",
                own_guide[m][i]
            );
            assert!(
                (t - own_load[m][i]).abs() <= CSV_ROUNDING_S,
                "{name} {key}: throttlebox reports {t}, the nearest rank of its requests is {}",
                own_load[m][i]
            );
        }
    }
}

#[test]
fn guidellm_and_throttlebox_load_agree_on_the_same_seeded_draws() {
    let command = guidellm_command();
    // Wall-clock latencies: not beside the other timing-sensitive or CPU-heavy tests.
    let _cores = crate::live_support::take_the_cores();
    let root = scratch("guidellm", "crosscheck");
    let scenario_path = root.join("scenario.toml");
    fs::write(&scenario_path, SCENARIO).expect("scenario");
    let scenario = Scenario::load(&scenario_path, &[]).expect("scenario loads");

    let plan = planned(&scenario);
    let rounds: Vec<Round> = (0..ROUNDS)
        .map(|k| {
            let dir = root.join(format!("round-{k}"));
            fs::create_dir_all(&dir).expect("round folder");
            Round {
                load: throttlebox_load(&dir, &scenario_path),
                guide: guidellm(&command, &dir, &scenario_path),
            }
        })
        .collect();
    let table = table(&plan, &rounds);
    eprintln!("{table}");
    rounds.iter().for_each(assert_nearest_rank);

    let planned = percentiles(&plan);
    for (m, name) in METRICS.iter().enumerate() {
        // The percentiles both report: alike, and a little above the planned draws'.
        let (agree, below, above) = if *name == "ITL" {
            let per_gap = STALL_S / f64::from(TOKENS - 1);
            (AGREE_PERCENTILE_ITL_S, per_gap, per_gap)
        } else {
            (AGREE_PERCENTILE_S, BELOW_S, STALL_S)
        };
        for (i, (_, key)) in QUANTILES.iter().enumerate() {
            let (t, g, p) = (
                reported(&rounds, m, i, load_of),
                reported(&rounds, m, i, guide_of),
                planned[m][i],
            );
            assert!(
                (g - t).abs() <= agree,
                "{name} {key}: GuideLLM and throttlebox differ by {:.3} ms\n{table}",
                (g - t) * 1e3
            );
            for (tool, value) in [("throttlebox", t), ("GuideLLM", g)] {
                assert!(
                    value >= p - below && value <= p + above,
                    "{name} {key}: {tool} reads {:.3} ms, the planned draw {:.3} ms\n{table}",
                    value * 1e3,
                    p * 1e3
                );
            }
        }
        // Request by request, on the same draw: both a little above it, and alike.
        let (t, g) = (
            median_excess(&rounds, &plan, m, load_of),
            median_excess(&rounds, &plan, m, guide_of),
        );
        let (low, high, agree) = if *name == "ITL" {
            (-EXCESS_ITL_S, EXCESS_ITL_S, AGREE_ITL_S)
        } else {
            (0.0, EXCESS_S, AGREE_S)
        };
        for (tool, value) in [("throttlebox", t), ("GuideLLM", g)] {
            assert!(
                (low..=high).contains(&value),
                "{name}: {tool}'s median excess over the planned draws is {:.3} ms\n{table}",
                value * 1e3
            );
        }
        assert!(
            (g - t).abs() <= agree,
            "{name}: the median excesses differ by {:.3} ms (GuideLLM − throttlebox)\n{table}",
            (g - t) * 1e3
        );
    }
}
