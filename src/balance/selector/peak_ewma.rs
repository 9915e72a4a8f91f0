//! P2C on Peak-EWMA latency cost (tower `load::PeakEwma` at 8358ee7; Finagle `p2cPeakEwma`):
//! cost = `rtt_estimate × (pending + 1)`; a sample above the estimate replaces it (the peak),
//! otherwise `est = est·w + r·(1−w)` with `w = exp(−elapsed/decay)`; reading the cost first
//! decays the estimate toward 0 over the time since the last update (and, as in tower, stores
//! the decayed value). New backends start at
//! `default_rtt`. The sample is time to first token or full latency (switch), as tower's
//! completion policy chooses between first byte and end of stream.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::PickContext;
use super::least_outstanding::sample;
use crate::balance::mask::MAX_BACKENDS;
use crate::balance::part::{Part, Problem};
use crate::balance::types::{BackendId, Completion};
use crate::seed::SimRng;

/// Which latency feeds the estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LatencySample {
    /// Time to first token for streams (tower `CompleteOnResponse`), full latency otherwise.
    Ttft,
    /// Send to end of body.
    Full,
}

/// Peak-EWMA parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeakEwmaConfig {
    /// Decay time constant τ (Finagle 10 s [uncertain]).
    #[serde(with = "aoai_mock::duration::serde_human")]
    pub decay: Duration,
    /// Estimate for a backend with no sample yet (tower docs: 1 s).
    #[serde(with = "aoai_mock::duration::serde_human")]
    pub default_rtt: Duration,
    /// Sample switch.
    pub sample: LatencySample,
}

impl Default for PeakEwmaConfig {
    fn default() -> Self {
        Self {
            decay: Duration::from_secs(10),
            default_rtt: Duration::from_secs(1),
            sample: LatencySample::Ttft,
        }
    }
}

impl Part for PeakEwmaConfig {
    fn check(&self) -> Result<(), Problem> {
        if self.decay.is_zero() {
            return Err(Problem::new("decay", "0: must be positive"));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy)]
struct Estimate {
    rtt_ns: f64,
    stamp: Duration,
}

/// Peak-EWMA estimates of every backend.
#[derive(Debug, Clone)]
pub struct PeakEwma {
    config: PeakEwmaConfig,
    estimates: Vec<Estimate>,
}

impl PeakEwma {
    /// Every backend at `default_rtt`.
    pub fn new(config: PeakEwmaConfig, n: usize) -> Self {
        let start = Estimate {
            rtt_ns: config.default_rtt.as_nanos() as f64,
            stamp: Duration::ZERO,
        };
        Self {
            config,
            estimates: vec![start; n],
        }
    }

    fn decay_weight(&self, elapsed: Duration) -> f64 {
        let tau = self.config.decay.as_nanos() as f64;
        if tau <= 0.0 {
            return 0.0;
        }
        (-(elapsed.as_nanos() as f64) / tau).exp()
    }

    /// tower `RttEstimate::update`: a peak replaces the estimate, otherwise EWMA with
    /// `w = exp(−elapsed/decay)`; the stamp moves to `now` either way.
    fn update(&mut self, now: Duration, backend: BackendId, sample_ns: f64) -> f64 {
        let current = self.estimates[backend];
        let rtt_ns = if current.rtt_ns < sample_ns {
            sample_ns
        } else {
            let w = self.decay_weight(now.saturating_sub(current.stamp));
            current.rtt_ns * w + sample_ns * (1.0 - w)
        };
        self.estimates[backend] = Estimate { rtt_ns, stamp: now };
        rtt_ns
    }

    /// tower `PeakEwma::load`: decays the estimate with a zero sample (mutating it, as tower
    /// does) and returns `rtt_estimate × (pending + 1)`.
    pub fn load(&mut self, now: Duration, backend: BackendId, pending: u32) -> f64 {
        self.update(now, backend, 0.0) * f64::from(pending + 1)
    }

    /// The current RTT estimate of `backend` in nanoseconds, without decaying it.
    pub fn rtt_estimate_ns(&self, backend: BackendId) -> f64 {
        self.estimates[backend].rtt_ns
    }

    /// P2C over two distinct samples; lower load wins, tie → first sampled.
    pub fn pick(&mut self, ctx: &PickContext<'_>, rng: &mut SimRng) -> Option<BackendId> {
        if ctx.eligible.count() == 1 {
            return ctx.eligible.first();
        }
        let mut drawn = [0usize; MAX_BACKENDS];
        let n = sample(ctx.eligible, 2, true, rng, &mut drawn);
        let (first, second) = (drawn[0], drawn[..n].get(1).copied().unwrap_or(drawn[0]));
        let first_load = self.load(ctx.now, first, ctx.inflight[first]);
        let second_load = self.load(ctx.now, second, ctx.inflight[second]);
        Some(if second_load < first_load {
            second
        } else {
            first
        })
    }

    /// Feeds one latency sample observed at `now`.
    pub fn observe(&mut self, now: Duration, backend: BackendId, rtt: Duration) {
        self.update(now, backend, rtt.as_nanos() as f64);
    }

    /// Takes the sample the config asks for from a completed response.
    pub fn on_complete(&mut self, now: Duration, backend: BackendId, completion: &Completion) {
        let rtt = match self.config.sample {
            LatencySample::Ttft => completion.ttft.unwrap_or(completion.latency),
            LatencySample::Full => completion.latency,
        };
        self.observe(now, backend, rtt);
    }
}
