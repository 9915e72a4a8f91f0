//! `StrategyConfig`: one `[[strategies]]` entry of a scenario file — a preset (or an imported
//! APIM pool) plus overrides. An override table (`selector`, `breaker`, `retry`) names settings
//! of one of the preset's parts; each part owns its settings and the table is written onto the
//! part's own (see [`crate::balance::part`]), so one the preset's part does not have is an
//! error naming it (`breaker.percentage` on `powerproxy` is refused, not ignored). `kind` swaps
//! a part for another kind with its defaults, after which that kind's settings apply.

mod checks;
mod scope;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use toml::Table;

use super::BalanceError;
use super::apim_import::ImportedPool;
use super::composition::Composition;
use super::exhaustion::{Exhaustion, LitellmWait};
use super::litellm::LitellmOptions;
use super::litellm::import::ImportedLitellm;
use super::part::with_overrides;
use super::presets::Preset;
use super::strategy::Strategy;
use super::types::BackendSpec;
use aoai_mock::duration::serde_human_opt;
use checks::check_values;
use scope::{Scope, set};

/// One `[[strategies]]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrategyConfig {
    /// Name in reports.
    pub name: String,
    /// Preset to start from (`apim-pool` when `apim_pool_json` is given).
    #[serde(default)]
    pub preset: Option<Preset>,
    /// APIM pool JSON file (ARM/REST or Terraform azapi body); the scenario layer reads it and
    /// attaches the import with [`StrategyConfig::attach_pool`].
    #[serde(default)]
    pub apim_pool_json: Option<String>,
    /// A LiteLLM proxy/router config (YAML) for `preset = "litellm"`; the scenario layer reads
    /// it and attaches the import with [`StrategyConfig::attach_litellm`].
    #[serde(default)]
    pub config: Option<String>,
    /// Selector overrides (`selector = { kind = …, <its settings> }`).
    #[serde(default)]
    pub selector: Option<Table>,
    /// Turn priority groups on or off.
    #[serde(default)]
    pub priority_groups: Option<bool>,
    /// Breaker overrides (`breaker = { kind = …, <its settings> }`).
    #[serde(default)]
    pub breaker: Option<Table>,
    /// Gateway retry overrides (every preset has a retry loop; `count = 0` for none).
    #[serde(default)]
    pub retry: Option<Table>,
    /// Status of the exhaustion answer (APIM 503 → 429 mapping; generic presets).
    #[serde(default)]
    pub exhausted_status: Option<u16>,
    /// LiteLLM: advertise the shortest remaining cooldown (true) or 60 s (false) instead of
    /// the version's own answer.
    #[serde(default)]
    pub exhausted_min_cooldown: Option<bool>,
    /// Envoy-style panic threshold (percent of available backends).
    #[serde(default)]
    pub panic_threshold: Option<u32>,
    /// Envoy-style overprovisioning factor for priority groups (Envoy: 1.4).
    #[serde(default)]
    pub overprovisioning: Option<f64>,
    /// Overall deadline per request.
    #[serde(default, with = "serde_human_opt")]
    pub deadline: Option<Duration>,
    /// LiteLLM presets: the version modelled and the deployment mode (default: the pinned
    /// version, proxy).
    #[serde(default)]
    pub litellm: Option<LitellmOptions>,
    /// Whether the client sees a stream only at its end (default: the preset's; on for
    /// `client-priority`, whose library buffers).
    #[serde(default)]
    pub buffers_streams: Option<bool>,
    /// Independent gateway instances (the simulator builds one `Strategy` per instance).
    #[serde(default = "one")]
    pub gateways: u32,
    /// The import attached by the scenario layer.
    #[serde(skip)]
    pub imported: Option<ImportedPool>,
    /// The LiteLLM config attached by the scenario layer.
    #[serde(skip)]
    pub litellm_config: Option<ImportedLitellm>,
}

fn one() -> u32 {
    1
}

impl StrategyConfig {
    /// A config for `preset` with no overrides.
    pub fn preset(name: impl Into<String>, preset: Preset) -> Self {
        Self {
            name: name.into(),
            preset: Some(preset),
            apim_pool_json: None,
            config: None,
            selector: None,
            priority_groups: None,
            breaker: None,
            retry: None,
            exhausted_status: None,
            exhausted_min_cooldown: None,
            panic_threshold: None,
            overprovisioning: None,
            deadline: None,
            litellm: None,
            buffers_streams: None,
            gateways: 1,
            imported: None,
            litellm_config: None,
        }
    }

    /// Attaches the pool the scenario layer imported from `apim_pool_json`.
    pub fn attach_pool(&mut self, pool: ImportedPool) {
        self.imported = Some(pool);
    }

    /// Attaches the LiteLLM config the scenario layer imported from `config`.
    pub fn attach_litellm(&mut self, config: ImportedLitellm) {
        self.litellm_config = Some(config);
    }

