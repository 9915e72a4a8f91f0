//! The run setup of a live run: the scenario's, with `mode: live`, plus — when driving a
//! target that may not be a throttlebox gateway — a `target` backend that attempts land on
//! when the response names no backend of the pool; and, after such a run, the per-backend rows
//! it could not measure left out.

use std::time::Duration;

use crate::metrics::BackendIndex;
use crate::report::{BackendInfo, Mode, RunSetup, StrategySummary};
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

/// After a run against a target (`target`: the index of its `target` backend), the rows that
/// measured nothing: the pool's backends when the target named none of them (every attempt is
/// the `target` row's; a goose or open-loop run straight at a mock or a foreign gateway), else
/// a `target` row that took no attempt. A zero in such a row would claim a measurement the run
/// could not make; they are left out of `strategy`'s per-backend rows.
pub fn drop_unmeasured_rows(strategy: &mut StrategySummary, target: Option<BackendIndex>) {
    let Some(target) = target.map(usize::from) else {
        return;
    };
    let pool_named = (strategy.backends.iter().enumerate())
        .any(|(index, backend)| index != target && backend.attempts > 0);
    let rows = std::mem::take(&mut strategy.backends);
    strategy.backends = rows
        .into_iter()
        .enumerate()
        .filter(|(index, backend)| match (pool_named, *index == target) {
            (true, true) => backend.attempts > 0,
            (true, false) => true,
            (false, is_target) => is_target,
        })
        .map(|(_, backend)| backend)
        .collect();
}
