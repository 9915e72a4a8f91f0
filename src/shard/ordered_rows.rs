//! `requests.csv` and `attempts.csv` of a merged live run: every shard's rows, verbatim, in
//! schedule order — by strategy (scenario order), request id (the schedule's index), then
//! attempt — under the one header. A live shard writes its rows as requests end, so the files
//! are interleaved by an index rather than concatenated: one pass per shard notes each row's
//! key and byte range (checking that the row's request belongs to the shard, so no request
//! can be counted twice), the index is sorted, and the rows are copied in its order through a
//! read window per shard (rows end nearly in schedule order, so the window is mostly hit).
//! Memory: 40 bytes per row of the index, never the rows themselves.
//!
//! The requests pass also yields each strategy's per-second latency percentiles, recomputed
//! from the merged rows (at the files' millisecond precision): per-second percentiles of two
//! shards cannot be added, their samples can.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::error::ShardError;
use super::folders::ShardFolder;
use super::records::{csv_error, next_row, open_rows};
use crate::metrics::second_latency::SecondLatency;
use crate::report::ReportError;
use crate::report::atomic_file::AtomicFile;

/// Which file, and how its rows are keyed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowsFile {
    /// `requests.csv`: strategy, request id.
    Requests,
    /// `attempts.csv`: strategy, request id, attempt.
    Attempts,
}

impl RowsFile {
    fn name(self) -> &'static str {
        match self {
            RowsFile::Requests => crate::report::run_dir::REQUESTS_CSV,
            RowsFile::Attempts => crate::report::run_dir::ATTEMPTS_CSV,
        }
    }
}

/// One row: its place in schedule order and where its bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    strategy: u16,
    request: u64,
    attempt: u32,
    shard: u32,
    start: u64,
    len: u32,
    /// Requests: the second the request ended in and its e2e latency (µs), for the
    /// per-second percentiles.
    end_second: u32,
    e2e_us: u32,
}

/// What the merge of one file found.
#[derive(Debug, Default)]
pub struct MergedRows {
    /// Rows per strategy (scenario order).
    pub rows: Vec<u64>,
    /// Requests: per strategy, the per-second latency percentiles of the merged rows.
    pub latency: Vec<SecondLatency>,
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> ShardError + '_ {
    move |error| ShardError::Io {
        path: path.to_path_buf(),
        error,
    }
}

fn seconds_field(record: &csv::ByteRecord, column: usize) -> Option<f64> {
    std::str::from_utf8(record.get(column)?)
        .ok()?
        .parse::<f64>()
        .ok()
        .filter(|value| value.is_finite() && *value >= 0.0)
}

/// Index one shard's file: its header bytes, and an entry per row.
fn index(
    path: &Path,
    file: RowsFile,
    shard: &ShardFolder,
    number: u32,
    strategies: &[String],
    entries: &mut Vec<Entry>,
) -> Result<Vec<u8>, ShardError> {
    let (mut reader, header_bytes) = open_rows(path)?;
    let header = reader
        .byte_headers()
        .map_err(|e| csv_error(path, e))?
        .clone();
    let column = |name: &str| header.iter().position(|field| field == name.as_bytes());
    let (end_column, e2e_column) = (column("end_s"), column("e2e_s"));
    let mut record = csv::ByteRecord::new();
    while let Some((start, end)) = next_row(&mut reader, &mut record, path)? {
        let row = reader.position().line();
        let field = |index: usize| std::str::from_utf8(record.get(index).unwrap_or_default());
        let name = field(0).unwrap_or_default();
        let strategy = strategies
            .iter()
            .position(|known| known == name)
            .filter(|index| shard.manifest.strategies.iter().any(|p| p.index == *index))
            .ok_or_else(|| {
                csv_error(
                    path,
                    format!(
                        "line {row}: strategy {name:?} is not one shard {} measured",
                        shard.manifest.shard
                    ),
                )
            })?;
        let number_at = |index: usize, what: &str| -> Result<u64, ShardError> {
            field(index)
                .ok()
                .and_then(|text| text.parse().ok())
                .ok_or_else(|| csv_error(path, format!("line {row}: {what} is not a number")))
        };
        let request = number_at(1, "request_id")?;
        if !shard.manifest.shard.owns(request) {
            return Err(csv_error(
                path,
                format!(
                    "line {row}: request {request} belongs to shard {}/{}, not to this shard ({})",
                    super::Shard::owner(request, shard.manifest.shard.count),
                    shard.manifest.shard.count,
                    shard.manifest.shard
                ),
            ));
        }
        let attempt = match file {
            RowsFile::Requests => 0,
            RowsFile::Attempts => u32::try_from(number_at(2, "attempt")?).unwrap_or(u32::MAX),
        };
        let seconds = |column: Option<usize>| column.and_then(|c| seconds_field(&record, c));
        let end_second = seconds(end_column).map_or(u32::MAX, |end| end as u32);
        let e2e_us = seconds(e2e_column).map_or(u32::MAX, |e2e| {
            (e2e * 1e6).round().min(f64::from(u32::MAX - 1)) as u32
        });
        entries.push(Entry {
            strategy: strategy as u16,
            request,
            attempt,
            shard: number,
            start,
            len: u32::try_from(end - start)
                .map_err(|_| csv_error(path, format!("line {row}: a row over 4 GiB")))?,
            end_second,
            e2e_us,
        });
    }
    Ok(header_bytes)
}

