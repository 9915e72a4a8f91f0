//! Reading a log file row by row, whatever its shape: CSV with a header (Log Analytics'
//! "Export to CSV", `az monitor log-analytics query -o tsv` turned CSV, Kusto `.export`) or
//! JSON lines (resource logs from storage or Event Hubs, Kusto's JSON export). One reused
//! record, nothing collected. Column lookups are case-insensitive; a dotted name reads inside
//! the JSON a column holds (see [`super::format`]).

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde_json::{Map, Value};

use super::error::CalibrateError;

/// A CSV header: the names as written and a lower-case index.
#[derive(Debug)]
pub struct Header {
    names: Vec<String>,
    index: HashMap<String, usize>,
}

impl Header {
    fn new(record: &csv::StringRecord) -> Header {
        let names: Vec<String> = record
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let name = if i == 0 {
                    name.trim_start_matches('\u{feff}')
                } else {
                    name
                };
                name.trim().to_string()
            })
            .collect();
        let index = names
            .iter()
            .enumerate()
            .map(|(i, name)| (name.to_ascii_lowercase(), i))
            .collect();
        Header { names, index }
    }

    /// The column names as written.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Whether one of `names` (or the JSON column a dotted name reads) is a column.
    pub fn has_any(&self, names: &[String]) -> bool {
        names.iter().any(|name| {
            let base = name.split('.').next().unwrap_or(name);
            self.index.contains_key(&name.to_ascii_lowercase())
                || self.index.contains_key(&base.to_ascii_lowercase())
        })
    }
}

enum Body<'a> {
    Csv {
        header: &'a Header,
        record: &'a csv::StringRecord,
    },
    Json(&'a Map<String, Value>),
}

/// One row of a log file.
pub struct Row<'a> {
    line: u64,
    body: Body<'a>,
    /// JSON parsed out of string columns, by lower-case column name.
    parsed: RefCell<Vec<(String, Option<Value>)>>,
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(text) => Some(text.clone()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Number(number) => Some(number.to_string()),
        other => Some(other.to_string()),
    }
}

impl Row<'_> {
    /// 1-based line in the file.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The value of the column (or JSON key) `name`, matched case-insensitively, as text.
    fn plain(&self, name: &str) -> Option<(String, Value)> {
        match &self.body {
            Body::Csv { header, record } => {
                let index = *header.index.get(&name.to_ascii_lowercase())?;
                let text = record.get(index)?;
                Some((header.names[index].clone(), Value::String(text.to_string())))
            }
            Body::Json(object) => object
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(key, value)| (key.clone(), value.clone())),
        }
    }

    /// `name` (plain, or `column.key.key` inside the JSON a column holds): the column as
    /// named in the file and the value as text; `None` when absent, null or empty.
    pub fn text(&self, name: &str) -> Option<(String, String)> {
        let Some((base, path)) = name.split_once('.') else {
            let (column, value) = self.plain(name)?;
            return scalar_text(&value)
                .filter(|text| !text.trim().is_empty())
                .map(|text| (column, text.trim().to_string()));
        };
        let (column, value) = self.plain(base)?;
        let mut cache = self.parsed.borrow_mut();
        let key = column.to_ascii_lowercase();
        if !cache.iter().any(|(k, _)| *k == key) {
            let parsed = match value {
                Value::String(text) => serde_json::from_str::<Value>(&text).ok(),
                other => Some(other),
            };
            cache.push((key.clone(), parsed));
        }
        let mut current = cache.iter().find(|(k, _)| *k == key)?.1.as_ref()?;
        for segment in path.split('.') {
            current = current
                .as_object()?
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(segment))?
                .1;
        }
        scalar_text(current)
            .filter(|text| !text.trim().is_empty())
            .map(|text| (format!("{column}.{path}"), text.trim().to_string()))
    }

    /// The first of `names` that has a value.
    pub fn first(&self, names: &[String]) -> Option<(String, String)> {
        names.iter().find_map(|name| self.text(name))
    }
}

/// What a file turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// CSV with a header.
    Csv,
    /// One JSON object per line.
    JsonLines,
}

/// Read `path`, calling `on_header` once for a CSV header and `on_row` for every row.
pub fn read_rows(
    path: &Path,
    on_header: &mut dyn FnMut(&Header) -> Result<(), CalibrateError>,
    on_row: &mut dyn FnMut(&Row<'_>) -> Result<(), CalibrateError>,
) -> Result<Shape, CalibrateError> {
    let file = File::open(path).map_err(|source| CalibrateError::io(path, source))?;
    let mut reader = BufReader::new(file);
    let first = {
        let buffer = reader
            .fill_buf()
            .map_err(|source| CalibrateError::io(path, source))?;
        let text = String::from_utf8_lossy(&buffer[..buffer.len().min(64)]).into_owned();
        text.trim_start_matches('\u{feff}')
            .trim_start()
            .chars()
            .next()
    };
    match first {
        Some('{') => read_json_lines(path, reader, on_row).map(|()| Shape::JsonLines),
        Some('[') => Err(CalibrateError::Field {
            file: path.to_path_buf(),
            line: 1,
            column: "(file)".to_string(),
            value: "[".to_string(),
            reason: "a JSON array (as `az monitor log-analytics query -o json` writes): turn it \
                     into JSON lines with `jq -c '.[]'`, or export CSV"
                .to_string(),
        }),
        _ => read_csv(path, reader, on_header, on_row).map(|()| Shape::Csv),
    }
}

fn read_csv(
    path: &Path,
    reader: impl Read,
    on_header: &mut dyn FnMut(&Header) -> Result<(), CalibrateError>,
    on_row: &mut dyn FnMut(&Row<'_>) -> Result<(), CalibrateError>,
) -> Result<(), CalibrateError> {
    let csv_error = |error: csv::Error| {
        let line = error.position().map_or(0, |p| p.line());
        CalibrateError::Field {
            file: path.to_path_buf(),
            line,
            column: "(row)".to_string(),
            value: String::new(),
            reason: format!("not CSV: {error}"),
        }
    };
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(reader);
    let header = Header::new(csv.headers().map_err(csv_error)?);
    on_header(&header)?;
    let mut record = csv::StringRecord::new();
    while csv.read_record(&mut record).map_err(csv_error)? {
        let row = Row {
            line: record.position().map_or(0, |p| p.line()),
            body: Body::Csv {
                header: &header,
                record: &record,
            },
            parsed: RefCell::new(Vec::new()),
        };
        on_row(&row)?;
    }
    Ok(())
}

fn read_json_lines(
    path: &Path,
    reader: impl BufRead,
    on_row: &mut dyn FnMut(&Row<'_>) -> Result<(), CalibrateError>,
) -> Result<(), CalibrateError> {
    for (index, line) in reader.lines().enumerate() {
        let number = index as u64 + 1;
        let line = line.map_err(|source| CalibrateError::io(path, source))?;
        let text = line.trim().trim_start_matches('\u{feff}');
        if text.is_empty() {
            continue;
        }
        let object = match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(object)) => object,
            Ok(_) => Err(json_error(path, number, "not a JSON object".to_string()))?,
            Err(error) => Err(json_error(path, number, format!("not JSON: {error}")))?,
        };
        let row = Row {
            line: number,
            body: Body::Json(&object),
            parsed: RefCell::new(Vec::new()),
        };
        on_row(&row)?;
    }
    Ok(())
}

fn json_error(path: &Path, line: u64, reason: String) -> CalibrateError {
    CalibrateError::Field {
        file: path.to_path_buf(),
        line,
        column: "(line)".to_string(),
        value: String::new(),
        reason,
    }
}
