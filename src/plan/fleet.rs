//! Candidate fleets: the scenario's fleet resized to `k` PTUs on its provisioned deployment
//! and `n` copies of its pay-as-you-go deployment, under a load scaled by a factor. Built by
//! editing the scenario's TOML tree and parsing it again with [`Scenario::parse`], so every
//! candidate goes through the same schema and validation as a scenario file.

use std::path::PathBuf;

use serde::Serialize;
use toml::{Table, Value};

use super::error::PlanError;
use crate::scenario::{Override, Scenario, apply_overrides};

/// The size of a candidate fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct FleetShape {
    /// PTUs of the provisioned deployment (0: none).
    pub ptu: u32,
    /// Number of pay-as-you-go deployments.
    pub payg: u32,
    /// TPM of each pay-as-you-go deployment.
    pub payg_tpm: u64,
}

impl FleetShape {
    /// `50 PTU + 2 × 100k TPM`.
    pub fn label(&self) -> String {
        let payg = format!("{} × {}k TPM", self.payg, self.payg_tpm / 1000);
        match (self.ptu, self.payg) {
            (0, _) => payg,
            (ptu, 0) => format!("{ptu} PTU"),
            (ptu, _) => format!("{ptu} PTU + {payg}"),
        }
    }
}

/// One resource the candidates copy: its TOML table and its pool priority.
#[derive(Debug, Clone)]
struct Template {
    resource: Table,
    name: String,
    priority: i64,
}

/// The scenario's tree and the templates candidates are built from.
#[derive(Debug, Clone)]
pub struct FleetBuilder {
    tree: Table,
    origin: String,
    base_dir: Option<PathBuf>,
    deployment: String,
    ptu: Option<Template>,
    payg: Option<Template>,
    /// TPM of the scenario's pay-as-you-go template.
    pub template_payg_tpm: Option<u64>,
    /// Model of the scenario's targeted deployment (PTU template first).
    pub model: String,
    /// Strategies the plan covers.
    pub strategies: Vec<String>,
    /// Strategies left out (imported APIM pools name their members, so they cannot be resized).
    pub skipped_strategies: Vec<String>,
    /// PTU model overrides to write into every candidate.
    ptu_overrides: Table,
}

