//! One strategy's run: the event loop that drives workload → gateway strategy → fleet model in
//! virtual time, with client retries, gateway retries, timeouts, streaming TTFT and K gateway
//! instances that share nothing. Every decision is the pure code the live shells also run: the
//! client's ([`crate::client`], driven in [`client`]), the gateway's ([`Strategy`]) and the
//! fleet's. The pool's wiring to the fleet is in [`wiring`], an attempt's timing in
//! [`timing`], the records in [`records`].

use std::sync::Arc;
use std::time::Duration;

use aoai_mock::model::Fleet;
use rand::Rng;

use super::events::{EventKind, EventQueue};
use super::flight::{Flight, FlightStart, Flights, FreeSlots};
use crate::balance::{Phase, RequestInfo, Step, Strategy};
use crate::client::Client;
use crate::report::{
    RecordSink, ReportError, RunSetup, StrategyRecorder, StrategySummary, SummaryRecorder,
};
use crate::scenario::{ResolvedStrategy, Scenario, ScenarioError};
use crate::seed::{SimRng, streams};
use crate::stop::{POLL_EVERY, StopFlag};
use crate::workload::{Request, Workload, WorkloadError};
use recording::Recorder;
pub use recording::{Recorded, Recording};
use wiring::Wiring;

mod client;
mod recording;
mod records;
mod timing;
mod wiring;

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
    /// The per-second series and latency histograms ([`Recording::Full`] runs only).
    pub recorded: Option<Recorded>,
    /// Requests simulated.
    pub requests: u64,
    /// Events processed.
    pub events: u64,
    /// Most requests in flight at once.
    pub peak_in_flight: usize,
}

impl StrategyOutcome {
    /// The series and histograms a run folder is written from: recorded in full whenever
    /// there is a folder, so their absence is a caller's bug, reported rather than panicked.
    pub fn recorded_in_full(&self) -> Result<&Recorded, ReportError> {
        self.recorded.as_ref().ok_or_else(|| ReportError::Invalid {
            field: "simulation".to_string(),
            reason: "the strategy recorded its summary only; a run folder needs its series and \
                     histograms"
                .to_string(),
        })
    }
}

/// Simulate strategy `index` of `scenario` over `workload`, streaming records into `sink` and
/// recording what `recording` asks for; [`SimError::Stopped`] once `stop` is raised. Generic
/// over the sink (not `dyn`): a [`crate::report::DiscardSink`] run compiles its record writes
/// away.
pub fn simulate_strategy<S: RecordSink + ?Sized>(
    scenario: &Scenario,
    workload: &Workload,
    index: usize,
    setup: Arc<RunSetup>,
    recording: Recording,
    sink: &mut S,
    stop: &StopFlag,
) -> Result<StrategyOutcome, SimError> {
    let strategy = index as u16;
    match recording {
        Recording::Full => {
            let recorder = StrategyRecorder::new(strategy, setup);
            drive(scenario, workload, index, recorder, sink, stop)
        }
        Recording::SummaryOnly => {
            let recorder = SummaryRecorder::new(strategy, setup);
            drive(scenario, workload, index, recorder, sink, stop)
        }
    }
}

/// Run strategy `index` over the workload's arrivals, recording into `recorder`, until
/// nothing is left to happen.
fn drive<R: Recorder, S: RecordSink + ?Sized>(
    scenario: &Scenario,
    workload: &Workload,
    index: usize,
    recorder: R,
    sink: &mut S,
    stop: &StopFlag,
) -> Result<StrategyOutcome, SimError> {
    let mut engine = Engine::new(scenario, workload, index, recorder);
    // Apart from the engine, so that an event's steps hold its flight while they use the rest.
    let mut flights = Flights::default();
    let mut arrivals = workload.requests();
    // The next arrival, read one step ahead of its time (as a peek would).
    let mut pending = arrivals.next().transpose()?;
    let mut until_poll = POLL_EVERY;
    loop {
        until_poll -= 1;
        if until_poll == 0 {
            if stop.is_raised() {
                return Err(SimError::Stopped);
            }
            until_poll = POLL_EVERY;
        }
        match pending {
            // An event due no later than the next arrival runs first (ties: the event).
            Some(request) => match engine.queue.pop_due(request.at) {
                Some((at, kind)) => engine
                    .handle(&mut flights, at, kind, sink, true)
                    .map_err(report)?,
                None => {
                    engine
                        .arrive(&mut flights, request.at, request, sink)
                        .map_err(report)?;
                    pending = arrivals.next().transpose()?;
                }
            },
            None => match engine.queue.pop() {
                Some((at, kind)) => engine
                    .handle(&mut flights, at, kind, sink, false)
                    .map_err(report)?,
                None => break,
            },
        }
    }
    engine.into_outcome(flights.capacity())
}

/// What a step of the engine returns: a failed record write, boxed so that the result fits
/// in a register (the engine's nested calls return it and test it several times an event).
type Written = Result<(), Box<ReportError>>;

/// A failed record write as the run's error (given the box as `map_err` hands it over).
#[allow(clippy::boxed_local)]
fn report(error: Box<ReportError>) -> SimError {
    SimError::Report(*error)
}

struct Engine<'a, R> {
    queue: EventQueue,
    fleet: Fleet,
    gateways: Vec<Strategy>,
    resolved: &'a ResolvedStrategy,
    wiring: Wiring,
    /// Which slots of the run's [`Flights`] are in use.
    free: FreeSlots,
    recorder: R,
    strategy_index: u16,
    /// One balancing stream per gateway instance (instances share nothing).
    balance_rngs: Vec<SimRng>,
    client_rng: SimRng,
    gateway_pick_rng: SimRng,
    client: Client,
    attempt_timeout: Duration,
    sample_scheduled: bool,
    requests: u64,
    events: u64,
}

