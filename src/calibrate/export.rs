//! The other direction, for the round trip that proves a calibration: one strategy's
//! `requests.csv` and `attempts.csv` (a `sim` or live run) written as the log export a user
//! would have, one row per backend attempt (every call AOAI sees), with times anchored at
//! `start`.
//!
//! What each export carries is what the real one carries, no more: `azure-diagnostics` has no
//! TTFT (the token columns are those the README's Kusto query joins in), CSV as the Log
//! Analytics portal writes it (`TimeGenerated [UTC]` as `M/D/YYYY, h:mm:ss.fff AM`, resource
//! names in capitals, `properties_s` a JSON string, no region column) and JSON lines as
//! resource logs (`time`, `location`, a `properties` object); `apim-gateway` refuses a
//! strategy that retried inside the gateway, because APIM logs one row per client call and
//! such a run's attempts cannot be regrouped faithfully; a `columns:` mapping writes exactly
//! the mapped columns, TTFT included.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use serde_json::{Map, Value, json};

use super::error::CalibrateError;
use super::format::{ColumnMap, LogFormat};
use super::values::utc_iso;
use crate::scenario::Scenario;

/// One attempt with what its request adds.
#[derive(Debug, Clone)]
struct Call {
    request: u64,
    attempt: u64,
    start_ns: i64,
    duration_ms: f64,
    ttft_ms: Option<f64>,
    status: u16,
    backend: String,
    region: String,
    deployment: String,
    model: String,
    app: String,
    stream: bool,
    /// Token counts, logged for successful calls only.
    tokens: Option<(u64, u64)>,
}

type Row = HashMap<String, String>;

fn read_csv(path: &Path) -> Result<Vec<Row>, CalibrateError> {
    let mut reader = csv::Reader::from_path(path)
        .map_err(|e| CalibrateError::invalid(path.display().to_string(), "", e.to_string()))?;
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| CalibrateError::invalid(path.display().to_string(), "header", e.to_string()))?
        .iter()
        .map(str::to_string)
        .collect();
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|e| {
            CalibrateError::invalid(
                format!("{}, line {}", path.display(), index + 2),
                "",
                e.to_string(),
            )
        })?;
        rows.push(
            header
                .iter()
                .cloned()
                .zip(record.iter().map(str::to_string))
                .collect(),
        );
    }
    Ok(rows)
}

fn field<T: std::str::FromStr>(row: &Row, column: &str, file: &str) -> Result<T, CalibrateError> {
    let text = row.get(column).map(String::as_str).unwrap_or("");
    text.parse().map_err(|_| {
        CalibrateError::invalid(format!("{file} column {column}"), text, "not a number")
    })
}

/// Join `run`'s attempts of `strategy` (default: the first) with their requests.
fn calls(
    run: &Path,
    scenario: &Scenario,
    strategy: Option<&str>,
    start_ns: i64,
) -> Result<(Vec<Call>, bool), CalibrateError> {
    let requests = read_csv(&run.join("requests.csv"))?;
    let attempts = read_csv(&run.join("attempts.csv"))?;
    let chosen = match strategy {
        Some(name) => name.to_string(),
        None => attempts
            .first()
            .and_then(|a| a.get("strategy").cloned())
            .ok_or_else(|| CalibrateError::NoRows(format!("{}: no attempts", run.display())))?,
    };
    let mut by_id: HashMap<u64, &Row> = HashMap::new();
    let mut gateway_retries = false;
    for request in requests
        .iter()
        .filter(|r| r.get("strategy") == Some(&chosen))
    {
        gateway_retries |= field::<u64>(request, "gateway_retries", "requests.csv")? > 0;
        by_id.insert(field(request, "request_id", "requests.csv")?, request);
    }
    if by_id.is_empty() {
        return Err(CalibrateError::invalid(
            "--strategy",
            &chosen,
            "no request of this strategy in requests.csv",
        ));
    }
    let fleet = &scenario.file.fleet;
    let workload_deployment = scenario
        .workload()?
        .deployments()
        .first()
        .map_or_else(String::new, |name| name.to_string());
    let mut out = Vec::new();
    for attempt in attempts
        .iter()
        .filter(|a| a.get("strategy") == Some(&chosen))
    {
        let id: u64 = field(attempt, "request_id", "attempts.csv")?;
        let Some(request) = by_id.get(&id) else {
            continue;
        };
        let backend = attempt.get("backend").cloned().unwrap_or_default();
        let (resource_name, deployment) = match backend.split_once('/') {
            Some((r, d)) => (r.to_string(), d.to_string()),
            None => (backend.clone(), workload_deployment.clone()),
        };
        let resource = fleet.resources.iter().find(|r| r.name == resource_name);
        let model = resource
            .and_then(|r| r.deployments.iter().find(|d| d.name == deployment))
            .map_or_else(|| deployment.clone(), |d| d.model.clone());
        let status: u16 = field(attempt, "status", "attempts.csv")?;
        let ok = (200..300).contains(&status);
        let seconds = |column: &str| -> Result<Option<f64>, CalibrateError> {
            match attempt.get(column).map(String::as_str) {
                None | Some("") => Ok(None),
                Some(_) => field::<f64>(attempt, column, "attempts.csv").map(Some),
            }
        };
        let start_s: f64 = field(attempt, "start_s", "attempts.csv")?;
        out.push(Call {
            request: id,
            attempt: field(attempt, "attempt", "attempts.csv")?,
            start_ns: start_ns + (start_s * 1e9).round() as i64,
            duration_ms: seconds("duration_s")?.unwrap_or(0.0) * 1e3,
            ttft_ms: seconds("ttft_s")?.map(|t| t * 1e3),
            status,
            backend: resource_name,
            region: resource.map_or_else(String::new, |r| r.region.clone()),
            deployment,
            model,
            app: request.get("app").cloned().unwrap_or_default(),
            stream: request.get("stream").is_some_and(|s| s == "true"),
            tokens: if ok {
                Some((
                    field(request, "prompt_tokens", "requests.csv")?,
                    field(request, "completion_tokens", "requests.csv")?,
                ))
            } else {
                None
            },
        });
    }
    out.sort_by_key(|c| (c.start_ns, c.request, c.attempt));
    Ok((out, gateway_retries))
}

