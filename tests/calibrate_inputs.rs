//! What `calibrate` does with imperfect logs: malformed values, broken lines and missing
//! columns are refused with the file, line and column; `--skip-bad-rows` counts them instead;
//! logs mixing deployments are refused unless one is chosen, and calls of other operations or
//! embeddings models are skipped and counted; APIM token rows in a file of their own are
//! joined to their gateway rows, and gateway rows without one still count; logs without a
//! latency column give a workload-only calibration that says so; a caller column splits the
//! workload into apps. Through the binary: exit 2 naming the file, line and column.

use std::path::{Path, PathBuf};
use std::process::Command;

use throttlebox::calibrate::{
    CalibrateError, Calibration, LogFormat, Options, TokenModel, calibrate,
};
use throttlebox::scenario::Scenario;

const BIN: &str = env!("CARGO_BIN_EXE_throttlebox");

fn dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("calibrate-inputs");
    std::fs::create_dir_all(&dir).expect("tmp dir");
    dir
}

pub(crate) fn write(name: &str, text: &str) -> PathBuf {
    let path = dir().join(name);
    std::fs::write(&path, text).expect("write log");
    path
}

pub(crate) fn options(format: &str) -> Options {
    Options {
        format: format.parse::<LogFormat>().expect("format"),
        tokens: TokenModel::Empirical,
        deployment: None,
        provisioned: Vec::new(),
        max_tokens: None,
        model: "gpt-4o".to_string(),
        template: None,
        seed: Some(3),
        bootstrap: 20,
        name: "inputs".to_string(),
        bin_s: None,
        skip_bad_rows: false,
    }
}

/// AOAI resource-log JSON lines: one call per second per (deployment, model, operation,
/// app) tuple given, alternating 200 and every tenth a 429.
pub(crate) fn diagnostics_lines(calls: &[(&str, &str, &str, &str)], per: usize) -> String {
    let mut out = String::new();
    for k in 0..per {
        for (i, (deployment, model, operation, app)) in calls.iter().enumerate() {
            let status = if k % 10 == 9 { 429 } else { 200 };
            let tokens = if status == 200 {
                format!(
                    ",\"PromptTokens\":{},\"CompletionTokens\":{}",
                    200 + k % 50,
                    20 + k % 30
                )
            } else {
                String::new()
            };
            out.push_str(&format!(
                "{{\"time\":\"2024-05-10T08:{:02}:{:02}.{i}000000Z\",\"resourceId\":\"/S/X/ACCOUNTS/AOAI-EAST\",\"category\":\"RequestResponse\",\"operationName\":\"{operation}\",\"resultSignature\":\"{status}\",\"durationMs\":{},\"location\":\"eastus\",\"properties\":{{\"streamType\":\"Non-Streaming\",\"modelDeploymentName\":\"{deployment}\",\"modelName\":\"{model}\",\"objectId\":\"{app}\"}}{tokens}}}\n",
                k / 60,
                k % 60,
                800 + 10 * (k % 40),
            ));
        }
    }
    out
}

