//! Why shards could not be merged (or a shard's file written): each names the shard folder and
//! the field or file concerned.

use std::path::PathBuf;

use crate::report::ReportError;

/// Why a merge was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ShardError {
    /// The folder has no `shard.json`.
    #[error(
        "{folder}: no shard.json: not a shard of a sharded run (run the command with --shard K/N), or the shard did not finish"
    )]
    NotAShard {
        /// The folder.
        folder: PathBuf,
    },
    /// The folder is a plan: plan shards are complete plans of their strategies.
    #[error(
        "{folder}: a plan folder: plan shards are not merged, each is the complete plan of its strategies (docs/scale.md, \"Sweeps and plans\")"
    )]
    PlanShard {
        /// The folder.
        folder: PathBuf,
    },
    /// A shard disagrees with the first shard (or with itself) on a field that must match.
    #[error("{folder}: {field} is {found}, expected {expected}")]
    Mismatch {
        /// The shard folder.
        folder: PathBuf,
        /// The field (`seed`, `scenario_digest`, `shard.count`, …).
        field: String,
        /// Its value there.
        found: String,
        /// What the other shards have (and which shard says so).
        expected: String,
    },
    /// The shards given do not make up a whole run.
    #[error("{0}")]
    Incomplete(String),
    /// A JSON file could not be written or parsed.
    #[error("{path}: {error}")]
    Json {
        /// The file.
        path: PathBuf,
        /// Why.
        error: serde_json::Error,
    },
    /// Reading a file failed.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// A CSV file of a shard could not be read.
    #[error("{path}: {reason}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Writing the merged run failed.
    #[error(transparent)]
    Report(#[from] ReportError),
    /// The scenario or its schedule could not be read (fingerprinting a shard).
    #[error(transparent)]
    Scenario(#[from] crate::scenario::ScenarioError),
}

impl ShardError {
    /// A field of shard `folder` that disagrees.
    pub fn mismatch(
        folder: &std::path::Path,
        field: impl Into<String>,
        found: impl std::fmt::Display,
        expected: impl std::fmt::Display,
    ) -> ShardError {
        ShardError::Mismatch {
            folder: folder.to_path_buf(),
            field: field.into(),
            found: found.to_string(),
            expected: expected.to_string(),
        }
    }
}
