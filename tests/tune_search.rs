//! `throttlebox tune` against what it must beat and what it must refuse:
//!
//! - on the embedded default scenario, tuning the trip duration and interval of `apim-pool trip
//!   10s` finds a setting at least as good as the best cell of the equivalent 10×10 grid —
//!   computed here with `sweep`, over the same seeds, judged by the same rule — with at most a
//!   quarter of the grid's simulated requests;
//! - the optimum found on one seed, which breaks the constraint on other seeds, is not what a
//!   tune over several seeds recommends;
//! - the same inputs give byte-identical `tune.json`, `tune.md` and `tune.html`, whatever the
//!   thread count; bad flags are usage errors (exit 2);
//! - what to paste is read off the strategy that ran: APIM's rule with ISO-8601 durations,
//!   LiteLLM's `router_settings`.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

use throttlebox::report::bound::parse_bounds;
use throttlebox::report::metric::figures;
use throttlebox::scenario::Override;
use throttlebox::shard::Shard;
use throttlebox::sim::StopFlag;
use throttlebox::sweep::{Axis, SweepRequest, run_sweep};
use throttlebox::tune::Setting;
use throttlebox::tune::evaluate::{Context, estimates};
use throttlebox::tune::fragment::fragments;
use throttlebox::tune::judge::{rank, verdict};
use throttlebox::tune::{JudgeRule, Objective, Param, TuneRequest, tune};

use crate::cli_support::{BIN, owned, scratch, succeeded};

const STRATEGY: &str = "apim-pool trip 10s";

fn sets(texts: &[&str]) -> Vec<Override> {
    texts
        .iter()
        .map(|text| Override::parse(text).expect("override"))
        .collect()
}

#[test]
fn tune_is_at_least_as_good_as_the_ten_by_ten_grid_with_a_quarter_of_its_requests() {
    let _cores = crate::live_support::take_the_cores();
    // Five-minute runs keep the debug build quick; three seeds, the same for grid and tune.
    let fixed = sets(&["workload.duration=5m"]);
    let params = vec![
        Param::parse("breaker.trip_duration=5s..120s").unwrap(),
        Param::parse("breaker.interval=5s..120s").unwrap(),
    ];
    let objective = Objective::parse("min cost").unwrap();
    let bounds = parse_bounds("--constraint", "success>=99%").unwrap();
    let seeds = ["42", "43", "44"];

    // The grid: ten values per range, spaced as tune spaces them (log scale, same rounding).
    let axis = |param: &Param| Axis {
        key: param.key.clone(),
        values: (0..10).map(|i| param.decode(f64::from(i) / 9.0)).collect(),
    };
    assert_eq!(axis(&params[0]).values[0], "5s");
    assert_eq!(axis(&params[0]).values[9], "120s");
    let axes = [
        Axis {
            key: "seed".to_string(),
            values: seeds.iter().map(|s| s.to_string()).collect(),
        },
        axis(&params[0]),
        axis(&params[1]),
    ];
    let strategies = [STRATEGY.to_string()];
    let grid = run_sweep(
        &SweepRequest {
            path: None,
            fixed: &fixed,
            axes: &axes,
            strategies: &strategies,
            jobs: 2,
            shard: Shard::WHOLE,
        },
        &|_| {},
        &StopFlag::new(),
    )
    .expect("the grid runs");
    assert_eq!(grid.finished_cells, 300);
    // Each (trip, interval) cell over the three seeds, judged as tune judges.
    let mut by_cell: BTreeMap<Vec<String>, Vec<_>> = BTreeMap::new();
    for result in &grid.strategies[0].results {
        let values = grid.cells[result.cell.expect("a grid cell")].values();
        by_cell
            .entry(values[1..].to_vec())
            .or_default()
            .push(figures(&result.summary));
    }
    assert_eq!(by_cell.len(), 100);
    let verdicts: Vec<(Vec<String>, _)> = by_cell
        .into_iter()
        .map(|(cell, runs)| {
            assert_eq!(runs.len(), 3);
            let runs: Vec<_> = runs.iter().collect();
            let judged = verdict(&estimates(&runs), &objective, &bounds, JudgeRule::Interval);
            (cell, judged)
        })
        .collect();
    let (grid_cell, grid_best) = verdicts
        .iter()
        .min_by(|a, b| rank(&a.1, &b.1, &objective))
        .expect("cells");
    assert!(grid_best.feasible, "some grid cell meets the constraint");
    let grid_cost = grid_best.objective.expect("cost").mean;

    let budget = grid.simulated_requests / 4;
    let run = tune(
        TuneRequest {
            path: None,
            fixed,
            strategy: STRATEGY.to_string(),
            params,
            objective,
            bounds,
            rule: JudgeRule::Interval,
            seeds: 3,
            budget,
            profile_points: 7,
            jobs: 2,
            stop: StopFlag::new(),
            shard: Shard::WHOLE,
        },
        &|_| {},
        &|_, _| {},
    )
    .expect("tune runs");
    assert!(
        run.used <= grid.simulated_requests / 4,
        "tune simulated {} requests, the grid {}",
        run.used,
        grid.simulated_requests
    );
    assert_eq!(run.context.seeds, [42, 43, 44]);
    let recommended = &run.evaluations[run.recommended.expect("a recommendation")];
    assert!(recommended.full && recommended.verdict.feasible);
    let tuned_cost = recommended.verdict.objective.expect("cost").mean;
    assert!(
        tuned_cost <= grid_cost,
        "tune recommends {} at cost {tuned_cost}, the grid's best cell {grid_cell:?} costs {grid_cost}",
        recommended.setting.label(&run.context.params)
    );
}

