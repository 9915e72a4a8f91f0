//! The fleet: every resource's deployments, name lookup, spillover between a PTU deployment and
//! its standard target, settlement, metrics snapshots and runtime patches. Pure: the simulator
//! calls it with virtual time, the HTTP shell with wall-clock time since start.

use super::answer::{Answer, Spillover};
use super::deployment::{Completion, Deployment};
use super::metrics::{DeploymentMetrics, FleetMetrics};
use super::patch::ConfigPatch;
use super::plan::Ticket;
use super::request::RequestShape;
use super::{DeploymentId, ResourceId};
use crate::config::{ConfigError, DeploymentKind, FleetConfig, Switches};
use std::collections::HashMap;
use std::time::Duration;

#[derive(Clone)]
struct Resource {
    name: String,
    /// Lookup only (never iterated).
    by_name: HashMap<String, DeploymentId>,
    not_found: u64,
}

/// What the shell needs to know about a deployment to render bodies and headers.
#[derive(Debug, Clone, Copy)]
pub struct DeploymentView<'a> {
    /// Resource it belongs to.
    pub resource: ResourceId,
    /// Deployment name.
    pub name: &'a str,
    /// Model family as configured.
    pub model: &'a str,
    /// Version string for bodies.
    pub model_version: &'a str,
    /// Standard or provisioned.
    pub kind: DeploymentKind,
    /// Effective switches.
    pub switches: &'a Switches,
    /// Tokenizer encoding.
    pub encoding: super::Encoding,
}

/// Every deployment of every resource. Cloning gives an independent copy of the whole state
/// (windows, buckets, RNG positions), e.g. to run several strategies from the same start.
#[derive(Clone)]
pub struct Fleet {
    config: FleetConfig,
    resources: Vec<Resource>,
    deployments: Vec<Deployment>,
}

impl Fleet {
    /// Build the fleet from a validated configuration.
    pub fn new(config: &FleetConfig) -> Fleet {
        let mut resources = Vec::with_capacity(config.resources.len());
        let mut deployments = Vec::new();
        for (r, resource) in config.resources.iter().enumerate() {
            let mut by_name = HashMap::new();
            for deployment in &resource.deployments {
                let id = DeploymentId(deployments.len() as u32);
                by_name.insert(deployment.name.clone(), id);
                deployments.push(Deployment::new(
                    r,
                    &resource.name,
                    deployment,
                    &config.switches,
                    config.seed,
                ));
            }
            resources.push(Resource {
                name: resource.name.clone(),
                by_name,
                not_found: 0,
            });
        }
        Fleet {
            config: config.clone(),
            resources,
            deployments,
        }
    }

    /// Stop keeping the TTFT/ITL histograms and the queue-wait sum in every deployment's
    /// counters (they stay empty in [`Fleet::metrics`]). For the simulator, which reads only the
    /// answers and PTU utilization: answers, draws and every other counter are unchanged.
    pub fn skip_latency_histograms(&mut self) {
        for deployment in &mut self.deployments {
            deployment.latency_histograms = false;
        }
    }

    /// The configuration as currently in force (after patches).
    pub fn config(&self) -> &FleetConfig {
        &self.config
    }

    /// The resource called `name`.
    pub fn resource_index(&self, name: &str) -> Option<ResourceId> {
        self.resources
            .iter()
            .position(|r| r.name == name)
            .map(ResourceId)
    }

    /// The deployment called `name` in `resource`.
    pub fn deployment_index(&self, resource: ResourceId, name: &str) -> Option<DeploymentId> {
        self.resources.get(resource.0)?.by_name.get(name).copied()
    }