    fn effective_preset(&self) -> Result<Preset, BalanceError> {
        let path = format!("strategies[{}]", self.name);
        if self.config.is_some() {
            return match self.preset {
                None | Some(Preset::Litellm) if self.apim_pool_json.is_none() => {
                    Ok(Preset::Litellm)
                }
                _ => Err(BalanceError::field(
                    format!("{path}.config"),
                    "a LiteLLM config is read by preset = \"litellm\" (it gives the routing strategy itself)",
                )),
            };
        }
        match (self.preset, &self.apim_pool_json) {
            (Some(preset), None) => Ok(preset),
            (None, Some(_)) | (Some(Preset::ApimPool), Some(_)) => Ok(Preset::ApimPool),
            (Some(other), Some(_)) => Err(BalanceError::field(
                format!("{path}.preset"),
                format!(
                    "{:?} cannot be combined with apim_pool_json (an imported pool is an apim-pool)",
                    other.name()
                ),
            )),
            (None, None) => Err(BalanceError::field(
                format!("{path}.preset"),
                "missing: give `preset` or `apim_pool_json`",
            )),
        }
    }

    /// Checks the entry on its own (names the field path of the first problem).
    pub fn validate(&self) -> Result<(), BalanceError> {
        self.resolve(1).map(|_| ())
    }

    /// The composition this entry resolves to for a pool of `backends` backends.
    pub fn resolve(&self, backends: usize) -> Result<Composition, BalanceError> {
        if self.name.trim().is_empty() {
            return Err(BalanceError::field(
                "strategies[].name",
                "empty: every strategy needs a name",
            ));
        }
        let preset = self.effective_preset()?;
        let scope = Scope {
            strategy: &self.name,
            preset: preset.name(),
        };
        if self.gateways == 0 {
            return Err(scope.invalid("gateways", "0: at least one gateway instance".into()));
        }
        if self.litellm.is_some() && !preset.is_litellm() {
            return Err(scope.not_applicable(
                "litellm",
                "it does not model LiteLLM (only litellm-* presets do)".into(),
            ));
        }
        let options = self.litellm.unwrap_or_default();
        let mut composition = preset.composition_with(backends, options);
        if let Some(imported) = &self.litellm_config {
            composition = imported.composition(options, composition);
        }
        if let Some(buffers) = self.buffers_streams {
            composition.buffers_streams = buffers;
        }
        if let Some(pool) = &self.imported {
            composition.breaker = pool.breaker_config();
        }
        if let Some(given) = &self.selector {
            composition.selector = composition
                .selector
                .overridden(given)
                .map_err(|error| scope.refused("selector", error))?;
        }
        if let Some(groups) = self.priority_groups {
            composition.priority_groups = groups;
        }
        if let Some(given) = &self.breaker {
            composition.breaker = composition
                .breaker
                .overridden(given)
                .map_err(|error| scope.refused("breaker", error))?;
        }
        if let Some(given) = &self.retry {
            composition.retry = with_overrides(&composition.retry, given, "gateway retry loop")
                .map_err(|error| scope.refused("retry", error))?;
        }
        let exhaustion = format!("exhaustion answer ({:?})", composition.exhaustion);
        let status_slot = match &mut composition.exhaustion {
            Exhaustion::ApimUnavailable { status } | Exhaustion::Status { status } => Some(status),
            _ => None,
        };
        set(
            &scope,
            "exhausted_status",
            self.exhausted_status,
            status_slot,
            &exhaustion,
        )?;
        let cooldown_slot = match &mut composition.exhaustion {
            Exhaustion::Litellm { wait } => Some(wait),
            _ => None,
        };
        let wait = self.exhausted_min_cooldown.map(|shortest| {
            if shortest {
                LitellmWait::ShortestRemaining
            } else {
                LitellmWait::Sixty
            }
        });
        set(
            &scope,
            "exhausted_min_cooldown",
            wait,
            cooldown_slot,
            &exhaustion,
        )?;
        if self.overprovisioning.is_some() {
            composition.overprovisioning = self.overprovisioning;
        }
        if self.panic_threshold.is_some() {
            composition.panic_threshold = self.panic_threshold;
        }
        if self.deadline.is_some() {
            composition.deadline = self.deadline;
        }
        check_values(&scope, &composition)?;
        Ok(composition)
    }
}

impl Strategy {
    /// Builds the strategy a `[[strategies]]` entry describes over `backends` (in scenario
    /// order; for an imported pool, the specs from [`ImportedPool::backend_specs`]).
    pub fn new(cfg: &StrategyConfig, backends: &[BackendSpec]) -> Result<Strategy, BalanceError> {
        if cfg.config.is_some() && cfg.litellm_config.is_none() {
            return Err(BalanceError::field(
                format!("strategies[{}].config", cfg.name),
                "config file not loaded: the scenario layer must import it and call attach_litellm",
            ));
        }
        if cfg.apim_pool_json.is_some() && cfg.imported.is_none() {
            return Err(BalanceError::field(
                format!("strategies[{}].apim_pool_json", cfg.name),
                "pool file not loaded: the scenario layer must import it and call attach_pool",
            ));
        }
        let composition = cfg.resolve(backends.len())?;
        Strategy::from_composition(cfg.name.clone(), composition, backends)
    }

    /// One independent strategy per gateway instance (`cfg.gateways` of them): APIM breakers
    /// and throttle flags are per instance, so instances never share state. Give each its own
    /// RNG stream: `crate::seed::streams::balance(seed, k)` for instance `k`, as the simulator
    /// and the live gateway both do.
    pub fn instances(
        cfg: &StrategyConfig,
        backends: &[BackendSpec],
    ) -> Result<Vec<Strategy>, BalanceError> {
        let first = Strategy::new(cfg, backends)?;
        Ok(vec![first; cfg.gateways.max(1) as usize])
    }
}
