//! Merging the shards of a live run (`load`/`run --target … --shard K/N`, a `requests` split)
//! into one run folder of the same form as a single process's:
//!
//! - `requests.csv`, `attempts.csv`: every shard's rows in schedule order
//!   ([`super::ordered_rows`]), each request checked to belong to its shard;
//! - `histograms/*.hlog`: the shards' interval logs added interval by interval
//!   ([`crate::report::hlog_merge`]); the full-run e2e and TTFT histograms are their sum, with
//!   the exact maximum of the shards' maxima;
//! - the per-second series summed (counts, backend seconds), its per-second latency
//!   percentiles recomputed from the merged rows;
//! - the summary recomputed by the ordinary summariser from the shards' running totals added
//!   up ([`super::totals`]), e2e and TTFT from the merged interval logs;
//! - validity the worst of the shards' plus the start-skew check ([`super::live_verdict`]);
//! - `engine.json` the shards' engines as one.

use std::collections::BTreeSet;

use super::error::ShardError;
use super::folders::ShardFolder;
use super::live_verdict::{ShardVerdict, merged_engine, merged_validity, start_skew_reasons};
use super::manifest::{SHARD_JSON, StrategyPart};
use super::merge_run::{histogram, read_summary};
use super::ordered_rows::{RowsFile, merge_in_schedule_order};
use super::series_sum::sum_series;
use super::totals::add_totals;
use crate::live::engine_report::{engine_json, engine_markdown};
use crate::live::head_to_head::ENGINE_JSON;
use crate::live::load::EngineStats;
use crate::live::setup::drop_unmeasured_rows;
use crate::metrics::SecondSeries;
use crate::metrics::intervals::{E2E_TAG, TTFT_TAG};
use crate::report::hlog_merge::merge_aligned_logs;
use crate::report::{
    HISTOGRAMS_DIR, MergedHistograms, RunDir, RunOutputs, StrategyOutputs, StrategySummary,
    Summary, hlog_file_names, summarize, write_run,
};
use crate::report::{StrategyHistograms, StrategyTotals};

/// One shard's measurement of one strategy.
struct Measured<'a> {
    shard: &'a ShardFolder,
    summary: StrategySummary,
    part: &'a StrategyPart,
    totals: &'a StrategyTotals,
    engine: &'a EngineStats,
    hlog: Vec<u8>,
}

/// A strategy of the merged run.
struct Merged {
    summary: StrategySummary,
    series: SecondSeries,
    histograms: StrategyHistograms,
    engine: EngineStats,
}

