//! Merging the shards of a `sweep --shard K/N` run (a `cells` split): every strategy's results
//! from the shards that ran them — the cells by grid position, the strategies no axis reaches
//! from shard [`ONCE_SHARD`] — back in grid order, with the counts summed: the same
//! [`SweepRun`] the unsharded sweep produces, for the same writers of `sweep.csv`, `sweep.md`
//! and `sweep.html`.

use super::error::ShardError;
use super::folders::ShardFolder;
use super::manifest::{SHARD_JSON, SweepPart};
use crate::report::bound::{Bound, parse_bounds};
use crate::split::Shard;
use crate::sweep::{Axis, CellResult, ONCE_SHARD, SweepRun, SweptStrategy, cells};

/// A merged sweep: what its files are written from.
#[derive(Debug, Clone)]
pub struct MergedSweep {
    /// The whole sweep.
    pub run: SweepRun,
    /// The shards' `--constraint`.
    pub bounds: Vec<Bound>,
    /// The scenario's name.
    pub scenario: String,
}

fn sweep_part(shard: &ShardFolder) -> Result<&SweepPart, ShardError> {
    shard.manifest.sweep.as_ref().ok_or_else(|| {
        ShardError::mismatch(&shard.path.join(SHARD_JSON), "sweep", "absent", "present")
    })
}

/// Check that `shard` holds only what the split gives it: varying strategies in its own cells,
/// and the strategies simulated once only on shard [`ONCE_SHARD`], once each.
fn check_results(shard: &ShardFolder, part: &SweepPart) -> Result<(), ShardError> {
    let file = shard.path.join(SHARD_JSON);
    let index = shard.manifest.shard.index;
    for strategy in &part.strategies {
        let field = |name: &str| format!("sweep.strategies[{}].results[].{name}", strategy.name);
        let once = strategy.results.iter().filter(|r| r.cell.is_none()).count();
        if strategy.varies && once > 0 {
            return Err(ShardError::mismatch(
                &file,
                field("cell"),
                "none (simulated once)",
                "a grid cell: an axis reaches this strategy",
            ));
        }
        if !strategy.varies && (once > 1 || (once == 1 && index != ONCE_SHARD)) {
            return Err(ShardError::mismatch(
                &file,
                field("cell"),
                format!(
                    "{once} result(s) simulated once on shard {}",
                    shard.manifest.shard
                ),
                format!(
                    "at most one, on shard {ONCE_SHARD} (which simulates what no axis reaches)"
                ),
            ));
        }
        let stray = strategy
            .results
            .iter()
            .filter_map(|result| result.cell)
            .find(|cell| !strategy.varies || !shard.manifest.items.contains(cell));
        if let Some(cell) = stray {
            return Err(ShardError::mismatch(
                &file,
                field("cell"),
                cell,
                format!("one of shard {}'s cells", shard.manifest.shard),
            ));
        }
    }
    Ok(())
}

/// Merge the shards of a `cells` split (lined up by [`super::read_shards`]).
pub fn merge_sweep_shards(shards: &[ShardFolder]) -> Result<MergedSweep, ShardError> {
    let first = &shards[0];
    let sweep = sweep_part(first)?;
    let axes: Vec<Axis> = sweep
        .axes
        .iter()
        .map(|axis| Axis {
            key: axis.key.clone(),
            values: axis.values.clone(),
        })
        .collect();
    let grid = cells(&axes)?;
    if grid.len() != sweep.total_cells {
        return Err(ShardError::mismatch(
            &first.path.join(SHARD_JSON),
            "sweep.total_cells",
            sweep.total_cells,
            format!("{} (the product of the axes)", grid.len()),
        ));
    }
    let bounds = parse_bounds("--constraint", &sweep.constraint).map_err(|error| {
        ShardError::mismatch(
            &first.path.join(SHARD_JSON),
            "sweep.constraint",
            &sweep.constraint,
            format!("bounds this throttlebox reads ({error})"),
        )
    })?;
    let mut strategies: Vec<SweptStrategy> = sweep
        .strategies
        .iter()
        .map(|strategy| SweptStrategy {
            results: Vec::new(),
            ..strategy.clone()
        })
        .collect();
    let (mut finished_cells, mut simulations, mut simulated_requests) = (0, 0, 0);
    for shard in shards {
        let part = sweep_part(shard)?;
        check_results(shard, part)?;
        finished_cells += part.finished_cells;
        simulations += part.simulations;
        simulated_requests += part.simulated_requests;
        for (merged, own) in strategies.iter_mut().zip(&part.strategies) {
            merged.results.extend(own.results.iter().cloned());
        }
    }
    for strategy in &mut strategies {
        // Grid order, as the unsharded sweep lists them (a strategy simulated once has one).
        strategy
            .results
            .sort_by_key(|result: &CellResult| result.cell);
        if let Some(pair) = strategy.results.windows(2).find(|p| p[0].cell == p[1].cell) {
            return Err(ShardError::Incomplete(format!(
                "strategy {:?}: cell {:?} appears twice among the shards",
                strategy.name, pair[0].cell
            )));
        }
    }
    Ok(MergedSweep {
        run: SweepRun {
            axes,
            cells: grid,
            strategies,
            finished_cells,
            simulations,
            simulated_requests,
            shard: Shard::WHOLE,
        },
        bounds,
        scenario: sweep.scenario.clone(),
    })
}
