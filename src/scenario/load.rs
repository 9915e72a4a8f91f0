//! Loading a scenario: read (a file or the embedded default), apply `--set` overrides, parse
//! with the schema, validate every part and the rules across parts, and resolve the pool and
//! strategies. A loaded [`Scenario`] is known good: drivers do not re-check it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use aoai_mock::config::spelling::modernize;
use aoai_mock::config::{DeploymentKind, FleetConfig};
use toml::{Table, Value};

use super::error::ScenarioError;
use super::file::ScenarioFile;
use super::overrides::{Override, apply_overrides};
use super::resolve::{PoolBackend, ResolvedStrategy, pool_backends, resolve_strategies};
use crate::balance::StrategyConfig;
use crate::report::{BackendInfo, Mode, RunSetup};
use crate::workload::Workload;

/// Name of the scenario `throttlebox sim` runs when given no file.
pub const DEFAULT_SCENARIO_NAME: &str = "ptu-payg-pool";
const DEFAULT_SCENARIO: &str = include_str!("../../scenarios/ptu-payg-pool.toml");
/// Files the embedded default refers to, by the relative path it uses.
const EMBEDDED_FILES: &[(&str, &str)] = &[(
    "pools/apim-seed-pool.json",
    include_str!("../../scenarios/pools/apim-seed-pool.json"),
)];

/// A validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The parsed file (after overrides; `fleet.seed` set to `seed`).
    pub file: ScenarioFile,
    /// Where it came from (a path, or `<embedded ptu-payg-pool>`), for messages.
    pub origin: String,
    /// Folder relative paths resolve against (None: the embedded default).
    base_dir: Option<PathBuf>,
    /// The pool, in scenario order.
    pub pool: Vec<PoolBackend>,
    /// Report backends beyond the pool: spillover targets, as (resource index, deployment name).
    pub spillover_targets: Vec<(usize, String)>,
    /// The strategies, in file order.
    pub strategies: Vec<ResolvedStrategy>,
    /// The overrides that were applied.
    pub overrides: Vec<Override>,
    /// A note per deprecated spelling the file used (read all the same), naming the file and
    /// key; the command line prints them.
    pub deprecations: Vec<String>,
}

impl Scenario {
    /// Load the scenario file at `path`.
    pub fn load(path: &Path, overrides: &[Override]) -> Result<Scenario, ScenarioError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| ScenarioError::Io {
            origin: origin.clone(),
            error,
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Scenario::parse(&text, &origin, Some(base), overrides)
    }

    /// The embedded default: one PTU deployment at priority 1 overflowing into two PAYG
    /// deployments at priority 2 (seed-examples §2), under a load above the PTU's capacity.
    pub fn embedded_default(overrides: &[Override]) -> Result<Scenario, ScenarioError> {
        Scenario::parse(
            DEFAULT_SCENARIO,
            &format!("<embedded {DEFAULT_SCENARIO_NAME}>"),
            None,
            overrides,
        )
    }

    /// Parse and validate `text`; relative paths resolve against `base_dir` (None: embedded).
    pub fn parse(
        text: &str,
        origin: &str,
        base_dir: Option<PathBuf>,
        overrides: &[Override],
    ) -> Result<Scenario, ScenarioError> {
        let parse_error = |error: toml::de::Error| ScenarioError::Parse {
            origin: origin.to_string(),
            message: error.to_string(),
        };
        let mut tree: Table = toml::from_str(text).map_err(parse_error)?;
        if let Some(seed) = tree.get("fleet").and_then(|fleet| fleet.get("seed")) {
            return Err(ScenarioError::invalid(
                origin,
                "fleet.seed",
                seed,
                "set the seed once at the top level (`seed = …`); the fleet derives its streams from it",
            ));
        }
        let deprecations = match tree.get_mut("fleet") {
            Some(Value::Table(fleet)) => modernize(fleet, origin, "fleet."),
            _ => Vec::new(),
        };
        // From the text when the tree is as written: its errors carry line and column.
        let mut file: ScenarioFile = if overrides.is_empty() && deprecations.is_empty() {
            toml::from_str(text).map_err(parse_error)?
        } else {
            apply_overrides(&mut tree, overrides, origin, &strategy_accepts)?;
            Value::Table(tree).try_into().map_err(parse_error)?
        };
        file.fleet.seed = file.seed;
        let mut scenario = Scenario {
            file,
            origin: origin.to_string(),
            base_dir,
            pool: Vec::new(),
            spillover_targets: Vec::new(),
            strategies: Vec::new(),
            overrides: overrides.to_vec(),
            deprecations,
        };
        scenario.validate()?;
        Ok(scenario)
    }