/// A read window over one shard's file.
struct Window {
    path: PathBuf,
    file: File,
    offset: u64,
    bytes: Vec<u8>,
}

const WINDOW: usize = 1 << 20;

impl Window {
    fn row(&mut self, start: u64, len: u32) -> Result<&[u8], ShardError> {
        let len = len as usize;
        let inside =
            start >= self.offset && (start - self.offset) as usize + len <= self.bytes.len();
        if !inside {
            self.bytes.resize(WINDOW.max(len), 0);
            let mut filled = 0;
            while filled < self.bytes.len() {
                let read = self
                    .file
                    .read_at(&mut self.bytes[filled..], start + filled as u64)
                    .map_err(io_error(&self.path))?;
                if read == 0 {
                    break;
                }
                filled += read;
            }
            self.bytes.truncate(filled);
            self.offset = start;
            if filled < len {
                return Err(csv_error(&self.path, "the file shrank while it was merged"));
            }
        }
        let from = (start - self.offset) as usize;
        Ok(&self.bytes[from..from + len])
    }
}

/// Write `<out>/<file>` from the shards' files in schedule order (see the module doc).
pub fn merge_in_schedule_order(
    file: RowsFile,
    shards: &[ShardFolder],
    strategies: &[String],
    out: &Path,
) -> Result<MergedRows, ShardError> {
    let mut entries = Vec::new();
    let mut headers: Vec<(PathBuf, Vec<u8>)> = Vec::with_capacity(shards.len());
    for (number, shard) in shards.iter().enumerate() {
        let path = shard.path.join(file.name());
        let header = index(&path, file, shard, number as u32, strategies, &mut entries)?;
        if let Some((first_path, first)) = headers.first()
            && *first != header
        {
            return Err(csv_error(
                &path,
                format!("its header differs from {}'s", first_path.display()),
            ));
        }
        headers.push((path, header));
    }
    entries.sort_unstable();
    for pair in entries.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if (a.strategy, a.request, a.attempt) == (b.strategy, b.request, b.attempt) {
            return Err(csv_error(
                &headers[b.shard as usize].0,
                format!(
                    "request {} (attempt {}) of strategy {:?} appears twice",
                    b.request,
                    b.attempt,
                    strategies[usize::from(b.strategy)]
                ),
            ));
        }
    }
    let mut windows = shards
        .iter()
        .map(|shard| {
            let path = shard.path.join(file.name());
            Ok(Window {
                file: File::open(&path).map_err(io_error(&path))?,
                path,
                offset: 0,
                bytes: Vec::new(),
            })
        })
        .collect::<Result<Vec<_>, ShardError>>()?;
    let mut merged = MergedRows {
        rows: vec![0; strategies.len()],
        latency: (0..strategies.len())
            .map(|_| SecondLatency::default())
            .collect(),
    };
    let mut target = AtomicFile::create(&out.join(file.name()))?;
    let write_error = |error| ShardError::Report(ReportError::Named(error));
    target.write_all(&headers[0].1).map_err(write_error)?;
    for entry in &entries {
        let row = windows[entry.shard as usize].row(entry.start, entry.len)?;
        target.write_all(row).map_err(write_error)?;
        let strategy = usize::from(entry.strategy);
        merged.rows[strategy] += 1;
        if file == RowsFile::Requests && entry.end_second != u32::MAX && entry.e2e_us != u32::MAX {
            merged.latency[strategy].record(
                entry.end_second as usize,
                Duration::from_micros(u64::from(entry.e2e_us)),
            );
        }
    }
    target.commit()?;
    Ok(merged)
}
