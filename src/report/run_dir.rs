//! The run directory `results/<run>/`: creating it without ever overwriting another run
//! (unless asked to replace one), the record sink streaming into it, atomic writes of its
//! files, and removing it again when a run ends without a result.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::atomic_file::{AtomicFile, write_file};
use super::error::ReportError;
use super::hlog::{HISTOGRAMS_DIR, hlog_file_names};
use super::setup::RunSetup;
use super::sink::CsvSink;
use super::summary::Summary;
use super::timeseries_csv::write_timeseries_csv;
use crate::metrics::SecondSeries;

/// `summary.json`.
pub const SUMMARY_JSON: &str = "summary.json";
/// `requests.csv`.
pub const REQUESTS_CSV: &str = "requests.csv";
/// `attempts.csv`.
pub const ATTEMPTS_CSV: &str = "attempts.csv";
/// `timeseries.csv`.
pub const TIMESERIES_CSV: &str = "timeseries.csv";
/// `report.md`.
pub const REPORT_MD: &str = "report.md";
/// `report.html`.
pub const REPORT_HTML: &str = "report.html";
/// The files of every run folder, whatever the mode (with `histograms/<strategy>.hlog`; a live
/// open-loop run adds `engine.json`).
pub const RUN_FILES: &[&str] = &[
    SUMMARY_JSON,
    REQUESTS_CSV,
    ATTEMPTS_CSV,
    TIMESERIES_CSV,
    REPORT_MD,
    REPORT_HTML,
];
/// The file whose presence marks a folder as a throttlebox result: `summary.json` of a run,
/// `sweep.csv` of a sweep, `plan.json` of a plan, `tune.json` of a tune. `--force` replaces
/// only such folders.
pub const RESULT_FILES: &[&str] = &[SUMMARY_JSON, "sweep.csv", "plan.json", "tune.json"];

/// The JSON text of `summary.json` (pretty, two-space indent, trailing newline).
pub fn summary_json(summary: &Summary) -> Result<String, ReportError> {
    let mut text = serde_json::to_string_pretty(summary)?;
    text.push('\n');
    Ok(text)
}

/// A run's output directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunDir {
    path: PathBuf,
}

fn check_plain_name(run: &str) -> Result<(), ReportError> {
    let plain = !run.is_empty()
        && run != "."
        && run != ".."
        && !run.contains(['/', '\\'])
        && !run.contains('\0');
    if plain {
        Ok(())
    } else {
        Err(ReportError::Invalid {
            field: "run name".to_string(),
            reason: format!("{run:?} is not a plain directory name"),
        })
    }
}

impl RunDir {
    /// Create `<results>/<run>/` (and parents), or use it if it exists. `run` must be a plain
    /// directory name. For library callers that manage their folders; the commands use
    /// [`RunDir::create_new`] and [`RunDir::create_unique`].
    pub fn create(results: &Path, run: &str) -> Result<RunDir, ReportError> {
        check_plain_name(run)?;
        let path = results.join(run);
        fs::create_dir_all(&path).map_err(|error| ReportError::io(&path, error))?;
        Ok(RunDir { path })
    }

    /// Create `<results>/<run>/`, which must not exist — unless `replace`, when an existing
    /// folder holding a throttlebox result (or nothing) is removed first, with everything in
    /// it (`gate.xml`, `compare.md`, …). A folder holding something else is never removed.
    pub fn create_new(results: &Path, run: &str, replace: bool) -> Result<RunDir, ReportError> {
        check_plain_name(run)?;
        fs::create_dir_all(results).map_err(|error| ReportError::io(results, error))?;
        let path = results.join(run);
        if path.symlink_metadata().is_ok() {
            if !replace {
                return Err(ReportError::RunExists { path });
            }
            let is_result = path.is_dir()
                && (fs::read_dir(&path)
                    .map_err(|error| ReportError::io(&path, error))?
                    .next()
                    .is_none()
                    || RESULT_FILES.iter().any(|name| path.join(name).is_file()));
            if !is_result {
                return Err(ReportError::NotARunFolder { path });
            }
            fs::remove_dir_all(&path).map_err(|error| ReportError::io(&path, error))?;
        }
        fs::create_dir(&path).map_err(|error| match error.kind() {
            std::io::ErrorKind::AlreadyExists => ReportError::RunExists { path: path.clone() },
            _ => ReportError::io(&path, error),
        })?;
        Ok(RunDir { path })
    }