impl FleetBuilder {
    /// Read the scenario at `path` with `overrides`, find its PTU and PAYG templates (the first
    /// pool member of each kind), and keep the strategies named in `only` (all when empty).
    pub fn new(
        path: &std::path::Path,
        overrides: &[Override],
        only: &[String],
    ) -> Result<FleetBuilder, PlanError> {
        let scenario = Scenario::load(path, overrides)?;
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|error| PlanError::input("SCENARIO", &origin, error.to_string()))?;
        let mut tree: Table = text.parse().map_err(|error: toml::de::Error| {
            PlanError::input("SCENARIO", &origin, error.to_string())
        })?;
        apply_overrides(
            &mut tree,
            overrides,
            &origin,
            &crate::scenario::strategy_accepts,
        )?;
        let file = &scenario.file;
        let deployment = file
            .workload
            .apps
            .first()
            .map(|app| app.deployment.clone())
            .or_else(|| {
                file.workload
                    .trace
                    .as_ref()
                    .map(|trace| trace.deployment.clone())
            })
            .unwrap_or_default();
        let resources = tree
            .get("fleet")
            .and_then(|fleet| fleet.get("resources"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let template = |want_ptu: bool| -> Option<Template> {
            let backend = scenario
                .pool
                .iter()
                .find(|b| (b.provisioned_ptus > 0) == want_ptu)?;
            let resource = resources
                .iter()
                .find(|r| r.get("name").and_then(Value::as_str) == Some(backend.name.as_str()))?
                .as_table()?
                .clone();
            let priority = file
                .backends
                .iter()
                .find(|entry| entry.resource == backend.name)
                .map_or(1, |entry| i64::from(entry.priority));
            Some(Template {
                resource,
                name: backend.name.clone(),
                priority,
            })
        };
        let ptu = template(true);
        let payg = template(false);
        if ptu.is_none() && payg.is_none() {
            return Err(PlanError::input(
                "SCENARIO",
                &origin,
                "the pool has no deployment to resize",
            ));
        }
        let targeted = |template: &Option<Template>| {
            let index = scenario
                .pool
                .iter()
                .find(|b| Some(&b.name) == template.as_ref().map(|t| &t.name))?
                .resource;
            file.fleet.resources[index]
                .deployments
                .iter()
                .find(|d| d.name == deployment)
                .cloned()
        };
        let template_payg_tpm = targeted(&payg).and_then(|d| match d.quota() {
            aoai_mock::config::Quota::Standard { tpm, .. } => Some(tpm),
            aoai_mock::config::Quota::Provisioned { .. } => None,
        });
        let model = targeted(&ptu)
            .or_else(|| targeted(&payg))
            .map(|d| d.model)
            .unwrap_or_default();
        let mut strategies = Vec::new();
        let mut skipped_strategies = Vec::new();
        for strategy in &scenario.strategies {
            let name = strategy.config.name.clone();
            if !only.is_empty() && !only.contains(&name) {
                continue;
            }
            if strategy.config.apim_pool_json.is_some() {
                skipped_strategies.push(name);
            } else {
                strategies.push(name);
            }
        }
        for name in only {
            if !scenario.strategies.iter().any(|s| &s.config.name == name) {
                return Err(PlanError::input(
                    "--strategy",
                    name,
                    "the scenario has no strategy of this name",
                ));
            }
        }
        if strategies.is_empty() {
            return Err(PlanError::input(
                "--strategy",
                only.join(","),
                "no strategy to plan for (strategies that import an APIM pool JSON name their members and cannot be resized; add a preset strategy)",
            ));
        }
        Ok(FleetBuilder {
            tree,
            origin,
            base_dir: path.parent().map(|p| p.to_path_buf()),
            deployment,
            ptu,
            payg,
            template_payg_tpm,
            model,
            strategies,
            skipped_strategies,
            ptu_overrides: Table::new(),
        })
    }

    /// Whether the scenario has a provisioned deployment to resize.
    pub fn has_ptu(&self) -> bool {
        self.ptu.is_some()
    }

    /// Whether the scenario has a pay-as-you-go deployment to copy.
    pub fn has_payg(&self) -> bool {
        self.payg.is_some()
    }

    /// Write these PTU model constants into every candidate's PTU deployment.
    pub fn set_ptu_model_overrides(
        &mut self,
        input_tpm_per_ptu: Option<f64>,
        output_weight: Option<f64>,
    ) {
        if let Some(value) = input_tpm_per_ptu {
            self.ptu_overrides
                .insert("input_tpm_per_ptu".into(), Value::Float(value));
        }
        if let Some(value) = output_weight {
            self.ptu_overrides
                .insert("output_weight".into(), Value::Float(value));
        }
    }

    /// The PTU template deployment's model overrides (for the sizing defaults).
    pub fn ptu_model_overrides(&self) -> aoai_mock::config::ModelOverrides {
        self.ptu
            .as_ref()
            .and_then(|t| targeted_deployment(&t.resource, &self.deployment))
            .and_then(|d| d.get("model_overrides").cloned())
            .and_then(|v| v.try_into().ok())
            .unwrap_or_default()
    }

    /// The scenario with fleet `shape`, the load × `factor`, only `strategies` (None: all the
    /// plan covers) and, when given, the run length `duration`.
    pub fn build(
        &self,
        shape: FleetShape,
        factor: f64,
        strategies: Option<&[String]>,
        duration: Option<&str>,
    ) -> Result<Scenario, PlanError> {
        let mut tree = self.tree.clone();
        let mut resources = Vec::new();
        let mut backends = Vec::new();
        let mut names = Vec::new();
        if let (Some(template), true) = (&self.ptu, shape.ptu > 0) {
            let mut resource = template.resource.clone();
            if let Some(deployment) = targeted_deployment_mut(&mut resource, &self.deployment) {
                deployment.insert("ptu".into(), Value::Integer(i64::from(shape.ptu)));
                if !self.ptu_overrides.is_empty() {
                    let entry = deployment
                        .entry("model_overrides")
                        .or_insert_with(|| Value::Table(Table::new()));
                    if let Value::Table(table) = entry {
                        table.extend(self.ptu_overrides.clone());
                    }
                }
            }
            resources.push(Value::Table(resource));
            backends.push(backend(&template.name, template.priority));
            names.push(template.name.clone());
        }
        if let Some(template) = &self.payg {
            for index in 0..shape.payg {
                let name = if index == 0 {
                    template.name.clone()
                } else {
                    format!("{}-{}", template.name, index + 1)
                };
                let mut resource = template.resource.clone();
                resource.insert("name".into(), Value::String(name.clone()));
                if let Some(deployment) = targeted_deployment_mut(&mut resource, &self.deployment) {
                    deployment.remove("capacity");
                    deployment.insert("tpm".into(), Value::Integer(shape.payg_tpm as i64));
                }
                resources.push(Value::Table(resource));
                backends.push(backend(&name, template.priority));
                names.push(name);
            }
        }
        set_path(&mut tree, &["fleet", "resources"], Value::Array(resources));
        tree.insert("backends".into(), Value::Array(backends));
        let keep: Vec<String> =
            strategies.map_or_else(|| self.strategies.clone(), <[String]>::to_vec);
        if let Some(Value::Array(entries)) = tree.get_mut("strategies") {
            entries.retain(|entry| {
                entry
                    .get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| keep.iter().any(|k| k == n))
            });
        }
        self.copy_cost_overrides(&mut tree, &names);
        scale_load(&mut tree, factor);
        if let Some(duration) = duration {
            set_path(
                &mut tree,
                &["workload", "duration"],
                Value::String(duration.to_string()),
            );
        }
        let text = toml::to_string(&tree)
            .map_err(|error| PlanError::input("SCENARIO", &self.origin, error.to_string()))?;
        let origin = format!("{} [{} at load ×{factor:.3}]", self.origin, shape.label());
        Ok(Scenario::parse(&text, &origin, self.base_dir.clone(), &[])?)
    }

