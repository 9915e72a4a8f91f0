//! Sharded simulations merged back (issue #15): N `sim --shard K/N` processes of the built
//! binary, run side by side, and `throttlebox merge` give a folder that is the unsharded run's
//! byte for byte; sweeps likewise (the strategies no axis reaches come from shard 0); shards that do not line up are refused with the folder and
//! the field; plan shards plan their strategies.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use rustix::process::{Pid, Signal, kill_process};

use crate::cli_support::{BIN, files, fixture, merge, scratch, start_in, succeeded};

/// `throttlebox ARGS` run in `cwd` (started, not waited for).
fn start(cwd: &Path, args: &[&str]) -> Child {
    start_in(cwd, args)
}

fn finish(child: Child) -> Output {
    child.wait_with_output().expect("throttlebox ends")
}

/// Run the unsharded command and its N shards at once, each in its own working folder with
/// the same relative `--results out --run r` (so the shards' commands without `--shard` are
/// the unsharded one), and return (unsharded folder, shard folders).
fn run_sharded(root: &Path, args: &[&str], count: u32) -> (PathBuf, Vec<PathBuf>) {
    // N + 1 processes load the cores for a moment: not beside a live-vs-simulator comparison.
    let _cores = crate::live_support::take_the_cores();
    let mut common: Vec<&str> = args.to_vec();
    common.extend(["--results", "out", "--run", "r", "--jobs", "1"]);
    let whole = start(&root.join("whole"), &common);
    let specs: Vec<String> = (0..count).map(|index| format!("{index}/{count}")).collect();
    let shards: Vec<Child> = specs
        .iter()
        .enumerate()
        .map(|(index, spec)| {
            let mut shard_args = common.clone();
            shard_args.extend(["--shard", spec.as_str()]);
            start(&root.join(format!("shard{index}")), &shard_args)
        })
        .collect();
    succeeded(&finish(whole));
    for shard in shards {
        succeeded(&finish(shard));
    }
    (
        root.join("whole/out/r"),
        (0..count)
            .map(|index| root.join(format!("shard{index}/out/r")))
            .collect(),
    )
}

/// A run folder's `summary.json` and its strategies' names.
fn summary_of(folder: &Path) -> (serde_json::Value, Vec<String>) {
    let summary: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(folder.join("summary.json")).expect("summary"))
            .expect("json");
    let names = summary["strategies"]
        .as_array()
        .expect("strategies")
        .iter()
        .map(|s| s["name"].as_str().expect("name").to_string())
        .collect();
    (summary, names)
}

/// Every file under `expected` is under `actual` with the same bytes, and nothing else is.
fn assert_identical_folders(expected: &Path, actual: &Path) {
    assert_eq!(files(expected), files(actual));
    for name in files(expected) {
        let (want, got) = (expected.join(&name), actual.join(&name));
        if want.is_file() {
            assert!(
                fs::read(&want).expect("expected file") == fs::read(&got).expect("merged file"),
                "{name} differs between {} and {}",
                want.display(),
                got.display()
            );
        }
    }
}

#[test]
fn sim_shards_merged_are_the_unsharded_run_byte_for_byte() {
    let root = scratch("shard-sim", "default");
    // The embedded default: six strategies, so shards of two, two, one and one strategy.
    let (whole, shards) = run_sharded(&root, &["sim", "--set", "workload.duration=3m"], 4);
    for (index, shard) in shards.iter().enumerate() {
        let (_, names) = summary_of(shard);
        let expected = [
            vec!["apim-pool (seed JSON)", "token-headroom"],
            vec!["apim-pool trip 10s", "round-robin"],
            vec!["apim-smart-policy"],
            vec!["powerproxy"],
        ];
        assert_eq!(names, expected[index], "shard {index}");
        assert!(shard.join("shard.json").is_file());
    }
    // Given in any order.
    let mut given = shards.clone();
    given.reverse();
    let merged = root.join("merged");
    let output = merge(&given, &merged, &[]);
    succeeded(&output);
    assert!(String::from_utf8_lossy(&output.stdout).contains("apim-smart-policy"));
    assert_identical_folders(&whole, &merged);
    // A folder of shard folders is taken whole.
    let parent = root.join("all-shards");
    fs::create_dir_all(&parent).expect("dir");
    for (index, shard) in shards.iter().enumerate() {
        fs::rename(shard, parent.join(format!("shard-{index}"))).expect("move");
    }
    let again = root.join("merged-again");
    succeeded(&merge(&[parent], &again, &[]));
    assert_identical_folders(&whole, &again);
}

