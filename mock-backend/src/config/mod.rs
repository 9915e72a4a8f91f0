//! The fleet file: resources (listeners), their deployments, switches, latency and faults.
//!
//! The same [`FleetConfig`] is a standalone `aoai-mock --config fleet.toml` file and the `[fleet]`
//! table of throttlebox scenarios. Parsing refuses unknown keys; [`FleetConfig::validate`] checks
//! the cross-field rules and names the key path and value of anything it refuses.

mod error;
mod faults;
mod latency;
pub mod spelling;
mod switches;

pub use error::ConfigError;
pub use faults::{FaultEntry, FaultKind};
pub use latency::{CompletionTokens, LatencyConfig, ServiceConfig, ServiceTime};
pub use switches::{
    AbortedAccounting, BurstShape, ClientRequestIdFallback, LimitRequestsHeaderMode,
    RateLimitMessage, RequestWindow, StreamFilterMode, SwitchOverrides, Switches,
};

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::net::IpAddr;

/// A whole mock fleet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetConfig {
    /// Scenario seed; every deployment derives its named RNG streams from it (default 0).
    #[serde(default)]
    pub seed: u64,
    /// Address every listener binds unless its resource sets its own (default 127.0.0.1).
    #[serde(default = "default_bind")]
    pub bind: IpAddr,
    /// Largest request body accepted before a 413 (default 4 MiB).
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: u64,
    /// Fleet-wide switch defaults.
    #[serde(default)]
    pub switches: Switches,
    /// The AOAI resources, one listener each.
    pub resources: Vec<ResourceConfig>,
}

/// One AOAI resource: a listener with its own port, region and keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceConfig {
    /// Short name (used in RNG stream names, metrics labels and admin patches).
    pub name: String,
    /// Display region sent in `x-ms-region`, e.g. `East US`.
    pub region: String,
    /// Address this resource's listener binds instead of the fleet's `bind` (e.g. `127.0.0.2`,
    /// `127.0.0.3`, … so that resources differ by host, as client libraries that replace only
    /// a URL's host need).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind: Option<IpAddr>,
    /// TCP port; 0 = any free port (printed at start). Resources that set their own `bind` and
    /// leave `port = 0` share one free port: the first takes it, the others listen on the same
    /// port on their own address.
    #[serde(default)]
    pub port: u16,
    /// Accepted `api-key` / Bearer values; empty = any value (a missing header is still 401).
    #[serde(default)]
    pub api_keys: Vec<String>,
    /// The deployments this resource hosts.
    #[serde(default)]
    pub deployments: Vec<DeploymentConfig>,
}

/// Standard (pay-as-you-go) or provisioned (PTU).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentKind {
    /// TPM/RPM windows.
    Standard,
    /// Leaky-bucket utilization.
    Provisioned,
}

/// One deployment of a resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploymentConfig {
    /// Deployment name (path segment, or body `model` on /openai/v1).
    pub name: String,
    /// Model family, e.g. `gpt-4o`, `gpt-4.1-mini`, `gpt-35-turbo`, `text-embedding-3-small`.
    pub model: String,
    /// `standard` or `provisioned`.
    pub kind: DeploymentKind,
    /// Standard: tokens per minute (or give `capacity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpm: Option<u64>,
    /// Standard: capacity units, 1 = 1,000 TPM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u64>,
    /// Standard: requests per minute (default TPM × the model's RPM per 1K TPM ratio).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpm: Option<u64>,
    /// Provisioned: number of PTUs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ptu: Option<u32>,
    /// Provisioned: standard deployment of the same resource that takes over non-2xx answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spillover_deployment: Option<String>,
    /// Overrides of the model family's constants.
    #[serde(default)]
    pub model_overrides: ModelOverrides,
    /// Latency profile.
    #[serde(default)]
    pub latency: LatencyConfig,
    /// Completion length distribution (capped by `max_tokens` and the context window).
    #[serde(default)]
    pub completion_tokens: CompletionTokens,
    /// Optional FIFO service model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceConfig>,
    /// Fault timeline.
    #[serde(default)]
    pub faults: Vec<FaultEntry>,
    /// Switch overrides for this deployment.
    #[serde(default)]
    pub switches: SwitchOverrides,
}

