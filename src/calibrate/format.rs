//! The log formats `calibrate` reads and the columns each one takes a field from.
//!
//! A [`Layout`] lists, for every field a log row can carry, the column names (CSV header or
//! JSON key, matched case-insensitively) to try in order. A dotted name such as
//! `properties_s.streamType` reads key `streamType` of the JSON held in column `properties_s`
//! (a JSON string in a Log Analytics CSV export, an object in resource-log JSON lines).
//! Column names come from Microsoft's references, cited in the module doc of
//! [`crate::calibrate`].

use std::str::FromStr;

/// Which export the logs are.
#[derive(Debug, Clone, PartialEq)]
pub enum LogFormat {
    /// Azure OpenAI resource logs, category `RequestResponse` (AzureDiagnostics in Log
    /// Analytics; resource-log JSON from storage or Event Hubs).
    AzureDiagnostics,
    /// APIM's `ApiManagementGatewayLogs`, with `ApiManagementGatewayLlmLog` token counts joined
    /// in (one file) or given as files of their own (joined on `CorrelationId`).
    ApimGateway,
    /// Any CSV or JSON lines, by a column mapping.
    Columns(ColumnMap),
}

/// `columns:time=TIMESTAMP,prompt=ContextTokens,…`: which column holds which field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnMap {
    /// `(key, column)` pairs in the order given.
    pub pairs: Vec<(String, String)>,
}

/// How a time column is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeKind {
    /// An ISO-8601-like date-time, or Log Analytics' `M/D/YYYY, h:mm:ss.fff AM` form.
    Datetime,
    /// Seconds (decimals allowed) from any origin.
    Seconds,
}

/// The fields a log row can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// When the call started (date-time or seconds).
    Time,
    /// The start as .NET ticks (`properties.requestTime`), preferred over `Time`.
    StartTicks,
    /// The call's duration.
    Duration,
    /// Time to first token.
    Ttft,
    /// HTTP status.
    Status,
    /// Streamed or not.
    Stream,
    /// Prompt tokens.
    Prompt,
    /// Completion tokens.
    Completion,
    /// The backend (AOAI resource) that answered.
    Backend,
    /// A URL whose host names the backend (when no backend id is logged).
    BackendUrl,
    /// The backend's region.
    Region,
    /// The deployment name.
    Deployment,
    /// The model name.
    Model,
    /// The calling app or consumer.
    App,
    /// The log category (rows of other categories are skipped).
    Category,
    /// The operation (non-completion operations are skipped).
    Operation,
    /// The id joining a gateway row with its token row.
    Correlation,
}

/// Column names per field for one format.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    names: Vec<(Field, Vec<String>)>,
    /// How [`Field::Time`] is written.
    pub time_kind: TimeKind,
    /// Seconds per unit of [`Field::Duration`].
    pub duration_unit_s: f64,
    /// Seconds per unit of [`Field::Ttft`].
    pub ttft_unit_s: f64,
    /// The category a row must have, if the file has a category column.
    pub category: Option<&'static str>,
}

const TIME_GENERATED: &[&str] = &["TimeGenerated [UTC]", "TimeGenerated", "time"];

impl Layout {
    /// The column names to try for `field`, in order (empty: the format has none).
    pub fn names(&self, field: Field) -> &[String] {
        self.names
            .iter()
            .find(|(f, _)| *f == field)
            .map_or(&[], |(_, names)| names.as_slice())
    }

    fn from_table(table: &[(Field, &[&str])]) -> Vec<(Field, Vec<String>)> {
        table
            .iter()
            .map(|(field, names)| (*field, names.iter().map(|n| n.to_string()).collect()))
            .collect()
    }