fn refused(files: &[PathBuf], options: &Options) -> String {
    match calibrate(files, options) {
        Ok(_) => panic!("{files:?} should be refused"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn a_malformed_value_names_file_line_and_column_and_can_be_skipped() {
    let header = "TimeGenerated [UTC],Resource,Category,OperationName,ResultSignature,DurationMs,properties_s\n";
    let row = |t: u32, d: &str| {
        format!(
            "\"5/10/2024, 8:00:{t:02}.000 AM\",AOAI-EAST,RequestResponse,ChatCompletions_Create,200,{d},\"{{\"\"streamType\"\":\"\"Streaming\"\"}}\"\n"
        )
    };
    let text = format!(
        "{header}{}{}{}",
        row(1, "900"),
        row(2, "fast"),
        row(3, "950")
    );
    let file = write("malformed.csv", &text);
    let message = refused(std::slice::from_ref(&file), &options("azure-diagnostics"));
    assert!(
        message.contains(&format!(
            "{}, line 3, column DurationMs: \"fast\": expected a number",
            file.display()
        )),
        "{message}"
    );
    let mut skipping = options("azure-diagnostics");
    skipping.skip_bad_rows = true;
    let calibration = calibrate(&[file], &skipping).expect("skipping bad rows");
    assert_eq!(calibration.calls, 2);
    let (reason, count, first) = &calibration.skipped[0];
    assert_eq!(
        (reason.as_str(), *count),
        ("bad value in column DurationMs: expected a number", 1)
    );
    assert!(first.ends_with("malformed.csv:3"), "{first}");
}

#[test]
fn broken_lines_and_missing_columns_are_refused_where_they_are() {
    let good = diagnostics_lines(&[("gpt-4o", "gpt-4o", "ChatCompletions_Create", "a")], 3);
    let file = write("broken.jsonl", &format!("{good}{{\"time\": \n"));
    let message = refused(std::slice::from_ref(&file), &options("azure-diagnostics"));
    assert!(
        message.contains(&format!("{}, line 4, column (line)", file.display()))
            && message.contains("not JSON"),
        "{message}"
    );
    let file = write("no-time.csv", "Resource,DurationMs\nAOAI,100\n");
    let message = refused(std::slice::from_ref(&file), &options("azure-diagnostics"));
    assert!(
        message.contains(&format!(
            "{}, line 1: no column TimeGenerated [UTC] or TimeGenerated or time",
            file.display()
        )),
        "{message}"
    );
    let file = write("bad-time.csv", "t,p\n2024-05-10 08:00:00,5\nyesterday,6\n");
    let message = refused(&[file], &options("columns:time=t,prompt=p"));
    assert!(
        message.contains("line 3, column t: \"yesterday\""),
        "{message}"
    );
}

#[test]
fn mixed_models_are_refused_or_narrowed_and_other_operations_skipped() {
    let text = diagnostics_lines(
        &[
            ("gpt-4o", "gpt-4o", "ChatCompletions_Create", "a"),
            ("gpt-35", "gpt-35-turbo", "ChatCompletions_Create", "a"),
            (
                "embed",
                "text-embedding-3-small",
                "ChatCompletions_Create",
                "a",
            ),
            ("gpt-4o", "gpt-4o", "Embeddings_Create", "a"),
        ],
        40,
    );
    let file = write("mixed.jsonl", &text);
    let error = calibrate(std::slice::from_ref(&file), &options("azure-diagnostics"))
        .expect_err("mixed deployments");
    let CalibrateError::MixedDeployments {
        line,
        ref column,
        ref found,
        ..
    } = error
    else {
        panic!("{error}")
    };
    assert_eq!(line, 2, "the first row of the second deployment");
    assert_eq!(
        column,
        "properties_s.modelDeploymentName or properties.modelDeploymentName"
    );
    assert_eq!(found, "gpt-4o (40 rows), gpt-35 (40 rows)");
    assert!(
        error
            .to_string()
            .contains(&format!("{}, line 2", file.display()))
    );
    let mut one = options("azure-diagnostics");
    one.deployment = Some("gpt-4o".to_string());
    let calibration = calibrate(&[file], &one).expect("one deployment");
    assert_eq!(calibration.calls, 40);
    let skipped: Vec<(&str, u64)> = calibration
        .skipped
        .iter()
        .map(|(r, n, _)| (r.as_str(), *n))
        .collect();
    assert_eq!(
        skipped,
        [
            ("embeddings model text-embedding-3-small", 40),
            ("operation Embeddings_Create (not chat/completions)", 40),
            ("deployment gpt-35 (not --deployment)", 40),
        ]
    );
    let markdown = std::fs::read_to_string(write_reports(&calibration, "mixed")).expect("report");
    assert!(
        markdown.contains("| 40 | operation Embeddings_Create (not chat/completions) |"),
        "{markdown}"
    );
}

fn write_reports(calibration: &Calibration, name: &str) -> PathBuf {
    let out = dir().join(name);
    std::fs::create_dir_all(&out).expect("report dir");
    throttlebox::calibrate::write_reports(calibration, &out, "test").expect("reports");
    out.join("calibration.md")
}

#[test]
fn apim_token_rows_in_their_own_file_are_joined_and_rows_without_one_still_count() {
    let mut gateway = String::from(
        "TimeGenerated,CorrelationId,BackendId,BackendResponseCode,BackendTime,ApimSubscriptionId\n",
    );
    let mut tokens = String::from(
        "TimeGenerated,CorrelationId,DeploymentName,ModelName,PromptTokens,CompletionTokens,IsStreamCompletion\n",
    );
    for k in 0..90u32 {
        let time = format!("2024-05-10T08:{:02}:{:02}Z", k / 60, k % 60);
        let app = if k % 3 == 0 { "team-a" } else { "team-b" };
        gateway.push_str(&format!(
            "{time},c{k},aoai-east,200,{},{app}\n",
            700 + 5 * (k % 50)
        ));
        if k % 10 != 0 {
            tokens.push_str(&format!(
                "{time},c{k},gpt-4o,gpt-4o,{},{},{}\n",
                300 + k,
                40 + k % 20,
                k % 2 == 0
            ));
        }
    }
    let files = [write("gateway.csv", &gateway), write("llm.csv", &tokens)];
    let calibration = calibrate(&files, &options("apim-gateway")).expect("joined");
    assert_eq!(
        calibration.calls, 90,
        "token rows are joined, not counted as calls"
    );
    let names: Vec<&str> = calibration
        .workload
        .apps
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(names, ["team-b", "team-a"], "one app per APIM subscription");
    let prompts: usize = calibration
        .workload
        .apps
        .iter()
        .map(|a| a.prompt.as_ref().map_or(0, |p| p.n))
        .sum();
    assert_eq!(
        prompts, 81,
        "the nine gateway rows without a token row have no prompt"
    );
    let scenario = Scenario::parse(&calibration.scenario, "joined", None, &[]).expect("loads");
    assert_eq!(scenario.file.workload.apps.len(), 2);
    assert_eq!(
        scenario.file.fleet.resources[0].deployments[0].name,
        "gpt-4o"
    );
}

#[test]
fn logs_without_latency_give_a_workload_only_calibration_that_says_so() {
    let mut text = String::from("ts,ctx,gen\n");
    for k in 0..600 {
        text.push_str(&format!(
            "{}.5,{},{}\n",
            1000 + k,
            100 + (k * 37) % 900,
            10 + (k * 13) % 200
        ));
    }
    let file = write("trace.csv", &text);
    let calibration = calibrate(
        &[file],
        &options("columns:time=ts,time_kind=seconds,prompt=ctx,completion=gen"),
    )
    .expect("workload only");
    assert!(calibration.workload_only);
    let markdown =
        std::fs::read_to_string(write_reports(&calibration, "workload-only")).expect("report");
    assert!(
        markdown.contains("> **Workload-only calibration: the logs carry no latency column"),
        "{markdown}"
    );
    let app = &calibration.workload.apps[0];
    assert!(
        (app.arrivals.mean_rate.value - 1.0).abs() < 0.01,
        "{:?}",
        app.arrivals.mean_rate
    );
}

#[test]
fn tiny_logs_calibrate_and_say_what_they_could_not_identify() {
    let file = write(
        "tiny.jsonl",
        &diagnostics_lines(&[("gpt-4o", "gpt-4o", "ChatCompletions_Create", "a")], 2),
    );
    let calibration = calibrate(&[file], &options("azure-diagnostics")).expect("two calls");
    assert!(
        calibration.notes.iter().any(|n| n
            .text
            .contains("latency not identified: 2 successful calls")),
        "{:?}",
        calibration.notes
    );
    Scenario::parse(&calibration.scenario, "tiny", None, &[]).expect("a loadable scenario even so");
}

#[test]
fn the_binary_exits_2_naming_the_place_and_writes_scenario_and_reports_otherwise() {
    let bad = write(
        "cli-bad.csv",
        "TimeGenerated,DurationMs\n2024-05-10T08:00:00Z,-5\n",
    );
    let output = Command::new(BIN)
        .args([
            "calibrate",
            bad.to_str().unwrap(),
            "--format",
            "azure-diagnostics",
            "--out",
        ])
        .arg(dir().join("cli-bad.toml"))
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cli-bad.csv, line 2, column DurationMs: \"-5\": expected a duration ≥ 0"),
        "{stderr}"
    );

    let good = write(
        "cli-good.jsonl",
        &diagnostics_lines(&[("gpt-4o", "gpt-4o", "ChatCompletions_Create", "a")], 60),
    );
    let out = dir().join("cli-good").join("scenario.toml");
    let output = Command::new(BIN)
        .args([
            "calibrate",
            good.to_str().unwrap(),
            "--format",
            "azure-diagnostics",
            "--bootstrap",
            "20",
            "--out",
        ])
        .arg(&out)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("not identified from the logs"), "{stdout}");
    Scenario::load(&out, &[]).expect("the written scenario loads");
    for report in ["calibration.md", "calibration.html"] {
        assert!(out.with_file_name(report).exists(), "{report}");
    }
}

