//! Fingerprints that let `merge` check that shards ran the same experiment: the resolved
//! scenario (after `--set` overrides, imported pools attached) and the seeded schedule
//! (every request's time, app, deployment, sizes, stream flag, priority and session, so a trace
//! file that differs between machines shows). FNV-1a, 64 bits: stable across builds and
//! platforms, fed explicit little-endian bytes; the inputs are not adversarial, so a
//! cryptographic hash would buy nothing here.

use serde::{Deserialize, Serialize};

use crate::scenario::{Scenario, ScenarioError};
use crate::workload::Workload;

/// FNV-1a, 64 bits.
#[derive(Debug, Clone, Copy)]
pub struct Fnv64(u64);

impl Default for Fnv64 {
    fn default() -> Self {
        Fnv64(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv64 {
    /// Feed `bytes`.
    pub fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// Feed a length-prefixed string (so `"ab" + "c"` and `"a" + "bc"` differ).
    pub fn write_str(&mut self, text: &str) {
        self.write(&(text.len() as u64).to_le_bytes());
        self.write(text.as_bytes());
    }

    /// The digest as 16 lowercase hex digits.
    pub fn hex(self) -> String {
        format!("{:016x}", self.0)
    }
}

/// The seeded schedule's fingerprint and size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleDigest {
    /// Requests the schedule holds.
    pub requests: u64,
    /// FNV-1a of every request, in order.
    pub digest: String,
}

/// The fingerprint of the resolved scenario: its file after overrides (as JSON) and every
/// strategy's resolved configuration (imported APIM pools included).
pub fn scenario_digest(scenario: &Scenario) -> Result<String, ScenarioError> {
    let mut hash = Fnv64::default();
    let file = serde_json::to_string(&scenario.file)
        .map_err(|error| ScenarioError::part(&scenario.origin, format!("digest: {error}")))?;
    hash.write_str(&file);
    for strategy in &scenario.strategies {
        hash.write_str(&format!("{:?}", strategy.config));
    }
    Ok(hash.hex())
}

/// The fingerprint of `workload`'s schedule (one pass over its lazy iterator).
pub fn schedule_digest(
    workload: &Workload,
) -> Result<ScheduleDigest, crate::workload::WorkloadError> {
    let mut hash = Fnv64::default();
    let mut requests = 0u64;
    for request in workload.requests() {
        let request = request?;
        requests += 1;
        hash.write(&request.id.to_le_bytes());
        hash.write(&request.at.as_nanos().to_le_bytes());
        hash.write(&request.app.to_le_bytes());
        hash.write(&request.deployment.0.to_le_bytes());
        hash.write(&request.prompt_tokens.to_le_bytes());
        hash.write(&request.max_tokens.map_or(u64::MAX, u64::from).to_le_bytes());
        hash.write(&request.output_tokens.to_le_bytes());
        hash.write(&[u8::from(request.stream), request.priority]);
        hash.write(&request.session.to_le_bytes());
    }
    Ok(ScheduleDigest {
        requests,
        digest: hash.hex(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_reference_vectors() {
        // From the FNV reference (Fowler, Noll, Vo): "" and "a".
        assert_eq!(Fnv64::default().hex(), "cbf29ce484222325");
        let mut hash = Fnv64::default();
        hash.write(b"a");
        assert_eq!(hash.hex(), "af63dc4c8601ec8c");
    }

    #[test]
    fn the_schedule_digest_follows_the_seed() {
        let digest = |seed: &str| {
            let scenario =
                Scenario::embedded_default(&[crate::scenario::Override::parse(seed).unwrap()])
                    .unwrap();
            (
                scenario_digest(&scenario).unwrap(),
                schedule_digest(&scenario.workload().unwrap()).unwrap(),
            )
        };
        let (scenario_a, schedule_a) = digest("seed=1");
        let (scenario_b, schedule_b) = digest("seed=2");
        assert_eq!(digest("seed=1"), (scenario_a.clone(), schedule_a.clone()));
        assert_ne!(scenario_a, scenario_b);
        assert_ne!(schedule_a.digest, schedule_b.digest);
        assert!(schedule_a.requests > 100, "{schedule_a:?}");
    }
}
