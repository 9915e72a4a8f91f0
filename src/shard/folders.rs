//! Reading the shard folders given to `merge` and checking that they line up: one split, one
//! shard count, every shard exactly once, the same throttlebox, scenario, schedule and run
//! setup (seed, strategies, backends, prices, SLOs, run length), and each shard holding the
//! items the split gives it. A disagreement is refused with the folder, the field and both
//! values: a merge of shards that ran different experiments would be a table that looks fine
//! and is not.

use std::path::PathBuf;

use serde::Serialize;

use super::error::ShardError;
use super::manifest::{SHARD_JSON, ShardManifest, Split};

/// A shard folder and its `shard.json`.
#[derive(Debug, Clone)]
pub struct ShardFolder {
    /// The folder.
    pub path: PathBuf,
    /// Its `shard.json`.
    pub manifest: ShardManifest,
}

/// The shard folders `given` names: each folder holding a `shard.json`, and for a folder
/// without one, its subfolders that hold one (`merge results/run-1/shards` takes every shard
/// an Indexed Job wrote there), sorted by name.
fn expand(given: &[PathBuf]) -> Result<Vec<PathBuf>, ShardError> {
    let mut folders = Vec::new();
    for folder in given {
        if folder.join(SHARD_JSON).is_file() || !folder.is_dir() {
            folders.push(folder.clone());
            continue;
        }
        let entries = std::fs::read_dir(folder).map_err(|error| ShardError::Io {
            path: folder.clone(),
            error,
        })?;
        let mut inside: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.join(SHARD_JSON).is_file())
            .collect();
        if inside.is_empty() {
            // Reported by the reader, naming the folder.
            folders.push(folder.clone());
        }
        inside.sort();
        folders.extend(inside);
    }
    Ok(folders)
}

/// Read every shard folder's `shard.json` (see [`expand`] for a folder of shard folders),
/// check that they make up one whole run, and return them in shard order.
pub fn read_shards(given: &[PathBuf]) -> Result<Vec<ShardFolder>, ShardError> {
    let folders = expand(given)?;
    let mut shards = folders
        .iter()
        .map(|path| {
            Ok(ShardFolder {
                path: path.clone(),
                manifest: ShardManifest::read(path)?,
            })
        })
        .collect::<Result<Vec<_>, ShardError>>()?;
    let Some((first, rest)) = shards.split_first() else {
        return Err(ShardError::Incomplete("no shard folder given".to_string()));
    };
    for shard in rest {
        line_up(shard, first)?;
    }
    shards.sort_by_key(|shard| shard.manifest.shard.index);
    check_complete(&shards)?;
    for shard in &shards {
        check_items(shard)?;
    }
    Ok(shards)
}

/// The shard that answers for `field` in messages: `<folder> (shard K/N)`.
fn reference(shard: &ShardFolder) -> String {
    format!("{} (shard {})", shard.path.display(), shard.manifest.shard)
}

fn same<T: PartialEq + std::fmt::Debug>(
    shard: &ShardFolder,
    first: &ShardFolder,
    field: &str,
    pick: impl Fn(&ShardManifest) -> T,
) -> Result<(), ShardError> {
    let (found, expected) = (pick(&shard.manifest), pick(&first.manifest));
    if found == expected {
        Ok(())
    } else {
        Err(ShardError::mismatch(
            &shard.path,
            field,
            format!("{found:?}"),
            format!("{expected:?} as in {}", reference(first)),
        ))
    }
}

/// Compare two serialisable values key by key, naming the first key that differs (of
/// `named_first` if one of those does, else in the keys' order).
fn same_fields<T: Serialize>(
    shard: &ShardFolder,
    first: &ShardFolder,
    field: &str,
    (found, expected): (&T, &T),
    named_first: &[&str],
) -> Result<(), ShardError> {
    let as_value = |value: &T| serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
    let (found, expected) = (as_value(found), as_value(expected));
    if found == expected {
        return Ok(());
    }
    let differing = match (&found, &expected) {
        (serde_json::Value::Object(a), serde_json::Value::Object(b)) => named_first
            .iter()
            .copied()
            .chain(a.keys().map(String::as_str))
            .chain(b.keys().map(String::as_str))
            .find(|key| a.get(*key) != b.get(*key))
            .map(|key| {
                (
                    format!("{field}.{key}"),
                    a.get(key).cloned().unwrap_or_default(),
                    b.get(key).cloned().unwrap_or_default(),
                )
            }),
        _ => None,
    };
    let (field, found, expected) =
        differing.unwrap_or_else(|| (field.to_string(), found.clone(), expected.clone()));
    Err(ShardError::mismatch(
        &shard.path,
        field,
        found,
        format!("{expected} as in {}", reference(first)),
    ))
}

