//! What a shard writes about itself: [`ShardIdentity`] is computed before the shard runs (its
//! place, its command without `--shard`, the fingerprints of its scenario and schedule) and
//! turns the shard's results into its `shard.json`.

use super::digest::{ScheduleDigest, scenario_digest, schedule_digest};
use super::error::ShardError;
use super::manifest::{
    LivePart, SHARD_FORMAT, SetupRecord, ShardManifest, Split, StrategyPart, SweepPart, TunePart,
};
use crate::live::head_to_head::LiveStrategyOutcome;
use crate::metrics::SecondSeries;
use crate::report::RunSetup;
use crate::report::StrategyHistograms;
use crate::scenario::{Scenario, ScenarioError};
use crate::sim::StrategyOutcome;
use crate::split::Shard;

/// A shard's identity: what every shard of one run must agree on, plus its place.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardIdentity {
    /// Which shard.
    pub shard: Shard,
    /// The command as typed without `--shard`.
    pub unsharded_command: String,
    /// [`scenario_digest`] of the scenario.
    pub scenario_digest: String,
    /// [`schedule_digest`] of its workload.
    pub schedule: ScheduleDigest,
}

fn nanos(value: Option<std::time::Duration>) -> u64 {
    value.map_or(0, |value| {
        u64::try_from(value.as_nanos()).unwrap_or(u64::MAX)
    })
}

/// What every shard keeps of strategy `index` (a live shard adds its totals and engine).
fn part(index: usize, histograms: &StrategyHistograms, series: &SecondSeries) -> StrategyPart {
    StrategyPart {
        index,
        e2e_max_ns: nanos(histograms.e2e.max()),
        ttft_max_ns: nanos(histograms.ttft.max()),
        late_interval_samples: histograms.late_interval_samples,
        series: series.snapshot(),
        totals: None,
        engine: None,
    }
}

impl ShardIdentity {
    /// Shard `shard` of a run of `scenario` (one pass over its schedule for the fingerprint).
    pub fn new(
        scenario: &Scenario,
        shard: Shard,
        unsharded_command: String,
    ) -> Result<ShardIdentity, ShardError> {
        let workload = scenario.workload()?;
        let schedule = schedule_digest(&workload)
            .map_err(|error| ScenarioError::part(&scenario.origin, format!("workload: {error}")))?;
        Ok(ShardIdentity {
            shard,
            unsharded_command,
            scenario_digest: scenario_digest(scenario)?,
            schedule,
        })
    }

    fn manifest(&self, split: Split, total: usize) -> ShardManifest {
        ShardManifest {
            shard_format: SHARD_FORMAT,
            shard: self.shard,
            split,
            items: self.shard.positions(total),
            throttlebox_version: env!("CARGO_PKG_VERSION").to_string(),
            unsharded_command: self.unsharded_command.clone(),
            scenario_digest: self.scenario_digest.clone(),
            schedule: self.schedule.clone(),
            setup: None,
            strategies: Vec::new(),
            sweep: None,
            live: None,
            tune: None,
        }
    }

    /// `shard.json` of a `sim` shard whose strategies in `finished` (scenario index, outcome)
    /// finished.
    pub fn strategies_json(
        &self,
        setup: &RunSetup,
        finished: &[(usize, &StrategyOutcome)],
    ) -> Result<String, ShardError> {
        let mut manifest = self.manifest(Split::Strategies, setup.strategies.len());
        manifest.setup = Some(SetupRecord::from(setup));
        manifest.strategies = finished
            .iter()
            .map(|(index, outcome)| {
                let recorded = outcome.recorded_in_full()?;
                Ok(part(*index, &recorded.histograms, &recorded.series))
            })
            .collect::<Result<_, ShardError>>()?;
        manifest.to_json()
    }

    /// `shard.json` of a live shard (`load`/`run --target … --shard`) whose strategies in
    /// `finished` (scenario index, outcome) were measured.
    pub fn live_json(
        &self,
        setup: &RunSetup,
        live: LivePart,
        finished: &[(usize, &LiveStrategyOutcome)],
    ) -> Result<String, ShardError> {
        let mut manifest = self.manifest(Split::Requests, 0);
        manifest.setup = Some(SetupRecord::from(setup));
        manifest.live = Some(live);
        manifest.strategies = finished
            .iter()
            .map(|(index, outcome)| StrategyPart {
                totals: Some(outcome.totals.clone()),
                engine: Some(outcome.engine.clone()),
                ..part(*index, &outcome.histograms, &outcome.series)
            })
            .collect();
        manifest.to_json()
    }

    /// `shard.json` of a `sweep` shard.
    pub fn sweep_json(&self, sweep: SweepPart) -> Result<String, ShardError> {
        let mut manifest = self.manifest(Split::Cells, sweep.total_cells);
        manifest.sweep = Some(sweep);
        manifest.to_json()
    }

    /// `shard.json` of a `tune` shard.
    pub fn tune_json(&self, tune: TunePart) -> Result<String, ShardError> {
        let mut manifest = self.manifest(Split::Starts, tune.setup.design_points);
        manifest.tune = Some(tune);
        manifest.to_json()
    }
}

/// The command line `words` without its `--shard K/N` (or `--shard=K/N`): the command of the
/// unsharded run the shards make up.
pub fn without_shard_flag(words: &[String]) -> String {
    let mut kept = Vec::with_capacity(words.len());
    let mut skip_next = false;
    for word in words {
        if std::mem::take(&mut skip_next) {
            continue;
        }
        if word == "--shard" {
            skip_next = true;
        } else if !word.starts_with("--shard=") {
            kept.push(word.as_str());
        }
    }
    kept.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shard_flag_is_dropped_in_both_spellings() {
        let words = |text: &str| text.split(' ').map(str::to_string).collect::<Vec<_>>();
        assert_eq!(
            without_shard_flag(&words("tb sim s.toml --shard 1/4 --run r")),
            "tb sim s.toml --run r"
        );
        assert_eq!(
            without_shard_flag(&words("tb sim --shard=0/2 s.toml")),
            "tb sim s.toml"
        );
    }
}
