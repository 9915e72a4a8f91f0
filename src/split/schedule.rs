//! A live shard's part of the seeded schedule: the requests whose index (`Request::id`, the
//! 0-based position in the workload's time-ordered sequence) is K mod N. Every shard iterates
//! the whole lazy schedule — generation costs far less than sending — and keeps its own, so
//! the N shards together send the unsharded schedule request for request, each at the
//! intended time the whole schedule gives it.
//!
//! Why by index rather than by app: an app split gives every shard a different share of the
//! load (apps rarely have equal rates) and caps the shard count at the number of apps; every
//! N-th request keeps each shard's rate at 1/N of the whole at every moment of a time-varying
//! profile (steps, spikes, diurnal) and works for any N.

use super::spec::Shard;
use crate::workload::{Request, WorkloadError};

/// The requests of `schedule` that belong to `shard` (errors are passed through: the caller
/// reports them as it would unsharded).
pub fn shard_schedule<I>(schedule: I, shard: Shard) -> impl Iterator<Item = I::Item>
where
    I: Iterator<Item = Result<Request, WorkloadError>>,
{
    schedule.filter(move |request| match request {
        Ok(request) => shard.owns(request.id),
        Err(_) => true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Override, Scenario};

    #[test]
    fn the_shards_together_are_the_schedule_request_for_request() {
        // A time-varying profile: the embedded default with a step up half-way.
        let scenario = Scenario::embedded_default(&[
            Override::parse("workload.duration=4m").unwrap(),
            Override::parse(
                "workload.apps[chat].arrivals={ process = \"steps\", steps = [{ at = \"0s\", rate = 2.0 }, { at = \"2m\", rate = 8.0 }] }",
            )
            .unwrap(),
        ])
        .unwrap();
        let workload = scenario.workload().unwrap();
        let whole: Vec<Request> = workload.requests().map(Result::unwrap).collect();
        assert!(whole.len() > 500, "{}", whole.len());
        let count = 3;
        let mut union: Vec<Request> = Vec::new();
        for index in 0..count {
            let part: Vec<Request> = shard_schedule(workload.requests(), Shard { index, count })
                .map(Result::unwrap)
                .collect();
            assert!(part.iter().all(|r| r.id % 3 == u64::from(index)));
            // Each shard carries a third of the load in each half of the profile.
            let early = part.iter().filter(|r| r.at.as_secs() < 120).count();
            let late = part.len() - early;
            let whole_early = whole.iter().filter(|r| r.at.as_secs() < 120).count();
            assert!(
                early.abs_diff(whole_early / 3) <= 1,
                "{early} of {whole_early}"
            );
            assert!(late.abs_diff((whole.len() - whole_early) / 3) <= 1);
            union.extend(part);
        }
        union.sort_by_key(|r| r.id);
        assert_eq!(union, whole);
    }
}
