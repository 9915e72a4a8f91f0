//! LiteLLM `usage-based-routing-v2` (`router_strategy/lowest_tpm_rpm_v2.py` at 005df01):
//! per deployment, tokens and requests of the current **fixed** minute (`{id}:tpm:{HH-MM}`;
//! here minutes count from t = 0). TPM grows by `usage.total_tokens` on success; RPM by one in
//! the pre-call check, which raises a 429 (`retry-after: 60`) above the deployment's `rpm`.
//! Selection skips deployments with `tpm_used + est_tokens > tpm` and takes the lowest
//! `tpm_used`, random among ties. The pinned selection-time RPM check never matches (bare id vs
//! `id:rpm:HH-MM` keys): switch `rpm_check_at_selection` (default false) fixes it.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{PickContext, uniform};
use crate::balance::mask::Mask;
use crate::balance::part::Part;
use crate::balance::types::{BackendId, BackendSpec, Completion};
use crate::seed::SimRng;

/// Usage-based parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageConfig {
    /// Check RPM at selection (the pinned code never does).
    pub rpm_check_at_selection: bool,
    /// Raise a local 429 in the pre-call check when the chosen deployment is over its RPM.
    pub pre_call_rpm_check: bool,
}

impl Default for UsageConfig {
    fn default() -> Self {
        Self {
            rpm_check_at_selection: false,
            pre_call_rpm_check: true,
        }
    }
}

impl Part for UsageConfig {}

#[derive(Debug, Clone, Copy, Default)]
struct MinuteUsage {
    minute: u64,
    tokens: u64,
    requests: u64,
}

/// Minute usage of every deployment.
#[derive(Debug, Clone)]
pub struct UsageBased {
    config: UsageConfig,
    usage: Vec<MinuteUsage>,
}

impl UsageBased {
    /// No usage yet.
    pub fn new(config: UsageConfig, n: usize) -> Self {
        Self {
            config,
            usage: vec![MinuteUsage::default(); n],
        }
    }

    fn current(&mut self, now: Duration, backend: BackendId) -> &mut MinuteUsage {
        let minute = now.as_secs() / 60;
        let entry = &mut self.usage[backend];
        if entry.minute != minute {
            *entry = MinuteUsage {
                minute,
                tokens: 0,
                requests: 0,
            };
        }
        entry
    }

    /// Tokens `backend` has used in the minute of `now`.
    pub fn tokens_this_minute(&mut self, now: Duration, backend: BackendId) -> u64 {
        self.current(now, backend).tokens
    }

    /// One pick (None: "No deployments available").
    pub fn pick(&mut self, ctx: &PickContext<'_>, rng: &mut SimRng) -> Option<BackendId> {
        let mut lowest = u64::MAX;
        let mut tied = Mask::EMPTY;
        for id in ctx.eligible.iter() {
            let spec = &ctx.specs[id];
            let check_rpm = self.config.rpm_check_at_selection;
            let used = *self.current(ctx.now, id);
            if spec
                .tpm_limit
                .is_some_and(|tpm| used.tokens + ctx.est_tokens > tpm)
            {
                continue;
            }
            if check_rpm && spec.rpm_limit.is_some_and(|rpm| used.requests + 1 > rpm) {
                continue;
            }
            if used.tokens < lowest {
                lowest = used.tokens;
                tied = Mask::EMPTY.with(id);
            } else if used.tokens == lowest {
                tied = tied.with(id);
            }
        }
        uniform(tied, rng)
    }

    /// The pre-call check for `backend`: counts the request and says whether it is over RPM
    /// (LiteLLM then raises a local 429 with `retry-after: 60`). Out of line: inlined into the
    /// strategy's pick loop, its minute arithmetic was hoisted onto every other selector's path.
    #[inline(never)]
    pub fn pre_call_rejects(
        &mut self,
        now: Duration,
        backend: BackendId,
        spec: &BackendSpec,
    ) -> bool {
        let check = self.config.pre_call_rpm_check;
        let entry = self.current(now, backend);
        entry.requests += 1;
        check && spec.rpm_limit.is_some_and(|rpm| entry.requests > rpm)
    }

    /// Adds the response's total tokens to the minute.
    pub fn on_complete(&mut self, now: Duration, backend: BackendId, completion: &Completion) {
        self.current(now, backend).tokens +=
            completion.prompt_tokens + completion.completion_tokens;
    }
}