fn tune_args(results: &Path, run: &str, seeds: &str, budget: &str) -> Vec<String> {
    owned(&[
        "tune",
        "--strategy",
        STRATEGY,
        "--set",
        "seed=45",
        "--param",
        "breaker.trip_duration=5s..120s",
        "--objective",
        "min cost",
        "--constraint",
        "success>=85%",
        "--seeds",
        seeds,
        "--budget-requests",
        budget,
        "--jobs",
        "2",
        "--run",
        run,
        "--results",
        &results.display().to_string(),
    ])
}

/// Run the binary with `args`; it must succeed.
fn succeed(args: &[String]) {
    succeeded(
        &Command::new(BIN)
            .args(args)
            .output()
            .expect("throttlebox runs"),
    );
}

fn tune_json(results: &Path, run: &str, args: &[String]) -> serde_json::Value {
    succeed(args);
    let text = fs::read_to_string(results.join(run).join("tune.json")).expect("tune.json");
    serde_json::from_str(&text).expect("tune.json is JSON")
}

/// The trip duration of `which` (`recommendation`, `best_found`) in a `tune.json`.
fn trip(json: &serde_json::Value, which: &str) -> String {
    json[which]["values"][0]["value"]
        .as_str()
        .unwrap_or_else(|| panic!("no {which} in {json}"))
        .to_string()
}

#[test]
fn the_optimum_of_one_seed_that_fails_on_others_is_not_recommended() {
    let _cores = crate::live_support::take_the_cores();
    let results = scratch("tune-cli", "seeds");
    // Cost falls as longer trips drop more requests: the cheapest trip meeting success ≥ 85 %
    // sits on the edge, where seed 45's luck decides. The optimum on that one seed is the best
    // setting a one-seed tune finds.
    let single = tune_json(&results, "one", &tune_args(&results, "one", "1", "60000"));
    let lucky = trip(&single, "best_found");

    // Check the single-seed optimum on the other seeds here, with sweep.
    let lucky_set = format!("breaker.trip_duration={lucky}");
    let folder = results.display().to_string();
    succeed(&owned(&[
        "sweep",
        "--strategy",
        STRATEGY,
        "--set",
        "seed=46,47,48,49",
        "--set",
        &lucky_set,
        "--run",
        "check",
        "--results",
        &folder,
    ]));
    let csv = fs::read_to_string(results.join("check/sweep.csv")).expect("sweep.csv");
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let column = reader
        .headers()
        .expect("header")
        .iter()
        .position(|h| h == "success_ratio")
        .expect("success column");
    let worst = reader
        .records()
        .map(|row| row.expect("row")[column].parse::<f64>().expect("a ratio"))
        .fold(f64::INFINITY, f64::min);
    assert!(
        worst < 0.85,
        "the premise: {lucky} meets success ≥ 85 % on seed 45 only by luck (worst other seed \
         {worst})"
    );

    let robust = tune_json(
        &results,
        "five",
        &tune_args(&results, "five", "5", "300000"),
    );
    assert_eq!(robust["seeds"], serde_json::json!([45, 46, 47, 48, 49]));
    assert_ne!(trip(&robust, "recommendation"), lucky);
    let recommendation = &robust["recommendation"];
    assert_eq!(recommendation["feasible"], true);
    // Judged on the interval: its lower end over the five seeds is above the bound.
    let slack = &recommendation["slack"][0];
    assert_eq!(slack["constraint"], "success_ratio>=85%");
    let low = recommendation["figures"]["success_ratio"]["low"]
        .as_f64()
        .expect("interval");
    assert_eq!(slack["judged"].as_f64(), Some(low));
    assert!(low >= 0.85, "{low}");
}