/// Per-deployment overrides of the model family table (reference §5, §6).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelOverrides {
    /// RPM per 1,000 TPM.
    pub rpm_per_1k_tpm: Option<f64>,
    /// Completion tokens assumed by the estimate when `max_tokens` is unset.
    pub default_completion_estimate: Option<u32>,
    /// Whether the estimate counts `ceil(prompt_chars / 4)`.
    pub count_prompt: Option<bool>,
    /// Context window in tokens.
    pub context_window: Option<u32>,
    /// PTU: input tokens per minute per PTU.
    pub input_tpm_per_ptu: Option<f64>,
    /// PTU: weight of one output token in input tokens.
    pub output_weight: Option<f64>,
    /// PTU: floor of the generation speed (tokens/s).
    pub ptu_floor_tps: Option<f64>,
    /// Model version string in bodies (e.g. `gpt-4o-2024-11-20`).
    pub model_version: Option<String>,
}

/// The validated quota of a deployment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Quota {
    /// Tokens and requests per minute.
    Standard {
        /// Tokens per minute.
        tpm: u64,
        /// Requests per minute (None = from the model's ratio).
        rpm: Option<u64>,
    },
    /// Provisioned throughput units.
    Provisioned {
        /// Number of PTUs.
        ptu: u32,
    },
}

fn default_bind() -> IpAddr {
    IpAddr::from([127, 0, 0, 1])
}

fn default_max_body_bytes() -> u64 {
    4 * 1024 * 1024
}

impl Default for FleetConfig {
    /// An empty fleet with the file defaults (seed 0, 127.0.0.1, 4 MiB bodies).
    fn default() -> Self {
        FleetConfig {
            seed: 0,
            bind: default_bind(),
            max_body_bytes: default_max_body_bytes(),
            switches: Switches::default(),
            resources: Vec::new(),
        }
    }
}

impl ResourceConfig {
    /// A resource with no keys (any key accepted), any port, and `deployments`.
    pub fn new(name: &str, region: &str, deployments: Vec<DeploymentConfig>) -> ResourceConfig {
        ResourceConfig {
            name: name.to_string(),
            region: region.to_string(),
            bind: None,
            port: 0,
            api_keys: Vec::new(),
            deployments,
        }
    }
}

impl DeploymentConfig {
    fn bare(name: &str, model: &str, kind: DeploymentKind) -> DeploymentConfig {
        DeploymentConfig {
            name: name.to_string(),
            model: model.to_string(),
            kind,
            tpm: None,
            capacity: None,
            rpm: None,
            ptu: None,
            spillover_deployment: None,
            model_overrides: ModelOverrides::default(),
            latency: LatencyConfig::default(),
            completion_tokens: CompletionTokens::default(),
            service: None,
            faults: Vec::new(),
            switches: SwitchOverrides::default(),
        }
    }

    /// A standard deployment of `tpm` tokens per minute with every other field at its default.
    pub fn standard(name: &str, model: &str, tpm: u64) -> DeploymentConfig {
        DeploymentConfig {
            tpm: Some(tpm),
            ..DeploymentConfig::bare(name, model, DeploymentKind::Standard)
        }
    }

    /// A provisioned deployment of `ptu` units with every other field at its default.
    pub fn provisioned(name: &str, model: &str, ptu: u32) -> DeploymentConfig {
        DeploymentConfig {
            ptu: Some(ptu),
            ..DeploymentConfig::bare(name, model, DeploymentKind::Provisioned)
        }
    }
}

impl FleetConfig {
    /// Parse and validate a standalone fleet file; `origin` (the file name) prefixes errors.
    /// Deprecated spellings are read; [`FleetConfig::from_toml_str_noting`] also says which.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<FleetConfig, ConfigError> {
        Self::from_toml_str_noting(text, origin).map(|(config, _)| config)
    }

    /// [`FleetConfig::from_toml_str`], plus a deprecation note (naming the file and key) for
    /// every old spelling it read (see [`spelling`]).
    pub fn from_toml_str_noting(
        text: &str,
        origin: &str,
    ) -> Result<(FleetConfig, Vec<String>), ConfigError> {
        let parse_error = |error: toml::de::Error| ConfigError::Parse {
            origin: origin.to_string(),
            message: error.to_string(),
        };
        let mut tree: toml::Table = toml::from_str(text).map_err(parse_error)?;
        let notes = spelling::modernize(&mut tree, origin, "");
        // From the text when nothing was rewritten: its errors carry line and column.
        let config: FleetConfig = if notes.is_empty() {
            toml::from_str(text).map_err(parse_error)?
        } else {
            FleetConfig::deserialize(toml::Value::Table(tree)).map_err(parse_error)?
        };
        config
            .validate()
            .map_err(|error| error.located(origin, ""))?;
        Ok((config, notes))
    }

    /// Cross-field rules (names unique, quotas present and positive, spillover targets exist and
    /// are standard, fault fields per kind). Errors carry key paths relative to this table; call
    /// [`ConfigError::located`] to attribute them to a file and a prefix such as `fleet.`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.switches.validate("switches.")?;
        if self.max_body_bytes == 0 {
            return Err(ConfigError::invalid(
                "max_body_bytes",
                0,
                "must be positive",
            ));
        }
        let mut resource_names = BTreeSet::new();
        let mut ports = BTreeSet::new();
        let mut shared_port_binds = BTreeSet::new();
        for (r, resource) in self.resources.iter().enumerate() {
            let path = format!("resources[{r}]");
            if resource.name.is_empty() || !resource_names.insert(resource.name.as_str()) {
                return Err(ConfigError::invalid(
                    format!("{path}.name"),
                    &resource.name,
                    "must be non-empty and unique",
                ));
            }
            let addr = resource.addr(self.bind);
            if resource.port != 0 && !ports.insert((addr, resource.port)) {
                return Err(ConfigError::invalid(
                    format!("{path}.port"),
                    resource.port,
                    format!("two resources listen on {addr} with this port"),
                ));
            }
            if let (Some(bind), 0) = (resource.bind, resource.port)
                && !shared_port_binds.insert(bind)
            {
                return Err(ConfigError::invalid(
                    format!("{path}.bind"),
                    bind,
                    "two resources with port 0 share this address (they share one port: give \
                     each its own address)",
                ));
            }
            resource.validate(&path, &self.switches)?;
        }
        Ok(())
    }
}

