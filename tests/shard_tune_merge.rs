//! Sharded tunes merged (issue #15 item 1): `tune --shard K/N` processes of the built binary
//! each search from their part of the unsharded initial design with 1/N of the budget, and
//! `throttlebox merge` pools their evaluations into one recommendation, deterministically;
//! shards of different tunes are refused naming the field.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Output};

use serde_json::Value;

use crate::cli_support::{files, scratch, start_in, succeeded};

const BUDGET: &str = "60000";

/// `tune` with a small space on two-minute runs over two seeds; `extra` appended.
fn tune_args(results: &Path, run: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "tune",
        "--strategy",
        "apim-pool trip 10s",
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
        "--budget-requests",
        BUDGET,
        "--jobs",
        "1",
        "--results",
        &results.display().to_string(),
        "--run",
        run,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if !extra.contains(&"--seeds") {
        args.extend(["--seeds".to_string(), "2".to_string()]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn start(args: &[String]) -> Child {
    start_in(Path::new(env!("CARGO_TARGET_TMPDIR")), args)
}

fn finish(child: Child) -> Output {
    child.wait_with_output().expect("throttlebox ends")
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(path).expect("readable")).expect("JSON")
}

fn merge(shards: &[PathBuf], out: &Path) -> Output {
    crate::cli_support::merge(shards, out, &[])
}

/// The `key=value …` of a `values` array in `tune.json`.
fn label(values: &Value) -> String {
    values
        .as_array()
        .expect("values")
        .iter()
        .map(|kv| {
            format!(
                "{}={}",
                kv["key"].as_str().unwrap_or(""),
                kv["value"].as_str().unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The settings of `tune.json`'s design-stage evaluations, in order.
fn design(tune: &Value) -> Vec<String> {
    tune["evaluations"]
        .as_array()
        .expect("evaluations")
        .iter()
        .filter(|e| e["stage"] == "design")
        .map(|e| label(&e["values"]))
        .collect()
}

/// Two shards and the unsharded tune, side by side; returns (unsharded, shard folders).
fn run_two_shards(results: &Path) -> (PathBuf, Vec<PathBuf>) {
    let _cores = crate::live_support::take_the_cores();
    let whole = start(&tune_args(results, "whole", &[]));
    let shards: Vec<Child> = (0..2)
        .map(|k| {
            start(&tune_args(
                results,
                &format!("s{k}"),
                &["--shard", &format!("{k}/2")],
            ))
        })
        .collect();
    let whole_output = finish(whole);
    assert!(
        matches!(whole_output.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&whole_output.stderr)
    );
    for shard in shards {
        succeeded(&finish(shard));
    }
    (
        results.join("whole"),
        (0..2).map(|k| results.join(format!("s{k}"))).collect(),
    )
}

#[test]
fn tune_shards_split_the_design_and_merge_into_the_best_checked_setting_byte_for_byte() {
    let results = scratch("shard-tune", "merge");
    let (whole, shards) = run_two_shards(&results);

    // The shards start from the unsharded design's points (K mod 2 of it: together all of
    // them; a setting two design points round to is evaluated once), with half the budget each.
    let sorted = |mut settings: Vec<String>| {
        settings.sort();
        settings.dedup();
        settings
    };
    let unsharded = sorted(design(&json(&whole.join("tune.json"))));
    let mut union = Vec::new();
    for (k, shard) in shards.iter().enumerate() {
        let tune = json(&shard.join("tune.json"));
        let own = design(&tune);
        assert!(
            own.len() < unsharded.len() && own.iter().all(|s| unsharded.contains(s)),
            "shard {k}/2 starts from part of the unsharded design: {own:?} of {unsharded:?}"
        );
        union.extend(own);
        assert_eq!(tune["shard"], format!("{k}/2"));
        assert_eq!(tune["budget"]["requests"].as_u64(), Some(30_000));
        assert!(tune["budget"]["used"].as_u64().expect("used") <= 30_000);
        let manifest = json(&shard.join("shard.json"));
        assert_eq!(manifest["split"], "starts");
        let points = manifest["tune"]["setup"]["design_points"]
            .as_u64()
            .expect("design_points");
        let items: Vec<u64> = (k as u64..points).step_by(2).collect();
        assert_eq!(manifest["items"], serde_json::json!(items));
    }
    assert_eq!(
        sorted(union),
        unsharded,
        "the shards' starts make up the whole design"
    );

    let merged = results.join("merged");
    succeeded(&merge(&shards, &merged));
    let again = results.join("again");
    succeeded(&merge(&[shards[1].clone(), shards[0].clone()], &again));
    assert_eq!(files(&merged), files(&again));
    for file in ["tune.json", "tune.md", "tune.html"] {
        assert!(
            fs::read(merged.join(file)).expect(file) == fs::read(again.join(file)).expect(file),
            "{file} differs between two merges of the same shards"
        );
    }

    let tune = json(&merged.join("tune.json"));
    assert_eq!(tune["merged_from"]["shards"], 2);
    let markdown = fs::read_to_string(merged.join("tune.md")).expect("tune.md");
    assert!(markdown.contains("Merged from 2 tune shards"), "{markdown}");
    assert_eq!(tune["budget"]["requests"].as_u64(), Some(60_000));

    // The recommendation meets the constraint on the interval, as the unsharded tune judges it.
    let recommendation = &tune["recommendation"];
    assert_eq!(recommendation["feasible"], true, "{recommendation}");
    let success_low = recommendation["figures"]["success_ratio"]["low"]
        .as_f64()
        .expect("success interval");
    assert!(success_low >= 0.99, "{success_low}");
    let chosen = label(&recommendation["values"]);
    let mean = recommendation["objective"]["mean"].as_f64().expect("mean");

    // It is one of the shards' own full-fidelity evaluations, with the figures they measured.
    let evaluated = shards.iter().any(|shard| {
        json(&shard.join("shard.json"))["tune"]["search"]["evaluations"]
            .as_array()
            .expect("evaluations")
            .iter()
            .any(|e| {
                let setting: Vec<&str> = e["setting"]
                    .as_array()
                    .expect("setting")
                    .iter()
                    .map(|v| v.as_str().unwrap_or(""))
                    .collect();
                let values: Vec<&str> = recommendation["values"]
                    .as_array()
                    .expect("values")
                    .iter()
                    .map(|kv| kv["value"].as_str().unwrap_or(""))
                    .collect();
                setting == values && e["verdict"]["objective"]["mean"].as_f64() == Some(mean)
            })
    });
    assert!(evaluated, "{chosen} is not among the shards' evaluations");

    // At least as good as each shard's own recommendation (min p99_ttft; both feasible), and
    // robust whenever a shard's recommendation was.
    for shard in &shards {
        let own = &json(&shard.join("tune.json"))["recommendation"];
        if own.is_null() {
            continue;
        }
        let own_mean = own["objective"]["mean"].as_f64().expect("own mean");
        let own_robust = own["neighbourhood"]["robust"] == true;
        if own_robust {
            assert!(
                mean <= own_mean,
                "merged {chosen} ({mean}) is worse than {} ({own_mean}) of {}",
                label(&own["values"]),
                shard.display()
            );
            assert_eq!(recommendation["neighbourhood"]["robust"], true);
        }
    }
}

#[test]
fn tune_shards_of_different_tunes_are_refused_naming_the_field() {
    let results = scratch("shard-tune", "refused");
    let _cores = crate::live_support::take_the_cores();
    let runs: [(&str, Vec<&str>); 5] = [
        ("s0", vec!["--shard", "0/2"]),
        ("s1", vec!["--shard", "1/2"]),
        ("seeds", vec!["--shard", "1/2", "--seeds", "3"]),
        (
            "params",
            vec!["--shard", "1/2", "--param", "breaker.interval=5s..60s"],
        ),
        ("seed", vec!["--shard", "1/2", "--set", "seed=46"]),
    ];
    let children: Vec<Child> = runs
        .iter()
        .map(|(run, extra)| start(&tune_args(&results, run, extra)))
        .collect();
    for child in children {
        succeeded(&finish(child));
    }
    let shard = |run: &str| results.join(run);
    let cases: [(&str, Vec<PathBuf>, &[&str]); 4] = [
        ("seeds", vec![shard("s0"), shard("seeds")], &["tune.seeds"]),
        (
            "params",
            vec![shard("s0"), shard("params")],
            &["tune.params"],
        ),
        (
            "seed",
            vec![shard("s0"), shard("seed")],
            &["scenario_digest"],
        ),
        ("missing", vec![shard("s0")], &["missing: shard 1/2"]),
    ];
    for (name, given, wanted) in cases {
        let out = results.join(format!("merged-{name}"));
        let output = merge(&given, &out);
        let message = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}: {message}");
        for piece in wanted {
            assert!(
                message.contains(piece),
                "{name}: {piece:?} not in: {message}"
            );
        }
        if name != "missing" {
            let folder = given[1].display().to_string();
            assert!(
                message.contains(&folder),
                "{name}: {folder} not in: {message}"
            );
        }
        assert!(!out.exists(), "{} was left behind", out.display());
    }
    // The two shards of one tune do merge.
    succeeded(&merge(&[shard("s0"), shard("s1")], &results.join("merged")));
}
