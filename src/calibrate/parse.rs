//! From log files to a [`LogSet`]: every row through its format's [`Layout`], rows of other
//! categories, operations and embeddings models skipped (counted), APIM token rows joined to
//! their gateway rows on `CorrelationId`, one deployment kept. A malformed value stops the
//! read with its file, line, column and value, unless `skip_bad_rows` (then it is counted).

use std::collections::HashMap;
use std::path::PathBuf;

use aoai_mock::config::ModelOverrides;
use aoai_mock::model::ModelProfile;

use super::error::CalibrateError;
use super::format::{Field, Layout, LogFormat};
use super::record::{Loc, LogRecord, LogSet};
use super::rows::{Row, read_rows};
use super::values;

/// How to read the logs.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// The format.
    pub format: LogFormat,
    /// Count malformed rows and go on instead of stopping at the first.
    pub skip_bad_rows: bool,
    /// Keep only this deployment (required when the logs mix several).
    pub deployment: Option<String>,
}

struct Reader<'a> {
    layout: Layout,
    options: &'a ReadOptions,
    set: LogSet,
    /// Correlation ids of `set.records` (APIM only).
    correlations: Vec<Option<String>>,
    /// `ApiManagementGatewayLlmLog` rows by correlation id, waiting for their gateway row.
    token_rows: HashMap<String, LogRecord>,
}

/// A malformed value: where, what, why.
fn bad(
    file: &std::path::Path,
    line: u64,
    column: &str,
    value: &str,
    reason: String,
) -> CalibrateError {
    CalibrateError::Field {
        file: file.to_path_buf(),
        line,
        column: column.to_string(),
        value: value.to_string(),
        reason,
    }
}