/// The strategies shard `shard` measured: (scenario index, measurement), and whether it was
/// interrupted.
fn measured<'a>(
    shard: &'a ShardFolder,
    strategies: &[String],
) -> Result<(Vec<(usize, Measured<'a>)>, bool), ShardError> {
    let summary = read_summary(&shard.path)?;
    let names: Vec<&str> = summary.strategies.iter().map(|s| s.name.as_str()).collect();
    let files = hlog_file_names(&names);
    let origin = shard.path.join(SHARD_JSON);
    let mut found = Vec::with_capacity(names.len());
    for (strategy, file) in summary.strategies.into_iter().zip(files) {
        let part = strategies
            .iter()
            .position(|name| *name == strategy.name)
            .and_then(|index| shard.manifest.strategies.iter().find(|p| p.index == index))
            .ok_or_else(|| {
                ShardError::mismatch(
                    &origin,
                    "strategies[].index",
                    format!("no entry for strategy {:?} of summary.json", strategy.name),
                    "one per measured strategy",
                )
            })?;
        let (Some(totals), Some(engine)) = (&part.totals, &part.engine) else {
            return Err(ShardError::mismatch(
                &origin,
                format!("strategies[{}].totals and .engine", part.index),
                "absent",
                "present in a live shard",
            ));
        };
        let path = shard.path.join(HISTOGRAMS_DIR).join(file);
        let hlog = std::fs::read(&path).map_err(|error| ShardError::Io { path, error })?;
        found.push((
            part.index,
            Measured {
                shard,
                summary: strategy,
                part,
                totals,
                engine,
                hlog,
            },
        ));
    }
    Ok((found, summary.interrupted))
}

/// Merge strategy `index` from every shard's measurement of it.
fn merge_strategy(
    index: usize,
    parts: &[Measured<'_>],
    setup: &crate::report::RunSetup,
    latency: &crate::metrics::second_latency::SecondLatency,
    live: &super::LivePart,
) -> Result<Merged, ShardError> {
    let origin = parts[0].shard.path.join(SHARD_JSON);
    let name = &setup.strategies[index];
    let logs: Vec<(&[u8], String)> = parts
        .iter()
        .map(|part| {
            (
                part.hlog.as_slice(),
                part.shard.path.join(HISTOGRAMS_DIR).display().to_string(),
            )
        })
        .collect();
    let comment = format!(
        "throttlebox {}: scenario {}, seed {}, strategy #{index}, merged from {} shards",
        parts[0].shard.manifest.throttlebox_version,
        setup.scenario,
        setup.seed,
        parts.len()
    );
    let log = merge_aligned_logs(&logs, &comment)?;
    let mut pooled = MergedHistograms::new();
    pooled.add_log(&log, "merged interval log")?;
    let max =
        |pick: fn(&StrategyPart) -> u64| parts.iter().map(|p| pick(p.part)).max().unwrap_or(0);
    let e2e = histogram(&pooled, E2E_TAG, max(|p| p.e2e_max_ns), &origin)?;
    let ttft = histogram(&pooled, TTFT_TAG, max(|p| p.ttft_max_ns), &origin)?;
    let mut totals = parts[0].totals.clone();
    for part in &parts[1..] {
        add_totals(&mut totals, part.totals);
    }
    // The interval logs' counts (the same values as the totals' own e2e and TTFT).
    totals.e2e = e2e.clone();
    totals.ttft = ttft.clone();
    let mut summary = summarize::strategy_summary(&totals, setup);
    drop_unmeasured_rows(&mut summary, live.fallback_backend);
    let verdicts: Vec<ShardVerdict<'_>> = parts
        .iter()
        .map(|part| ShardVerdict {
            shard: part.shard.manifest.shard,
            folder: &part.shard.path,
            validity: &part.summary.validity,
            engine: part.engine,
        })
        .collect();
    let skew = start_skew_reasons(&verdicts, live.start_at.as_deref());
    summary.validity = merged_validity(&verdicts, skew);
    let snapshots: Vec<_> = parts.iter().map(|part| &part.part.series).collect();
    let series =
        SecondSeries::from_snapshot(&sum_series(&snapshots, latency)).map_err(|reason| {
            ShardError::mismatch(
                &origin,
                format!("series of strategy {name:?}"),
                reason,
                "per-second series of one fleet",
            )
        })?;
    Ok(Merged {
        summary,
        series,
        histograms: StrategyHistograms {
            e2e,
            ttft,
            interval_log: Ok(log),
            late_interval_samples: parts.iter().map(|p| p.part.late_interval_samples).sum(),
        },
        engine: merged_engine(parts.iter().map(|part| part.engine)),
    })
}

/// Merge the shards of a `requests` split (checked by [`super::read_shards`]) into `out`.
pub fn merge_live_shards(shards: &[ShardFolder], out: &RunDir) -> Result<Summary, ShardError> {
    let first = &shards[0];
    let missing = |field: &str| ShardError::mismatch(&first.path, field, "absent", "present");
    let setup = first
        .manifest
        .setup
        .as_ref()
        .ok_or_else(|| missing("setup"))?
        .to_setup();
    let live = first
        .manifest
        .live
        .as_ref()
        .ok_or_else(|| missing("live"))?;
    let mut by_shard = Vec::with_capacity(shards.len());
    let mut interrupted = false;
    for shard in shards {
        let (found, stopped) = measured(shard, &setup.strategies)?;
        interrupted |= stopped;
        by_shard.push(found);
    }
    // A strategy is merged when every shard measured it (an interrupted shard may lack some).
    let measured_by = |index: usize| {
        by_shard
            .iter()
            .all(|found| found.iter().any(|(i, _)| *i == index))
    };
    let all: BTreeSet<usize> = by_shard.iter().flatten().map(|(index, _)| *index).collect();
    let kept: Vec<usize> = all
        .iter()
        .copied()
        .filter(|&index| measured_by(index))
        .collect();
    if kept.is_empty() {
        return Err(ShardError::Incomplete(
            "no strategy was measured by every shard".to_string(),
        ));
    }
    interrupted |= kept.len() < setup.strategies.len();
    let names: Vec<String> = setup.strategies.clone();
    let requests = merge_in_schedule_order(RowsFile::Requests, shards, &names, out.path())?;
    merge_in_schedule_order(RowsFile::Attempts, shards, &names, out.path())?;
    let mut merged = Vec::with_capacity(kept.len());
    for &index in &kept {
        let parts: Vec<Measured<'_>> = by_shard
            .iter_mut()
            .filter_map(|found| {
                let position = found.iter().position(|(i, _)| *i == index)?;
                Some(found.swap_remove(position).1)
            })
            .collect();
        let strategy = merge_strategy(index, &parts, &setup, &requests.latency[index], live)?;
        if requests.rows[index] != strategy.summary.requests {
            return Err(ShardError::Incomplete(format!(
                "strategy {:?}: the shards' requests.csv hold {} rows, their totals {} requests",
                setup.strategies[index], requests.rows[index], strategy.summary.requests
            )));
        }
        merged.push(strategy);
    }
    let mut summary = Summary::new(&setup, merged.iter().map(|m| m.summary.clone()).collect())
        .with_command(first.manifest.unsharded_command.clone());
    summary.throttlebox_version = first.manifest.throttlebox_version.clone();
    if interrupted {
        summary = summary.mark_interrupted();
    }
    let engines = || {
        merged
            .iter()
            .map(|strategy| (strategy.summary.name.as_str(), &strategy.engine))
    };
    let outputs = RunOutputs {
        setup: &setup,
        summary: &summary,
        strategies: merged
            .iter()
            .map(|strategy| StrategyOutputs {
                name: strategy.summary.name.as_str(),
                series: &strategy.series,
                histograms: &strategy.histograms,
            })
            .collect(),
        report_appendix: engine_markdown(engines()),
        extra_files: vec![(ENGINE_JSON, engine_json(engines()))],
    };
    write_run(out, &outputs)?;
    Ok(summary)
}
