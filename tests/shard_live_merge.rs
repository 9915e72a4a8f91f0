//! Sharded live runs merged back (issue #15 part B): two `load --shard K/2 --start-at T`
//! processes of the built binary drive ONE mock fleet (a `throttlebox mock` process, port 0,
//! its URL read from its ready line) over loopback, and `throttlebox merge` joins their
//! folders. The merged request set is the unsharded schedule request for request (ids,
//! arrival offsets, apps, in schedule order); the merged figures agree with a single process
//! sending the whole schedule to a fresh fleet within the simulator-vs-live bounds
//! (`live_sim_agreement::assert_agree`); a shard that started late against `--start-at` makes
//! the merged run invalid naming the shard; shards of another seed or shard count are refused
//! naming the folder and the field, and so is a shard holding another shard's requests; a start
//! instant already past is refused (exit 2).

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use throttlebox::report::Summary;
use throttlebox::scenario::Scenario;
use throttlebox::shard::StartAt;

use crate::cli_support::{BIN, Mock, scratch};

/// Two apps, 16 requests a second for 30 scenario seconds, on one standard deployment whose
/// request window throttles part of them; played at 10× (3 s of wall time).
const SCENARIO: &str = r#"
name = "shard-pair"
seed = 5
[[fleet.resources]]
name = "only"
region = "East US"
[[fleet.resources.deployments]]
name = "gpt-4o"
model = "gpt-4o"
kind = "standard"
capacity = 200
[[backends]]
resource = "only"
[workload]
duration = "30s"
[[workload.apps]]
name = "chat"
deployment = "gpt-4o"
arrivals = { process = "poisson", rate = 12.0 }
prompt_tokens = { dist = "constant", value = 10 }
output_tokens = { dist = "constant", value = 50 }
[[workload.apps]]
name = "batch"
deployment = "gpt-4o"
arrivals = { process = "poisson", rate = 4.0 }
prompt_tokens = { dist = "constant", value = 20 }
output_tokens = { dist = "constant", value = 20 }
[client]
retry = { max_retries = 0 }
timeout = "20s"
[[strategies]]
name = "direct"
preset = "round-robin"
"#;

const TIME_SCALE: &str = "10";

/// `throttlebox load` of the scenario against `url` into `<results>/<run>` (started).
fn start_load(scenario: &Path, url: &str, results: &Path, run: &str, extra: &[&str]) -> Child {
    let time_scale = if extra.contains(&"--time-scale") {
        &[][..]
    } else {
        &["--time-scale", TIME_SCALE][..]
    };
    Command::new(BIN)
        .arg("load")
        .arg(scenario)
        .args(["--target", url, "--quiet"])
        .args(time_scale)
        .arg("--results")
        .arg(results)
        .args(["--run", run])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("throttlebox load starts")
}

/// A load process past its ready line, the rest of its stderr being read.
struct Ready {
    child: Child,
    line: String,
    rest: std::thread::JoinHandle<String>,
}

/// Read the load's stderr up to its ready line (it names the shard and the start instant it
/// waits for); the rest is collected in the background.
fn await_ready(mut child: Child) -> Ready {
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    while stderr.read_line(&mut line).expect("stderr") > 0 {
        if line.starts_with("open-loop load on") {
            let rest = std::thread::spawn(move || {
                let mut rest = String::new();
                let _ = stderr.read_to_string(&mut rest);
                rest
            });
            return Ready { child, line, rest };
        }
        line.clear();
    }
    panic!("no ready line; stderr ended");
}

impl Ready {
    fn finish(mut self) {
        let status = self.child.wait().expect("process ends");
        let rest = self.rest.join().unwrap_or_default();
        assert!(status.success(), "exit {:?}: {rest}", status.code());
    }
}

