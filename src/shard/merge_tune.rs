//! Merging the shards of a `tune --shard K/N` run (a `starts` split): the search's inputs are
//! read back from the first shard's `shard.json` (the shards were lined up key by key by
//! [`super::read_shards`]), and every shard's full-fidelity evaluations and neighbourhood
//! checks are pooled by [`crate::tune::pool`] into the [`TuneRun`] the ordinary writers of
//! `tune.md`, `tune.json` and `tune.html` take.

use std::path::PathBuf;
use std::time::Duration;

use super::error::ShardError;
use super::folders::ShardFolder;
use super::manifest::{SHARD_JSON, TunePart};
use crate::report::bound::parse_bounds;
use crate::scenario::Override;
use crate::sim::StopFlag;
use crate::tune::evaluate::Context;
use crate::tune::{Objective, Param, ShardSearch, Shared, TuneRun, pool};

fn tune_part(shard: &ShardFolder) -> Result<&TunePart, ShardError> {
    shard.manifest.tune.as_ref().ok_or_else(|| {
        ShardError::mismatch(&shard.path.join(SHARD_JSON), "tune", "absent", "present")
    })
}

/// Parse `text` of `field` with `parse`, naming the file, field and value it refuses.
fn parsed<T, E: std::fmt::Display>(
    shard: &ShardFolder,
    field: &str,
    text: &str,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<T, ShardError> {
    parse(text).map_err(|error| {
        ShardError::mismatch(
            &shard.path.join(SHARD_JSON),
            field,
            text,
            format!("a value this throttlebox reads ({error})"),
        )
    })
}

/// [`parsed`] for every text of a list.
fn all_parsed<T, E: std::fmt::Display>(
    shard: &ShardFolder,
    field: &str,
    texts: &[String],
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<Vec<T>, ShardError> {
    texts
        .iter()
        .map(|text| parsed(shard, field, text, &parse))
        .collect()
}

/// Merge the shards of a `starts` split (lined up by [`super::read_shards`]).
pub fn merge_tune_shards(shards: &[ShardFolder]) -> Result<TuneRun, ShardError> {
    let first = &shards[0];
    let setup = &tune_part(first)?.setup;
    let context = Context {
        path: setup.scenario_path.as_ref().map(PathBuf::from),
        fixed: all_parsed(first, "tune.fixed", &setup.fixed, Override::parse)?,
        strategy: setup.strategy.clone(),
        params: all_parsed(first, "tune.params", &setup.params, Param::parse)?,
        seeds: setup.seeds.clone(),
        full_duration: Duration::from_nanos(setup.run_length_ns),
        objective: parsed(first, "tune.objective", &setup.objective, Objective::parse)?,
        bounds: parsed(first, "tune.constraint", &setup.constraint, |text| {
            parse_bounds("--constraint", text)
        })?,
        rule: setup.judge,
        jobs: 1,
        stop: StopFlag::new(),
    };
    let searches = shards
        .iter()
        .map(|shard| tune_part(shard).map(|part| part.search.clone()))
        .collect::<Result<Vec<ShardSearch>, ShardError>>()?;
    Ok(pool(
        context,
        Shared {
            scenario: setup.scenario.clone(),
            budget: setup.budget,
            full_run_requests: setup.full_run_requests,
            rungs: setup.rungs.clone(),
            design_points: setup.design_points,
        },
        &searches,
    ))
}
