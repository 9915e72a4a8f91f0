//! Field-by-field CSV output with one reused text buffer, so writing a record allocates
//! nothing; and the matching field parsers used to read rows back.

use std::io::Write;
use std::time::Duration;

use super::error::ReportError;
use super::format;

/// A CSV writer plus a scratch buffer for formatting numbers.
pub(crate) struct FieldWriter<W: Write> {
    csv: csv::Writer<W>,
    scratch: String,
}

impl<W: Write> FieldWriter<W> {
    /// Wrap `writer` and write `header`.
    pub fn new(writer: W, header: &[&str]) -> Result<Self, ReportError> {
        let mut csv = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(writer);
        csv.write_record(header)?;
        Ok(FieldWriter {
            csv,
            scratch: String::with_capacity(64),
        })
    }

    pub fn text(&mut self, value: &str) -> Result<(), ReportError> {
        Ok(self.csv.write_field(value)?)
    }

    pub fn uint(&mut self, value: u64) -> Result<(), ReportError> {
        let mut digits = [0u8; 20];
        Ok(self.csv.write_field(decimal(value, &mut digits))?)
    }

    pub fn flag(&mut self, value: bool) -> Result<(), ReportError> {
        self.text(if value { "true" } else { "false" })
    }

    /// Seconds with three decimals (same digits as [`format::push_seconds`]).
    pub fn seconds(&mut self, value: Duration) -> Result<(), ReportError> {
        let millis = u64::try_from(format::round_millis(value)).unwrap_or(u64::MAX);
        let mut digits = [0u8; 24];
        let whole_len = decimal(millis / 1000, &mut digits[..20]).len();
        // `decimal` right-aligns: move the whole part to the front, then append ".mmm".
        digits.copy_within(20 - whole_len..20, 0);
        let fraction = millis % 1000;
        digits[whole_len] = b'.';
        digits[whole_len + 1] = b'0' + (fraction / 100) as u8;
        digits[whole_len + 2] = b'0' + (fraction / 10 % 10) as u8;
        digits[whole_len + 3] = b'0' + (fraction % 10) as u8;
        Ok(self.csv.write_field(&digits[..whole_len + 4])?)
    }

    pub fn optional_seconds(&mut self, value: Option<Duration>) -> Result<(), ReportError> {
        match value {
            Some(value) => self.seconds(value),
            None => self.text(""),
        }
    }

    /// A number with `digits` decimals, or empty.
    pub fn optional_fixed(&mut self, value: Option<f64>, digits: usize) -> Result<(), ReportError> {
        self.scratch.clear();
        if let Some(value) = value {
            use std::fmt::Write as _;
            let _ = write!(self.scratch, "{value:.digits$}");
        }
        Ok(self.csv.write_field(&self.scratch)?)
    }

    /// A field assembled by the caller in the scratch buffer.
    pub fn with_scratch(
        &mut self,
        build: impl FnOnce(&mut String) -> Result<(), ReportError>,
    ) -> Result<(), ReportError> {
        self.scratch.clear();
        build(&mut self.scratch)?;
        Ok(self.csv.write_field(&self.scratch)?)
    }

    pub fn end_row(&mut self) -> Result<(), ReportError> {
        Ok(self.csv.write_record(None::<&[u8]>)?)
    }

    /// Flush and hand back the inner writer.
    pub fn finish(self) -> Result<W, ReportError> {
        self.csv
            .into_inner()
            .map_err(|error| ReportError::Csv(csv::Error::from(error.into_error())))
    }
}

/// `value` in decimal, right-aligned in `buffer` (at least 20 bytes); returns the digits.
fn decimal(mut value: u64, buffer: &mut [u8]) -> &[u8] {
    let mut start = buffer.len();
    loop {
        start -= 1;
        buffer[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            return &buffer[start..];
        }
    }
}

/// Reads typed fields of one CSV row, naming file, row and column in every error.
pub(crate) struct FieldReader<'a> {
    pub file: &'static str,
    pub row: u64,
    pub record: &'a csv::StringRecord,
    pub header: &'static [&'static str],
}

impl FieldReader<'_> {
    pub fn raw(&self, column: &'static str) -> Result<&str, ReportError> {
        let index = self.header.iter().position(|name| *name == column);
        index
            .and_then(|index| self.record.get(index))
            .ok_or_else(|| self.bad(column, "", "missing column"))
    }

    pub fn bad(&self, column: &'static str, value: &str, reason: &'static str) -> ReportError {
        ReportError::BadRow {
            file: self.file,
            row: self.row,
            column,
            value: value.to_string(),
            reason,
        }
    }

    pub fn uint<T: std::str::FromStr>(&self, column: &'static str) -> Result<T, ReportError> {
        let text = self.raw(column)?;
        text.parse()
            .map_err(|_| self.bad(column, text, "not a non-negative integer"))
    }

    pub fn flag(&self, column: &'static str) -> Result<bool, ReportError> {
        match self.raw(column)? {
            "true" => Ok(true),
            "false" => Ok(false),
            other => Err(self.bad(column, other, "expected true or false")),
        }
    }

    pub fn seconds(&self, column: &'static str) -> Result<Duration, ReportError> {
        let text = self.raw(column)?;
        parse_seconds(text).ok_or_else(|| self.bad(column, text, "expected seconds like 1.250"))
    }

    pub fn optional_seconds(&self, column: &'static str) -> Result<Option<Duration>, ReportError> {
        if self.raw(column)?.is_empty() {
            Ok(None)
        } else {
            self.seconds(column).map(Some)
        }
    }
}

/// Parse `S.mmm` (up to 3 decimals) without floating point.
fn parse_seconds(text: &str) -> Option<Duration> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let seconds: u64 = whole.parse().ok()?;
    let millis: u64 = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<3}").parse().ok()?
    };
    Some(Duration::from_secs(seconds) + Duration::from_millis(millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_fields_match_the_shared_formatting() {
        let mut writer = FieldWriter::new(Vec::new(), &["n", "s"]).unwrap();
        let cases = [
            0u64,
            7,
            999,
            1_000,
            1_499,
            1_500,
            59_999_500,
            86_400_000_000,
            u64::MAX / 1000,
        ];
        for micros in cases {
            writer.uint(micros).unwrap();
            writer.seconds(Duration::from_micros(micros)).unwrap();
            writer.end_row().unwrap();
        }
        let text = String::from_utf8(writer.finish().unwrap()).unwrap();
        let expected: String = std::iter::once("n,s\n".to_string())
            .chain(cases.iter().map(|&micros| {
                let mut seconds = String::new();
                format::push_seconds(&mut seconds, Duration::from_micros(micros));
                format!("{micros},{seconds}\n")
            }))
            .collect();
        assert_eq!(text, expected);
        assert_eq!(parse_seconds("1.5"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_seconds("0.007"), Some(Duration::from_millis(7)));
        assert_eq!(parse_seconds("1.2345"), None);
        assert_eq!(parse_seconds(".5"), None);
        assert_eq!(parse_seconds("-1"), None);
    }
}