    /// The layout of `format`.
    pub fn of(format: &LogFormat) -> Layout {
        match format {
            LogFormat::AzureDiagnostics => Layout {
                names: Layout::from_table(&[
                    (Field::Time, TIME_GENERATED),
                    (
                        Field::StartTicks,
                        &["properties_s.requestTime", "properties.requestTime"],
                    ),
                    (Field::Duration, &["DurationMs"]),
                    (Field::Status, &["ResultSignature"]),
                    (
                        Field::Stream,
                        &["properties_s.streamType", "properties.streamType"],
                    ),
                    (
                        Field::Prompt,
                        &[
                            "PromptTokens",
                            "properties_s.usage.prompt_tokens",
                            "properties.usage.prompt_tokens",
                        ],
                    ),
                    (
                        Field::Completion,
                        &[
                            "CompletionTokens",
                            "properties_s.usage.completion_tokens",
                            "properties.usage.completion_tokens",
                        ],
                    ),
                    (Field::Backend, &["Resource", "ResourceId", "_ResourceId"]),
                    (
                        Field::Region,
                        &["location", "location_s", "Region", "Tenant", "Tenant_s"],
                    ),
                    (
                        Field::Deployment,
                        &[
                            "properties_s.modelDeploymentName",
                            "properties.modelDeploymentName",
                        ],
                    ),
                    (
                        Field::Model,
                        &["properties_s.modelName", "properties.modelName"],
                    ),
                    (
                        Field::App,
                        &["properties_s.objectId", "properties.objectId"],
                    ),
                    (Field::Category, &["Category"]),
                    (Field::Operation, &["OperationName"]),
                    (Field::Correlation, &["CorrelationId"]),
                ]),
                time_kind: TimeKind::Datetime,
                duration_unit_s: 1e-3,
                ttft_unit_s: 1e-3,
                category: Some("RequestResponse"),
            },
            LogFormat::ApimGateway => Layout {
                names: Layout::from_table(&[
                    (Field::Time, TIME_GENERATED),
                    (Field::Duration, &["BackendTime", "TotalTime"]),
                    (Field::Status, &["BackendResponseCode", "ResponseCode"]),
                    (Field::Stream, &["IsStreamCompletion"]),
                    (Field::Prompt, &["PromptTokens"]),
                    (Field::Completion, &["CompletionTokens"]),
                    (Field::Backend, &["BackendId"]),
                    (Field::BackendUrl, &["BackendUrl"]),
                    (Field::Deployment, &["DeploymentName"]),
                    (Field::Model, &["ModelName"]),
                    (Field::App, &["ApimSubscriptionId"]),
                    (Field::Correlation, &["CorrelationId"]),
                ]),
                time_kind: TimeKind::Datetime,
                duration_unit_s: 1e-3,
                ttft_unit_s: 1e-3,
                category: None,
            },
            LogFormat::Columns(map) => map.layout(),
        }
    }
}

/// Keys a `columns:` mapping accepts, the field each names, and (for times) the unit.
const COLUMN_KEYS: &[(&str, Field, f64)] = &[
    ("time", Field::Time, 0.0),
    ("duration_ms", Field::Duration, 1e-3),
    ("duration_s", Field::Duration, 1.0),
    ("ttft_ms", Field::Ttft, 1e-3),
    ("ttft_s", Field::Ttft, 1.0),
    ("status", Field::Status, 0.0),
    ("stream", Field::Stream, 0.0),
    ("prompt", Field::Prompt, 0.0),
    ("completion", Field::Completion, 0.0),
    ("backend", Field::Backend, 0.0),
    ("region", Field::Region, 0.0),
    ("deployment", Field::Deployment, 0.0),
    ("model", Field::Model, 0.0),
    ("app", Field::App, 0.0),
];

impl ColumnMap {
    fn layout(&self) -> Layout {
        let mut layout = Layout {
            names: Vec::new(),
            time_kind: TimeKind::Datetime,
            duration_unit_s: 1e-3,
            ttft_unit_s: 1e-3,
            category: None,
        };
        for (key, column) in &self.pairs {
            if key == "time_kind" {
                layout.time_kind = if column == "seconds" {
                    TimeKind::Seconds
                } else {
                    TimeKind::Datetime
                };
                continue;
            }
            if let Some((_, field, unit)) = COLUMN_KEYS.iter().find(|(k, _, _)| k == key) {
                match field {
                    Field::Duration => layout.duration_unit_s = *unit,
                    Field::Ttft => layout.ttft_unit_s = *unit,
                    _ => {}
                }
                layout.names.push((*field, vec![column.clone()]));
            }
        }
        layout
    }
}

