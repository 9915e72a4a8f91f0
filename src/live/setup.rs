//! The run setup of a live run: the scenario's, with `mode: live`, plus — when driving a
//! target that may not be a throttlebox gateway — a `target` backend that attempts land on
//! when the response names no backend of the pool.

use std::time::Duration;

use crate::metrics::BackendIndex;
use crate::report::{BackendInfo, Mode, RunSetup};
use crate::scenario::Scenario;

/// Name of the backend standing for an opaque target.
pub const TARGET_BACKEND: &str = "target";

/// The live setup; with `opaque_target`, also the index of the `target` backend.
pub fn live_setup(
    scenario: &Scenario,
    duration: Duration,
    opaque_target: bool,
) -> (RunSetup, Option<BackendIndex>) {
    let mut setup = scenario.run_setup(Mode::Live, duration);
    if !opaque_target || setup.backends.iter().any(|b| b.name == TARGET_BACKEND) {
        let existing = setup
            .backends
            .iter()
            .position(|b| b.name == TARGET_BACKEND && opaque_target)
            .map(|index| index as BackendIndex);
        return (setup, existing);
    }
    setup.backends.push(BackendInfo {
        name: TARGET_BACKEND.to_string(),
        provisioned_ptus: 0,
    });
    let index = (setup.backends.len() - 1) as BackendIndex;
    (setup, Some(index))
}