    fn validate(&mut self) -> Result<(), ScenarioError> {
        let origin = self.origin.clone();
        let file = &self.file;
        file.fleet
            .validate()
            .map_err(|error| ScenarioError::part(&origin, error.located(&origin, "fleet.")))?;
        file.workload
            .validate()
            .map_err(|error| ScenarioError::part(&origin, format!("workload: {error}")))?;
        if file.backends.is_empty() {
            return Err(ScenarioError::invalid(
                &origin,
                "backends",
                "[]",
                "the pool needs at least one [[backends]] entry",
            ));
        }
        if file.strategies.is_empty() {
            return Err(ScenarioError::invalid(
                &origin,
                "strategies",
                "[]",
                "give at least one [[strategies]] entry to run",
            ));
        }
        let deployments = workload_deployments(file);
        for (index, entry) in file.backends.iter().enumerate() {
            let Some(resource) = file
                .fleet
                .resources
                .iter()
                .find(|r| r.name == entry.resource)
            else {
                continue; // reported by pool_backends with the list of names
            };
            for name in &deployments {
                if !resource.deployments.iter().any(|d| &d.name == name) {
                    return Err(ScenarioError::invalid(
                        &origin,
                        format!("backends[{index}].resource"),
                        &entry.resource,
                        format!(
                            "the workload targets deployment {name:?}, which this resource does not have"
                        ),
                    ));
                }
            }
        }
        self.pool = pool_backends(file, deployments.first().map(String::as_str), &origin)?;
        self.spillover_targets = spillover_targets(&file.fleet, &self.pool, &deployments);
        let base_dir = self.base_dir.clone();
        let read = |relative: &str| read_relative(base_dir.as_deref(), relative, &origin);
        self.strategies = resolve_strategies(
            file,
            &self.pool,
            deployments.first().map(String::as_str),
            &origin,
            &read,
        )?;
        self.run_setup(Mode::Sim, Duration::ZERO)
            .validate()
            .map_err(|error| ScenarioError::part(&origin, error))?;
        Ok(())
    }

    /// The folder relative paths resolve against (`.` for the embedded default).
    pub fn base_dir(&self) -> &Path {
        self.base_dir.as_deref().unwrap_or(Path::new("."))
    }

    /// The scenario's name.
    pub fn name(&self) -> &str {
        &self.file.name
    }

    /// The fleet configuration (seed = the scenario's).
    pub fn fleet(&self) -> &FleetConfig {
        &self.file.fleet
    }

    /// The workload, ready to iterate.
    pub fn workload(&self) -> Result<Workload, ScenarioError> {
        Workload::new(&self.file.workload, self.base_dir(), self.file.seed)
            .map_err(|error| ScenarioError::part(&self.origin, format!("workload: {error}")))
    }

    /// The run's length: the workload's duration, else (a trace alone) its last arrival.
    pub fn duration(&self, workload: &Workload) -> Result<Duration, ScenarioError> {
        if let Some(duration) = workload.duration() {
            return Ok(duration);
        }
        let mut last = Duration::ZERO;
        for request in workload.requests() {
            let request = request
                .map_err(|error| ScenarioError::part(&self.origin, format!("workload: {error}")))?;
            last = request.at;
        }
        Ok(last)
    }

    /// What the reports need besides the records.
    pub fn run_setup(&self, mode: Mode, duration: Duration) -> RunSetup {
        let mut backends: Vec<BackendInfo> = self
            .pool
            .iter()
            .map(|backend| BackendInfo {
                name: backend.name.clone(),
                provisioned_ptus: backend.provisioned_ptus,
            })
            .collect();
        backends.extend(
            self.spillover_targets
                .iter()
                .map(|(resource, deployment)| BackendInfo {
                    name: format!("{}/{deployment}", self.file.fleet.resources[*resource].name),
                    provisioned_ptus: 0,
                }),
        );
        RunSetup {
            scenario: self.file.name.clone(),
            seed: self.file.seed,
            mode,
            duration,
            strategies: self
                .strategies
                .iter()
                .map(|s| s.config.name.clone())
                .collect(),
            backends,
            apps: app_names(&self.file),
            costs: self.file.costs.clone(),
            slo: self.file.slo.clone(),
        }
    }
}

/// Whether a strategy entry (as a TOML value) still parses and validates, and if not, why.
pub fn strategy_accepts(entry: &Value) -> Result<(), String> {
    let config: StrategyConfig = entry
        .clone()
        .try_into()
        .map_err(|error| error.to_string())?;
    config.validate().map_err(|error| error.to_string())
}

fn read_relative(
    base_dir: Option<&Path>,
    relative: &str,
    origin: &str,
) -> Result<String, ScenarioError> {
    match base_dir {
        Some(base) => {
            let path = base.join(relative);
            std::fs::read_to_string(&path).map_err(|error| ScenarioError::Io {
                origin: format!("{} (referenced from {origin})", path.display()),
                error,
            })
        }
        None => EMBEDDED_FILES
            .iter()
            .find(|(name, _)| *name == relative)
            .map(|(_, text)| text.to_string())
            .ok_or_else(|| {
                ScenarioError::invalid(origin, "apim_pool_json", relative, "not embedded")
            }),
    }
}

/// Deployment names the workload targets, in first-use order (apps, then the trace).
fn workload_deployments(file: &ScenarioFile) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let apps = file.workload.apps.iter().map(|app| app.deployment.clone());
    let trace = file
        .workload
        .trace
        .iter()
        .map(|trace| trace.deployment.clone());
    for name in apps.chain(trace) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

fn app_names(file: &ScenarioFile) -> Vec<String> {
    let mut names: Vec<String> = file
        .workload
        .apps
        .iter()
        .map(|app| app.name.clone())
        .collect();
    if file.workload.trace.is_some() {
        names.push("trace".to_string());
    }
    names
}

/// Standard deployments that a targeted PTU deployment of a pool resource spills over to.
fn spillover_targets(
    fleet: &FleetConfig,
    pool: &[PoolBackend],
    deployments: &[String],
) -> Vec<(usize, String)> {
    let mut targets = Vec::new();
    for backend in pool {
        for deployment in &fleet.resources[backend.resource].deployments {
            if deployment.kind == DeploymentKind::Provisioned
                && deployments.contains(&deployment.name)
                && let Some(target) = &deployment.spillover_deployment
                && !targets.contains(&(backend.resource, target.clone()))
            {
                targets.push((backend.resource, target.clone()));
            }
        }
    }
    targets
}
