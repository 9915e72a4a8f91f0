//! `requests.csv` and `attempts.csv`: one row per record, written incrementally as the driver
//! produces records (the file is the only place records are kept), and read back by
//! [`read_requests_csv`].
//!
//! Times are seconds since run start with millisecond precision; names replace indices;
//! `backends_tried` lists backend names separated by `;`; absent values are empty fields.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

use super::atomic_file::AtomicFile;
use super::csv_fields::{FieldReader, FieldWriter};
use super::error::ReportError;
use super::setup::RunSetup;
use crate::metrics::{AttemptRecord, BackendIndex, BackendsTried, ErrorClass, RequestRecord};

/// Columns of `requests.csv`, in order.
pub const REQUESTS_HEADER: &[&str] = &[
    "strategy",
    "request_id",
    "app",
    "intended_start_s",
    "actual_start_s",
    "end_s",
    "send_lag_s",
    "ttft_s",
    "ttft_from_send_s",
    "e2e_s",
    "status",
    "error",
    "attempts",
    "client_retries",
    "gateway_retries",
    "backends_tried",
    "final_backend",
    "prompt_tokens",
    "completion_tokens",
    "stream",
    "spilled_over",
    "served_by",
];

/// Columns of `attempts.csv`, in order.
pub const ATTEMPTS_HEADER: &[&str] = &[
    "strategy",
    "request_id",
    "attempt",
    "backend",
    "start_s",
    "end_s",
    "duration_s",
    "ttft_s",
    "status",
    "error",
    "spilled_over",
];

/// Streams [`RequestRecord`]s to `requests.csv`.
pub struct RequestsCsvWriter<W: Write> {
    fields: FieldWriter<W>,
    setup: Arc<RunSetup>,
}

impl RequestsCsvWriter<AtomicFile> {
    /// Start `path` (under a temporary name until [`Self::commit`]) and write the header.
    pub fn create(path: &Path, setup: Arc<RunSetup>) -> Result<Self, ReportError> {
        Self::new(AtomicFile::create(path)?, setup)
    }

    /// Flush and give the file its final name.
    pub fn commit(self) -> Result<(), ReportError> {
        self.finish()?.commit()
    }
}

impl<W: Write> RequestsCsvWriter<W> {
    /// Write the header to `writer`.
    pub fn new(writer: W, setup: Arc<RunSetup>) -> Result<Self, ReportError> {
        Ok(RequestsCsvWriter {
            fields: FieldWriter::new(writer, REQUESTS_HEADER)?,
            setup,
        })
    }

    /// Append one row. Fails (writing nothing of the row's names) on an unknown index.
    pub fn write(&mut self, record: &RequestRecord) -> Result<(), ReportError> {
        let setup = &*self.setup;
        let strategy = setup.strategy_name(record.strategy)?;
        let app = setup.app_name(record.app)?;
        let final_backend = record
            .final_backend
            .map(|backend| setup.backend_name(backend))
            .transpose()?;
        let served_by = record
            .served_by
            .map(|backend| setup.backend_name(backend))
            .transpose()?;
        let f = &mut self.fields;
        f.text(strategy)?;
        f.uint(record.request_id)?;
        f.text(app)?;
        f.seconds(record.intended_start)?;
        f.seconds(record.actual_start)?;
        f.seconds(record.end)?;
        f.seconds(record.send_lag())?;
        f.optional_seconds(record.ttft())?;
        f.optional_seconds(record.ttft_from_send())?;
        f.seconds(record.e2e())?;
        f.uint(u64::from(record.status))?;
        f.text(record.error.as_str())?;
        f.uint(u64::from(record.attempts))?;
        f.uint(u64::from(record.client_retries))?;
        f.uint(u64::from(record.gateway_retries))?;
        f.with_scratch(|out| {
            for (position, backend) in record.backends_tried.as_slice().iter().enumerate() {
                if position > 0 {
                    out.push(';');
                }
                out.push_str(setup.backend_name(*backend)?);
            }
            Ok(())
        })?;
        f.text(final_backend.unwrap_or(""))?;
        f.uint(u64::from(record.prompt_tokens))?;
        f.uint(u64::from(record.completion_tokens))?;
        f.flag(record.stream)?;
        f.flag(record.spilled_over)?;
        f.text(served_by.unwrap_or(""))?;
        f.end_row()
    }

    /// Flush and return the inner writer.
    pub fn finish(self) -> Result<W, ReportError> {
        self.fields.finish()
    }
}

/// Streams [`AttemptRecord`]s to `attempts.csv`.
pub struct AttemptsCsvWriter<W: Write> {
    fields: FieldWriter<W>,
    setup: Arc<RunSetup>,
}

impl AttemptsCsvWriter<AtomicFile> {
    /// Start `path` (under a temporary name until [`Self::commit`]) and write the header.
    pub fn create(path: &Path, setup: Arc<RunSetup>) -> Result<Self, ReportError> {
        Self::new(AtomicFile::create(path)?, setup)
    }

