//! Candidate fleets: the scenario's fleet resized to `k` PTUs on its provisioned deployment
//! with its overflow — `n` copies of its pay-as-you-go deployment in the balancer's pool, or
//! Azure's spillover from the PTU deployment to one standard deployment of `n ×` that size in
//! the same resource — under a load scaled by a factor. Built by editing the scenario's TOML
//! tree and parsing it again with [`Scenario::parse`], so every candidate goes through the same
//! schema and validation as a scenario file.

use std::path::PathBuf;

use serde::Serialize;
use toml::{Table, Value};

use super::error::PlanError;
use crate::scenario::{Override, Scenario, apply_overrides};

/// Where traffic the PTU deployment cannot take goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Overflow {
    /// To pay-as-you-go deployments in the balancer's pool (the gateway moves it).
    Pool,
    /// To a standard deployment in the PTU's resource by Azure's spillover (the service moves
    /// it; the pool holds the PTU resource alone).
    Spillover,
}

/// The size of a candidate fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct FleetShape {
    /// PTUs of the provisioned deployment (0: none).
    pub ptu: u32,
    /// Number of pay-as-you-go deployments (spillover: the spillover deployment's size in
    /// units of `payg_tpm`).
    pub payg: u32,
    /// TPM of each pay-as-you-go deployment.
    pub payg_tpm: u64,
    /// Where the PTU's overflow goes.
    pub overflow: Overflow,
}

impl FleetShape {
    /// A fleet of `ptu` PTUs and `payg` pool deployments of `payg_tpm`.
    pub fn pool(ptu: u32, payg: u32, payg_tpm: u64) -> FleetShape {
        FleetShape {
            ptu,
            payg,
            payg_tpm,
            overflow: Overflow::Pool,
        }
    }

    /// `50 PTU + 2 × 100k TPM`, `50 PTU → spillover 200k TPM`.
    pub fn label(&self) -> String {
        let payg = format!("{} × {}k TPM", self.payg, self.payg_tpm / 1000);
        match (self.ptu, self.payg, self.overflow) {
            (0, _, _) => payg,
            (ptu, 0, _) => format!("{ptu} PTU"),
            (ptu, _, Overflow::Pool) => format!("{ptu} PTU + {payg}"),
            (ptu, count, Overflow::Spillover) => format!(
                "{ptu} PTU → spillover {}k TPM",
                u64::from(count) * self.payg_tpm / 1000
            ),
        }
    }