impl Reader<'_> {
    fn value<T>(
        &self,
        row: &Row<'_>,
        field: Field,
        file: &std::path::Path,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, CalibrateError> {
        let Some((column, text)) = row.first(self.layout.names(field)) else {
            return Ok(None);
        };
        parse(&text)
            .map(Some)
            .map_err(|reason| bad(file, row.line(), &column, &text, reason))
    }

    fn name(&mut self, row: &Row<'_>, field: Field) -> Option<u32> {
        let (column, text) = row.first(self.layout.names(field))?;
        let text = if field == Field::Backend && column.to_ascii_lowercase().contains("resourceid")
        {
            values::backend_name(&text)
        } else if field == Field::Backend {
            text.to_ascii_lowercase()
        } else {
            text
        };
        Some(self.set.names.intern(&text))
    }

    /// Why `row` is not a chat/completions call of the wanted category, if it is not.
    fn skip_reason(&self, row: &Row<'_>) -> Option<String> {
        if let (Some(category), Some((_, found))) = (
            self.layout.category,
            row.first(self.layout.names(Field::Category)),
        ) && !found.eq_ignore_ascii_case(category)
        {
            return Some(format!("category {found} (not {category})"));
        }
        if let Some((_, operation)) = row.first(self.layout.names(Field::Operation))
            && !operation.to_ascii_lowercase().contains("completion")
        {
            return Some(format!("operation {operation} (not chat/completions)"));
        }
        if let Some((_, model)) = row.first(self.layout.names(Field::Model))
            && ModelProfile::resolve(&model, &ModelOverrides::default()).embeddings
        {
            return Some(format!("embeddings model {model}"));
        }
        None
    }

    fn record(&mut self, row: &Row<'_>, loc: Loc) -> Result<LogRecord, CalibrateError> {
        let file = self.set.files[usize::from(loc.file)].clone();
        let kind = self.layout.time_kind;
        let start_ns = match self.value(row, Field::StartTicks, &file, values::ticks_ns)? {
            Some(ns) => ns,
            None => self
                .value(row, Field::Time, &file, |text| values::time_ns(text, kind))?
                .ok_or_else(|| {
                    let names = self.layout.names(Field::Time).join(" or ");
                    bad(
                        &file,
                        loc.line,
                        &names,
                        "",
                        "missing: every row needs a time".into(),
                    )
                })?,
        };
        let (duration_unit, ttft_unit) = (self.layout.duration_unit_s, self.layout.ttft_unit_s);
        let mut record = LogRecord {
            loc,
            start_ns,
            duration_s: self.value(row, Field::Duration, &file, |t| {
                values::seconds(t, duration_unit)
            })?,
            ttft_s: self.value(row, Field::Ttft, &file, |t| values::seconds(t, ttft_unit))?,
            status: self.value(row, Field::Status, &file, values::status)?,
            stream: self.value(row, Field::Stream, &file, values::stream)?,
            prompt: self.value(row, Field::Prompt, &file, values::tokens)?,
            completion: self.value(row, Field::Completion, &file, values::tokens)?,
            backend: self.name(row, Field::Backend),
            region: self.name(row, Field::Region),
            deployment: self.name(row, Field::Deployment),
            model: self.name(row, Field::Model),
            app: self.name(row, Field::App),
        };
        if let Some((_, url)) = row.first(self.layout.names(Field::BackendUrl)) {
            if record.backend.is_none() {
                record.backend = values::url_backend(&url).map(|b| self.set.names.intern(&b));
            }
            if record.deployment.is_none() {
                record.deployment = values::url_deployment(&url).map(|d| self.set.names.intern(&d));
            }
        }
        Ok(record)
    }

    fn row(&mut self, row: &Row<'_>, file: u16) -> Result<(), CalibrateError> {
        self.set.rows_read += 1;
        let loc = Loc {
            file,
            line: row.line(),
        };
        if let Some(reason) = self.skip_reason(row) {
            self.set.skip(reason, loc);
            return Ok(());
        }
        let record = match self.record(row, loc) {
            Ok(record) => record,
            Err(CalibrateError::Field { column, reason, .. }) if self.options.skip_bad_rows => {
                self.set
                    .skip(format!("bad value in column {column}: {reason}"), loc);
                return Ok(());
            }
            Err(error) => return Err(error),
        };
        let correlation = row
            .first(self.layout.names(Field::Correlation))
            .map(|(_, id)| id);
        let is_token_row = record.status.is_none()
            && record.backend.is_none()
            && record.duration_s.is_none()
            && (record.prompt.is_some() || record.completion.is_some());
        match (
            self.options.format == LogFormat::ApimGateway && is_token_row,
            correlation,
        ) {
            (true, Some(id)) => {
                self.token_rows.insert(id, record);
            }
            (_, correlation) => {
                self.set.records.push(record);
                self.correlations.push(correlation);
            }
        }
        Ok(())
    }

    /// Fill gateway rows' missing tokens (and stream, deployment, model) from token rows.
    fn join_tokens(&mut self) {
        if self.token_rows.is_empty() {
            return;
        }
        for (record, id) in self.set.records.iter_mut().zip(&self.correlations) {
            let Some(from) = id.as_ref().and_then(|id| self.token_rows.get(id)) else {
                continue;
            };
            record.prompt = record.prompt.or(from.prompt);
            record.completion = record.completion.or(from.completion);
            record.stream = record.stream.or(from.stream);
            record.deployment = record.deployment.or(from.deployment);
            record.model = record.model.or(from.model);
        }
    }

    /// Keep one deployment: the one asked for, or the only one there is.
    fn one_deployment(&mut self) -> Result<(), CalibrateError> {
        let mut counts: Vec<(u32, u64, Loc)> = Vec::new();
        for record in &self.set.records {
            let Some(id) = record.deployment else {
                continue;
            };
            match counts.iter_mut().find(|(d, _, _)| *d == id) {
                Some(entry) => entry.1 += 1,
                None => counts.push((id, 1, record.loc)),
            }
        }
        let names = &self.set.names;
        let found = || {
            counts
                .iter()
                .map(|(id, n, _)| format!("{} ({n} rows)", names.get(*id)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let keep = match &self.options.deployment {
            None if counts.len() <= 1 => return Ok(()),
            None => {
                let loc = counts[1].2;
                return Err(CalibrateError::MixedDeployments {
                    file: self.set.files[usize::from(loc.file)].clone(),
                    line: loc.line,
                    column: self.layout.names(Field::Deployment).join(" or "),
                    found: found(),
                });
            }
            Some(wanted) => counts
                .iter()
                .find(|(id, _, _)| names.get(*id) == wanted)
                .map(|(id, _, _)| *id)
                .ok_or_else(|| {
                    CalibrateError::invalid(
                        "--deployment",
                        wanted,
                        format!("not in the logs (found: {})", found()),
                    )
                })?,
        };
        let records = std::mem::take(&mut self.set.records);
        for record in records {
            match record.deployment {
                Some(id) if id != keep => {
                    let reason =
                        format!("deployment {} (not --deployment)", self.set.names.get(id));
                    self.set.skip(reason, record.loc);
                }
                _ => self.set.records.push(record),
            }
        }
        Ok(())
    }
}

/// Read `files` as `options.format`.
pub fn read_logs(files: &[PathBuf], options: &ReadOptions) -> Result<LogSet, CalibrateError> {
    if files.is_empty() {
        return Err(CalibrateError::NoRows("no log files given".to_string()));
    }
    let mut reader = Reader {
        layout: Layout::of(&options.format),
        options,
        set: LogSet {
            files: files.to_vec(),
            ..LogSet::default()
        },
        correlations: Vec::new(),
        token_rows: HashMap::new(),
    };
    for (index, path) in files.iter().enumerate() {
        let file = u16::try_from(index)
            .map_err(|_| CalibrateError::invalid("LOG", files.len(), "at most 65535 files"))?;
        let time_names = reader.layout.names(Field::Time).to_vec();
        read_rows(
            path,
            &mut |header| {
                if header.has_any(&time_names) {
                    return Ok(());
                }
                Err(CalibrateError::Header {
                    file: path.clone(),
                    column: time_names.join(" or "),
                    reason: format!("every {} row needs its time", options.format),
                    found: header.names().join(","),
                })
            },
            &mut |row| reader.row(row, file),
        )?;
    }
    reader.join_tokens();
    reader.one_deployment()?;
    let mut set = reader.set;
    set.records.sort_by_key(|record| record.start_ns);
    if set.records.is_empty() {
        let skipped: Vec<String> = set
            .skipped
            .iter()
            .map(|skip| {
                format!(
                    "{} × {} (first at {})",
                    skip.count,
                    skip.reason,
                    set.locate(skip.first)
                )
            })
            .collect();
        return Err(CalibrateError::NoRows(format!(
            "no usable rows in {} row(s) read{}",
            set.rows_read,
            if skipped.is_empty() {
                String::new()
            } else {
                format!(": skipped {}", skipped.join("; "))
            }
        )));
    }
    Ok(set)
}
