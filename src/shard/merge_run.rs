//! Merging the shards of a `sim --shard K/N` run (a `strategies` split) into one run folder
//! that is the unsharded run's byte for byte: each strategy's rows, interval log, per-second
//! series and summary come whole from the one shard that simulated it (a strategy's output
//! does not depend on which others ran: common random numbers, per-strategy state), and every
//! file is written by the ordinary writer ([`write_run`]) from the merged data — the summary's
//! run-level fields (`strategies_planned`, `interrupted`, the command) recomputed for the
//! whole run.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use super::error::ShardError;
use super::folders::ShardFolder;
use super::manifest::StrategyPart;
use super::records::merge_strategy_blocks;
use crate::metrics::intervals::{E2E_TAG, TTFT_TAG, latency_histogram};
use crate::metrics::{LatencyHistogram, SecondSeries};
use crate::report::StrategyHistograms;
use crate::report::run_dir::{ATTEMPTS_CSV, REQUESTS_CSV, SUMMARY_JSON};
use crate::report::{
    HISTOGRAMS_DIR, MergedHistograms, RunDir, RunOutputs, StrategyOutputs, StrategySummary,
    Summary, hlog_file_names, write_run,
};

/// One strategy of the merged run, as its shard left it.
struct Piece<'a> {
    shard: &'a ShardFolder,
    summary: StrategySummary,
    part: &'a StrategyPart,
    hlog: Vec<u8>,
}

pub(super) fn read_summary(folder: &Path) -> Result<Summary, ShardError> {
    let path = folder.join(SUMMARY_JSON);
    let text = std::fs::read_to_string(&path).map_err(|error| ShardError::Io {
        path: path.clone(),
        error,
    })?;
    serde_json::from_str(&text).map_err(|error| ShardError::Json { path, error })
}

