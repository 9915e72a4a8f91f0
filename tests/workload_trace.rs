//! Trace replay against the shipped 10-minute sample and the full Azure 2023 conversation trace.
//! Expected figures are computed here by plain string splitting, independently of the reader.

use std::path::{Path, PathBuf};
use std::time::Duration;

use throttlebox::workload::{Request, Workload, WorkloadConfig, WorkloadError};

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/scenarios/data/azure-conv-10min.csv"
);
const FULL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/azure-llm-2023/AzureLLMInferenceTrace_conv.csv"
);

/// Rows of a `TIMESTAMP,ContextTokens,GeneratedTokens` file as (ns since midnight, ctx, gen);
/// all rows of the Azure 2023 traces fall on one day.
fn plain_rows(path: &str) -> Vec<(i64, u64, u64)> {
    let text = std::fs::read_to_string(path).expect("trace file readable");
    text.lines()
        .skip(1)
        .filter(|line| !line.is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            let clock = fields[0].split(' ').nth(1).expect("date and time");
            let (hms, fraction) = clock.split_once('.').expect("fraction");
            let hms: Vec<i64> = hms.split(':').map(|x| x.parse().expect("number")).collect();
            let fraction_ns: i64 = format!("{fraction:0<9}")[..9].parse().expect("fraction");
            let ns = (hms[0] * 3600 + hms[1] * 60 + hms[2]) * 1_000_000_000 + fraction_ns;
            (
                ns,
                fields[1].parse().expect("ctx"),
                fields[2].parse().expect("gen"),
            )
        })
        .collect()
}

fn trace_workload(trace_table: &str, extra_top: &str) -> Result<Workload, WorkloadError> {
    let text = format!("{extra_top}\n[trace]\ndeployment = \"gpt-4o\"\n{trace_table}");
    let cfg: WorkloadConfig = toml::from_str(&text).expect("config parses");
    Workload::new(&cfg, Path::new(env!("CARGO_MANIFEST_DIR")), 99)
}

fn replay(trace_table: &str, extra_top: &str) -> Vec<Request> {
    trace_workload(trace_table, extra_top)
        .expect("valid workload")
        .requests()
        .map(|r| r.expect("trace rows parse"))
        .collect()
}

fn totals(requests: &[Request]) -> (usize, u64, u64) {
    (
        requests.len(),
        requests.iter().map(|r| u64::from(r.prompt_tokens)).sum(),
        requests.iter().map(|r| u64::from(r.output_tokens)).sum(),
    )
}

fn plain_totals(rows: &[(i64, u64, u64)]) -> (usize, u64, u64) {
    (
        rows.len(),
        rows.iter().map(|r| r.1).sum(),
        rows.iter().map(|r| r.2).sum(),
    )
}