impl FromStr for LogFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "azure-diagnostics" => return Ok(LogFormat::AzureDiagnostics),
            "apim-gateway" => return Ok(LogFormat::ApimGateway),
            _ => {}
        }
        let Some(mapping) = text.strip_prefix("columns:") else {
            return Err(format!(
                "unknown log format {text:?}: write azure-diagnostics, apim-gateway or \
                 columns:time=COL[,prompt=COL,completion=COL,duration_ms=COL,…]"
            ));
        };
        let keys: Vec<&str> = COLUMN_KEYS.iter().map(|(key, _, _)| *key).collect();
        let mut map = ColumnMap::default();
        for pair in mapping.split(',').filter(|pair| !pair.trim().is_empty()) {
            let (key, column) = pair
                .split_once('=')
                .map(|(k, c)| (k.trim(), c.trim()))
                .filter(|(k, c)| !k.is_empty() && !c.is_empty())
                .ok_or_else(|| format!("columns mapping: {pair:?} is not KEY=COLUMN"))?;
            let known = keys.contains(&key) || key == "time_kind";
            if !known {
                return Err(format!(
                    "columns mapping: unknown key {key:?} (known: {}, time_kind)",
                    keys.join(", ")
                ));
            }
            if key == "time_kind" && !matches!(column, "datetime" | "seconds") {
                return Err(format!(
                    "columns mapping: time_kind={column:?}: write datetime or seconds"
                ));
            }
            if map.pairs.iter().any(|(k, _)| k == key) {
                return Err(format!("columns mapping: {key} given twice"));
            }
            map.pairs.push((key.to_string(), column.to_string()));
        }
        if !map.pairs.iter().any(|(key, _)| key == "time") {
            return Err("columns mapping: time=COLUMN is required".to_string());
        }
        Ok(LogFormat::Columns(map))
    }
}

impl std::fmt::Display for LogFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LogFormat::AzureDiagnostics => f.write_str("azure-diagnostics"),
            LogFormat::ApimGateway => f.write_str("apim-gateway"),
            LogFormat::Columns(map) => {
                let pairs: Vec<String> =
                    map.pairs.iter().map(|(k, c)| format!("{k}={c}")).collect();
                write!(f, "columns:{}", pairs.join(","))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_and_print_back() {
        for text in [
            "azure-diagnostics",
            "apim-gateway",
            "columns:time=TIMESTAMP,prompt=ContextTokens,completion=GeneratedTokens",
        ] {
            assert_eq!(text.parse::<LogFormat>().unwrap().to_string(), text);
        }
        let columns: LogFormat = "columns:time=t,time_kind=seconds,duration_s=d"
            .parse()
            .unwrap();
        let layout = Layout::of(&columns);
        assert_eq!(layout.time_kind, TimeKind::Seconds);
        assert_eq!(layout.duration_unit_s, 1.0);
        assert_eq!(layout.names(Field::Duration), ["d".to_string()]);
        assert!(layout.names(Field::Status).is_empty());
    }

    #[test]
    fn bad_mappings_say_what_is_wrong() {
        let error = |text: &str| text.parse::<LogFormat>().unwrap_err();
        assert!(error("splunk").contains("unknown log format"));
        assert!(error("columns:prompt=p").contains("time=COLUMN is required"));
        assert!(error("columns:time=t,colour=c").contains("unknown key \"colour\""));
        assert!(error("columns:time=t,time=u").contains("given twice"));
        assert!(error("columns:time").contains("not KEY=COLUMN"));
    }
}