fn correlation(call: &Call) -> String {
    format!(
        "00000000-0000-4000-8000-{:08x}{:04x}",
        call.request, call.attempt
    )
}

/// `M/D/YYYY, h:mm:ss.fff AM` (UTC), as the Log Analytics portal exports times.
fn portal_time(ns: i64) -> String {
    let iso = utc_iso(ns, 3);
    let (year, month, day) = (
        &iso[0..4],
        iso[5..7].trim_start_matches('0'),
        iso[8..10].trim_start_matches('0'),
    );
    let hour: u32 = iso[11..13].parse().unwrap_or(0);
    let (h12, meridiem) = match hour {
        0 => (12, "AM"),
        1..=11 => (hour, "AM"),
        12 => (12, "PM"),
        _ => (hour - 12, "PM"),
    };
    format!(
        "{month}/{day}/{year}, {h12}:{}.{} {meridiem}",
        &iso[14..19],
        &iso[20..23]
    )
}

fn diagnostics(call: &Call, json: bool) -> Map<String, Value> {
    let ticks = |ns: i64| ns / 100 + 621_355_968_000_000_000;
    let end_ns = call.start_ns + (call.duration_ms * 1e6) as i64;
    let properties = json!({
        "apiName": "Azure OpenAI API version 2024-10-21",
        "requestTime": ticks(call.start_ns),
        "responseTime": ticks(end_ns),
        "objectId": call.app,
        "streamType": if call.stream { "Streaming" } else { "Non-Streaming" },
        "modelDeploymentName": call.deployment,
        "modelName": call.model,
        "modelVersion": "",
    });
    let resource_id = format!(
        "/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/THROTTLEBOX/PROVIDERS/MICROSOFT.COGNITIVESERVICES/ACCOUNTS/{}",
        call.backend.to_ascii_uppercase()
    );
    // Resource-log JSON spells keys in camel case, Log Analytics columns in Pascal case.
    let common = [
        ("resourceId", "ResourceId", json!(resource_id)),
        ("category", "Category", json!("RequestResponse")),
        (
            "operationName",
            "OperationName",
            json!("ChatCompletions_Create"),
        ),
        (
            "resultSignature",
            "ResultSignature",
            json!(call.status.to_string()),
        ),
        (
            "durationMs",
            "DurationMs",
            json!(call.duration_ms.round() as u64),
        ),
        ("correlationId", "CorrelationId", json!(correlation(call))),
    ];
    let mut row: Map<String, Value> = common
        .into_iter()
        .map(|(camel, pascal, value)| ((if json { camel } else { pascal }).to_string(), value))
        .collect();
    let mut put = |key: &str, value: Value| {
        row.insert(key.to_string(), value);
    };
    if json {
        put("time", json!(utc_iso(end_ns, 7)));
        put(
            "location",
            json!(call.region.to_ascii_lowercase().replace(' ', "")),
        );
        put("properties", properties);
    } else {
        put("TimeGenerated [UTC]", json!(portal_time(end_ns)));
        put("Resource", json!(call.backend.to_ascii_uppercase()));
        put("properties_s", json!(properties.to_string()));
    }
    put("PromptTokens", tokens(call, |t| t.0));
    put("CompletionTokens", tokens(call, |t| t.1));
    row
}

/// One of a call's token counts, or null when it logged none.
fn tokens(call: &Call, pick: fn((u64, u64)) -> u64) -> Value {
    call.tokens.map_or(Value::Null, |t| json!(pick(t)))
}

