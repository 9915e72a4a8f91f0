//! Writing the calibrated scenario: the fitted fleet and workload, and around them either a
//! template scenario's pool order, strategies, client, gateway, SLOs, costs and mock switches
//! (`--template`), or a default pool (provisioned backends at priority 1, standard ones at 2)
//! and three strategies to compare. The text is checked by the scenario loader before it is
//! returned, so what `calibrate` writes is what `sim` accepts.

use std::path::{Path, PathBuf};

use aoai_mock::config::{DeploymentKind, FleetConfig, ResourceConfig};

use super::Note;
use super::error::CalibrateError;
use crate::balance::StrategyConfig;
use crate::scenario::{BackendEntry, ClientConfig, GatewayConfig, Scenario, ScenarioFile};
use crate::workload::WorkloadConfig;

/// What the scenario file gets besides the fits.
#[derive(Debug, Clone)]
pub struct ScenarioOptions {
    /// Scenario name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// Seed (default: the template's, else 1).
    pub seed: Option<u64>,
    /// Template scenario.
    pub template: Option<PathBuf>,
}

/// Strategies compared when no template names any.
const DEFAULT_STRATEGIES: &str = r#"
[[strategies]]
name = "round-robin"
preset = "round-robin"
[[strategies]]
name = "apim-pool"
preset = "apim-pool"
[[strategies]]
name = "least-outstanding"
preset = "least-outstanding"
"#;

#[derive(serde::Deserialize)]
struct Strategies {
    strategies: Vec<StrategyConfig>,
}

fn default_pool(fleet: &[ResourceConfig]) -> Vec<BackendEntry> {
    let provisioned = |r: &ResourceConfig| {
        r.deployments
            .iter()
            .any(|d| d.kind == DeploymentKind::Provisioned)
    };
    let any_provisioned = fleet.iter().any(provisioned);
    fleet
        .iter()
        .map(|resource| BackendEntry {
            resource: resource.name.clone(),
            priority: if any_provisioned && !provisioned(resource) {
                2
            } else {
                1
            },
            weight: 1,
            non_streaming_fraction: None,
        })
        .collect()
}

/// The template's pool, with calibrated backends it lacks appended (a note each).
fn template_pool(
    template: &ScenarioFile,
    fleet: &[ResourceConfig],
    origin: &str,
    notes: &mut Vec<Note>,
) -> Result<Vec<BackendEntry>, CalibrateError> {
    let mut pool = template.backends.clone();
    for entry in &pool {
        if !fleet.iter().any(|r| r.name == entry.resource) {
            let names: Vec<&str> = fleet.iter().map(|r| r.name.as_str()).collect();
            return Err(CalibrateError::invalid(
                format!("{origin}: backends resource"),
                &entry.resource,
                format!(
                    "not a backend of the logs (calibrated: {})",
                    names.join(", ")
                ),
            ));
        }
    }
    let lowest = pool.iter().map(|b| b.priority).max().unwrap_or(1);
    for resource in fleet {
        if !pool.iter().any(|b| b.resource == resource.name) {
            notes.push(Note::new(
                &resource.name,
                format!("not in the template's pool: added at priority {lowest}"),
            ));
            pool.push(BackendEntry {
                resource: resource.name.clone(),
                priority: lowest,
                weight: 1,
                non_streaming_fraction: None,
            });
        }
    }
    Ok(pool)
}

/// Imported APIM pool files, made absolute so the calibrated file finds them from anywhere.
fn absolute_pools(strategies: &mut [StrategyConfig], base: &Path) {
    for strategy in strategies {
        if let Some(path) = &strategy.apim_pool_json {
            let joined = base.join(path);
            let absolute = std::fs::canonicalize(&joined).unwrap_or(joined);
            strategy.apim_pool_json = Some(absolute.display().to_string());
        }
    }
}

/// Assemble, serialise and check the scenario; returns its TOML text and its seed.
pub fn write_scenario(
    workload: &WorkloadConfig,
    fleet: Vec<ResourceConfig>,
    options: &ScenarioOptions,
    header: &str,
    notes: &mut Vec<Note>,
) -> Result<(String, u64), CalibrateError> {
    let template = options
        .template
        .as_deref()
        .map(|path| Scenario::load(path, &[]))
        .transpose()?;
    let mut file = match &template {
        Some(template) => {
            let mut file = template.file.clone();
            file.backends = template_pool(&template.file, &fleet, &template.origin, notes)?;
            absolute_pools(&mut file.strategies, template.base_dir());
            file
        }
        None => {
            let Strategies { strategies } =
                toml::from_str(DEFAULT_STRATEGIES).map_err(|error| {
                    CalibrateError::invalid("default strategies", "", error.to_string())
                })?;
            ScenarioFile {
                name: String::new(),
                description: String::new(),
                seed: 1,
                fleet: FleetConfig::default(),
                backends: default_pool(&fleet),
                workload: workload.clone(),
                client: ClientConfig::default(),
                gateway: GatewayConfig::default(),
                strategies,
                slo: Default::default(),
                costs: Default::default(),
            }
        }
    };
    file.name = options.name.clone();
    file.description = options.description.clone();
    file.seed = options.seed.unwrap_or(file.seed);
    file.fleet.resources = fleet;
    file.workload = workload.clone();
    let mut value = toml::Value::try_from(&file)
        .map_err(|error| CalibrateError::invalid("calibrated scenario", "", error.to_string()))?;
    if let Some(fleet) = value.get_mut("fleet").and_then(toml::Value::as_table_mut) {
        fleet.remove("seed");
    }
    let body = toml::to_string(&value)
        .map_err(|error| CalibrateError::invalid("calibrated scenario", "", error.to_string()))?;
    let text = format!("{header}{body}");
    Scenario::parse(
        &text,
        "<calibrated scenario>",
        Some(PathBuf::from(".")),
        &[],
    )?;
    Ok((text, file.seed))
}
