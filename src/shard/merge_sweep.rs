//! Merging the shards of a `sweep --shard K/N` run (a `cells` split): every finished cell's
//! summaries, from the shard that ran it, back in grid order — the same [`SweepRun`] the
//! unsharded sweep produces, for the same writers of `sweep.csv` and `sweep.md`.

use super::error::ShardError;
use super::folders::ShardFolder;
use super::manifest::SHARD_JSON;
use crate::sweep::{Axis, CellResult, SweepRun, cells};

/// A merged sweep: its axes and cells.
#[derive(Debug, Clone)]
pub struct MergedSweep {
    /// The axes, in order.
    pub axes: Vec<Axis>,
    /// The cells that finished, in grid order, and the grid's size.
    pub run: SweepRun,
}

/// Merge the shards of a `cells` split (checked by [`super::read_shards`]).
pub fn merge_sweep_shards(shards: &[ShardFolder]) -> Result<MergedSweep, ShardError> {
    let first = &shards[0];
    let sweep = first.manifest.sweep.as_ref().ok_or_else(|| {
        ShardError::mismatch(&first.path.join(SHARD_JSON), "sweep", "absent", "present")
    })?;
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
    let mut found: Vec<(usize, CellResult)> = Vec::new();
    for shard in shards {
        let Some(part) = &shard.manifest.sweep else {
            continue;
        };
        for cell in &part.cells {
            if !shard.manifest.items.contains(&cell.index) {
                return Err(ShardError::mismatch(
                    &shard.path.join(SHARD_JSON),
                    "sweep.cells[].index",
                    cell.index,
                    format!("one of shard {}'s cells", shard.manifest.shard),
                ));
            }
            found.push((
                cell.index,
                CellResult {
                    cell: grid[cell.index].clone(),
                    summary: cell.summary.clone(),
                },
            ));
        }
    }
    found.sort_by_key(|(index, _)| *index);
    if let Some(pair) = found.windows(2).find(|pair| pair[0].0 == pair[1].0) {
        return Err(ShardError::Incomplete(format!(
            "cell {} appears twice among the shards",
            pair[0].0
        )));
    }
    Ok(MergedSweep {
        axes,
        run: SweepRun {
            results: found.into_iter().map(|(_, result)| result).collect(),
            total: grid.len(),
        },
    })
}