    /// Keep `[costs.deployments.*]` entries of deployments the candidate has; PAYG copies take
    /// their template's prices.
    fn copy_cost_overrides(&self, tree: &mut Table, names: &[String]) {
        let Some(Value::Table(costs)) = tree.get_mut("costs") else {
            return;
        };
        let Some(Value::Table(prices)) = costs.get_mut("deployments") else {
            return;
        };
        let template_prices = self
            .payg
            .as_ref()
            .and_then(|t| prices.get(&t.name).cloned());
        prices.retain(|name, _| names.iter().any(|n| n == name));
        if let (Some(template), Some(entry)) = (&self.payg, template_prices) {
            for name in names
                .iter()
                .filter(|n| n.starts_with(&format!("{}-", template.name)))
            {
                prices.insert(name.clone(), entry.clone());
            }
        }
    }
}

fn backend(resource: &str, priority: i64) -> Value {
    let mut table = Table::new();
    table.insert("resource".into(), Value::String(resource.to_string()));
    table.insert("priority".into(), Value::Integer(priority));
    Value::Table(table)
}

fn targeted_deployment<'a>(resource: &'a Table, deployment: &str) -> Option<&'a Table> {
    resource
        .get("deployments")?
        .as_array()?
        .iter()
        .filter_map(Value::as_table)
        .find(|d| d.get("name").and_then(Value::as_str) == Some(deployment))
}

fn targeted_deployment_mut<'a>(resource: &'a mut Table, deployment: &str) -> Option<&'a mut Table> {
    resource
        .get_mut("deployments")?
        .as_array_mut()?
        .iter_mut()
        .filter_map(Value::as_table_mut)
        .find(|d| d.get("name").and_then(Value::as_str) == Some(deployment))
}

fn set_path(tree: &mut Table, path: &[&str], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = tree;
    for key in parents {
        let entry = node
            .entry(key.to_string())
            .or_insert_with(|| Value::Table(Table::new()));
        let Value::Table(table) = entry else { return };
        node = table;
    }
    node.insert(last.to_string(), value);
}

/// Multiply every arrival rate of the workload by `factor` (apps: each process's rates; a
/// trace: its `rate_scale`).
pub fn scale_load(tree: &mut Table, factor: f64) {
    if factor == 1.0 {
        return;
    }
    let Some(Value::Table(workload)) = tree.get_mut("workload") else {
        return;
    };
    if let Some(Value::Array(apps)) = workload.get_mut("apps") {
        for app in apps.iter_mut() {
            if let Some(Value::Table(arrivals)) = app.get_mut("arrivals") {
                scale_arrivals(arrivals, factor);
            }
        }
    }
    if let Some(Value::Table(trace)) = workload.get_mut("trace") {
        let current = trace.get("rate_scale").and_then(number).unwrap_or(1.0);
        trace.insert("rate_scale".into(), Value::Float(current * factor));
    }
}

fn scale_arrivals(arrivals: &mut Table, factor: f64) {
    for key in ["rate", "from", "to", "base", "mean", "amplitude"] {
        scale_key(arrivals, key, factor);
    }
    for list in ["steps", "spikes"] {
        if let Some(Value::Array(items)) = arrivals.get_mut(list) {
            for item in items.iter_mut().filter_map(Value::as_table_mut) {
                scale_key(item, "rate", factor);
            }
        }
    }
}

fn scale_key(table: &mut Table, key: &str, factor: f64) {
    if let Some(value) = table.get(key).and_then(number) {
        table.insert(key.to_string(), Value::Float(value * factor));
    }
}

fn number(value: &Value) -> Option<f64> {
    value
        .as_float()
        .or_else(|| value.as_integer().map(|i| i as f64))
}
