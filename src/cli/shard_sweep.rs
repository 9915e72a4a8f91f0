//! A sweep shard's `shard.json`: its finished cells with their grid positions, the axes and
//! fixed settings, and the base scenario's fingerprints, written before `sweep.csv`.

use throttlebox::report::RunDir;
use throttlebox::scenario::Scenario;
use throttlebox::shard::{
    AxisRecord, CellPart, SHARD_JSON, Shard, ShardIdentity, SweepPart, without_shard_flag,
};
use throttlebox::sweep::{Axis, SweepRun, cells};

/// Write `shard.json` for shard `shard` of a sweep of `base` over `axes` (`sets`: every `--set`
/// as given; the single-valued ones are the fixed settings).
pub fn write_manifest(
    dir: &RunDir,
    base: &Scenario,
    shard: Shard,
    sets: &[String],
    axes: &[Axis],
    sweep: &SweepRun,
) -> anyhow::Result<()> {
    let grid = cells(axes)?;
    let mut positions = shard.positions(grid.len()).into_iter();
    let mut parts = Vec::with_capacity(sweep.results.len());
    // Finished cells come in grid order, a subsequence of the shard's positions.
    for result in &sweep.results {
        let label = result.cell.label();
        let index = positions
            .by_ref()
            .find(|&position| grid[position].label() == label)
            .ok_or_else(|| anyhow::anyhow!("sweep cell {label:?} is not one of shard {shard}'s"))?;
        parts.push(CellPart {
            index,
            summary: result.summary.clone(),
        });
    }
    let fixed = sets
        .iter()
        .filter(|text| Axis::parse(text).is_ok_and(|axis| axis.values.len() == 1))
        .cloned()
        .collect();
    let words: Vec<String> = std::env::args().collect();
    let identity = ShardIdentity::new(base, shard, without_shard_flag(&words))?;
    let json = identity.sweep_json(SweepPart {
        axes: axes
            .iter()
            .map(|axis| AxisRecord {
                key: axis.key.clone(),
                values: axis.values.clone(),
            })
            .collect(),
        fixed,
        total_cells: grid.len(),
        cells: parts,
    })?;
    dir.write_text(SHARD_JSON, &json)?;
    Ok(())
}