fn apim(call: &Call) -> Map<String, Value> {
    let ok = (200..300).contains(&call.status);
    let url = format!(
        "https://{}.openai.azure.com/openai/deployments/{}/chat/completions?api-version=2024-10-21",
        call.backend, call.deployment
    );
    let pairs = [
        ("TimeGenerated", json!(utc_iso(call.start_ns, 7))),
        ("CorrelationId", json!(correlation(call))),
        ("ApiId", json!("azure-openai")),
        ("OperationId", json!("ChatCompletions_Create")),
        ("BackendId", json!(call.backend)),
        ("BackendUrl", json!(url)),
        ("ResponseCode", json!(call.status)),
        ("BackendResponseCode", json!(call.status)),
        ("TotalTime", json!(call.duration_ms.round() as u64)),
        ("BackendTime", json!(call.duration_ms.round() as u64)),
        ("ApimSubscriptionId", json!(call.app)),
        (
            "DeploymentName",
            if ok {
                json!(call.deployment)
            } else {
                Value::Null
            },
        ),
        (
            "ModelName",
            if ok { json!(call.model) } else { Value::Null },
        ),
        ("PromptTokens", tokens(call, |t| t.0)),
        ("CompletionTokens", tokens(call, |t| t.1)),
        (
            "IsStreamCompletion",
            if ok { json!(call.stream) } else { Value::Null },
        ),
    ];
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

fn columns(call: &Call, map: &ColumnMap) -> Map<String, Value> {
    let seconds_kind = map
        .pairs
        .iter()
        .any(|(k, c)| k == "time_kind" && c == "seconds");
    map.pairs
        .iter()
        .filter_map(|(key, column)| {
            let value = match key.as_str() {
                "time" if seconds_kind => json!(call.start_ns as f64 / 1e9),
                "time" => json!(utc_iso(call.start_ns, 7)),
                "duration_ms" => json!(call.duration_ms),
                "duration_s" => json!(call.duration_ms / 1e3),
                "ttft_ms" => call.ttft_ms.map_or(Value::Null, |t| json!(t)),
                "ttft_s" => call.ttft_ms.map_or(Value::Null, |t| json!(t / 1e3)),
                "status" => json!(call.status),
                "stream" => json!(call.stream),
                "prompt" => tokens(call, |t| t.0),
                "completion" => tokens(call, |t| t.1),
                "backend" => json!(call.backend),
                "region" => json!(call.region),
                "deployment" => json!(call.deployment),
                "model" => json!(call.model),
                "app" => json!(call.app),
                _ => return None,
            };
            Some((column.clone(), value))
        })
        .collect()
}

fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Export `run`'s records (one `strategy`, default the first) as `format` logs into `out`
/// (JSON lines when it ends in `.json`/`.jsonl`, CSV otherwise); returns the rows written.
pub fn export_logs(
    run: &Path,
    scenario: &Scenario,
    format: &LogFormat,
    strategy: Option<&str>,
    start_ns: i64,
    out: &Path,
) -> Result<usize, CalibrateError> {
    let (calls, gateway_retries) = calls(run, scenario, strategy, start_ns)?;
    if gateway_retries && *format == LogFormat::ApimGateway {
        return Err(CalibrateError::invalid(
            "--strategy",
            strategy.unwrap_or("(first)"),
            "this strategy retried inside the gateway; APIM logs one row per client call, so its attempts cannot be exported faithfully as apim-gateway logs: pick a strategy without gateway retries",
        ));
    }
    let json = out.extension().is_some_and(|e| e == "json" || e == "jsonl");
    let rows: Vec<Map<String, Value>> = calls
        .iter()
        .map(|call| match format {
            LogFormat::AzureDiagnostics => diagnostics(call, json),
            LogFormat::ApimGateway => apim(call),
            LogFormat::Columns(map) => columns(call, map),
        })
        .collect();
    let file = std::fs::File::create(out).map_err(|e| CalibrateError::io(out, e))?;
    let mut writer = std::io::BufWriter::new(file);
    let io = |e: std::io::Error| CalibrateError::io(out, e);
    if json {
        for row in &rows {
            writeln!(writer, "{}", Value::Object(row.clone())).map_err(io)?;
        }
    } else {
        let mut csv = csv::Writer::from_writer(&mut writer);
        let header: Vec<String> = rows
            .first()
            .map(|r| r.keys().cloned().collect())
            .unwrap_or_default();
        let csv_error =
            |e: csv::Error| CalibrateError::invalid(out.display().to_string(), "", e.to_string());
        csv.write_record(&header).map_err(csv_error)?;
        for row in &rows {
            csv.write_record(
                header
                    .iter()
                    .map(|k| cell(row.get(k).unwrap_or(&Value::Null))),
            )
            .map_err(csv_error)?;
        }
        csv.flush().map_err(io)?;
    }
    writer.flush().map_err(io)?;
    Ok(rows.len())
}
