//! The names and kinds a run's records are labelled with: the driver that produced them
//! ([`Mode`]) and each backend as the reports see it ([`BackendInfo`]). A leaf: the setup, the
//! price book and the summary all refer to these.

use serde::{Deserialize, Serialize};

/// Which driver produced the records: the only thing a report can tell about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Discrete-event simulator (virtual time).
    Sim,
    /// Real sockets (wall clock).
    Live,
}

impl Mode {
    /// `"sim"` or `"live"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Sim => "sim",
            Mode::Live => "live",
        }
    }
}

/// A backend (deployment) as the reports see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendInfo {
    /// Its name in the scenario.
    pub name: String,
    /// Provisioned throughput units; 0 for a pay-as-you-go (Standard) deployment.
    pub provisioned_ptus: u32,
}
