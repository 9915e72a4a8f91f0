//! The sweep's pre-flight check: the estimate of every simulation the sweep (or its shard)
//! will make — the strategies the axes reach in each of its cells, the others once — summed,
//! and refused above the safety ceilings unless `--allow-large` (see
//! [`crate::scenario::preflight`]). Runs before the run folder is created.

use super::run::{SweepRequest, plan_sweep};
use crate::scenario::preflight::{self, CEILINGS, Estimate, Job, PreflightError, WorkloadFacts};

/// The pre-flight estimate of `request`'s simulations (`request.jobs` at once), refused above
/// the ceilings unless `allow_large`.
pub fn preflight(
    request: &SweepRequest<'_>,
    allow_large: bool,
) -> Result<Estimate, PreflightError> {
    let plan = plan_sweep(request)?;
    let estimate = plan
        .scenarios()
        .map(|scenario| {
            let facts = WorkloadFacts::of(scenario)?;
            Ok(preflight::estimate(
                &facts,
                Job::SweepCell { jobs: request.jobs },
            ))
        })
        .sum::<Result<Estimate, PreflightError>>()?;
    estimate.check(&CEILINGS, allow_large)?;
    Ok(estimate)
}
