//! A tune shard's `shard.json`: the search's inputs as given (which every shard of one run
//! must share), the whole design's size and this shard's full-fidelity evaluations and
//! neighbourhood checks, written before `tune.json`.

use throttlebox::report::RunDir;
use throttlebox::scenario::Scenario;
use throttlebox::shard::{
    SHARD_JSON, Shard, ShardIdentity, TunePart, TuneSetup, without_shard_flag,
};
use throttlebox::tune::{ShardSearch, TuneRun};

use super::tune::TuneArgs;

/// Write `shard.json` for shard `shard` of the tune `args` asked for, over `base` (the
/// scenario with the `--set`s applied), with a whole budget of `budget` simulated requests.
pub fn write_manifest(
    dir: &RunDir,
    base: &Scenario,
    shard: Shard,
    args: &TuneArgs,
    budget: u64,
    run: &TuneRun,
) -> anyhow::Result<()> {
    let words: Vec<String> = std::env::args().collect();
    let identity = ShardIdentity::new(base, shard, without_shard_flag(&words))?;
    let json = identity.tune_json(TunePart {
        setup: TuneSetup {
            scenario: run.scenario.clone(),
            scenario_path: args.scenario.as_ref().map(|p| p.display().to_string()),
            fixed: args.sets.clone(),
            strategy: args.strategy.clone(),
            params: args.params.clone(),
            objective: args.objective.clone(),
            constraint: args.constraint.clone(),
            judge: args.judge,
            seeds: run.context.seeds.clone(),
            run_length_ns: u64::try_from(run.context.full_duration.as_nanos()).unwrap_or(u64::MAX),
            budget,
            profile_points: args.profile_points,
            design_points: run.design_points,
            full_run_requests: run.full_run_requests,
            rungs: run.rungs.clone(),
        },
        search: ShardSearch::of(run),
    })?;
    dir.write_text(SHARD_JSON, &json)?;
    Ok(())
}
