//! One strategy's run: the event loop that drives workload → gateway strategy → fleet model in
//! virtual time, with client retries, gateway retries, timeouts, streaming TTFT and K gateway
//! instances that share nothing. Every decision is the pure code the live shells also run.

use std::sync::Arc;
use std::time::Duration;

use aoai_mock::model::{
    Completion as FleetCompletion, DeploymentId, Disruption, Fleet, Operation, RequestShape,
    ResourceId,
};
use aoai_mock::seed::{self, SimRng};
use rand::Rng;

use super::events::{EventKind, EventQueue};
use super::flight::{Current, Flight, Flights};
use super::observe::observation;
use crate::balance::{
    Completion, Exhausted, Observation, Phase, RequestInfo, Status, Step, Strategy, Verdict,
};
use crate::metrics::{AttemptRecord, ErrorClass, RequestRecord, SecondSeries};
use crate::report::{
    RecordSink, ReportError, RunSetup, StrategyHistograms, StrategyRecorder, StrategySummary,
};
use crate::scenario::{ResolvedStrategy, Scenario, ScenarioError};
use crate::stop::{POLL_EVERY, StopFlag};
use crate::workload::{Request, Workload, WorkloadError};

/// Why a simulation stopped.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The scenario could not be turned into a run.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The workload failed mid-run (a bad trace row).
    #[error("workload: {0}")]
    Workload(#[from] WorkloadError),
    /// Writing records failed.
    #[error(transparent)]
    Report(#[from] ReportError),
    /// The stop flag was raised before the strategy finished (its partial results are
    /// dropped).
    #[error("stopped before the run finished")]
    Stopped,
}

/// What one strategy's run produced besides the streamed records.
#[derive(Debug)]
pub struct StrategyOutcome {
    /// The summary.
    pub summary: StrategySummary,
    /// Per-second series.
    pub series: SecondSeries,
    /// Full-run latency histograms and the interval log.
    pub histograms: StrategyHistograms,
    /// Requests simulated.
    pub requests: u64,
    /// Events processed.
    pub events: u64,
    /// Most requests in flight at once.
    pub peak_in_flight: usize,
}

/// Simulate strategy `index` of `scenario` over `workload`, streaming records into `sink`;
/// [`SimError::Stopped`] once `stop` is raised.
pub fn simulate_strategy(
    scenario: &Scenario,
    workload: &Workload,
    index: usize,
    setup: Arc<RunSetup>,
    sink: &mut dyn RecordSink,
    stop: &StopFlag,
) -> Result<StrategyOutcome, SimError> {
    let mut engine = Engine::new(scenario, workload, index, setup);
    let mut arrivals = workload.requests().peekable();
    let mut until_poll = POLL_EVERY;
    loop {
        until_poll -= 1;
        if until_poll == 0 {
            if stop.is_raised() {
                return Err(SimError::Stopped);
            }
            until_poll = POLL_EVERY;
        }
        let next_arrival = match arrivals.peek() {
            Some(Ok(request)) => Some(request.at),
            Some(Err(_)) => {
                if let Some(Err(error)) = arrivals.next() {
                    return Err(error.into());
                }
                None
            }
            None => None,
        };
        let next_event = engine.queue.peek_time();
        let arrival_first = match (next_arrival, next_event) {
            (Some(arrival), Some(event)) => arrival < event,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        if arrival_first {
            if let Some(Ok(request)) = arrivals.next() {
                engine.arrive(request.at, request, sink)?;
            }
        } else if let Some((at, kind)) = engine.queue.pop() {
            engine.handle(at, kind, sink, next_arrival.is_some())?;
        }
    }
    engine.into_outcome()
}

struct Engine<'a> {
    queue: EventQueue,
    fleet: Fleet,
    gateways: Vec<Strategy>,
    resolved: &'a ResolvedStrategy,
    /// Fleet resource per report backend of the pool.
    pool_resources: Vec<ResourceId>,
    /// Report backend index of a deployment, when it is a spillover target.
    spill_targets: Vec<((usize, u32), u16)>,
    /// Pool backends whose targeted deployment is provisioned, with that deployment.
    ptu_samples: Vec<(u16, aoai_mock::model::DeploymentId)>,
    deployment_names: Vec<Arc<str>>,
    /// The fleet deployment of each (pool backend, workload deployment), resolved once:
    /// index `pool * deployment_names.len() + deployment`.
    targets: Vec<Option<DeploymentId>>,
    flights: Flights,
    recorder: StrategyRecorder,
    strategy_index: u16,
    balance_rng: SimRng,
    client_rng: SimRng,
    gateway_pick_rng: SimRng,
    client: crate::scenario::ClientConfig,
    attempt_timeout: Duration,
    sample_scheduled: bool,
    requests: u64,
    events: u64,
    last_time: Duration,
}

impl<'a> Engine<'a> {
    fn new(
        scenario: &'a Scenario,
        workload: &Workload,
        index: usize,
        setup: Arc<RunSetup>,
    ) -> Self {
        let resolved = &scenario.strategies[index];
        let fleet = Fleet::new(scenario.fleet());
        let gateways = (0..resolved.config.gateways)
            .map(|_| resolved.build())
            .collect();
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
        let seed = scenario.file.seed;
        let strategy_index = index as u16;
        Engine {
            queue: EventQueue::default(),
            fleet,
            gateways,
            resolved,
            pool_resources,
            spill_targets,
            ptu_samples,
            deployment_names,
            targets,
            flights: Flights::default(),
            recorder: StrategyRecorder::new(strategy_index, setup),
            strategy_index,
            // The same stream names for every strategy: common random numbers.
            balance_rng: seed::stream(seed, "sim:balance"),
            client_rng: seed::stream(seed, "sim:client-retry"),
            gateway_pick_rng: seed::stream(seed, "sim:gateway-instance"),
            client: scenario.file.client.clone(),
            attempt_timeout: scenario.file.gateway.attempt_timeout,
            sample_scheduled: false,
            requests: 0,
            events: 0,
            last_time: Duration::ZERO,
        }
    }

    fn arrive(
        &mut self,
        now: Duration,
        request: Request,
        sink: &mut dyn RecordSink,
    ) -> Result<(), SimError> {
        self.last_time = now;
        self.requests += 1;
        if !self.sample_scheduled && !self.ptu_samples.is_empty() {
            self.sample_scheduled = true;
            self.queue.push(now, EventKind::Sample);
        }
        let gateway = match self.gateways.len() {
            1 => 0,
            n => self.gateway_pick_rng.random_range(0..n),
        };
        let attempt = self.gateways[gateway].begin(now, &request_info(&request));
        let record = RequestRecord {
            strategy: self.strategy_index,
            request_id: request.id,
            app: request.app,
            intended_start: request.at,
            actual_start: request.at,
            end: now,
            prompt_tokens: request.prompt_tokens,
            stream: request.stream,
            ..RequestRecord::default()
        };
        let slot = self.flights.insert(Flight {
            request,
            gateway,
            attempt,
            record,
            current: None,
            epoch: 0,
        });
        self.dispatch(now, slot, sink)
    }

    fn handle(
        &mut self,
        now: Duration,
        kind: EventKind,
        sink: &mut dyn RecordSink,
        more_arrivals: bool,
    ) -> Result<(), SimError> {
        self.events += 1;
        self.last_time = now;
        match kind {
            EventKind::Dispatch { slot, epoch } if self.is_current(slot, epoch) => {
                self.dispatch(now, slot, sink)
            }
            EventKind::Headers { slot, epoch } if self.is_current(slot, epoch) => {
                self.headers(now, slot, sink)
            }
            EventKind::BodyEnd { slot, epoch } if self.is_current(slot, epoch) => {
                self.body_end(now, slot, sink)
            }
            EventKind::Sample => {
                self.sample(now);
                if more_arrivals || self.flights.live() > 0 {
                    self.queue
                        .push(now + Duration::from_secs(1), EventKind::Sample);
                } else {
                    self.sample_scheduled = false;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn is_current(&mut self, slot: u32, epoch: u32) -> bool {
        self.flights
            .get_mut(slot)
            .is_some_and(|flight| flight.epoch == epoch)
    }

    /// Ask the gateway what to do next for `slot`.
    fn dispatch(
        &mut self,
        now: Duration,
        slot: u32,
        sink: &mut dyn RecordSink,
    ) -> Result<(), SimError> {
        let Some(flight) = self.flights.get_mut(slot) else {
            return Ok(());
        };
        let gateway = flight.gateway;
        let step = self.gateways[gateway].next(now, &mut flight.attempt, &mut self.balance_rng);
        self.log_transitions(gateway);
        match step {
            Step::Send(backend) => self.send(now, slot, backend, sink),
            Step::WaitUntil(at) => {
                let epoch = self.bump(slot);
                self.queue
                    .push(at.max(now), EventKind::Dispatch { slot, epoch });
                Ok(())
            }
            Step::Respond(answer) => self.gateway_answer(now, slot, answer, sink),
        }
    }

    /// Send the request to strategy backend `backend`: the fleet model decides.
    fn send(
        &mut self,
        now: Duration,
        slot: u32,
        backend: usize,
        sink: &mut dyn RecordSink,
    ) -> Result<(), SimError> {
        let pool = self.resolved.to_pool[backend];
        let resource = self.pool_resources[pool];
        let Some(flight) = self.flights.get_mut(slot) else {
            return Ok(());
        };
        let request = flight.request;
        let shape = RequestShape {
            operation: Operation::ChatCompletions,
            prompt_tokens: request.prompt_tokens,
            prompt_chars: request.prompt_chars,
            max_tokens: request.max_tokens,
            stream: request.stream,
            include_usage: request.stream,
            forced_completion_tokens: Some(request.output_tokens),
            client_retry_count: flight.record.client_retries,
            ..RequestShape::default()
        };
        let workload_deployment = usize::from(request.deployment.0);
        let answer = match self.targets[pool * self.deployment_names.len() + workload_deployment] {
            Some(id) => self.fleet.admit_to(now, id, &shape),
            None => self.fleet.admit(
                now,
                resource,
                &self.deployment_names[workload_deployment],
                &shape,
            ),
        };
        flight.record.attempts += 1;
        flight.record.backends_tried.push(pool as u16);
        let served_by = answer.spillover.and_then(|_| {
            let id = answer.deployment?;
            self.spill_targets
                .iter()
                .find(|(key, _)| *key == (resource.0, id.0))
                .map(|(_, index)| *index)
        });
        let mut current = Current {
            backend,
            pool: pool as u16,
            started: now,
            number: flight.record.attempts,
            status: answer.status,
            timed_out: false,
            headers: answer.headers,
            plan: answer.plan().copied(),
            served_by,
        };
        // When the gateway learns the outcome: at once for a refusal; for an admitted request
        // when its headers go out, unless the connection fails first or the gateway's attempt
        // timeout fires first.
        let headers_after = match current.plan {
            None => Duration::ZERO,
            Some(plan) => match plan.disruption {
                Disruption::None => plan.headers_at,
                Disruption::ResetAt(at) if at < plan.headers_at => {
                    current.status = 0;
                    at
                }
                Disruption::ResetAt(_) => plan.headers_at,
                Disruption::Hang(after) => {
                    current.status = 0;
                    after
                }
            },
        };
        let headers_after = if headers_after > self.attempt_timeout {
            current.status = 0;
            current.timed_out = true;
            self.attempt_timeout
        } else {
            headers_after
        };
        flight.current = Some(current);
        let epoch = self.bump(slot);
        if headers_after.is_zero() {
            // A refusal: the gateway sees it at once (no event needed).
            return self.headers(now, slot, sink);
        }
        self.queue
            .push(now + headers_after, EventKind::Headers { slot, epoch });
        Ok(())
    }

    /// The current attempt's outcome reaches the gateway.
    fn headers(
        &mut self,
        now: Duration,
        slot: u32,
        sink: &mut dyn RecordSink,
    ) -> Result<(), SimError> {
        let Some(flight) = self.flights.get_mut(slot) else {
            return Ok(());
        };
        let Some(current) = flight.current else {
            return Ok(());
        };
        let obs = observation(current.status, current.timed_out, &current.headers);
        let gateway = flight.gateway;
        let verdict = self.gateways[gateway].on_response(
            now,
            &mut flight.attempt,
            current.backend,
            &obs,
            &mut self.balance_rng,
        );
        self.log_transitions(gateway);
        let admitted_ok = current.status / 100 == 2 && current.plan.is_some();
        match verdict {
            Verdict::Return if admitted_ok => {
                let Some(plan) = current.plan else {
                    return Ok(());
                };
                let (end, _) = body_end(&plan, current.started);
                if end <= now {
                    // Non-streamed: the headers came with the whole body.
                    return self.body_end(now, slot, sink);
                }
                let epoch = self.bump(slot);
                self.queue.push(end, EventKind::BodyEnd { slot, epoch });
                Ok(())
            }
            Verdict::Return => {
                self.abandon_plan(now, &current);
                let completion = Completion {
                    latency: now - current.started,
                    ttft: None,
                    prompt_tokens: 0,
                    completion_tokens: 0,
                    stream: false,
                };
                self.gateways[gateway].on_complete(now, current.backend, &completion);
                self.write_attempt(slot, &current, now, None, sink)?;
                // What reaches the client: LiteLLM renames the backend's retry headers.
                let seen = self.gateways[gateway].client_observation(&obs);
                self.client_outcome(now, slot, &seen, error_class(&obs), sink)
            }
            Verdict::Retry => {
                self.abandon_plan(now, &current);
                self.write_attempt(slot, &current, now, None, sink)?;
                self.dispatch(now, slot, sink)
            }
        }
    }

    /// A returned 2xx body ended (or was cut by a fault).
    fn body_end(
        &mut self,
        now: Duration,
        slot: u32,
        sink: &mut dyn RecordSink,
    ) -> Result<(), SimError> {
        let Some(flight) = self.flights.get_mut(slot) else {
            return Ok(());
        };
        let Some(current) = flight.current else {
            return Ok(());
        };
        let Some(plan) = current.plan else {
            return Ok(());
        };
        let (_, cut) = body_end(&plan, current.started);
        let first_token = current.started + if plan.stream { plan.ttft() } else { plan.total };
        let tokens = if cut {
            tokens_before(&plan, now - current.started)
        } else {
            plan.completion_tokens
        };
        self.fleet.complete(
            now,
            &plan.ticket,
            if cut {
                FleetCompletion::Aborted {
                    tokens_sent: tokens,
                }
            } else {
                FleetCompletion::Completed {
                    completion_tokens: tokens,
                }
            },
        );
        let ttft = (first_token <= now).then(|| first_token - current.started);
        let completion = Completion {
            latency: now - current.started,
            ttft,
            prompt_tokens: u64::from(plan.prompt_tokens),
            completion_tokens: u64::from(tokens),
            stream: plan.stream,
        };
        let gateway = flight.gateway;
        self.gateways[gateway].on_complete(now, current.backend, &completion);
        // A non-streaming client sees no first token, only the whole body; behind a balancer
        // that buffers streams, the first token reaches the client with the end of the body.
        let first_token = if self.gateways[gateway].buffers_streams() {
            now
        } else {
            first_token
        };
        let first_token_at = (plan.stream && first_token <= now).then_some(first_token);
        self.write_attempt(slot, &current, now, first_token_at, sink)?;
        let Some(flight) = self.flights.get_mut(slot) else {
            return Ok(());
        };
        flight.record.first_token = first_token_at;
        flight.record.completion_tokens = tokens;
        flight.record.final_backend = Some(current.pool);
        flight.record.spilled_over = current.served_by.is_some();
        flight.record.served_by = current.served_by;
        if cut {
            // A stream cut mid-body: the SDK raises; it does not retry a half-read stream.
            self.finish(now, slot, 200, ErrorClass::ConnectError, sink)
        } else {
            self.finish(now, slot, current.status, ErrorClass::None, sink)
        }
    }

    /// The gateway answered by itself (every backend out).
    fn gateway_answer(
        &mut self,
        now: Duration,
        slot: u32,
        answer: Exhausted,
        sink: &mut dyn RecordSink,
    ) -> Result<(), SimError> {
        let mut obs = Observation::http(answer.status);
        if let Some(wait) = answer.retry_after {
            obs = match answer.retry_after_header {
                crate::balance::RetryAfterHeader::Millis => {
                    obs.with_retry_after_ms(wait.as_millis() as u64)
                }
                _ => obs.with_retry_after_secs(wait.as_secs().max(1)),
            };
        }
        self.client_outcome(now, slot, &obs, ErrorClass::Exhausted, sink)
    }

    /// The client got a non-2xx answer: retry as the SDK does, or give up.
    fn client_outcome(
        &mut self,
        now: Duration,
        slot: u32,
        obs: &Observation,
        class: ErrorClass,
        sink: &mut dyn RecordSink,
    ) -> Result<(), SimError> {
        let Some(flight) = self.flights.get_mut(slot) else {
            return Ok(());
        };
        flight.record.gateway_retries += flight.attempt.retries();
        let retries_so_far = flight.record.client_retries;
        let elapsed = now.saturating_sub(flight.record.actual_start);
        match self
            .client
            .retry
            .delay(retries_so_far, obs, &mut self.client_rng)
        {
            Some(wait) if elapsed + wait < self.client.timeout => {
                flight.record.client_retries += 1;
                let info = request_info(&flight.request);
                flight.attempt = self.gateways[flight.gateway].begin(now + wait, &info);
                flight.current = None;
                let epoch = self.bump(slot);
                self.queue
                    .push(now + wait, EventKind::Dispatch { slot, epoch });
                Ok(())
            }
            _ => {
                let status = obs.status.code().unwrap_or(0);
                let class = if class == ErrorClass::Exhausted {
                    class
                } else {
                    ErrorClass::from_status(status)
                };
                let class = match obs.status {
                    Status::Timeout => ErrorClass::Timeout,
                    _ => class,
                };
                if let Some(flight) = self.flights.get_mut(slot)
                    && let Some(current) = flight.current
                {
                    flight.record.final_backend = Some(current.pool);
                }
                self.finish(now, slot, status, class, sink)
            }
        }
    }

    fn finish(
        &mut self,
        now: Duration,
        slot: u32,
        status: u16,
        class: ErrorClass,
        sink: &mut dyn RecordSink,
    ) -> Result<(), SimError> {
        let Some(mut flight) = self.flights.remove(slot) else {
            return Ok(());
        };
        if class == ErrorClass::None {
            flight.record.gateway_retries += flight.attempt.retries();
        }
        flight.record.end = now;
        flight.record.status = status;
        flight.record.error = class;
        self.recorder.add_request(&flight.record);
        sink.request(&flight.record)?;
        Ok(())
    }

    fn write_attempt(
        &mut self,
        slot: u32,
        current: &Current,
        now: Duration,
        first_token: Option<Duration>,
        sink: &mut dyn RecordSink,
    ) -> Result<(), SimError> {
        let Some(flight) = self.flights.get_mut(slot) else {
            return Ok(());
        };
        let class = if current.timed_out {
            ErrorClass::Timeout
        } else {
            ErrorClass::from_status(current.status)
        };
        let record = AttemptRecord {
            strategy: self.strategy_index,
            request_id: flight.request.id,
            attempt: current.number,
            backend: current.pool,
            start: current.started,
            first_token,
            end: now,
            status: current.status,
            error: class,
            spilled_over: current.served_by.is_some(),
        };
        self.recorder.add_attempt(&record);
        sink.attempt(&record)?;
        Ok(())
    }

    /// Settle an admitted request the gateway stopped waiting for (timeout or reset).
    fn abandon_plan(&mut self, now: Duration, current: &Current) {
        if let Some(plan) = current.plan {
            self.fleet.complete(
                now,
                &plan.ticket,
                FleetCompletion::Aborted { tokens_sent: 0 },
            );
        }
    }

    fn bump(&mut self, slot: u32) -> u32 {
        match self.flights.get_mut(slot) {
            Some(flight) => {
                flight.epoch = flight.epoch.wrapping_add(1);
                flight.epoch
            }
            None => 0,
        }
    }

    /// Record breaker transitions of gateway instance 0 (the timeline shows one instance).
    fn log_transitions(&mut self, gateway: usize) {
        if gateway != 0 {
            let _ = self.gateways[gateway].drain_transitions();
            return;
        }
        for transition in self.gateways[0].drain_transitions() {
            let pool = self.resolved.to_pool[transition.backend] as u16;
            let open = transition.to != Phase::Closed;
            let reason = transition.reason.label();
            self.recorder
                .breaker_transition(transition.at, pool, open, reason);
        }
    }

    fn sample(&mut self, now: Duration) {
        let metrics = self.fleet.metrics(now);
        for &(pool, deployment) in &self.ptu_samples {
            if let Some(utilization) = metrics
                .deployments
                .get(deployment.0 as usize)
                .and_then(|d| d.utilization)
            {
                self.recorder
                    .utilization_sample(now, pool, utilization * 100.0);
            }
        }
    }

    fn into_outcome(self) -> Result<StrategyOutcome, SimError> {
        let peak_in_flight = self.flights.capacity();
        let (summary, series, histograms) = self.recorder.finish_recording();
        Ok(StrategyOutcome {
            summary,
            series,
            histograms,
            requests: self.requests,
            events: self.events,
            peak_in_flight,
        })
    }
}

fn request_info(request: &Request) -> RequestInfo {
    RequestInfo {
        est_tokens: u64::from(request.prompt_tokens)
            + u64::from(request.max_tokens.unwrap_or(request.output_tokens)),
        session: Some(request.session),
        stream: request.stream,
    }
}

fn error_class(obs: &Observation) -> ErrorClass {
    match obs.status {
        Status::Http(code) => ErrorClass::from_status(code),
        Status::ConnectError => ErrorClass::ConnectError,
        Status::Timeout => ErrorClass::Timeout,
    }
}

/// When a returned body ends (absolute), and whether a fault cut it.
fn body_end(plan: &aoai_mock::model::ResponsePlan, started: Duration) -> (Duration, bool) {
    match plan.disruption {
        Disruption::ResetAt(at) if at < plan.total => (started + at, true),
        _ => (started + plan.total, false),
    }
}

/// Completion tokens emitted within `elapsed` of admission.
fn tokens_before(plan: &aoai_mock::model::ResponsePlan, elapsed: Duration) -> u32 {
    let schedule = &plan.schedule;
    let emitted = (0..schedule.chunks())
        .take_while(|k| schedule.offset(*k) <= elapsed)
        .last();
    emitted.map_or(0, |k| schedule.tokens_through(k) * plan.choices)
}