#[test]
fn exporting_apim_logs_refuses_a_strategy_that_retried_inside_the_gateway() {
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/calibrate-roundtrip.toml"
    );
    let overrides =
        [throttlebox::scenario::Override::parse("workload.duration=2m").expect("override")];
    let scenario = Scenario::load(Path::new(fixture), &overrides).expect("fixture");
    let _ = std::fs::remove_dir_all(dir().join("short-run"));
    let run = throttlebox::report::RunDir::create(&dir(), "short-run").expect("run dir");
    throttlebox::sim::run_all(&scenario, Some(&run), 2, "test", &|_| {}).expect("simulates");
    let export = |strategy: &str| {
        Command::new(BIN)
            .args([
                "calibrate",
                "--export-logs",
                run.path().to_str().unwrap(),
                "--format",
                "apim-gateway",
                "--strategy",
                strategy,
            ])
            .args(["--scenario", fixture, "--out"])
            .arg(dir().join(format!("{strategy}.csv")))
            .output()
            .expect("runs")
    };
    let refused = export("apim-pool");
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("retried inside the gateway"),
        "{refused:?}"
    );
    let written = export("round-robin");
    assert_eq!(written.status.code(), Some(0), "{written:?}");
}

#[test]
fn a_calibration_is_reproducible_to_the_byte() {
    let calls = [
        ("gpt-4o", "gpt-4o", "ChatCompletions_Create", "a"),
        ("gpt-4o", "gpt-4o", "ChatCompletions_Create", "b"),
    ];
    let file = write("twice.jsonl", &diagnostics_lines(&calls, 120));
    let run = |seed: u64| {
        let mut options = options("azure-diagnostics");
        options.seed = Some(seed);
        let calibration = calibrate(std::slice::from_ref(&file), &options).expect("calibrates");
        let markdown =
            std::fs::read_to_string(write_reports(&calibration, &format!("twice-{seed}")))
                .expect("report");
        (calibration.scenario, markdown)
    };
    let (first, again) = (run(5), run(5));
    assert_eq!(
        first, again,
        "same logs, same seed: the same scenario and report"
    );
    let other = run(6).1;
    let without_seed = |text: &str| {
        text.lines()
            .filter(|l| !l.starts_with("- **seed**"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_ne!(
        without_seed(&first.1),
        without_seed(&other),
        "another seed draws other bootstrap resamples"
    );
}

#[test]
fn aoai_logs_without_token_counts_fit_what_they_can_and_say_the_rest() {
    let with_tokens =
        diagnostics_lines(&[("gpt-4o", "gpt-4o", "ChatCompletions_Create", "a")], 200);
    let without: String = with_tokens
        .lines()
        .map(|line| match line.split_once(",\"PromptTokens\"") {
            Some((before, _)) => format!("{before}}}\n"),
            None => format!("{line}\n"),
        })
        .collect();
    assert!(!without.contains("Tokens"));
    let file = write("no-tokens.jsonl", &without);
    let calibration = calibrate(&[file], &options("azure-diagnostics")).expect("calibrates");
    let said = |text: &str| calibration.notes.iter().any(|n| n.text.contains(text));
    assert!(
        said("latency not identified: 0 successful calls with a duration and token counts"),
        "{:?}",
        calibration.notes
    );
    assert!(said(
        "prompt tokens not in the logs: admission estimates assume the workload's default prompt of 900 tokens"
    ));
    assert!(said("prompt tokens not in the logs: log-normal median 900"));
    assert!(
        !calibration.workload_only,
        "durations are there, only tokens are missing"
    );
    Scenario::parse(&calibration.scenario, "no tokens", None, &[]).expect("loads");
}