impl<'a, R: Recorder> Engine<'a, R> {
    fn new(scenario: &'a Scenario, workload: &Workload, index: usize, recorder: R) -> Self {
        let resolved = &scenario.strategies[index];
        let mut fleet = Fleet::new(scenario.fleet());
        // The simulator reads answers and PTU utilization, never the latency histograms.
        fleet.skip_latency_histograms();
        let gateways: Vec<Strategy> = (0..resolved.config.gateways)
            .map(|_| resolved.build())
            .collect();
        let wiring = Wiring::new(scenario, workload, &fleet);
        let seed = scenario.file.seed;
        let strategy_index = index as u16;
        let client = &scenario.file.client;
        Engine {
            queue: EventQueue::default(),
            fleet,
            // The same stream names for every strategy: common random numbers.
            balance_rngs: (0..gateways.len())
                .map(|instance| streams::balance(seed, instance))
                .collect(),
            gateways,
            resolved,
            wiring,
            free: FreeSlots::default(),
            recorder,
            strategy_index,
            client_rng: streams::client_retry(seed),
            gateway_pick_rng: streams::gateway_instance(seed),
            client: Client::new(client.retry.clone(), client.timeout),
            attempt_timeout: scenario.file.gateway.attempt_timeout,
            sample_scheduled: false,
            requests: 0,
            events: 0,
        }
    }

    fn arrive<S: RecordSink + ?Sized>(
        &mut self,
        flights: &mut Flights,
        now: Duration,
        request: Request,
        sink: &mut S,
    ) -> Written {
        self.requests += 1;
        if !self.sample_scheduled && !self.wiring.ptu_samples.is_empty() {
            self.sample_scheduled = true;
            self.queue.push(now, EventKind::Sample);
        }
        let gateway = match self.gateways.len() {
            1 => 0,
            n => self.gateway_pick_rng.random_range(0..n),
        };
        let attempt = self.gateways[gateway].begin(now, &request_info(&request));
        let record = self.new_record(&request, now);
        let life = self.client.begin(request.at);
        let start = FlightStart {
            request,
            gateway,
            life,
            attempt,
            record,
        };
        let (slot, flight) = flights.insert(&mut self.free, start);
        self.dispatch(now, slot, flight, sink)
    }

    /// Inlined into the drive loop (which calls it in two places): a call and its register
    /// saves per event saved.
    #[inline(always)]
    fn handle<S: RecordSink + ?Sized>(
        &mut self,
        flights: &mut Flights,
        now: Duration,
        kind: EventKind,
        sink: &mut S,
        more_arrivals: bool,
    ) -> Written {
        self.events += 1;
        // The next event's flight is fetched into cache while this one runs: thousands of
        // flights are in flight, and one touched seconds ago has left the core's caches.
        if let Some(slot) = self.queue.next_slot() {
            flights.prefetch(slot);
        }
        match kind {
            EventKind::Dispatch { slot, epoch } => match flights.current(slot, epoch) {
                Some(flight) => self.dispatch(now, slot, flight, sink),
                None => Ok(()),
            },
            EventKind::Headers { slot, epoch } => match flights.current(slot, epoch) {
                Some(flight) => self.headers(now, slot, flight, sink),
                None => Ok(()),
            },
            EventKind::BodyEnd { slot, epoch } => match flights.current(slot, epoch) {
                Some(flight) => self.body_end(now, slot, flight, sink),
                None => Ok(()),
            },
            EventKind::Sample => {
                self.sample(now);
                if more_arrivals || self.free.live() > 0 {
                    self.queue
                        .push(now + Duration::from_secs(1), EventKind::Sample);
                } else {
                    self.sample_scheduled = false;
                }
                Ok(())
            }
        }
    }

    /// Ask the gateway what to do next for `flight` (in `slot`).
    fn dispatch<S: RecordSink + ?Sized>(
        &mut self,
        now: Duration,
        slot: u32,
        flight: &mut Flight,
        sink: &mut S,
    ) -> Written {
        let gateway = flight.gateway;
        let step =
            self.gateways[gateway].next(now, &mut flight.attempt, &mut self.balance_rngs[gateway]);
        self.log_transitions(gateway);
        match step {
            Step::Send(backend) => self.send(now, slot, flight, backend, sink),
            Step::WaitUntil(at) => {
                let epoch = flight.bump();
                self.queue
                    .push(at.max(now), EventKind::Dispatch { slot, epoch });
                Ok(())
            }
            Step::Respond(answer) => self.gateway_answer(now, slot, flight, answer, sink),
        }
    }

    /// Record breaker transitions of gateway instance 0 (the timeline shows one instance).
    #[inline]
    fn log_transitions(&mut self, gateway: usize) {
        if self.gateways[gateway].has_transitions() {
            self.drain_transitions(gateway);
        }
    }

    /// [`Self::log_transitions`] when there are some (rare: out of the per-attempt path).
    #[cold]
    #[inline(never)]
    fn drain_transitions(&mut self, gateway: usize) {
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
        for &(pool, deployment) in &self.wiring.ptu_samples {
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

    fn into_outcome(self, peak_in_flight: usize) -> Result<StrategyOutcome, SimError> {
        let (summary, recorded) = self.recorder.finish();
        Ok(StrategyOutcome {
            summary,
            recorded,
            requests: self.requests,
            events: self.events,
            peak_in_flight,
        })
    }
}

pub(super) fn request_info(request: &Request) -> RequestInfo {
    RequestInfo {
        est_tokens: u64::from(request.prompt_tokens)
            + u64::from(request.max_tokens.unwrap_or(request.output_tokens)),
        session: Some(request.session),
        stream: request.stream,
    }
}
