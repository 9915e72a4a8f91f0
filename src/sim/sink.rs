//! Where the simulator puts records as it produces them: CSV files for `sim`, nowhere for
//! sweeps and benchmarks (their summaries come from the recorder either way).

use std::fs::File;
use std::io::BufWriter;

use crate::metrics::{AttemptRecord, RequestRecord};
use crate::report::{AttemptsCsvWriter, ReportError, RequestsCsvWriter};

/// Receives every record as it is produced.
pub trait RecordSink {
    /// One finished logical request.
    fn request(&mut self, record: &RequestRecord) -> Result<(), ReportError>;
    /// One finished backend attempt.
    fn attempt(&mut self, record: &AttemptRecord) -> Result<(), ReportError>;
}

/// Drops records (the recorder still sees them).
#[derive(Debug, Default)]
pub struct DiscardSink;

impl RecordSink for DiscardSink {
    fn request(&mut self, _: &RequestRecord) -> Result<(), ReportError> {
        Ok(())
    }

    fn attempt(&mut self, _: &AttemptRecord) -> Result<(), ReportError> {
        Ok(())
    }
}

/// Streams records into `requests.csv` / `attempts.csv` writers.
pub struct CsvSink {
    /// Request rows.
    pub requests: RequestsCsvWriter<BufWriter<File>>,
    /// Attempt rows.
    pub attempts: AttemptsCsvWriter<BufWriter<File>>,
}

impl RecordSink for CsvSink {
    fn request(&mut self, record: &RequestRecord) -> Result<(), ReportError> {
        self.requests.write(record)
    }

    fn attempt(&mut self, record: &AttemptRecord) -> Result<(), ReportError> {
        self.attempts.write(record)
    }
}
