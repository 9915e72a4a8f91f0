//! What calibration reads out of a log row: one backend call ([`LogRecord`]), with the names
//! it carries interned, where it came from (file and line, for messages), and the rows that
//! were skipped and why (counted, never silent).

use std::collections::HashMap;
use std::path::PathBuf;

/// Index into [`Names`].
pub type NameId = u32;

/// Interned names (backends, regions, deployments, models, apps).
#[derive(Debug, Clone, Default)]
pub struct Names {
    index: HashMap<String, NameId>,
    names: Vec<String>,
}

impl Names {
    /// The id of `name`, adding it if new.
    pub fn intern(&mut self, name: &str) -> NameId {
        if let Some(id) = self.index.get(name) {
            return *id;
        }
        let id = self.names.len() as NameId;
        self.names.push(name.to_string());
        self.index.insert(name.to_string(), id);
        id
    }

    /// The name of `id`.
    pub fn get(&self, id: NameId) -> &str {
        self.names.get(id as usize).map_or("", String::as_str)
    }
}

/// Where a row came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Loc {
    /// Index into [`LogSet::files`].
    pub file: u16,
    /// 1-based line.
    pub line: u64,
}

/// One backend call as the logs describe it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LogRecord {
    /// Where the row is.
    pub loc: Loc,
    /// When the call started, nanoseconds (since the epoch for date-times).
    pub start_ns: i64,
    /// How long it took, seconds.
    pub duration_s: Option<f64>,
    /// Time to first token, seconds.
    pub ttft_s: Option<f64>,
    /// HTTP status.
    pub status: Option<u16>,
    /// Streamed.
    pub stream: Option<bool>,
    /// Prompt tokens.
    pub prompt: Option<u32>,
    /// Completion tokens.
    pub completion: Option<u32>,
    /// The backend (AOAI resource) that answered.
    pub backend: Option<NameId>,
    /// Its region.
    pub region: Option<NameId>,
    /// The deployment.
    pub deployment: Option<NameId>,
    /// The model.
    pub model: Option<NameId>,
    /// The calling app.
    pub app: Option<NameId>,
}

impl LogRecord {
    /// A 2xx answer (or no status column: every row counts as one).
    pub fn succeeded(&self) -> bool {
        self.status
            .is_none_or(|status| (200..300).contains(&status))
    }

    /// A 429.
    pub fn throttled(&self) -> bool {
        self.status == Some(429)
    }

    /// When the call ended, if its duration is known.
    pub fn end_ns(&self) -> Option<i64> {
        self.duration_s
            .map(|duration| self.start_ns + (duration * 1e9).round() as i64)
    }
}

/// Rows left out for one reason.
#[derive(Debug, Clone, PartialEq)]
pub struct Skip {
    /// Why.
    pub reason: String,
    /// How many.
    pub count: u64,
    /// The first one.
    pub first: Loc,
}

/// Every record read, in time order, with the files, names and skipped rows.
#[derive(Debug, Clone, Default)]
pub struct LogSet {
    /// The files, in the order given.
    pub files: Vec<PathBuf>,
    /// Interned names.
    pub names: Names,
    /// The records, sorted by start time (file order among equal times).
    pub records: Vec<LogRecord>,
    /// Rows not used, by reason.
    pub skipped: Vec<Skip>,
    /// Rows read in all.
    pub rows_read: u64,
}

impl LogSet {
    /// `file:line` of `loc`.
    pub fn locate(&self, loc: Loc) -> String {
        let file = self
            .files
            .get(usize::from(loc.file))
            .map_or_else(|| "?".to_string(), |path| path.display().to_string());
        format!("{file}:{}", loc.line)
    }

    /// Count a skipped row under `reason`.
    pub fn skip(&mut self, reason: impl Into<String>, loc: Loc) {
        let reason = reason.into();
        match self.skipped.iter_mut().find(|skip| skip.reason == reason) {
            Some(skip) => skip.count += 1,
            None => self.skipped.push(Skip {
                reason,
                count: 1,
                first: loc,
            }),
        }
    }

    /// The name of an optional id (`""` when absent).
    pub fn name(&self, id: Option<NameId>) -> &str {
        id.map_or("", |id| self.names.get(id))
    }

    /// Whether any record has `field` set.
    pub fn any(&self, field: impl Fn(&LogRecord) -> bool) -> bool {
        self.records.iter().any(field)
    }
}