/// The pieces of one shard: its summary's strategies with their parts and interval logs.
fn pieces<'a>(
    shard: &'a ShardFolder,
    strategies: &[String],
) -> Result<(Vec<(usize, Piece<'a>)>, bool), ShardError> {
    let summary = read_summary(&shard.path)?;
    let names: Vec<&str> = summary.strategies.iter().map(|s| s.name.as_str()).collect();
    let files = hlog_file_names(&names);
    let mut pieces = Vec::with_capacity(names.len());
    for (strategy, file) in summary.strategies.into_iter().zip(files) {
        let index = strategies
            .iter()
            .position(|name| *name == strategy.name)
            .filter(|index| shard.manifest.items.contains(index))
            .ok_or_else(|| {
                ShardError::mismatch(
                    &shard.path.join(SUMMARY_JSON),
                    "strategies[].name",
                    format!("{:?}", strategy.name),
                    format!("one of shard {}'s strategies", shard.manifest.shard),
                )
            })?;
        let part = shard
            .manifest
            .strategies
            .iter()
            .find(|part| part.index == index)
            .ok_or_else(|| {
                ShardError::mismatch(
                    &shard.path.join(super::SHARD_JSON),
                    "strategies[].index",
                    format!("no entry for strategy {index} ({:?})", strategy.name),
                    "one per strategy of summary.json",
                )
            })?;
        let path = shard.path.join(HISTOGRAMS_DIR).join(file);
        let hlog = std::fs::read(&path).map_err(|error| ShardError::Io { path, error })?;
        pieces.push((
            index,
            Piece {
                shard,
                summary: strategy,
                part,
                hlog,
            },
        ));
    }
    if shard.manifest.strategies.len() != pieces.len() {
        return Err(ShardError::mismatch(
            &shard.path.join(super::SHARD_JSON),
            "strategies",
            format!("{} entries", shard.manifest.strategies.len()),
            format!("{} (as summary.json)", pieces.len()),
        ));
    }
    Ok((pieces, summary.interrupted))
}

/// A full-run latency histogram from an interval log's tag and its exact maximum.
pub(super) fn histogram(
    merged: &MergedHistograms,
    tag: &str,
    max_ns: u64,
    origin: &Path,
) -> Result<LatencyHistogram, ShardError> {
    let counts = merged.tag(tag).cloned().unwrap_or_else(latency_histogram);
    LatencyHistogram::from_parts(counts, Duration::from_nanos(max_ns)).ok_or_else(|| {
        ShardError::mismatch(
            origin,
            format!("histogram bounds of tag {tag}"),
            "other bounds",
            "1 µs to one day, 3 significant digits",
        )
    })
}

/// Merge the shards of a `strategies` split (checked by [`super::read_shards`]) into `out`.
pub fn merge_strategy_shards(shards: &[ShardFolder], out: &RunDir) -> Result<Summary, ShardError> {
    let first = &shards[0];
    let record = first
        .manifest
        .setup
        .as_ref()
        .ok_or_else(|| ShardError::mismatch(&first.path, "setup", "absent", "present"))?;
    let setup = record.to_setup();
    let mut by_index: BTreeMap<usize, Piece<'_>> = BTreeMap::new();
    let mut interrupted = false;
    for shard in shards {
        let (found, stopped) = pieces(shard, &setup.strategies)?;
        interrupted |= stopped;
        by_index.extend(found);
    }
    if by_index.is_empty() {
        return Err(ShardError::Incomplete(
            "no shard holds a finished strategy".to_string(),
        ));
    }
    let present: Vec<String> = by_index
        .values()
        .map(|piece| piece.summary.name.clone())
        .collect();
    let rows = merge_strategy_blocks(REQUESTS_CSV, shards, &present, out.path())?;
    merge_strategy_blocks(ATTEMPTS_CSV, shards, &present, out.path())?;
    for (piece, rows) in by_index.values().zip(rows) {
        if rows != piece.summary.requests {
            return Err(ShardError::mismatch(
                &piece.shard.path.join(REQUESTS_CSV),
                format!("rows of strategy {:?}", piece.summary.name),
                rows,
                format!("{} (its summary.json's requests)", piece.summary.requests),
            ));
        }
    }
    let mut series = Vec::with_capacity(by_index.len());
    let mut histograms = Vec::with_capacity(by_index.len());
    for piece in by_index.values() {
        let origin = piece.shard.path.join(super::SHARD_JSON);
        series.push(
            SecondSeries::from_snapshot(&piece.part.series).map_err(|reason| {
                ShardError::mismatch(
                    &origin,
                    format!("series of strategy {:?}", piece.summary.name),
                    reason,
                    "a consistent per-second series",
                )
            })?,
        );
        let mut merged = MergedHistograms::new();
        merged.add_log(
            &piece.hlog,
            &piece.shard.path.join(HISTOGRAMS_DIR).display().to_string(),
        )?;
        histograms.push(StrategyHistograms {
            e2e: histogram(&merged, E2E_TAG, piece.part.e2e_max_ns, &origin)?,
            ttft: histogram(&merged, TTFT_TAG, piece.part.ttft_max_ns, &origin)?,
            interval_log: Ok(piece.hlog.clone()),
            late_interval_samples: piece.part.late_interval_samples,
        });
    }
    let mut summary = Summary::new(
        &setup,
        by_index
            .values()
            .map(|piece| piece.summary.clone())
            .collect(),
    )
    .with_command(first.manifest.unsharded_command.clone());
    summary.throttlebox_version = first.manifest.throttlebox_version.clone();
    if interrupted || by_index.len() < setup.strategies.len() {
        summary = summary.mark_interrupted();
    }
    let outputs = RunOutputs {
        setup: &setup,
        summary: &summary,
        strategies: by_index
            .values()
            .zip(&series)
            .zip(&histograms)
            .map(|((piece, series), histograms)| StrategyOutputs {
                name: piece.summary.name.as_str(),
                series,
                histograms,
            })
            .collect(),
        report_appendix: String::new(),
        extra_files: Vec::new(),
    };
    write_run(out, &outputs)?;
    Ok(summary)
}
