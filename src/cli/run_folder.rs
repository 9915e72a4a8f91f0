//! The result folder of a command: never another run's (an existing `--run NAME` is refused
//! unless `--force` replaces it; a default name that is taken gets a `-2`, `-3`, … suffix),
//! and removed again when the command ends without a result (an error, or a stop before
//! anything finished), so `results/` holds only runs.

use std::path::Path;

use throttlebox::report::RunDir;

/// Create the folder: `<results>/<run>` when named (replacing an existing run folder only with
/// `force`), else a fresh `<results>/<default>`.
pub fn open(
    results: &Path,
    run: Option<&str>,
    force: bool,
    default: impl FnOnce() -> String,
) -> anyhow::Result<RunDir> {
    Ok(match run {
        Some(name) => RunDir::create_new(results, name, force)?,
        None => RunDir::create_unique(results, &default())?,
    })
}

/// Remove `dir` unless it holds `result` (its summary, sweep or plan file), then hand back
/// what the command returned.
pub fn settle<T>(dir: &RunDir, result: &str, returned: anyhow::Result<T>) -> anyhow::Result<T> {
    if dir.remove_unless_it_holds(result) {
        eprintln!("no result written: removed {}", dir.path().display());
    }
    returned
}
