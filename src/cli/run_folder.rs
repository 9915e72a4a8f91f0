//! The result folder of a command: never another run's (an existing `--run NAME` is refused
//! unless `--force` replaces it; a default name that is taken gets a `-2`, `-3`, … suffix),
//! and removed again when the command ends without a result (an error, or a stop before
//! anything finished), so `results/` holds only runs.

use std::path::{Path, PathBuf};

use throttlebox::report::RunDir;

/// `--results`, `--run` and `--force`, for the commands that write a folder (flattened into
/// their arguments).
#[derive(Debug, clap::Args)]
pub struct FolderArgs {
    /// Folder the run directory is created in.
    #[arg(long, default_value = "results")]
    pub results: PathBuf,
    /// Run directory name (default: the scenario's name, the command's and the UTC time); an
    /// existing one is refused unless `--force`.
    #[arg(long)]
    pub run: Option<String>,
    /// Replace an existing `--run` folder (and everything in it).
    #[arg(long)]
    pub force: bool,
}

impl FolderArgs {
    /// The folder these flags describe.
    pub fn folder(&self) -> Folder<'_> {
        Folder::new(&self.results, self.run.as_deref(), self.force)
    }
}

/// Where a command puts its folder: `--results`, `--run`, `--force`.
pub struct Folder<'a> {
    /// The results folder.
    pub results: &'a Path,
    /// The run folder's name, when given.
    pub run: Option<&'a str>,
    /// Replace an existing run folder of that name.
    pub force: bool,
}

impl<'a> Folder<'a> {
    /// From the command's `--results`, `--run` and `--force`.
    pub fn new(results: &'a Path, run: Option<&'a str>, force: bool) -> Folder<'a> {
        Folder {
            results,
            run,
            force,
        }
    }

    /// Create the folder (`default` names it when `--run` is not given), run `body` in it, and
    /// remove it again unless it then holds `result` (the summary, sweep or plan file).
    pub fn run_in<T>(
        &self,
        default: impl FnOnce() -> String,
        result: &str,
        body: impl FnOnce(&RunDir) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let dir = match self.run {
            Some(name) => RunDir::create_new(self.results, name, self.force)?,
            None => RunDir::create_unique(self.results, &default())?,
        };
        let returned = body(&dir);
        if dir.remove_unless_it_holds(result) {
            eprintln!("no result written: removed {}", dir.path().display());
        }
        returned
    }
}