fn line_up(shard: &ShardFolder, first: &ShardFolder) -> Result<(), ShardError> {
    same(shard, first, "split", |m| m.split)?;
    same(shard, first, "shard.count", |m| m.shard.count)?;
    same(shard, first, "throttlebox_version", |m| {
        m.throttlebox_version.clone()
    })?;
    same_fields(
        shard,
        first,
        "setup",
        (&shard.manifest.setup, &first.manifest.setup),
        &[],
    )?;
    same(shard, first, "scenario_digest", |m| {
        m.scenario_digest.clone()
    })?;
    same(shard, first, "schedule.requests", |m| m.schedule.requests)?;
    same(shard, first, "schedule.digest", |m| {
        m.schedule.digest.clone()
    })?;
    same(shard, first, "live.start_at", |m| {
        m.live.as_ref().map(|live| live.start_at.clone())
    })?;
    same(shard, first, "live.time_scale", |m| {
        m.live.as_ref().map(|live| live.time_scale.to_bits())
    })?;
    let sweep_shape = |m: &ShardManifest| {
        m.sweep.as_ref().map(|sweep| {
            (
                sweep.axes.clone(),
                sweep.fixed.clone(),
                sweep.total_cells,
                sweep.scenario.clone(),
            )
        })
    };
    same(
        shard,
        first,
        "sweep axes, fixed settings, cells and scenario",
        sweep_shape,
    )?;
    same(shard, first, "sweep.constraint", |m| {
        m.sweep.as_ref().map(|sweep| sweep.constraint.clone())
    })?;
    // A tune's inputs, named key by key (`tune.seeds`, `tune.params`, …), the flags as given
    // before what follows from them (rungs, design size).
    same_fields(
        shard,
        first,
        "tune",
        (
            &shard.manifest.tune.as_ref().map(|tune| &tune.setup),
            &first.manifest.tune.as_ref().map(|tune| &tune.setup),
        ),
        &[
            "scenario_path",
            "fixed",
            "strategy",
            "params",
            "objective",
            "constraint",
            "judge",
            "seeds",
            "budget",
            "profile_points",
        ],
    )?;
    // Which strategies were swept and which an axis reaches (decided over the whole grid).
    same(
        shard,
        first,
        "sweep.strategies (name, reached by an axis)",
        |m| {
            m.sweep.as_ref().map(|sweep| {
                sweep
                    .strategies
                    .iter()
                    .map(|s| (s.name.clone(), s.varies))
                    .collect::<Vec<_>>()
            })
        },
    )
}

fn check_complete(shards: &[ShardFolder]) -> Result<(), ShardError> {
    let count = shards[0].manifest.shard.count;
    for pair in shards.windows(2) {
        if pair[0].manifest.shard.index == pair[1].manifest.shard.index {
            return Err(ShardError::mismatch(
                &pair[1].path,
                "shard",
                pair[1].manifest.shard,
                format!(
                    "a shard other than {}, which is {} too",
                    pair[0].path.display(),
                    pair[0].manifest.shard
                ),
            ));
        }
    }
    let missing: Vec<String> = (0..count)
        .filter(|index| !shards.iter().any(|s| s.manifest.shard.index == *index))
        .map(|index| format!("{index}/{count}"))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ShardError::Incomplete(format!(
            "the run was split into {count} shards; missing: shard {} (give every shard's folder)",
            missing.join(", ")
        )))
    }
}

/// The number of items the run was split into.
pub fn total_items(manifest: &ShardManifest) -> usize {
    match manifest.split {
        Split::Strategies => manifest
            .setup
            .as_ref()
            .map_or(0, |setup| setup.strategies.len()),
        Split::Cells => manifest.sweep.as_ref().map_or(0, |sweep| sweep.total_cells),
        // Requests are not listed: shard K holds the schedule's requests K mod N, which the
        // merge checks row by row.
        Split::Requests => 0,
        Split::Starts => manifest
            .tune
            .as_ref()
            .map_or(0, |tune| tune.setup.design_points),
    }
}

fn check_items(shard: &ShardFolder) -> Result<(), ShardError> {
    let manifest = &shard.manifest;
    let expected = manifest.shard.positions(total_items(manifest));
    if manifest.items != expected {
        return Err(ShardError::mismatch(
            &shard.path,
            "items",
            format!("{:?}", manifest.items),
            format!(
                "{expected:?} (the {} of shard {})",
                manifest.split.as_str(),
                manifest.shard
            ),
        ));
    }
    let present = match manifest.split {
        Split::Strategies => manifest.setup.is_some(),
        Split::Cells => manifest.sweep.is_some(),
        Split::Requests => manifest.setup.is_some() && manifest.live.is_some(),
        Split::Starts => manifest.tune.is_some(),
    };
    if !present {
        let part = match manifest.split {
            Split::Strategies => "setup",
            Split::Cells => "sweep",
            Split::Requests => "setup and live",
            Split::Starts => "tune",
        };
        return Err(ShardError::mismatch(
            &shard.path,
            part,
            "absent",
            format!("present in a {} split", manifest.split.as_str()),
        ));
    }
    Ok(())
}
