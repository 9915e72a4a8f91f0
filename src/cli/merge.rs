//! `throttlebox merge SHARD_DIR… --out DIR`: join the folders of a sharded run (`sim`/`sweep`
//! `--shard K/N`, or the live `load`/`run --target … --shard K/N`) into the folder the
//! unsharded run writes (for `tune --shard` shards: the pooled search's `tune.md`/`tune.json`/
//! `tune.html`, exit 1 when no pooled setting meets the constraints) (for live shards: of the same form, from one schedule sent by N
//! processes). The shards must line up (one
//! split, every shard once, the same throttlebox, scenario, schedule and setup): a mismatch is
//! refused naming the shard folder and the field (exit 2). `--strict` exits 3 when the merged
//! run cannot be trusted (a shard was interrupted, a strategy is invalid — for live shards
//! also a shard that started late against the shared `--start-at`).

use std::path::{Path, PathBuf};

use throttlebox::report::head_to_head_table;
use throttlebox::report::run_dir::SUMMARY_JSON;
use throttlebox::shard::{
    Split, merge_live_shards, merge_strategy_shards, merge_sweep_shards, merge_tune_shards,
    read_shards,
};
use throttlebox::tune::TUNE_JSON;

use super::run_folder::Folder;
use super::{Outcome, trust};

/// `throttlebox merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The shard folders (each holds a `shard.json`), in any order.
    #[arg(required = true, value_name = "SHARD_DIR")]
    pub shards: Vec<PathBuf>,
    /// The merged run folder to create; an existing one is refused unless `--force`.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Replace an existing `--out` folder (a throttlebox result) and everything in it.
    #[arg(long)]
    pub force: bool,
    /// Exit 3 when the merged run cannot be trusted (interrupted, or a strategy invalid).
    #[arg(long)]
    pub strict: bool,
}

/// `--out` as the results folder and the run name the folder helpers take.
fn parent_and_name(out: &Path) -> anyhow::Result<(PathBuf, String)> {
    let name = out
        .file_name()
        .and_then(|name| name.to_str())
        .ok_or_else(|| anyhow::anyhow!("--out {}: not a folder name", out.display()))?;
    let parent = out
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    Ok((parent.to_path_buf(), name.to_string()))
}

/// Run the command.
pub fn run(args: MergeArgs) -> anyhow::Result<Outcome> {
    let shards = read_shards(&args.shards)?;
    let out = std::path::absolute(&args.out)?;
    for shard in &args.shards {
        if std::path::absolute(shard)? == out {
            anyhow::bail!(
                "--out {}: that is a shard folder; merge into a new folder",
                args.out.display()
            );
        }
    }
    let (results, name) = parent_and_name(&args.out)?;
    let folder = Folder::new(&results, Some(&name), args.force);
    let count = shards.len();
    match shards[0].manifest.split {
        Split::Strategies => folder.run_in(
            || name.clone(),
            SUMMARY_JSON,
            |dir| {
                let summary = merge_strategy_shards(&shards, dir)?;
                println!("{}", head_to_head_table(&summary));
                eprintln!("{count} shards merged into {}", dir.path().display());
                Ok(trust::run_outcome(None, &summary, args.strict, false))
            },
        ),
        Split::Requests => folder.run_in(
            || name.clone(),
            SUMMARY_JSON,
            |dir| {
                let summary = merge_live_shards(&shards, dir)?;
                println!("{}", head_to_head_table(&summary));
                eprintln!("{count} live shards merged into {}", dir.path().display());
                Ok(trust::run_outcome(None, &summary, args.strict, false))
            },
        ),
        Split::Cells => folder.run_in(
            || name.clone(),
            "sweep.csv",
            |dir| {
                let merged = merge_sweep_shards(&shards)?;
                super::sweep::write(dir, &merged.bounds, &merged.run, &merged.scenario)?;
                eprintln!(
                    "{count} sweep shards merged ({} of {} cells) into {}",
                    merged.run.finished_cells,
                    merged.run.cells.len(),
                    dir.path().display()
                );
                Ok(Outcome::Ok)
            },
        ),
        Split::Starts => folder.run_in(
            || name.clone(),
            TUNE_JSON,
            |dir| {
                let run = merge_tune_shards(&shards)?;
                super::tune::write(dir, &run)?;
                eprintln!(
                    "{count} tune shards merged ({} full-fidelity evaluations) into {}",
                    run.evaluations.len(),
                    dir.path().display()
                );
                Ok(super::tune::outcome(&run))
            },
        ),
    }
}