    /// Flush and give the file its final name.
    pub fn commit(self) -> Result<(), ReportError> {
        self.finish()?.commit()
    }
}

impl<W: Write> AttemptsCsvWriter<W> {
    /// Write the header to `writer`.
    pub fn new(writer: W, setup: Arc<RunSetup>) -> Result<Self, ReportError> {
        Ok(AttemptsCsvWriter {
            fields: FieldWriter::new(writer, ATTEMPTS_HEADER)?,
            setup,
        })
    }

    /// Append one row.
    pub fn write(&mut self, record: &AttemptRecord) -> Result<(), ReportError> {
        let strategy = self.setup.strategy_name(record.strategy)?;
        let backend = self.setup.backend_name(record.backend)?;
        let f = &mut self.fields;
        f.text(strategy)?;
        f.uint(record.request_id)?;
        f.uint(u64::from(record.attempt))?;
        f.text(backend)?;
        f.seconds(record.start)?;
        f.seconds(record.end)?;
        f.seconds(record.duration())?;
        f.optional_seconds(record.ttft())?;
        f.uint(u64::from(record.status))?;
        f.text(record.error.as_str())?;
        f.flag(record.spilled_over)?;
        f.end_row()
    }

    /// Flush and return the inner writer.
    pub fn finish(self) -> Result<W, ReportError> {
        self.fields.finish()
    }
}

fn index_of(names: impl Iterator<Item = impl AsRef<str>>, wanted: &str) -> Option<BackendIndex> {
    names
        .enumerate()
        .find(|(_, name)| name.as_ref() == wanted)
        .and_then(|(index, _)| BackendIndex::try_from(index).ok())
}

/// Read `requests.csv` content back into records (times at millisecond precision).
pub fn read_requests_csv(
    input: impl Read,
    setup: &RunSetup,
) -> Result<Vec<RequestRecord>, ReportError> {
    const FILE: &str = "requests.csv";
    let mut reader = csv::Reader::from_reader(input);
    let header = reader.headers()?.clone();
    if header.iter().ne(REQUESTS_HEADER.iter().copied()) {
        return Err(ReportError::BadRow {
            file: FILE,
            row: 0,
            column: "header",
            value: header.iter().collect::<Vec<_>>().join(","),
            reason: "not the requests.csv header",
        });
    }
    let backend_names = || setup.backends.iter().map(|backend| backend.name.as_str());
    let mut records = Vec::new();
    for (position, row) in reader.records().enumerate() {
        let row = row?;
        let fields = FieldReader {
            file: FILE,
            row: position as u64 + 1,
            record: &row,
            header: REQUESTS_HEADER,
        };
        let named = |column: &'static str, names: &mut dyn Iterator<Item = &str>| {
            let text = fields.raw(column)?;
            index_of(names, text).ok_or_else(|| fields.bad(column, text, "unknown name"))
        };
        let optional_backend = |column: &'static str| -> Result<Option<BackendIndex>, ReportError> {
            if fields.raw(column)?.is_empty() {
                Ok(None)
            } else {
                named(column, &mut backend_names()).map(Some)
            }
        };
        let intended_start = fields.seconds("intended_start_s")?;
        let error_text = fields.raw("error")?;
        let mut backends_tried = BackendsTried::default();
        let tried_text = fields.raw("backends_tried")?;
        for name in tried_text.split(';').filter(|name| !name.is_empty()) {
            let backend = index_of(backend_names(), name)
                .ok_or_else(|| fields.bad("backends_tried", name, "unknown backend"))?;
            backends_tried.push(backend);
        }
        records.push(RequestRecord {
            strategy: named("strategy", &mut setup.strategies.iter().map(String::as_str))?,
            request_id: fields.uint("request_id")?,
            app: named("app", &mut setup.apps.iter().map(String::as_str))?,
            intended_start,
            actual_start: fields.seconds("actual_start_s")?,
            end: fields.seconds("end_s")?,
            first_token: fields
                .optional_seconds("ttft_s")?
                .map(|ttft| intended_start + ttft),
            status: fields.uint("status")?,
            error: ErrorClass::parse(error_text)
                .ok_or_else(|| fields.bad("error", error_text, "unknown error class"))?,
            attempts: fields.uint("attempts")?,
            client_retries: fields.uint("client_retries")?,
            gateway_retries: fields.uint("gateway_retries")?,
            backends_tried,
            final_backend: optional_backend("final_backend")?,
            prompt_tokens: fields.uint("prompt_tokens")?,
            completion_tokens: fields.uint("completion_tokens")?,
            stream: fields.flag("stream")?,
            spilled_over: fields.flag("spilled_over")?,
            served_by: optional_backend("served_by")?,
        });
    }
    Ok(records)
}
