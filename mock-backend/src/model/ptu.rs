//! Provisioned (PTU) leaky bucket (reference §6.3): charge the estimate at admission, correct
//! with the actual cost at completion, drain continuously at `PTU × input TPM per PTU / 60` per
//! second. Utilization = level / (drain rate × horizon). Admission while utilization is below
//! 100% + overshoot; otherwise an immediate 429 with the time until utilization is below 100%.

use std::time::Duration;

/// One PTU deployment's bucket.
#[derive(Debug, Clone)]
pub struct PtuBucket {
    level: f64,
    updated: Duration,
    drain_per_second: f64,
    horizon: Duration,
}

impl PtuBucket {
    /// A bucket for `ptu` units of a model with `input_tpm_per_ptu`, full at `horizon` of drain.
    pub fn new(ptu: u32, input_tpm_per_ptu: f64, horizon: Duration) -> PtuBucket {
        PtuBucket {
            level: 0.0,
            updated: Duration::ZERO,
            drain_per_second: f64::from(ptu) * input_tpm_per_ptu / 60.0,
            horizon,
        }
    }

    /// Change the PTU count or horizon (admin patch); the level is kept.
    pub fn reconfigure(
        &mut self,
        now: Duration,
        ptu: u32,
        input_tpm_per_ptu: f64,
        horizon: Duration,
    ) {
        self.drain(now);
        self.drain_per_second = f64::from(ptu) * input_tpm_per_ptu / 60.0;
        self.horizon = horizon;
    }

    fn capacity(&self) -> f64 {
        self.drain_per_second * self.horizon.as_secs_f64()
    }

    fn drain(&mut self, now: Duration) {
        if now > self.updated {
            let elapsed = (now - self.updated).as_secs_f64();
            self.level = (self.level - elapsed * self.drain_per_second).max(0.0);
            self.updated = now;
        }
    }

    /// Utilization at `now` as a fraction (1.0 = 100%).
    pub fn utilization(&mut self, now: Duration) -> f64 {
        self.drain(now);
        self.level / self.capacity()
    }

    /// Admit a request costing `estimate` (input-token equivalents), or say how long until
    /// utilization falls below 100%.
    pub fn admit(
        &mut self,
        now: Duration,
        estimate: f64,
        overshoot_pct: f64,
    ) -> Result<(), Duration> {
        let utilization = self.utilization(now);
        if utilization < 1.0 + overshoot_pct / 100.0 {
            self.level += estimate;
            return Ok(());
        }
        let excess = self.level - self.capacity();
        let seconds = excess.max(0.0) / self.drain_per_second;
        // Ceil to the millisecond and one more, so a retry at exactly that time is below 100%.
        let millis = (seconds * 1000.0).ceil() as u64 + 1;
        Err(Duration::from_millis(millis))
    }

    /// Correct the level by `actual − estimate` when a request finishes.
    pub fn correct(&mut self, now: Duration, delta: f64) {
        self.drain(now);
        self.level = (self.level + delta).max(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    /// 1 PTU × 6,000 input TPM = 100 tokens/s drain; 60 s horizon = 6,000 tokens at 100%.
    fn bucket() -> PtuBucket {
        PtuBucket::new(1, 6000.0, secs(60.0))
    }

    #[test]
    fn utilization_rises_with_a_burst_then_drains() {
        let mut b = bucket();
        for _ in 0..4 {
            assert_eq!(b.admit(secs(0.0), 1500.0, 0.0), Ok(()));
        }
        assert!((b.utilization(secs(0.0)) - 1.0).abs() < 1e-9);
        // At 100% the next request is refused until 1 ms past the point where it is below.
        assert_eq!(b.admit(secs(0.0), 1.0, 0.0), Err(Duration::from_millis(1)));
        // 30 s of drain at 100/s removes 3,000 tokens: 50%.
        assert!((b.utilization(secs(30.0)) - 0.5).abs() < 1e-9);
        assert!((b.utilization(secs(90.0))).abs() < 1e-9);
    }

    #[test]
    fn a_request_may_overshoot_and_retry_after_covers_the_excess() {
        let mut b = bucket();
        assert_eq!(b.admit(secs(0.0), 5_000.0, 0.0), Ok(()));
        assert_eq!(
            b.admit(secs(0.0), 3_000.0, 0.0),
            Ok(()),
            "admitted at 83%, lands at 133%"
        );
        // 2,000 tokens above capacity at 100/s: 20 s (+1 ms).
        assert_eq!(
            b.admit(secs(0.0), 10.0, 0.0),
            Err(Duration::from_millis(20_001))
        );
        assert_eq!(b.admit(secs(20.001), 10.0, 0.0), Ok(()));
    }

    #[test]
    fn overshoot_admits_a_little_above_100_percent() {
        let mut b = bucket();
        b.admit(secs(0.0), 6_300.0, 0.0).unwrap();
        assert!(b.admit(secs(0.0), 1.0, 0.0).is_err());
        assert_eq!(b.admit(secs(0.0), 1.0, 10.0), Ok(()));
    }

    #[test]
    fn completion_corrects_the_estimate() {
        let mut b = bucket();
        b.admit(secs(0.0), 3_000.0, 0.0).unwrap();
        b.correct(secs(0.0), -2_400.0);
        assert!((b.utilization(secs(0.0)) - 0.1).abs() < 1e-9);
        b.correct(secs(0.0), -10_000.0);
        assert_eq!(b.utilization(secs(0.0)), 0.0, "never below empty");
    }
}
