//! How a strategy's pool is wired to the fleet model, resolved once per run: the fleet
//! resource behind each report backend, the fleet deployment each (backend, workload
//! deployment) pair targets, the report index of spillover targets, and the provisioned
//! deployments whose utilization is sampled.

use std::sync::Arc;
use std::time::Duration;

use aoai_mock::model::{Answer, DeploymentId, Fleet, RequestShape, ResourceId};

use crate::scenario::Scenario;
use crate::workload::Workload;

/// The pool's wiring to the fleet.
pub(super) struct Wiring {
    /// Fleet resource per report backend of the pool.
    pool_resources: Vec<ResourceId>,
    /// Report backend index of a deployment, when it is a spillover target.
    spill_targets: Vec<((usize, u32), u16)>,
    /// Pool backends whose targeted deployment is provisioned, with that deployment.
    pub ptu_samples: Vec<(u16, DeploymentId)>,
    deployment_names: Vec<Arc<str>>,
    /// The fleet deployment of each (pool backend, workload deployment), resolved once:
    /// index `pool * deployment_names.len() + deployment`.
    targets: Vec<Option<DeploymentId>>,
}

impl Wiring {
    /// Resolve `scenario`'s pool against `fleet` for `workload`'s deployments.
    pub fn new(scenario: &Scenario, workload: &Workload, fleet: &Fleet) -> Wiring {
        let pool_resources: Vec<ResourceId> = scenario
            .pool
            .iter()
            .map(|b| ResourceId(b.resource))
            .collect();
        let deployment_names = workload.deployments().to_vec();
        let targets = pool_resources
            .iter()
            .flat_map(|resource| {
                deployment_names
                    .iter()
                    .map(|name| fleet.deployment_index(*resource, name))
            })
            .collect();
        let first_deployment = deployment_names.first().cloned();
        let spill_targets = scenario
            .spillover_targets
            .iter()
            .enumerate()
            .filter_map(|(k, (resource, name))| {
                let id = fleet.deployment_index(ResourceId(*resource), name)?;
                Some(((*resource, id.0), (scenario.pool.len() + k) as u16))
            })
            .collect();
        let ptu_samples = scenario
            .pool
            .iter()
            .enumerate()
            .filter(|(_, backend)| backend.provisioned_ptus > 0)
            .filter_map(|(k, backend)| {
                let id = fleet
                    .deployment_index(ResourceId(backend.resource), first_deployment.as_deref()?)?;
                Some((k as u16, id))
            })
            .collect();
        Wiring {
            pool_resources,
            spill_targets,
            ptu_samples,
            deployment_names,
            targets,
        }
    }

    /// Offer a request for workload deployment `deployment` to pool backend `pool` at `now`;
    /// the answer is written to `out` (where the attempt keeps it: no copy of it).
    #[inline]
    pub fn admit(
        &self,
        fleet: &mut Fleet,
        now: Duration,
        (pool, deployment): (usize, usize),
        shape: &RequestShape,
        out: &mut Answer,
    ) {
        match self.targets[pool * self.deployment_names.len() + deployment] {
            Some(id) => fleet.admit_into(now, id, shape, out),
            None => self.admit_by_name(fleet, now, (pool, deployment), shape, out),
        }
    }

    /// [`Wiring::admit`] to a deployment the resource does not have (a 404), out of line.
    #[cold]
    #[inline(never)]
    fn admit_by_name(
        &self,
        fleet: &mut Fleet,
        now: Duration,
        (pool, deployment): (usize, usize),
        shape: &RequestShape,
        out: &mut Answer,
    ) {
        *out = fleet.admit(
            now,
            self.pool_resources[pool],
            &self.deployment_names[deployment],
            shape,
        );
    }

    /// The report index of the deployment that served `answer` from pool backend `pool`, when
    /// the answer spilled over.
    pub fn served_by(&self, pool: usize, answer: &Answer) -> Option<u16> {
        let resource = self.pool_resources[pool];
        answer.spillover.and_then(|_| {
            let id = answer.deployment?;
            self.spill_targets
                .iter()
                .find(|(key, _)| *key == (resource.0, id.0))
                .map(|(_, index)| *index)
        })
    }
}