    /// Facts about a deployment, for rendering. `id` must come from this fleet.
    pub fn deployment(&self, id: DeploymentId) -> DeploymentView<'_> {
        let d = &self.deployments[id.0 as usize];
        DeploymentView {
            resource: ResourceId(d.resource),
            name: &d.config.name,
            model: &d.config.model,
            model_version: &d.profile.model_version,
            kind: d.config.kind,
            switches: &d.switches,
            encoding: d.profile.encoding,
        }
    }

    /// Decide a request to `deployment` of `resource` at `now` (404 answer if unknown).
    pub fn admit(
        &mut self,
        now: Duration,
        resource: ResourceId,
        deployment: &str,
        req: &RequestShape<'_>,
    ) -> Answer {
        match self.deployment_index(resource, deployment) {
            Some(id) => self.admit_to(now, id, req),
            None => {
                if let Some(r) = self.resources.get_mut(resource.0) {
                    r.not_found += 1;
                }
                Answer::not_found()
            }
        }
    }

    /// Decide a request to a known deployment (`id` from [`Fleet::deployment_index`]), spilling a PTU refusal over to its standard
    /// target (the deployment setting wins over the `x-ms-spillover-deployment` header).
    pub fn admit_to(&mut self, now: Duration, id: DeploymentId, req: &RequestShape<'_>) -> Answer {
        let mut answer = Answer::not_found();
        self.admit_into(now, id, req, &mut answer);
        answer
    }

    /// [`Fleet::admit_to`] written to `out` (every field of it), for a caller that keeps the
    /// answer in a larger structure: the answer (some 350 bytes) is not copied there.
    ///
    /// Inlined into the caller (the simulator calls it once per attempt from another crate), so
    /// a standard deployment's answer costs one call frame, not two.
    #[inline]
    pub fn admit_into(
        &mut self,
        now: Duration,
        id: DeploymentId,
        req: &RequestShape<'_>,
        out: &mut Answer,
    ) {
        let primary = &mut self.deployments[id.0 as usize];
        if primary.kind() != DeploymentKind::Provisioned {
            // Only a PTU refusal spills: answered in place.
            return primary.answer(now, id, req, out);
        }
        self.admit_provisioned(now, id, req, out)
    }

    /// [`Fleet::admit_into`] for a provisioned deployment: a refusal may spill over.
    fn admit_provisioned(
        &mut self,
        now: Duration,
        id: DeploymentId,
        req: &RequestShape<'_>,
        out: &mut Answer,
    ) {
        let primary = &mut self.deployments[id.0 as usize];
        primary.answer(now, id, req, out);
        let status = out.status;
        if (200..300).contains(&status) {
            return;
        }
        let triggers = &primary.switches.spillover_trigger_codes;
        if !triggers.is_empty() && !triggers.contains(&status) {
            return;
        }
        let target_name = primary
            .config
            .spillover_deployment
            .as_deref()
            .or(req.spillover_header);
        let Some(target) = target_name
            .and_then(|name| self.resources[primary.resource].by_name.get(name).copied())
        else {
            return;
        };
        if target == id || self.deployments[target.0 as usize].kind() != DeploymentKind::Standard {
            return;
        }
        self.deployments[id.0 as usize].counters.spilled_out += 1;
        let secondary = &mut self.deployments[target.0 as usize];
        secondary.counters.spilled_in += 1;
        // The spilled answer replaces the refusal (every field), then names where it came from.
        secondary.answer(now, target, req, out);
        out.spillover = Some(Spillover { from: id, status });
    }

    /// Settle an admitted request (PTU correction, in-flight, billing).
    pub fn complete(&mut self, now: Duration, ticket: &Ticket, completion: Completion) {
        if let Some(deployment) = self.deployments.get_mut(ticket.deployment.0 as usize) {
            deployment.settle(now, ticket, completion);
        }
    }

    /// Snapshot of every deployment's counters and utilization at `now`.
    pub fn metrics(&mut self, now: Duration) -> FleetMetrics {
        let resources = &self.resources;
        let deployments = self
            .deployments
            .iter_mut()
            .map(|d| DeploymentMetrics {
                resource: resources[d.resource].name.clone(),
                deployment: d.config.name.clone(),
                kind: d.kind(),
                utilization: d.utilization(now),
                counters: d.counters.clone(),
            })
            .collect();
        FleetMetrics {
            deployments,
            not_found: resources
                .iter()
                .map(|r| (r.name.clone(), r.not_found))
                .collect(),
        }
    }

    /// Apply a runtime change. The patched deployment is validated like a file would be; on
    /// error nothing changes.
    pub fn apply(&mut self, now: Duration, patch: &ConfigPatch) -> Result<(), ConfigError> {
        let (r, d) = self.locate(patch)?;
        let mut changed = self.config.resources[r].deployments[d].clone();
        if let Some(tpm) = patch.tpm {
            changed.tpm = Some(tpm);
            changed.capacity = None;
        }
        if patch.rpm.is_some() {
            changed.rpm = patch.rpm;
        }
        if patch.ptu.is_some() {
            changed.ptu = patch.ptu;
        }
        if let Some(latency) = &patch.latency {
            changed.latency = latency.clone();
        }
        if let Some(completion) = &patch.completion_tokens {
            changed.completion_tokens = completion.clone();
        }
        if let Some(service) = &patch.service {
            changed.service = Some(service.clone());
        }
        if let Some(faults) = &patch.faults {
            changed.faults = faults.clone();
        }
        if let Some(switches) = &patch.switches {
            changed.switches = switches.clone();
        }
        let path = format!("resources[{r}].deployments[{d}]");
        changed.validate(&path, &self.config.switches)?;
        let Some(id) = self.resources[r].by_name.get(&changed.name).copied() else {
            return Err(ConfigError::invalid(
                "deployment",
                &patch.deployment,
                "no such deployment",
            ));
        };
        self.deployments[id.0 as usize].reconfigure(now, &changed, &self.config.switches);
        self.config.resources[r].deployments[d] = changed;
        Ok(())
    }

    fn locate(&self, patch: &ConfigPatch) -> Result<(usize, usize), ConfigError> {
        let holders: Vec<usize> = self
            .config
            .resources
            .iter()
            .enumerate()
            .filter(|(_, r)| patch.resource.as_ref().is_none_or(|name| &r.name == name))
            .filter(|(_, r)| r.deployments.iter().any(|d| d.name == patch.deployment))
            .map(|(i, _)| i)
            .collect();
        match holders.as_slice() {
            [r] => {
                let d = self.config.resources[*r]
                    .deployments
                    .iter()
                    .position(|d| d.name == patch.deployment)
                    .unwrap_or(0);
                Ok((*r, d))
            }
            [] => Err(ConfigError::invalid(
                "deployment",
                &patch.deployment,
                "no such deployment (in that resource)",
            )),
            _ => Err(ConfigError::invalid(
                "resource",
                "none",
                "several resources have this deployment: name the resource",
            )),
        }
    }
}

#[cfg(test)]
mod tests;
