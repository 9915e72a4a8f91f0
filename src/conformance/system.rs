//! The real systems the lab runs, and what each needs: how the driver calls it, which preset
//! it checks, and how the simulation must be set up to model the same deployment (the Router
//! library has no client SDK on top; the proxy and the priority balancer have one).

use serde::Serialize;

use crate::balance::Preset;

/// A real balancer the lab can run here (each installs from PyPI).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum System {
    /// The LiteLLM proxy (`litellm[proxy]`), called through the OpenAI Python SDK.
    LitellmProxy,
    /// LiteLLM's `Router` library called in-process (no SDK retries on top).
    LitellmRouter,
    /// openai-priority-loadbalancer as the SDK's httpx transport.
    PriorityLb,
    /// The OpenAI Python SDK alone against one deployment: its own retry loop.
    OpenaiSdk,
}

impl System {
    /// Every system.
    pub const ALL: [System; 4] = [
        System::LitellmProxy,
        System::LitellmRouter,
        System::PriorityLb,
        System::OpenaiSdk,
    ];

    /// Name on the command line and in tables.
    pub fn name(self) -> &'static str {
        match self {
            System::LitellmProxy => "litellm-proxy",
            System::LitellmRouter => "litellm-router",
            System::PriorityLb => "priority-lb",
            System::OpenaiSdk => "openai-sdk",
        }
    }

    /// The driver's mode (`src/conformance/driver.py`).
    pub fn driver_mode(self) -> &'static str {
        match self {
            System::LitellmProxy | System::OpenaiSdk => "sdk",
            System::LitellmRouter => "router",
            System::PriorityLb => "priority",
        }
    }

    /// Whether `preset` is one this system can stand for.
    pub fn checks(self, preset: Option<Preset>) -> bool {
        match self {
            System::LitellmProxy | System::LitellmRouter => matches!(
                preset,
                Some(
                    Preset::Litellm
                        | Preset::LitellmShuffle
                        | Preset::LitellmLeastBusy
                        | Preset::LitellmLatency
                        | Preset::LitellmUsage
                )
            ),
            System::PriorityLb => preset == Some(Preset::ClientPriority),
            // Any strategy over a single backend: the SDK's retries are the only balancer.
            System::OpenaiSdk => true,
        }
    }

    /// `--set` overrides that make the simulation model this deployment of the system for the
    /// strategy named `strategy`.
    pub fn sim_overrides(self, strategy: &str) -> Vec<String> {
        match self {
            // The application calls the Router directly: no SDK retries around it, and every
            // attempt has its own logging object (per-attempt cooldowns).
            System::LitellmRouter => vec![
                "client.retry.max_retries=0".to_string(),
                format!("strategies[{strategy}].litellm.mode=library"),
            ],
            System::LitellmProxy => vec![format!("strategies[{strategy}].litellm.mode=proxy")],
            System::PriorityLb | System::OpenaiSdk => Vec::new(),
        }
    }

    /// Python packages the driver imports for this system (checked before a run).
    pub fn python_modules(self) -> &'static [&'static str] {
        match self {
            System::LitellmProxy | System::LitellmRouter => &["openai", "litellm", "yaml"],
            System::PriorityLb => &["openai", "openai_priority_loadbalancer"],
            System::OpenaiSdk => &["openai"],
        }
    }
}