#[test]
fn the_same_inputs_give_byte_identical_outputs_whatever_the_threads() {
    let results = scratch("tune-cli", "determinism");
    let args = |run: &str, jobs: &str| -> Vec<String> {
        owned(&[
            "tune",
            "--strategy",
            STRATEGY,
            "--set",
            "workload.duration=2m",
            "--param",
            "breaker.trip_duration=5s..60s",
            "--param",
            "breaker.accept_retry_after=true|false",
            "--objective",
            "min p99_ttft",
            "--constraint",
            "success>=99%",
            "--seeds",
            "2",
            "--budget-requests",
            "30000",
            "--jobs",
            jobs,
            "--run",
            run,
            "--results",
            &results.display().to_string(),
        ])
    };
    for (run, jobs) in [("one", "1"), ("two", "2")] {
        let output = Command::new(BIN)
            .args(args(run, jobs))
            .output()
            .expect("runs");
        assert!(
            output.status.code() == Some(0) || output.status.code() == Some(1),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    for file in ["tune.json", "tune.md", "tune.html"] {
        let one = fs::read(results.join("one").join(file)).expect(file);
        let two = fs::read(results.join("two").join(file)).expect(file);
        assert!(one == two, "{file} differs between --jobs 1 and --jobs 2");
    }
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(results.join("one/tune.json")).expect("json"))
            .expect("JSON");
    assert!(json["budget"]["used"].as_u64().expect("used") <= 30000);
    assert_eq!(json["interrupted"], false);
}

#[test]
fn bad_tune_flags_are_usage_errors_that_say_why() {
    let results = scratch("tune-cli", "usage");
    let cases: [(&[&str], &str); 5] = [
        (&["--param", "breaker.trip_duration=120s..5s"], "--param"),
        (
            &[
                "--param",
                "breaker.trip_duration=5s..60s",
                "--objective",
                "min nothing",
            ],
            "unknown metric",
        ),
        (
            &[
                "--strategy",
                "round-robin",
                "--param",
                "breaker.trip_duration=5s..60s",
            ],
            "breaker.trip_duration",
        ),
        (
            &[
                "--param",
                "breaker.trip_duration=5s..60s",
                "--constraint",
                "success>=120%",
            ],
            "--constraint",
        ),
        // A shard must have a starting point: more shards than the design has points.
        (
            &[
                "--param",
                "breaker.trip_duration=5s..60s",
                "--budget-requests",
                "30000",
                "--shard",
                "99/100",
            ],
            "--shard",
        ),
    ];
    for (extra, expected) in cases {
        let mut args = vec!["tune"];
        if !extra.contains(&"--objective") {
            args.extend(["--objective", "min cost"]);
        }
        if !extra.contains(&"--strategy") {
            args.extend(["--strategy", STRATEGY]);
        }
        args.extend(extra);
        let output = Command::new(BIN)
            .args(&args)
            .arg("--results")
            .arg(&results)
            .output()
            .expect("throttlebox runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    assert!(
        fs::read_dir(&results).expect("folder").next().is_none(),
        "no run folder is left behind"
    );
}

#[test]
fn the_fragments_to_paste_are_read_off_the_strategy_that_ran() {
    let context = |path: Option<std::path::PathBuf>, strategy: &str, params: &[&str]| Context {
        path,
        fixed: Vec::new(),
        strategy: strategy.to_string(),
        params: params
            .iter()
            .map(|p| Param::parse(p).expect("param"))
            .collect(),
        seeds: vec![1],
        full_duration: std::time::Duration::from_secs(60),
        objective: Objective::parse("min cost").expect("objective"),
        bounds: Vec::new(),
        rule: JudgeRule::Interval,
        jobs: 1,
        stop: StopFlag::new(),
    };
    let burst = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/multi-region-burst.toml");
    let litellm = context(
        Some(burst),
        "litellm-usage",
        &["breaker.cooldown=1s..60s", "retry.count=0..4"],
    );
    let pasted = fragments(&litellm, &Setting(vec!["12s".into(), "3".into()])).expect("fragments");
    assert_eq!(
        pasted.set_line,
        "--set 'breaker.cooldown=12s' --set 'retry.count=3'"
    );
    assert_eq!(
        pasted.strategy_set_line.as_deref(),
        Some(
            "--set 'strategies[litellm-usage].breaker.cooldown=12s' --set \
             'strategies[litellm-usage].retry.count=3'"
        )
    );
    let yaml = pasted.litellm.expect("router_settings");
    assert!(yaml.starts_with("router_settings:\n"), "{yaml}");
    assert!(
        yaml.contains("  cooldown_time: 12\n") && yaml.contains("  num_retries: 3\n"),
        "{yaml}"
    );
    assert!(pasted.apim_rule.is_none());

    let apim = context(
        None,
        STRATEGY,
        &[
            "breaker.trip_duration=5s..120s",
            "breaker.interval=5s..120s",
        ],
    );
    let pasted = fragments(&apim, &Setting(vec!["6.2s".into(), "42s".into()])).expect("fragments");
    let rule: serde_json::Value =
        serde_json::from_str(&pasted.apim_rule.expect("the APIM rule")).expect("JSON");
    assert_eq!(rule["tripDuration"], "PT6.2S");
    assert_eq!(rule["failureCondition"]["interval"], "PT42S");
    // The rest of the imported rule is kept: its name, count and status codes.
    assert_eq!(rule["name"], "breakThrottling ");
    assert_eq!(rule["failureCondition"]["count"], 1);
    assert_eq!(
        rule["failureCondition"]["statusCodeRanges"],
        serde_json::json!([{ "min": 429, "max": 429 }])
    );
    assert_eq!(rule["acceptRetryAfter"], false);
    assert!(pasted.litellm.is_none() && pasted.apim_retry.is_none());
}