    /// Create `<results>/<base>/`, or `<base>-2`, `<base>-3`, … when taken (default names,
    /// which carry a timestamp to the second, can collide).
    pub fn create_unique(results: &Path, base: &str) -> Result<RunDir, ReportError> {
        let mut copy = 1u32;
        loop {
            let name = if copy == 1 {
                base.to_string()
            } else {
                format!("{base}-{copy}")
            };
            match RunDir::create_new(results, &name, false) {
                Err(ReportError::RunExists { .. }) if copy < 1_000 => copy += 1,
                other => return other,
            }
        }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Remove the directory and everything in it unless it holds `result` (a run that ended
    /// without one — an error, an interruption before anything finished — leaves no folder).
    /// True when it was removed.
    pub fn remove_unless_it_holds(&self, result: &str) -> bool {
        !self.path.join(result).is_file() && fs::remove_dir_all(&self.path).is_ok()
    }

    /// The sink the driver streams records to: `requests.csv` and `attempts.csv`, under
    /// temporary names until it is committed.
    pub fn csv_sink(&self, setup: Arc<RunSetup>) -> Result<CsvSink, ReportError> {
        CsvSink::create(
            &self.path.join(REQUESTS_CSV),
            &self.path.join(ATTEMPTS_CSV),
            setup,
        )
    }

    /// Write `<dir>/<name>` atomically.
    pub fn write_text(&self, name: &str, text: &str) -> Result<(), ReportError> {
        write_file(&self.path.join(name), text.as_bytes())
    }

    /// Write `histograms/<strategy>.hlog` for each `(strategy name, interval log text)`, in
    /// scenario order (file names from [`hlog_file_names`]).
    pub(super) fn write_histograms(&self, logs: &[(&str, &[u8])]) -> Result<(), ReportError> {
        let folder = self.path.join(HISTOGRAMS_DIR);
        fs::create_dir_all(&folder).map_err(|error| ReportError::io(&folder, error))?;
        let names: Vec<&str> = logs.iter().map(|(name, _)| *name).collect();
        for ((_, log), file) in logs.iter().zip(hlog_file_names(&names)) {
            write_file(&folder.join(file), log)?;
        }
        Ok(())
    }

    /// Write `timeseries.csv` from every strategy's series, in scenario order.
    pub(super) fn write_timeseries(
        &self,
        setup: &RunSetup,
        strategies: &[(&str, &SecondSeries)],
    ) -> Result<(), ReportError> {
        let file = AtomicFile::create(&self.path.join(TIMESERIES_CSV))?;
        write_timeseries_csv(file, setup, strategies)?.commit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("throttlebox-run-dir-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn an_existing_run_is_never_reused_and_default_names_get_a_suffix() {
        let results = scratch("run-dir-new");
        let first = RunDir::create_new(&results, "run", false).expect("new");
        fs::write(first.path().join(SUMMARY_JSON), "{}").expect("write");
        let error = RunDir::create_new(&results, "run", false).expect_err("exists");
        assert!(matches!(error, ReportError::RunExists { .. }), "{error}");
        assert_eq!(
            RunDir::create_unique(&results, "run")
                .expect("unique")
                .path(),
            results.join("run-2")
        );
        assert_eq!(
            RunDir::create_unique(&results, "run")
                .expect("unique")
                .path(),
            results.join("run-3")
        );
        // Replacing removes everything that was in the folder.
        fs::write(first.path().join("gate.xml"), "<x/>").expect("write");
        let again = RunDir::create_new(&results, "run", true).expect("replaced");
        assert_eq!(fs::read_dir(again.path()).expect("dir").count(), 0);
        fs::remove_dir_all(results).ok();
    }

    #[test]
    fn only_run_folders_are_replaced_and_a_folder_without_result_is_removed() {
        let results = scratch("run-dir-replace");
        let other = results.join("notes");
        fs::create_dir_all(&other).expect("dir");
        fs::write(other.join("todo.txt"), "mine").expect("write");
        let error = RunDir::create_new(&results, "notes", true).expect_err("not a run");
        assert!(
            matches!(error, ReportError::NotARunFolder { .. }),
            "{error}"
        );
        assert!(other.join("todo.txt").is_file());
        let dir = RunDir::create_new(&results, "empty", false).expect("new");
        assert!(dir.remove_unless_it_holds(SUMMARY_JSON));
        assert!(!dir.path().exists());
        let kept = RunDir::create_new(&results, "kept", false).expect("new");
        fs::write(kept.path().join(SUMMARY_JSON), "{}").expect("write");
        assert!(!kept.remove_unless_it_holds(SUMMARY_JSON));
        assert!(kept.path().join(SUMMARY_JSON).is_file());
        fs::remove_dir_all(results).ok();
    }
}
