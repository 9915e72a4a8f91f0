//! From the parsed file to what a driver runs: the pool's backends (fleet resources with their
//! priority, weight and quota), each strategy with its imported APIM pool attached, and the map
//! from a strategy's backend order to the scenario's pool order (an imported pool may list its
//! members in another order).

use aoai_mock::config::{DeploymentKind, FleetConfig, Quota};

use super::error::ScenarioError;
use super::file::ScenarioFile;
use crate::balance::litellm::import::import_config;
use crate::balance::{BackendSpec, Strategy, StrategyConfig, import_pool};

/// One member of the scenario's pool.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolBackend {
    /// Fleet resource name (also the backend's name in reports).
    pub name: String,
    /// Index of the resource in the fleet.
    pub resource: usize,
    /// PTUs of the resource's deployment the workload targets first (0 = standard).
    pub provisioned_ptus: u32,
    /// The balancer's view (priority, weight, TPM/RPM limits).
    pub spec: BackendSpec,
}

/// A strategy ready to build: its config (imported pool attached), its backend specs in its own
/// order, and for each of them the index in the scenario's pool.
#[derive(Debug, Clone)]
pub struct ResolvedStrategy {
    /// The `[[strategies]]` entry.
    pub config: StrategyConfig,
    /// Backends in the strategy's order.
    pub specs: Vec<BackendSpec>,
    /// `to_pool[strategy backend index] = scenario pool index`.
    pub to_pool: Vec<usize>,
}

impl ResolvedStrategy {
    /// A fresh strategy value (one per gateway instance).
    pub fn build(&self) -> Strategy {
        // Checked when the scenario was loaded.
        Strategy::new(&self.config, &self.specs).expect("strategy validated at load")
    }
}

/// The pool's backends, from `[[backends]]` and the fleet.
pub(crate) fn pool_backends(
    file: &ScenarioFile,
    first_deployment: Option<&str>,
    origin: &str,
) -> Result<Vec<PoolBackend>, ScenarioError> {
    let mut seen = std::collections::BTreeSet::new();
    file.backends
        .iter()
        .enumerate()
        .map(|(index, entry)| {
            let path = format!("backends[{index}].resource");
            let resource = file
                .fleet
                .resources
                .iter()
                .position(|resource| resource.name == entry.resource)
                .ok_or_else(|| {
                    ScenarioError::invalid(
                        origin,
                        &path,
                        &entry.resource,
                        format!(
                            "no fleet resource has this name (fleet: {})",
                            resource_names(&file.fleet)
                        ),
                    )
                })?;
            if let Some(fraction) = entry
                .non_streaming_fraction
                .filter(|fraction| !(0.0..=1.0).contains(fraction))
            {
                return Err(ScenarioError::invalid(
                    origin,
                    format!("backends[{index}].non_streaming_fraction"),
                    fraction,
                    "a share of requests: from 0 to 1",
                ));
            }
            if !seen.insert(entry.resource.as_str()) {
                return Err(ScenarioError::invalid(
                    origin,
                    &path,
                    &entry.resource,
                    "listed twice in the pool",
                ));
            }
            let deployment = first_deployment.and_then(|name| {
                file.fleet.resources[resource]
                    .deployments
                    .iter()
                    .find(|deployment| deployment.name == name)
            });
            let (tpm, rpm, ptus) = match deployment.map(|d| (d.kind, d.quota())) {
                Some((DeploymentKind::Standard, Quota::Standard { tpm, rpm })) => {
                    (Some(tpm), rpm, 0)
                }
                Some((_, Quota::Provisioned { ptu })) => (None, None, ptu),
                _ => (None, None, 0),
            };
            Ok(PoolBackend {
                name: entry.resource.clone(),
                resource,
                provisioned_ptus: ptus,
                spec: BackendSpec::named(entry.resource.clone())
                    .with_priority(entry.priority)
                    .with_weight(entry.weight)
                    .with_limits(tpm, rpm)
                    .with_non_streaming_fraction(entry.non_streaming_fraction),
            })
        })
        .collect()
}

fn resource_names(fleet: &FleetConfig) -> String {
    fleet
        .resources
        .iter()
        .map(|resource| resource.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Attach imported pools and check that every strategy builds over the pool.
pub(crate) fn resolve_strategies(
    file: &ScenarioFile,
    pool: &[PoolBackend],
    model_group: Option<&str>,
    origin: &str,
    read_file: &dyn Fn(&str) -> Result<String, ScenarioError>,
) -> Result<Vec<ResolvedStrategy>, ScenarioError> {
    let pool_specs: Vec<BackendSpec> = pool.iter().map(|backend| backend.spec.clone()).collect();
    let mut names = std::collections::BTreeSet::new();
    file.strategies
        .iter()
        .enumerate()
        .map(|(index, entry)| {
            if !names.insert(entry.name.as_str()) {
                return Err(ScenarioError::invalid(
                    origin,
                    format!("strategies[{index}].name"),
                    &entry.name,
                    "two strategies share this name",
                ));
            }
            let mut config = entry.clone();
            let specs = match (&entry.apim_pool_json, &entry.config) {
                (_, Some(path)) => {
                    let text = read_file(path)?;
                    let group = model_group.unwrap_or_default();
                    let imported = import_config(&text, path, group, &pool_specs)
                        .map_err(|error| ScenarioError::part(origin, error))?;
                    let specs = imported.backend_specs(&pool_specs);
                    config.attach_litellm(imported);
                    specs
                }
                (Some(path), None) => {
                    let text = read_file(path)?;
                    let imported = import_pool(&text, path)
                        .map_err(|error| ScenarioError::part(origin, error))?;
                    let specs = imported
                        .backend_specs(&pool_specs)
                        .map_err(|error| ScenarioError::part(origin, error))?;
                    config.attach_pool(imported);
                    specs
                }
                (None, None) => pool_specs.clone(),
            };
            let to_pool = specs
                .iter()
                .map(|spec| {
                    pool.iter()
                        .position(|backend| backend.name == spec.name)
                        .unwrap_or(0)
                })
                .collect();
            Strategy::new(&config, &specs).map_err(|error| {
                ScenarioError::part(
                    origin,
                    format!("strategies[{index}] ({}): {error}", entry.name),
                )
            })?;
            if config.gateways == 0 {
                return Err(ScenarioError::invalid(
                    origin,
                    format!("strategies[{index}].gateways"),
                    0,
                    "at least one gateway instance",
                ));
            }
            Ok(ResolvedStrategy {
                config,
                specs,
                to_pool,
            })
        })
        .collect()
}