    /// Whether it has pay-as-you-go capacity (pool or spillover).
    pub fn has_payg(&self) -> bool {
        self.payg > 0
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
    /// `[costs]` keys to write into every candidate (the plan's example PAYG prices).
    cost_defaults: Table,
    /// The PTU deployment's bucket horizon.
    ptu_horizon: std::time::Duration,
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
        let ptu_horizon = targeted(&ptu)
            .and_then(|d| d.switches.ptu_horizon)
            .unwrap_or(file.fleet.switches.ptu_horizon);
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
            cost_defaults: Table::new(),
            ptu_horizon,
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

    /// Whether candidates can spill the PTU's overflow over inside its resource (a PTU and a
    /// standard deployment to copy).
    pub fn can_spill_over(&self) -> bool {
        self.ptu.is_some() && self.spillover_template().is_some()
    }

    /// The scenario's `[costs]` (after overrides).
    pub fn costs(&self) -> Result<crate::report::CostConfig, PlanError> {
        match self.tree.get("costs") {
            None => Ok(crate::report::CostConfig::default()),
            Some(value) => value.clone().try_into().map_err(|error: toml::de::Error| {
                PlanError::input("SCENARIO", &self.origin, format!("costs: {error}"))
            }),
        }
    }

    /// Price every candidate's pay-as-you-go tokens at these (the scenario has none).
    pub fn set_payg_prices(&mut self, input_per_1k: f64, output_per_1k: f64) {
        self.cost_defaults
            .insert("payg_input_per_1k".into(), Value::Float(input_per_1k));
        self.cost_defaults
            .insert("payg_output_per_1k".into(), Value::Float(output_per_1k));
    }

    /// The PTU run-length horizon of the scenario's fleet (its bucket holds this of drain).
    pub fn ptu_horizon(&self) -> std::time::Duration {
        self.ptu_horizon
    }

    /// Whether the workload is a trace (its length is its own; the plan cannot lengthen it).
    pub fn is_trace(&self) -> bool {
        self.tree
            .get("workload")
            .and_then(|workload| workload.get("trace"))
            .is_some()
    }

    /// The standard deployment spillover candidates copy: the PTU resource's own spillover
    /// target, else the pool's PAYG template's deployment.
    fn spillover_template(&self) -> Option<Table> {
        let own = self.ptu.as_ref().and_then(|template| {
            let target = targeted_deployment(&template.resource, &self.deployment)?
                .get("spillover_deployment")?
                .as_str()?
                .to_string();
            targeted_deployment(&template.resource, &target).cloned()
        });
        own.or_else(|| {
            self.payg
                .as_ref()
                .and_then(|template| targeted_deployment(&template.resource, &self.deployment))
                .cloned()
        })
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
            self.resize_ptu(&mut resource, shape);
            resources.push(Value::Table(resource));
            backends.push(backend(&template.name, template.priority));
            names.push(template.name.clone());
        }
        let pool_payg = match shape.overflow {
            Overflow::Pool => shape.payg,
            Overflow::Spillover if shape.ptu > 0 => 0,
            Overflow::Spillover => shape.payg,
        };
        if let Some(template) = &self.payg {
            for index in 0..pool_payg {
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
        merge_into(&mut tree, "costs", &self.cost_defaults);
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

    /// Set the PTU deployment of `resource` (a copy of the template's) to `shape`: its size,
    /// the plan's model overrides, and its overflow — a spillover target of `payg × payg_tpm`
    /// for [`Overflow::Spillover`], none for [`Overflow::Pool`] (the gateway moves it).
    fn resize_ptu(&self, resource: &mut Table, shape: FleetShape) {
        let spill_name = format!("{}-spillover", self.deployment);
        let existing = targeted_deployment(resource, &self.deployment)
            .and_then(|d| d.get("spillover_deployment"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let spill = shape.overflow == Overflow::Spillover && shape.payg > 0;
        if let Some(deployment) = targeted_deployment_mut(resource, &self.deployment) {
            deployment.insert("ptu".into(), Value::Integer(i64::from(shape.ptu)));
            merge_into(deployment, "model_overrides", &self.ptu_overrides);
            deployment.remove("spillover_deployment");
            if spill {
                let target = existing.clone().unwrap_or_else(|| spill_name.clone());
                deployment.insert("spillover_deployment".into(), Value::String(target));
            }
        }
        if !spill {
            return;
        }
        let tpm = Value::Integer((u64::from(shape.payg) * shape.payg_tpm) as i64);
        match existing.and_then(|name| targeted_deployment_mut(resource, &name)) {
            Some(target) => {
                target.remove("capacity");
                target.remove("rpm");
                target.insert("tpm".into(), tpm);
            }
            None => {
                let Some(mut target) = self.spillover_template() else {
                    return;
                };
                target.insert("name".into(), Value::String(spill_name));
                target.remove("capacity");
                target.remove("rpm");
                target.remove("spillover_deployment");
                target.insert("tpm".into(), tpm);
                if let Some(Value::Array(deployments)) = resource.get_mut("deployments") {
                    deployments.push(Value::Table(target));
                }
            }
        }
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

/// Add `extra`'s keys to the table at `key` of `table` (created if missing); nothing when
/// `extra` is empty.
fn merge_into(table: &mut Table, key: &str, extra: &Table) {
    if extra.is_empty() {
        return;
    }
    let entry = table
        .entry(key.to_string())
        .or_insert_with(|| Value::Table(Table::new()));
    if let Value::Table(inner) = entry {
        inner.extend(extra.clone());
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
