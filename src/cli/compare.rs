//! `throttlebox compare RUN_A RUN_B …`: the head to head of existing run directories on the
//! terminal, written as Markdown into the first run's folder (or `--out`).

use std::path::PathBuf;

use throttlebox::report::atomic_file::write_file;
use throttlebox::report::{compare, load_runs};

use super::Outcome;

/// `throttlebox compare`.
#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// Run directories (each holding a `summary.json`, e.g. `results/ptu-payg-pool-…`).
    #[arg(required = true, value_name = "RUN")]
    pub runs: Vec<PathBuf>,
    /// Where to write the Markdown comparison; default: `<first run>/compare.md`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Run the command.
pub fn run(args: CompareArgs) -> anyhow::Result<Outcome> {
    let comparison = compare(load_runs(&args.runs)?)?;
    print!("{}", comparison.render_text());
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.runs[0].join("compare.md"));
    // Atomically, as every file of a run folder (the error names the file).
    write_file(&out, comparison.render_markdown().as_bytes())?;
    eprintln!("comparison written to {}", out.display());
    Ok(Outcome::Ok)
}
