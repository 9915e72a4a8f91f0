//! A sweep shard's `shard.json`: the axes, fixed settings and constraints, the strategies with
//! this shard's results (its finished cells by grid position; on shard 0 also the strategies
//! simulated once), and the base scenario's fingerprints, written before `sweep.csv`.

use throttlebox::report::RunDir;
use throttlebox::scenario::Scenario;
use throttlebox::shard::{
    AxisRecord, SHARD_JSON, Shard, ShardIdentity, SweepPart, without_shard_flag,
};
use throttlebox::sweep::{Axis, SweepRun};

/// Write `shard.json` for shard `shard` of `sweep` over `base` (`sets`: every `--set` as
/// given, the single-valued ones being the fixed settings; `constraint`: `--constraint`).
pub fn write_manifest(
    dir: &RunDir,
    base: &Scenario,
    shard: Shard,
    sets: &[String],
    constraint: &str,
    sweep: &SweepRun,
) -> anyhow::Result<()> {
    let fixed = sets
        .iter()
        .filter(|text| Axis::parse(text).is_ok_and(|axis| axis.values.len() == 1))
        .cloned()
        .collect();
    let words: Vec<String> = std::env::args().collect();
    let identity = ShardIdentity::new(base, shard, without_shard_flag(&words))?;
    let json = identity.sweep_json(SweepPart {
        axes: sweep
            .axes
            .iter()
            .map(|axis| AxisRecord {
                key: axis.key.clone(),
                values: axis.values.clone(),
            })
            .collect(),
        fixed,
        total_cells: sweep.cells.len(),
        constraint: constraint.to_string(),
        scenario: base.name().to_string(),
        finished_cells: sweep.finished_cells,
        simulations: sweep.simulations,
        simulated_requests: sweep.simulated_requests,
        strategies: sweep.strategies.clone(),
    })?;
    dir.write_text(SHARD_JSON, &json)?;
    Ok(())
}
