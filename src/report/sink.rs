//! Where a driver puts records as it produces them: `requests.csv` / `attempts.csv` of a run
//! folder ([`CsvSink`], committed under their final names only when the run's records are
//! complete), or nowhere ([`DiscardSink`], for sweeps, plans and benchmarks: their summaries
//! come from the recorder either way). The simulator and the live engines write through the
//! same [`RecordSink`] trait.

use std::path::Path;
use std::sync::Arc;

use super::atomic_file::AtomicFile;
use super::error::ReportError;
use super::records_csv::{AttemptsCsvWriter, RequestsCsvWriter};
use super::setup::RunSetup;
use crate::metrics::{AttemptRecord, RequestRecord};

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

/// Streams records into `requests.csv` / `attempts.csv` writers. Dropped without
/// [`CsvSink::commit`], both files vanish (their temporaries are removed).
pub struct CsvSink {
    /// Request rows.
    pub requests: RequestsCsvWriter<AtomicFile>,
    /// Attempt rows.
    pub attempts: AttemptsCsvWriter<AtomicFile>,
}

impl CsvSink {
    /// Start both files (each under a temporary name until committed).
    pub fn create(
        requests: &Path,
        attempts: &Path,
        setup: Arc<RunSetup>,
    ) -> Result<CsvSink, ReportError> {
        Ok(CsvSink {
            requests: RequestsCsvWriter::create(requests, setup.clone())?,
            attempts: AttemptsCsvWriter::create(attempts, setup)?,
        })
    }

    /// Flush both files and give them their final names.
    pub fn commit(self) -> Result<(), ReportError> {
        self.requests.commit()?;
        self.attempts.commit()
    }
}

impl RecordSink for CsvSink {
    fn request(&mut self, record: &RequestRecord) -> Result<(), ReportError> {
        self.requests.write(record)
    }

    fn attempt(&mut self, record: &AttemptRecord) -> Result<(), ReportError> {
        self.attempts.write(record)
    }
}

/// A run's records go to the run folder's CSV files, or nowhere.
pub enum RunSink {
    /// `requests.csv` and `attempts.csv`.
    Csv(Box<CsvSink>),
    /// Nowhere (the recorder still sees every record).
    Discard(DiscardSink),
}

impl RunSink {
    /// Commit the files (nothing to do when discarding).
    pub fn finish(self) -> Result<(), ReportError> {
        match self {
            RunSink::Csv(csv) => csv.commit(),
            RunSink::Discard(_) => Ok(()),
        }
    }
}

impl RecordSink for RunSink {
    fn request(&mut self, record: &RequestRecord) -> Result<(), ReportError> {
        match self {
            RunSink::Csv(csv) => csv.request(record),
            RunSink::Discard(discard) => discard.request(record),
        }
    }

    fn attempt(&mut self, record: &AttemptRecord) -> Result<(), ReportError> {
        match self {
            RunSink::Csv(csv) => csv.attempt(record),
            RunSink::Discard(discard) => discard.attempt(record),
        }
    }
}
