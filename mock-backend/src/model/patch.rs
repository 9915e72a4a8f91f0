//! Runtime changes to a deployment (the admin endpoint): quota, latency, completion lengths,
//! service model, fault timeline, switches. Applied by [`super::Fleet::apply`].

use crate::config::{CompletionTokens, FaultEntry, LatencyConfig, ServiceConfig, SwitchOverrides};
use serde::{Deserialize, Serialize};

/// A change to one deployment; absent fields are left alone.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigPatch {
    /// Resource; absent = the only resource with a deployment of that name.
    #[serde(default)]
    pub resource: Option<String>,
    /// Deployment name.
    pub deployment: String,
    /// Standard: new TPM (replaces `capacity`).
    #[serde(default)]
    pub tpm: Option<u64>,
    /// Standard: new RPM.
    #[serde(default)]
    pub rpm: Option<u64>,
    /// Provisioned: new PTU count.
    #[serde(default)]
    pub ptu: Option<u32>,
    /// New latency profile (replaces the whole table).
    #[serde(default)]
    pub latency: Option<LatencyConfig>,
    /// New completion length distribution.
    #[serde(default)]
    pub completion_tokens: Option<CompletionTokens>,
    /// New service model.
    #[serde(default)]
    pub service: Option<ServiceConfig>,
    /// New fault timeline (replaces the old one; `[]` clears it).
    #[serde(default)]
    pub faults: Option<Vec<FaultEntry>>,
    /// New switch overrides (replace the old ones).
    #[serde(default)]
    pub switches: Option<SwitchOverrides>,
}