fn finish(child: Child) -> Output {
    let output = child.wait_with_output().expect("process ends");
    assert!(
        output.status.success(),
        "exit {:?}: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn merge(shards: &[PathBuf], out: &Path) -> Output {
    crate::cli_support::merge(shards, out, &[])
}

fn summary(folder: &Path) -> Summary {
    serde_json::from_str(&fs::read_to_string(folder.join("summary.json")).expect("summary"))
        .expect("summary.json parses")
}

/// `(request_id, app, intended_start_s)` of every row of `requests.csv`, in file order.
fn request_rows(folder: &Path) -> Vec<(u64, String, String)> {
    let mut reader = csv::Reader::from_path(folder.join("requests.csv")).expect("requests.csv");
    reader
        .records()
        .map(|row| {
            let row = row.expect("row");
            (
                row[1].parse().expect("request_id"),
                row[2].to_string(),
                row[3].to_string(),
            )
        })
        .collect()
}

/// A start instant `ahead` from now, as `--start-at` takes it.
fn start_in(ahead: Duration) -> String {
    StartAt::from_unix(StartAt::now().since_epoch() + ahead).to_string()
}

/// Run two shards against one fleet; returns their folders.
fn run_two_shards(root: &Path, scenario: &Path) -> Vec<PathBuf> {
    let mock = Mock::start(scenario, &["--time-scale", TIME_SCALE]);
    let results = root.join("shards");
    // Time for both processes to start and read the scenario, even on a busy machine.
    let start_at = start_in(Duration::from_secs(2));
    let shards: Vec<Child> = (0..2)
        .map(|index| {
            let spec = format!("{index}/2");
            start_load(
                scenario,
                &mock.url,
                &results,
                &format!("shard-{index}"),
                &["--shard", &spec, "--start-at", &start_at],
            )
        })
        .collect();
    let ready: Vec<Ready> = shards.into_iter().map(await_ready).collect();
    for (index, shard) in ready.iter().enumerate() {
        assert!(
            shard.line.contains(&format!("shard {index}/2")),
            "{}",
            shard.line
        );
        assert!(shard.line.contains(&start_at), "{}", shard.line);
    }
    for shard in ready {
        shard.finish();
    }
    drop(mock);
    (0..2)
        .map(|index| results.join(format!("shard-{index}")))
        .collect()
}

#[test]
fn live_shards_merged_are_the_whole_schedule_and_agree_with_one_process() {
    let _cores = crate::live_support::take_the_cores();
    let root = scratch("shard-live", "pair");
    let scenario = root.join("scenario.toml");
    fs::write(&scenario, SCENARIO).expect("scenario");
    let shards = run_two_shards(&root, &scenario);

    // The single-process run of the same schedule, against a fleet of its own.
    let single = {
        let mock = Mock::start(&scenario, &["--time-scale", TIME_SCALE]);
        let child = start_load(&scenario, &mock.url, &root, "single", &[]);
        await_ready(child).finish();
        root.join("single")
    };

    let merged = root.join("merged");
    let output = merge(&shards, &merged);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // The merged request set is the unsharded schedule, request for request, in order.
    let schedule: Vec<(u64, String)> = {
        let loaded = Scenario::load(&scenario, &[]).expect("scenario loads");
        let workload = loaded.workload().expect("workload");
        let apps = ["chat", "batch"];
        workload
            .requests()
            .map(|request| {
                let request = request.expect("request");
                (request.id, apps[usize::from(request.app)].to_string())
            })
            .collect()
    };
    let merged_rows = request_rows(&merged);
    assert!(merged_rows.len() > 400, "{} requests", merged_rows.len());
    assert_eq!(
        merged_rows
            .iter()
            .map(|(id, app, _)| (*id, app.clone()))
            .collect::<Vec<_>>(),
        schedule,
        "the merged requests.csv is the schedule, in schedule order"
    );
    let mut single_rows = request_rows(&single);
    single_rows.sort_by_key(|(id, _, _)| *id);
    assert_eq!(
        merged_rows, single_rows,
        "ids, apps and intended arrival offsets equal the single process's"
    );
    for (index, shard) in shards.iter().enumerate() {
        assert!(
            request_rows(shard)
                .iter()
                .all(|(id, _, _)| id % 2 == index as u64),
            "shard {index} sent only its own requests"
        );
    }

    // The merged figures: the sum of the shards, and within the simulator-vs-live bounds of
    // the single process's.
    let (merged_summary, single_summary) = (summary(&merged), summary(&single));
    let parts: Vec<Summary> = shards.iter().map(|shard| summary(shard)).collect();
    let whole = &merged_summary.strategies[0];
    assert_eq!(
        whole.requests,
        parts.iter().map(|p| p.strategies[0].requests).sum::<u64>()
    );
    assert_eq!(
        whole.outcomes.throttled,
        parts
            .iter()
            .map(|p| p.strategies[0].outcomes.throttled)
            .sum::<u64>()
    );
    assert_eq!(whole.validity.scheduled, schedule.len() as u64);
    assert!(
        whole.outcomes.throttled > 0 && whole.outcomes.ok > 0,
        "the fleet throttled part of the load: {:?}",
        whole.outcomes
    );
    eprintln!(
        "merged: success {:.3} 429 {:.3} p50 {:?}; single: success {:.3} 429 {:.3} p50 {:?}",
        whole.success_ratio,
        whole.client_429_ratio,
        whole.e2e.p50_s,
        single_summary.strategies[0].success_ratio,
        single_summary.strategies[0].client_429_ratio,
        single_summary.strategies[0].e2e.p50_s
    );
    crate::live_sim_agreement::assert_agree(&single_summary.strategies[0], whole);
    let engine: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(merged.join("engine.json")).expect("engine"))
            .expect("engine.json");
    assert_eq!(engine[0]["engine"]["sent"], schedule.len() as u64);

    // A shard that woke late against --start-at: the merged run is invalid, naming it.
    let late = root.join("late-shard-1");
    copy_folder(&shards[1], &late);
    let manifest = late.join("shard.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&manifest).expect("shard.json")).expect("json");
    json["strategies"][0]["engine"]["start_late_wall_us"] = 250_000.into();
    fs::write(&manifest, json.to_string()).expect("write");
    let skewed = root.join("skewed");
    let output = merge(&[shards[0].clone(), late.clone()], &skewed);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let validity = &summary(&skewed).strategies[0].validity;
    assert!(!validity.valid);
    assert!(
        validity
            .reasons
            .iter()
            .any(|reason| reason.starts_with("start_skew: shard 1/2")
                && reason.contains("late-shard-1")
                && reason.contains("250.0 ms")),
        "{:?}",
        validity.reasons
    );
}

fn copy_folder(from: &Path, to: &Path) {
    fs::create_dir_all(to.join("histograms")).expect("folder");
    for entry in fs::read_dir(from).expect("folder") {
        let path = entry.expect("entry").path();
        if path.is_file() {
            fs::copy(&path, to.join(path.file_name().expect("name"))).expect("copy");
        }
    }
    for entry in fs::read_dir(from.join("histograms")).expect("histograms") {
        let path = entry.expect("entry").path();
        fs::copy(
            &path,
            to.join("histograms").join(path.file_name().expect("name")),
        )
        .expect("copy");
    }
}

fn refused(output: &Output, wanted: &[&str]) {
    let message = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{message}");
    for piece in wanted {
        assert!(message.contains(piece), "{piece:?} not in: {message}");
    }
}

#[test]
fn live_shards_that_do_not_line_up_are_refused_and_a_past_start_is_refused() {
    let _cores = crate::live_support::take_the_cores();
    let root = scratch("shard-live", "refusals");
    let scenario = root.join("scenario.toml");
    fs::write(&scenario, SCENARIO).expect("scenario");
    let mock = Mock::start(&scenario, &["--time-scale", TIME_SCALE]);
    // Played fast (the figures do not matter here): 30 scenario seconds in 0.15 s.
    let shard = |run: &str, spec: &str, start_at: &str, extra: &[&str]| {
        let mut args = vec![
            "--shard",
            spec,
            "--start-at",
            start_at,
            "--time-scale",
            "200",
        ];
        args.extend_from_slice(extra);
        start_load(&scenario, &mock.url, &root, run, &args)
    };
    let start_at = start_in(Duration::from_secs(2));
    let children = [
        shard("a0", "0/2", &start_at, &[]),
        shard("b1", "1/2", &start_at, &["--set", "seed=8"]),
        shard("c2", "2/3", &start_at, &[]),
    ];
    for child in children {
        finish(child);
    }
    drop(mock);
    let out = root.join("merged");
    refused(
        &merge(&[root.join("a0"), root.join("b1")], &out),
        &["b1", "setup.seed", "8", "a0"],
    );
    refused(
        &merge(&[root.join("a0"), root.join("c2")], &out),
        &["c2", "shard.count", "3", "2"],
    );
    refused(&merge(&[root.join("a0")], &out), &["missing: shard 1/2"]);
    // A folder claiming to be shard 1/2 but holding shard 0/2's requests.
    let impostor = root.join("impostor");
    copy_folder(&root.join("a0"), &impostor);
    let manifest = impostor.join("shard.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&manifest).expect("shard.json")).expect("json");
    json["shard"]["index"] = 1.into();
    fs::write(&manifest, json.to_string()).expect("write");
    refused(
        &merge(&[root.join("a0"), impostor], &out),
        &[
            "impostor",
            "requests.csv",
            "belongs to shard 0/2, not to this shard (1/2)",
        ],
    );
    assert!(!out.exists());

    // Bad starts are refused before anything runs (exit 2), naming the value.
    let past = start_in(Duration::ZERO);
    let past = StartAt::from_unix(
        past.parse::<StartAt>().expect("instant").since_epoch() - Duration::from_secs(60),
    )
    .to_string();
    let run = |args: &[&str]| {
        Command::new(BIN)
            .arg("load")
            .arg(&scenario)
            .args(["--target", "http://127.0.0.1:9", "--quiet"])
            .arg("--results")
            .arg(&root)
            .args(args)
            .output()
            .expect("throttlebox load runs")
    };
    refused(
        &run(&["--shard", "0/2", "--start-at", &past]),
        &[&past, "ago"],
    );
    refused(&run(&["--shard", "0/2"]), &["--shard 0/2 needs --start-at"]);
    refused(
        &run(&["--shard", "0/2", "--start-at", "2026-12-07T10:00:00"]),
        &["--start-at", "time zone"],
    );
    refused(&run(&["--shard", "2/2"]), &["--shard", "K must be below N"]);
    // `run` shards only against a shared --target.
    let in_process = Command::new(BIN)
        .arg("run")
        .arg(&scenario)
        .args([
            "--shard",
            "0/2",
            "--start-at",
            &start_in(Duration::from_secs(60)),
        ])
        .output()
        .expect("throttlebox run runs");
    refused(&in_process, &["--shard and --start-at need --target URL"]);
}