#[test]
fn sweep_shards_merged_are_the_whole_sweep_byte_for_byte() {
    let root = scratch("shard-sim", "sweep");
    let fixture = fixture();
    let scenario = fixture.to_str().expect("utf-8 path");
    let (whole, shards) = run_sharded(
        &root,
        &[
            "sweep",
            scenario,
            "--set",
            "seed=3,4,5,6,7",
            "--set",
            "workload.duration=40s",
        ],
        2,
    );
    let cells = |folder: &Path| {
        fs::read_to_string(folder.join("sweep.csv"))
            .expect("sweep.csv")
            .lines()
            .skip(1)
            .map(|line| line.split(',').next().unwrap_or("").to_string())
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert_eq!(cells(&shards[0]), ["3", "5", "7"].map(String::from).into());
    assert_eq!(cells(&shards[1]), ["4", "6"].map(String::from).into());
    let merged = root.join("merged");
    succeeded(&merge(&shards, &merged, &[]));
    assert_identical_folders(&whole, &merged);
}

#[test]
fn sweep_shards_with_strategies_no_axis_reaches_merge_byte_for_byte() {
    let root = scratch("shard-sim", "sweep-once");
    // The embedded default: the breaker axis reaches the two APIM pools; the other four
    // strategies are simulated once for the whole sweep, by shard 0 only.
    let (whole, shards) = run_sharded(
        &root,
        &[
            "sweep",
            "--set",
            "breaker.trip_duration=10s,30s,60s",
            "--set",
            "workload.duration=40s",
            "--constraint",
            "success>=99%",
        ],
        2,
    );
    let rows = |folder: &Path| {
        let csv = fs::read_to_string(folder.join("sweep.csv")).expect("sweep.csv");
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        reader
            .records()
            .map(|row| {
                let row = row.expect("row");
                (row[0].to_string(), row[1].to_string())
            })
            .collect::<Vec<_>>()
    };
    let (first, second) = (rows(&shards[0]), rows(&shards[1]));
    let once = |rows: &[(String, String)]| rows.iter().filter(|(trip, _)| trip.is_empty()).count();
    assert_eq!(
        once(&first),
        4,
        "shard 0 simulates the four unreached strategies once"
    );
    assert_eq!(once(&second), 0, "shard 1 simulates none of them");
    let trips = |rows: &[(String, String)]| {
        rows.iter()
            .filter(|(trip, _)| !trip.is_empty())
            .map(|(trip, _)| trip.clone())
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert_eq!(trips(&first), ["10s", "60s"].map(String::from).into());
    assert_eq!(trips(&second), ["30s"].map(String::from).into());
    let shard_md = fs::read_to_string(shards[1].join("sweep.md")).expect("sweep.md");
    assert!(
        shard_md.contains("Shard 1/2 of a sharded sweep"),
        "{shard_md}"
    );
    let merged = root.join("merged");
    succeeded(&merge(&shards, &merged, &[]));
    // sweep.csv, sweep.md (the once rows, the best cells under the constraint) and sweep.html.
    assert_identical_folders(&whole, &merged);
    assert!(merged.join("sweep.html").is_file());
}

fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Refused with exit 2, the message holding every piece of `wanted`, and no folder left.
fn assert_refused(output: &Output, out: &Path, wanted: &[&str]) {
    let message = stderr_of(output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    for piece in wanted {
        assert!(message.contains(piece), "{piece:?} not in: {message}");
    }
    assert!(!out.exists(), "{} was left behind", out.display());
}

#[test]
fn shards_that_do_not_line_up_are_refused_naming_the_folder_and_field() {
    let root = scratch("shard-sim", "refusals");
    let fixture = fixture();
    let scenario = fixture.to_str().expect("utf-8 path");
    let shard = |name: &str, spec: &str, extra: &[&str]| -> PathBuf {
        let mut args = vec![
            "sim",
            scenario,
            "--results",
            "out",
            "--run",
            name,
            "--shard",
            spec,
        ];
        args.extend(extra);
        succeeded(&finish(start(&root, &args)));
        root.join("out").join(name)
    };
    let first = shard("a0", "0/2", &[]);
    let second = shard("a1", "1/2", &[]);
    let other_seed = shard("b1", "1/2", &["--set", "seed=8"]);
    let third_of_three = shard("c2", "2/3", &[]);
    let out = root.join("merged");

    let output = merge(&[first.clone(), other_seed.clone()], &out, &[]);
    assert_refused(&output, &out, &["b1", "setup.seed", "8", "a0"]);

    let output = merge(std::slice::from_ref(&first), &out, &[]);
    assert_refused(&output, &out, &["missing: shard 1/2"]);

    let output = merge(&[first.clone(), second.clone(), second.clone()], &out, &[]);
    assert_refused(&output, &out, &["a1", "1/2"]);

    let output = merge(&[first.clone(), third_of_three], &out, &[]);
    assert_refused(&output, &out, &["c2", "shard.count", "3", "2"]);

    let plain = root.join("plain");
    succeeded(&finish(start(
        &root,
        &["sim", scenario, "--results", ".", "--run", "plain"],
    )));
    let output = merge(&[plain.clone(), second.clone()], &out, &[]);
    assert_refused(&output, &out, &["plain", "no shard.json"]);

    // A shard whose records do not match its summary (a truncated copy, say).
    let requests = first.join("requests.csv");
    let text = fs::read_to_string(&requests).expect("requests.csv");
    let kept: Vec<&str> = text.lines().take(text.lines().count() - 3).collect();
    fs::write(&requests, kept.join("\n") + "\n").expect("truncate");
    let output = merge(&[first.clone(), second.clone()], &out, &[]);
    assert_refused(&output, &out, &["a0", "requests.csv", "rows of strategy"]);

    // The output folder must not be a shard, nor an existing run unless --force.
    let output = merge(&[first.clone(), second.clone()], &second, &["--force"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr_of(&output));
    assert!(stderr_of(&output).contains("that is a shard folder"));
    assert!(second.join("shard.json").is_file());
}

#[test]
fn plan_shards_plan_their_strategies_and_are_not_merged() {
    let root = scratch("shard-sim", "plan");
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/payg-steady.toml");
    let plan = |spec: &str| {
        let output = Command::new(BIN)
            .arg("plan")
            .arg(&scenario)
            .args([
                "--target",
                "success>=99%",
                "--duration",
                "2m",
                "--jobs",
                "1",
            ])
            .args(["--results"])
            .arg(&root)
            .args(["--run", &format!("plan-{}", spec.replace('/', "-"))])
            .args(["--shard", spec])
            .output()
            .expect("plan runs");
        succeeded(&output);
        let folder = root.join(format!("plan-{}", spec.replace('/', "-")));
        let json: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(folder.join("plan.json")).expect("plan.json"))
                .expect("json");
        let names: Vec<String> = json["strategies"]
            .as_array()
            .expect("strategies")
            .iter()
            .map(|s| s["strategy"].as_str().expect("name").to_string())
            .collect();
        (folder, names)
    };
    // payg-steady plans round-robin and token-headroom, in that order.
    let (first, names) = plan("0/2");
    assert_eq!(names, ["round-robin"]);
    let (second, names) = plan("1/2");
    assert_eq!(names, ["token-headroom"]);
    let out = root.join("merged");
    let output = merge(&[first, second], &out, &[]);
    assert_refused(&output, &out, &["plan-0-2", "plan shards are not merged"]);
    let output = Command::new(BIN)
        .arg("plan")
        .arg(&scenario)
        .args(["--target", "success>=99%", "--shard", "2/3", "--results"])
        .arg(&root)
        .output()
        .expect("plan runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr_of(&output).contains("--shard 2/3"),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn an_interrupted_shard_makes_the_merged_run_interrupted_with_what_finished() {
    let root = scratch("shard-sim", "interrupted");
    let fixture = fixture();
    let scenario = fixture.to_str().expect("utf-8 path");
    let args = |spec: &str| {
        vec![
            "sim",
            scenario,
            "--set",
            "workload.duration=3h",
            "--jobs",
            "1",
            "--results",
            "out",
            "--run",
        ]
        .into_iter()
        .map(str::to_string)
        .chain([
            format!("shard-{}", &spec[..1]),
            "--shard".to_string(),
            spec.to_string(),
        ])
        .collect::<Vec<String>>()
    };
    let _cores = crate::live_support::take_the_cores();
    // Shard 0/2 holds strategies 0 and 2; one thread: SIGTERM once the first is done.
    let mut child = Command::new(BIN)
        .args(args("0/2"))
        .current_dir(&root)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("shard starts");
    let pid = Pid::from_child(&child);
    let stderr = child.stderr.take().expect("stderr");
    let mut sent = false;
    for line in BufReader::new(stderr).lines() {
        if !sent && line.expect("text").contains("done:") {
            kill_process(pid, Signal::TERM).expect("signal delivered");
            sent = true;
        }
    }
    assert!(sent, "the shard never finished a strategy");
    assert_eq!(child.wait().expect("ends").code(), Some(143));
    succeeded(&finish(start(
        &root,
        &args("1/2").iter().map(String::as_str).collect::<Vec<_>>(),
    )));
    let shards = [root.join("out/shard-0"), root.join("out/shard-1")];
    let merged = root.join("merged");
    let output = merge(&shards, &merged, &[]);
    succeeded(&output);
    assert!(
        stderr_of(&output).contains("interrupted"),
        "{}",
        stderr_of(&output)
    );
    let (summary, names) = summary_of(&merged);
    assert_eq!(summary["interrupted"], true);
    assert_eq!(summary["strategies_planned"], 3);
    assert_eq!(names.len(), 2, "{names:?}");
    // --strict says the merged run cannot be trusted.
    let output = merge(&shards, &root.join("merged-strict"), &["--strict"]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr_of(&output));
}