#[test]
fn sample_replays_every_row_with_exact_token_totals_and_offsets() {
    let rows = plain_rows(SAMPLE);
    assert_eq!(rows.len(), 2_867);
    let requests = replay(r#"path = "scenarios/data/azure-conv-10min.csv""#, "");
    assert_eq!(totals(&requests), plain_totals(&rows));
    assert_eq!(totals(&requests), (2_867, 3_287_402, 746_194));
    for (request, row) in requests.iter().zip(&rows) {
        assert_eq!(request.at, Duration::from_nanos((row.0 - rows[0].0) as u64));
        assert_eq!(u64::from(request.prompt_tokens), row.1);
        assert_eq!(request.max_tokens, None);
        assert!(!request.stream);
    }
    assert!(requests.last().expect("rows").at < Duration::from_secs(600));
}

#[test]
fn full_conversation_trace_replays_19366_requests_with_exact_totals() {
    let rows = plain_rows(FULL);
    let requests = replay(&format!("path = {FULL:?}\nformat = \"azure-2023\""), "");
    assert_eq!(requests.len(), 19_366);
    assert_eq!(totals(&requests), plain_totals(&rows));
    let span = Duration::from_nanos((rows[rows.len() - 1].0 - rows[0].0) as u64);
    assert_eq!(requests.last().expect("rows").at, span);
    assert!(
        requests
            .iter()
            .enumerate()
            .all(|(i, r)| r.id == i as u64 && r.app == 0)
    );
}

#[test]
fn speedup_halves_the_span() {
    let normal = replay(r#"path = "scenarios/data/azure-conv-10min.csv""#, "");
    let fast = replay(
        r#"path = "scenarios/data/azure-conv-10min.csv"
speedup = 2.0"#,
        "",
    );
    assert_eq!(normal.len(), fast.len());
    for (n, f) in normal.iter().zip(&fast) {
        let expected = n.at.as_nanos() as f64 / 2.0;
        assert!((f.at.as_nanos() as f64 - expected).abs() <= 1.0);
    }
}

#[test]
fn window_and_max_requests_and_duration_cut_the_trace() {
    let rows = plain_rows(SAMPLE);
    let offsets: Vec<i64> = rows.iter().map(|r| r.0 - rows[0].0).collect();
    let (from, until) = (60_000_000_000i64, 120_000_000_000i64);
    let expected: Vec<i64> = offsets
        .iter()
        .filter(|&&o| o >= from && o < until)
        .map(|o| o - from)
        .collect();
    let windowed = replay(
        r#"path = "scenarios/data/azure-conv-10min.csv"
window = { from = "1m", until = "2m" }"#,
        "",
    );
    let got: Vec<i64> = windowed.iter().map(|r| r.at.as_nanos() as i64).collect();
    assert_eq!(got, expected);

    let capped = replay(
        r#"path = "scenarios/data/azure-conv-10min.csv"
window = { from = "1m", max_requests = 100 }"#,
        "",
    );
    assert_eq!(capped.len(), 100);
    assert_eq!(capped[0].at.as_nanos() as i64, expected[0]);

    let short = replay(
        r#"path = "scenarios/data/azure-conv-10min.csv""#,
        "duration = \"30s\"",
    );
    let in_30s = offsets.iter().filter(|&&o| o < 30_000_000_000).count();
    assert_eq!(short.len(), in_30s);
    let workload = trace_workload(
        r#"path = "scenarios/data/azure-conv-10min.csv"
window = { from = "1m", until = "2m" }
speedup = 2.0"#,
        "",
    )
    .expect("valid");
    assert_eq!(workload.summary().duration, Some(Duration::from_secs(30)));
}

#[test]
fn rate_scale_thins_and_replicates() {
    let original = replay(r#"path = "scenarios/data/azure-conv-10min.csv""#, "");
    let (n, ctx, generated) = totals(&original);

    let doubled = replay(
        r#"path = "scenarios/data/azure-conv-10min.csv"
rate_scale = 2.0"#,
        "",
    );
    assert_eq!(
        totals(&doubled),
        (2 * n, 2 * ctx, 2 * generated),
        "each row exactly twice"
    );
    assert!(
        doubled.windows(2).all(|w| w[0].at <= w[1].at),
        "replicas keep time order"
    );
    let last = original.last().expect("rows").at;
    assert!(doubled.iter().all(|r| r.at <= last));

    let half = replay(
        r#"path = "scenarios/data/azure-conv-10min.csv"
rate_scale = 0.5"#,
        "",
    );
    let sd = (n as f64 * 0.25).sqrt();
    assert!(
        (half.len() as f64 - n as f64 / 2.0).abs() < 4.0 * sd,
        "kept {}",
        half.len()
    );
    assert!(half.windows(2).all(|w| w[0].at <= w[1].at));

    let more = replay(
        r#"path = "scenarios/data/azure-conv-10min.csv"
rate_scale = 2.5"#,
        "",
    );
    let sd = (n as f64 * 0.25).sqrt();
    assert!(
        (more.len() as f64 - 2.5 * n as f64).abs() < 4.0 * sd,
        "sent {}",
        more.len()
    );
    // Same seed, same replay.
    let again = replay(
        r#"path = "scenarios/data/azure-conv-10min.csv"
rate_scale = 2.5"#,
        "",
    );
    assert_eq!(more, again);
}

#[test]
fn max_tokens_output_or_fixed_cap() {
    let rows = plain_rows(SAMPLE);
    let echoed = replay(
        r#"path = "scenarios/data/azure-conv-10min.csv"
max_tokens = "output""#,
        "",
    );
    assert!(
        echoed
            .iter()
            .zip(&rows)
            .all(|(r, row)| r.max_tokens == Some(row.2 as u32)
                && u64::from(r.output_tokens) == row.2)
    );
    let capped = replay(
        r#"path = "scenarios/data/azure-conv-10min.csv"
max_tokens = 100"#,
        "",
    );
    assert!(
        capped
            .iter()
            .zip(&rows)
            .all(|(r, row)| r.max_tokens == Some(100)
                && u64::from(r.output_tokens) == row.2.min(100))
    );
}

fn temp_csv(name: &str, body: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, body).expect("write temp trace");
    path
}

#[test]
fn azure_2024_timestamps_with_and_without_fraction() {
    let path = temp_csv(
        "workload_trace_2024.csv",
        "TIMESTAMP,ContextTokens,GeneratedTokens\n\
         2024-05-10 00:00:00.009930+00:00,100,10\n\
         2024-05-10 00:00:01+00:00,200,20\n\
         2024-05-10 00:00:01.5+00:00,300,30\n\
         2024-05-10 00:01:00.000001+00:00,400,40\n",
    );
    let requests = replay(&format!("path = {path:?}\nformat = \"azure-2024\""), "");
    let at: Vec<u128> = requests.iter().map(|r| r.at.as_nanos()).collect();
    assert_eq!(at, [0, 990_070_000, 1_490_070_000, 59_990_071_000]);
    assert_eq!(totals(&requests), (4, 1_000, 100));
}

#[test]
fn column_mapping_with_seconds_timestamps() {
    let path = temp_csv(
        "workload_trace_burstgpt.csv",
        "Timestamp,Model,Request tokens,Response tokens\n5,gpt-4,10,1\n5.25,gpt-4,20,2\n7,gpt-4,30,3\n",
    );
    let table = format!(
        "path = {path:?}\nformat = {{ timestamp = \"Timestamp\", timestamp_kind = \"seconds\", prompt = \"Request tokens\", output = \"Response tokens\" }}"
    );
    let requests = replay(&table, "");
    let at: Vec<u128> = requests.iter().map(|r| r.at.as_millis()).collect();
    assert_eq!(at, [0, 250, 2000]);
    assert_eq!(totals(&requests), (3, 60, 6));
}

#[test]
fn malformed_rows_name_file_line_column_and_value() {
    let path = temp_csv(
        "workload_trace_bad_tokens.csv",
        "TIMESTAMP,ContextTokens,GeneratedTokens\n\
         2023-11-16 18:15:46.6805900,374,44\n\
         2023-11-16 18:15:47.0000000,12x,44\n",
    );
    let workload = trace_workload(&format!("path = {path:?}"), "").expect("header is fine");
    let results: Vec<_> = workload.requests().collect();
    assert_eq!(
        results.len(),
        2,
        "one request, then the error, then the end"
    );
    assert!(results[0].is_ok());
    let message = results[1].as_ref().expect_err("bad row").to_string();
    for part in [
        "workload_trace_bad_tokens.csv",
        "line 3",
        "ContextTokens",
        "12x",
    ] {
        assert!(message.contains(part), "{message:?} lacks {part:?}");
    }

    let path = temp_csv(
        "workload_trace_bad_time.csv",
        "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,374,44\n2023-11-16 25:00:00,1,1\n",
    );
    let workload = trace_workload(&format!("path = {path:?}"), "").expect("header is fine");
    let message = workload
        .requests()
        .nth(1)
        .expect("an item")
        .expect_err("bad time")
        .to_string();
    for part in [
        "workload_trace_bad_time.csv",
        "line 3",
        "TIMESTAMP",
        "2023-11-16 25:00:00",
    ] {
        assert!(message.contains(part), "{message:?} lacks {part:?}");
    }

    let path = temp_csv(
        "workload_trace_backwards.csv",
        "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,1,1\n2023-11-16 18:15:45,1,1\n",
    );
    let workload = trace_workload(&format!("path = {path:?}"), "").expect("header is fine");
    let message = workload
        .requests()
        .nth(1)
        .expect("an item")
        .expect_err("unsorted")
        .to_string();
    assert!(
        message.contains("line 3") && message.contains("sorted"),
        "{message}"
    );
}

#[test]
fn missing_file_or_column_fails_at_construction() {
    let error = trace_workload(r#"path = "scenarios/data/no-such-trace.csv""#, "")
        .expect_err("missing file")
        .to_string();
    assert!(error.contains("no-such-trace.csv"), "{error}");
    let path = temp_csv("workload_trace_no_column.csv", "time,ctx,gen\n1,2,3\n");
    let error = trace_workload(&format!("path = {path:?}"), "")
        .expect_err("bad header")
        .to_string();
    assert!(
        error.contains("TIMESTAMP") && error.contains("time,ctx,gen"),
        "{error}"
    );
}

#[test]
fn trace_and_apps_merge_by_time() {
    let apps = r#"duration = "1m"
[[apps]]
name = "chat"
deployment = "gpt-4o-mini"
arrivals = { process = "poisson", rate = 5.0 }
prompt_tokens = { dist = "constant", value = 10 }
output_tokens = { dist = "constant", value = 10 }
"#;
    let workload =
        trace_workload(r#"path = "scenarios/data/azure-conv-10min.csv""#, apps).expect("valid");
    assert_eq!(workload.app_names(), ["chat", "trace"]);
    let all: Vec<Request> = workload.requests().map(|r| r.expect("ok")).collect();
    assert!(
        all.windows(2)
            .all(|w| (w[0].at, w[0].app) <= (w[1].at, w[1].app))
    );
    let rows_in_a_minute = replay(
        r#"path = "scenarios/data/azure-conv-10min.csv""#,
        "duration = \"1m\"",
    );
    let trace_part: Vec<Request> = all
        .iter()
        .filter(|r| r.app == 1)
        .map(|r| Request {
            id: 0,
            app: 0,
            session: r.session & 0xFFFF_FFFF,
            deployment: rows_in_a_minute[0].deployment,
            ..*r
        })
        .collect();
    let alone: Vec<Request> = rows_in_a_minute
        .iter()
        .map(|r| Request { id: 0, ..*r })
        .collect();
    assert_eq!(trace_part, alone);
    assert_eq!(
        workload.deployment_name(all.iter().find(|r| r.app == 1).expect("trace").deployment),
        "gpt-4o"
    );
}