impl ResourceConfig {
    /// The address this resource's listener binds: its own `bind`, else the fleet's.
    pub fn addr(&self, fleet_bind: IpAddr) -> IpAddr {
        self.bind.unwrap_or(fleet_bind)
    }

    fn validate(&self, path: &str, fleet_switches: &Switches) -> Result<(), ConfigError> {
        let mut names = BTreeSet::new();
        for (d, deployment) in self.deployments.iter().enumerate() {
            let dpath = format!("{path}.deployments[{d}]");
            if deployment.name.is_empty()
                || deployment.name.contains('/')
                || !names.insert(deployment.name.as_str())
            {
                return Err(ConfigError::invalid(
                    format!("{dpath}.name"),
                    &deployment.name,
                    "must be non-empty, without '/', and unique in its resource",
                ));
            }
            deployment.validate(&dpath, fleet_switches)?;
            if let Some(target) = &deployment.spillover_deployment {
                match self.deployments.iter().find(|other| &other.name == target) {
                    Some(other) if other.kind == DeploymentKind::Standard => {}
                    Some(_) => {
                        return Err(ConfigError::invalid(
                            format!("{dpath}.spillover_deployment"),
                            target,
                            "must name a standard deployment",
                        ));
                    }
                    None => {
                        return Err(ConfigError::invalid(
                            format!("{dpath}.spillover_deployment"),
                            target,
                            "no deployment of this resource has that name",
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

impl DeploymentConfig {
    /// The quota, once validated (standard without TPM reads as 0 TPM).
    pub fn quota(&self) -> Quota {
        match self.kind {
            DeploymentKind::Standard => Quota::Standard {
                tpm: self.tpm.or(self.capacity.map(|c| c * 1000)).unwrap_or(0),
                rpm: self.rpm,
            },
            DeploymentKind::Provisioned => Quota::Provisioned {
                ptu: self.ptu.unwrap_or(0),
            },
        }
    }

    /// Per-deployment rules, with `path` the key path of this deployment.
    pub fn validate(&self, path: &str, fleet_switches: &Switches) -> Result<(), ConfigError> {
        let field = |name: &str| format!("{path}.{name}");
        match self.kind {
            DeploymentKind::Standard => {
                match (self.tpm, self.capacity) {
                    (Some(_), Some(_)) => {
                        return Err(ConfigError::invalid(
                            field("capacity"),
                            self.capacity,
                            "give tpm or capacity, not both",
                        ));
                    }
                    (None, None) => {
                        return Err(ConfigError::invalid(
                            field("tpm"),
                            "none",
                            "a standard deployment needs tpm or capacity",
                        ));
                    }
                    (Some(0), _) => {
                        return Err(ConfigError::invalid(field("tpm"), 0, "must be positive"));
                    }
                    (_, Some(0)) => {
                        return Err(ConfigError::invalid(
                            field("capacity"),
                            0,
                            "must be positive",
                        ));
                    }
                    _ => {}
                }
                if self.rpm == Some(0) {
                    return Err(ConfigError::invalid(field("rpm"), 0, "must be positive"));
                }
                for (name, set) in [
                    ("ptu", self.ptu.is_some()),
                    ("spillover_deployment", self.spillover_deployment.is_some()),
                ] {
                    if set {
                        return Err(ConfigError::invalid(
                            field(name),
                            "set",
                            "only provisioned deployments take this",
                        ));
                    }
                }
            }
            DeploymentKind::Provisioned => {
                match self.ptu {
                    None => {
                        return Err(ConfigError::invalid(
                            field("ptu"),
                            "none",
                            "a provisioned deployment needs ptu",
                        ));
                    }
                    Some(0) => {
                        return Err(ConfigError::invalid(field("ptu"), 0, "must be positive"));
                    }
                    Some(_) => {}
                }
                for (name, set) in [
                    ("tpm", self.tpm.is_some()),
                    ("capacity", self.capacity.is_some()),
                    ("rpm", self.rpm.is_some()),
                ] {
                    if set {
                        return Err(ConfigError::invalid(
                            field(name),
                            "set",
                            "only standard deployments take this",
                        ));
                    }
                }
            }
        }
        self.validate_latency(path)?;
        self.validate_completion(path)?;
        if let Some(service) = &self.service
            && service.concurrency == 0
        {
            return Err(ConfigError::invalid(
                field("service.concurrency"),
                0,
                "must be at least 1",
            ));
        }
        for (f, fault) in self.faults.iter().enumerate() {
            fault.validate(&format!("{path}.faults[{f}]"))?;
        }
        fleet_switches
            .with(&self.switches)
            .validate(&format!("{path}.switches."))?;
        let o = &self.model_overrides;
        for (name, value) in [
            ("rpm_per_1k_tpm", o.rpm_per_1k_tpm),
            ("input_tpm_per_ptu", o.input_tpm_per_ptu),
            ("output_weight", o.output_weight),
            ("ptu_floor_tps", o.ptu_floor_tps),
        ] {
            if let Some(v) = value
                && !(v.is_finite() && v > 0.0)
            {
                return Err(ConfigError::invalid(
                    field(&format!("model_overrides.{name}")),
                    v,
                    "must be a positive number",
                ));
            }
        }
        if o.context_window == Some(0) {
            return Err(ConfigError::invalid(
                field("model_overrides.context_window"),
                0,
                "must be positive",
            ));
        }
        Ok(())
    }

    fn validate_latency(&self, path: &str) -> Result<(), ConfigError> {
        let l = &self.latency;
        let positive = [("tokens_per_second", l.tokens_per_second)];
        for (name, value) in positive {
            if let Some(v) = value
                && !(v.is_finite() && v > 0.0)
            {
                return Err(ConfigError::invalid(
                    format!("{path}.latency.{name}"),
                    v,
                    "must be a positive number",
                ));
            }
        }
        for (name, value) in [
            ("ttft_jitter", l.ttft_jitter),
            ("tps_jitter", l.tps_jitter),
            ("load_factor", l.load_factor),
        ] {
            if let Some(v) = value
                && !(v.is_finite() && (0.0..=10.0).contains(&v))
            {
                return Err(ConfigError::invalid(
                    format!("{path}.latency.{name}"),
                    v,
                    "must be between 0 and 10",
                ));
            }
        }
        if l.saturation_in_flight == Some(0) {
            return Err(ConfigError::invalid(
                format!("{path}.latency.saturation_in_flight"),
                0,
                "must be at least 1",
            ));
        }
        Ok(())
    }

    fn validate_completion(&self, path: &str) -> Result<(), ConfigError> {
        let field = format!("{path}.completion_tokens");
        match &self.completion_tokens {
            CompletionTokens::Constant { .. } => Ok(()),
            CompletionTokens::Uniform { min, max } if min > max => Err(ConfigError::invalid(
                format!("{field}.min"),
                min,
                "must not exceed max",
            )),
            CompletionTokens::Uniform { .. } => Ok(()),
            CompletionTokens::Lognormal { median, sigma } => {
                if !(median.is_finite() && *median > 0.0) {
                    Err(ConfigError::invalid(
                        format!("{field}.median"),
                        median,
                        "must be positive",
                    ))
                } else if !(sigma.is_finite() && *sigma >= 0.0) {
                    Err(ConfigError::invalid(
                        format!("{field}.sigma"),
                        sigma,
                        "must be >= 0",
                    ))
                } else {
                    Ok(())
                }
            }
            CompletionTokens::Exponential { mean } if !(mean.is_finite() && *mean > 0.0) => Err(
                ConfigError::invalid(format!("{field}.mean"), mean, "must be positive"),
            ),
            CompletionTokens::Exponential { .. } => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests;
