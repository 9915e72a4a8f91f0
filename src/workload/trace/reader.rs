//! Streaming rows out of a trace CSV with the csv crate: one reused record, nothing collected,
//! so a 27-million-row trace uses constant memory. Every error names the file and line, and
//! for a bad field its column and value.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::timestamp::{parse_datetime_ns, parse_seconds_ns};
use crate::workload::config::{NamedTraceFormat, TimestampKind, TraceColumns, TraceFormat};
use crate::workload::error::{WorkloadError, WorkloadErrorKind};

/// One parsed trace row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceRow {
    /// 1-based line in the file (the header is line 1).
    pub line: u64,
    /// 0-based index among the file's data rows.
    pub index: u64,
    /// The timestamp in nanoseconds (since the epoch for date-times; as written for seconds).
    pub time_ns: i64,
    /// Prompt tokens.
    pub prompt_tokens: u32,
    /// Output tokens.
    pub output_tokens: u32,
}

/// The column layout resolved against a file's header.
#[derive(Debug, Clone)]
struct Layout {
    timestamp: (usize, String),
    prompt: (usize, String),
    output: (usize, String),
    kind: TimestampKind,
}

/// A lazy reader of [`TraceRow`]s.
pub struct TraceReader {
    file: PathBuf,
    csv: csv::Reader<File>,
    record: csv::StringRecord,
    layout: Layout,
    rows_read: u64,
}

impl std::fmt::Debug for TraceReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceReader")
            .field("file", &self.file)
            .field("rows_read", &self.rows_read)
            .finish_non_exhaustive()
    }
}

impl TraceReader {
    /// Open `file` and resolve `format`'s columns against its header.
    pub fn open(file: &Path, format: &TraceFormat) -> Result<Self, WorkloadError> {
        let handle = File::open(file).map_err(|source| {
            WorkloadError::from(WorkloadErrorKind::TraceIo {
                file: file.to_path_buf(),
                source,
            })
        })?;
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(true)
            .trim(csv::Trim::All)
            .from_reader(handle);
        let header = csv
            .headers()
            .map_err(|source| {
                WorkloadError::from(WorkloadErrorKind::TraceCsv {
                    file: file.to_path_buf(),
                    line: 1,
                    source,
                })
            })?
            .clone();
        let columns = match format {
            TraceFormat::Named(NamedTraceFormat::Azure2023 | NamedTraceFormat::Azure2024) => {
                TraceColumns {
                    timestamp: "TIMESTAMP".into(),
                    timestamp_kind: TimestampKind::Datetime,
                    prompt: "ContextTokens".into(),
                    output: "GeneratedTokens".into(),
                }
            }
            TraceFormat::Columns(columns) => columns.clone(),
        };
        let find = |name: &str| {
            header
                .iter()
                .position(|column| column == name)
                .map(|index| (index, name.to_string()))
                .ok_or_else(|| {
                    WorkloadError::from(WorkloadErrorKind::TraceHeader {
                        file: file.to_path_buf(),
                        column: name.to_string(),
                        found: header.iter().collect::<Vec<_>>().join(","),
                    })
                })
        };
        let layout = Layout {
            timestamp: find(&columns.timestamp)?,
            prompt: find(&columns.prompt)?,
            output: find(&columns.output)?,
            kind: columns.timestamp_kind,
        };
        Ok(TraceReader {
            file: file.to_path_buf(),
            csv,
            record: csv::StringRecord::new(),
            layout,
            rows_read: 0,
        })
    }

    /// Header name of the timestamp column (for errors about row order).
    pub fn timestamp_column(&self) -> &str {
        &self.layout.timestamp.1
    }

    /// The next row, `None` at the end of the file.
    pub fn next_row(&mut self) -> Option<Result<TraceRow, WorkloadError>> {
        match self.csv.read_record(&mut self.record) {
            Ok(false) => None,
            Ok(true) => {
                let index = self.rows_read;
                self.rows_read += 1;
                Some(self.parse_current(index))
            }
            Err(source) => {
                let line = source.position().map_or(0, |p| p.line());
                Some(Err(WorkloadError::from(WorkloadErrorKind::TraceCsv {
                    file: self.file.clone(),
                    line,
                    source,
                })))
            }
        }
    }

    fn parse_current(&self, index: u64) -> Result<TraceRow, WorkloadError> {
        let line = self.record.position().map_or(0, |p| p.line());
        let field = |(column, name): &(usize, String)| {
            self.record.get(*column).ok_or_else(|| {
                WorkloadError::from(WorkloadErrorKind::TraceField {
                    file: self.file.clone(),
                    line,
                    column: name.clone(),
                    value: String::new(),
                    reason: "missing field".into(),
                })
            })
        };
        let bad = |(_, name): &(usize, String), value: &str, reason: &str| {
            WorkloadError::from(WorkloadErrorKind::TraceField {
                file: self.file.clone(),
                line,
                column: name.clone(),
                value: value.to_string(),
                reason: reason.to_string(),
            })
        };
        let stamp = field(&self.layout.timestamp)?;
        let time_ns = match self.layout.kind {
            TimestampKind::Datetime => parse_datetime_ns(stamp),
            TimestampKind::Seconds => parse_seconds_ns(stamp),
        }
        .map_err(|reason| bad(&self.layout.timestamp, stamp, reason))?;
        let tokens = |column: &(usize, String)| {
            let text = field(column)?;
            text.parse::<u32>().map_err(|_| {
                bad(
                    column,
                    text,
                    "expected a whole number of tokens (0 to 4294967295)",
                )
            })
        };
        Ok(TraceRow {
            line,
            index,
            time_ns,
            prompt_tokens: tokens(&self.layout.prompt)?,
            output_tokens: tokens(&self.layout.output)?,
        })
    }
}
