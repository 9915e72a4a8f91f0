//! Requests in flight: a slab of per-request state (the client's retry loop, the gateway's attempt
//! loop, the backend attempt under way, the record being filled), reused through a free list
//! so memory follows concurrency, not run length.

use std::time::Duration;

use aoai_mock::model::{Answer, ResponsePlan};

use crate::balance::Attempt;
use crate::client::ClientLife;
use crate::metrics::RequestRecord;
use crate::workload::Request;

/// The backend attempt under way.
#[derive(Debug, Clone)]
pub(crate) struct Current {
    /// Strategy-side backend id.
    pub backend: usize,
    /// Report backend index (pool order).
    pub pool: u16,
    /// When it was sent.
    pub started: Duration,
    /// Attempt number within the request (1-based).
    pub number: u32,
    /// What the gateway will observe: HTTP status, or 0 for a connection failure.
    pub status: u16,
    /// The gateway gave up waiting (timeout) rather than the connection failing.
    pub timed_out: bool,
    /// Report index of the deployment that served after a spillover.
    pub served_by: Option<u16>,
}

/// One logical client request.
#[derive(Debug)]
pub(crate) struct Flight {
    pub request: Request,
    pub gateway: usize,
    /// The client's retry loop.
    pub life: ClientLife,
    pub attempt: Attempt,
    pub record: RequestRecord,
    pub current: Option<Current>,
    /// Bumped whenever a scheduled event of this flight becomes stale.
    pub epoch: u32,
    /// The fleet's answer to the attempt under way (its rate headers, and its plan when the
    /// backend admitted the request), meaningful while `current` is set. Kept in the slot
    /// from attempt to attempt and flight to flight, and written over whole by the fleet
    /// ([`aoai_mock::model::Fleet::admit_into`] writes every field): no reset per attempt.
    pub answer: Answer,
}

/// What a new flight starts from: every field of a [`Flight`] but the ones its slot carries
/// on (the epoch, the answer).
#[derive(Debug)]
pub(crate) struct FlightStart {
    pub request: Request,
    pub gateway: usize,
    pub life: ClientLife,
    pub attempt: Attempt,
    pub record: RequestRecord,
}

/// Slab of flights. A flight's slot is looked up once per event and the flight handed down
/// that event's steps by reference; which slots are free is kept apart, in [`FreeSlots`] (an
/// engine field), so that those steps can free the slot while they hold the flight. A freed
/// flight stays in its slot (every field is plain data) with its epoch bumped, so no event
/// scheduled for it matches, and the next flight there carries that epoch on.
#[derive(Debug, Default)]
pub(crate) struct Flights {
    slots: Vec<Flight>,
}

/// Which slots of [`Flights`] are free, and how many are in use.
#[derive(Debug, Default)]
pub(crate) struct FreeSlots {
    free: Vec<u32>,
    live: usize,
}

impl Flights {
    /// Start a flight from `start` in a free slot (or a new one); returns its slot and the
    /// flight.
    #[inline]
    pub fn insert(&mut self, free: &mut FreeSlots, start: FlightStart) -> (u32, &mut Flight) {
        free.live += 1;
        let index = match free.free.pop() {
            Some(slot) if (slot as usize) < self.slots.len() => slot as usize,
            _ => {
                self.slots.push(Flight {
                    request: start.request,
                    gateway: start.gateway,
                    life: start.life,
                    attempt: start.attempt,
                    record: start.record,
                    current: None,
                    epoch: 0,
                    answer: Answer::not_found(),
                });
                let index = self.slots.len() - 1;
                return (index as u32, &mut self.slots[index]);
            }
        };
        let entry = &mut self.slots[index];
        // Field by field: the epoch goes on from the freed flight's (nothing scheduled for
        // that one matches), and the answer is left for the fleet to write over.
        entry.request = start.request;
        entry.gateway = start.gateway;
        entry.life = start.life;
        entry.attempt = start.attempt;
        entry.record = start.record;
        entry.current = None;
        (index as u32, entry)
    }

    /// The flight in `slot` if `epoch` is its current one (the event is not stale).
    #[inline]
    pub fn current(&mut self, slot: u32, epoch: u32) -> Option<&mut Flight> {
        self.slots
            .get_mut(slot as usize)
            .filter(|flight| flight.epoch == epoch)
    }

    /// Ask the CPU to bring the flight in `slot` into cache ahead of its event (no effect on
    /// what runs; a no-op where the target has no prefetch instruction). One prefetch per 64
    /// bytes from the flight's start, a count the compiler unrolls; a flight that starts late
    /// in a line may leave its last line to be fetched on use. Aligning flights to lines, or
    /// covering that line too, measured no faster and cost 13 and 37 instructions per request
    /// (BENCHMARKS.md, seventh pass).
    #[inline]
    pub fn prefetch(&self, slot: u32) {
        #[cfg(target_arch = "x86_64")]
        if let Some(flight) = self.slots.get(slot as usize) {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            let start = (flight as *const Flight).cast::<i8>();
            for offset in (0..std::mem::size_of::<Flight>()).step_by(64) {
                // SAFETY: a prefetch is a hint that reads nothing into the program and never
                // faults; the address is inside a live slot anyway.
                unsafe { _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(offset)) };
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = slot;
    }

    /// High-water mark of simultaneous flights.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }
}

impl FreeSlots {
    /// Free `slot`, whose flight (`flight`) has ended: its pending events become stale.
    #[inline]
    pub fn release(&mut self, slot: u32, flight: &mut Flight) {
        flight.bump();
        self.free.push(slot);
        self.live -= 1;
    }

    /// Flights in progress.
    pub fn live(&self) -> usize {
        self.live
    }
}

impl Flight {
    /// The plan of the attempt under way, when the backend admitted it.
    #[inline]
    pub fn plan(&self) -> Option<&ResponsePlan> {
        self.current.as_ref().and_then(|_| self.answer.plan())
    }

    /// Make the events scheduled so far stale; returns the new epoch (for the next event).
    #[inline]
    pub fn bump(&mut self) -> u32 {
        self.epoch = self.epoch.wrapping_add(1);
        self.epoch
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::balance::{BackendSpec, Preset, RequestInfo, Strategy, StrategyConfig};
    use crate::client::Client;

    fn flight(id: u64) -> FlightStart {
        let backend = BackendSpec::named("b");
        let config = StrategyConfig::preset("s", Preset::ApimPool);
        let mut strategy = Strategy::new(&config, &[backend]).expect("a valid strategy");
        let request = Request {
            id,
            at: Duration::ZERO,
            app: 0,
            deployment: crate::workload::DeploymentId(0),
            prompt_tokens: 1,
            prompt_chars: 4,
            max_tokens: None,
            output_tokens: 1,
            stream: false,
            priority: 0,
            session: 0,
        };
        let info = RequestInfo {
            est_tokens: 2,
            session: None,
            stream: false,
        };
        FlightStart {
            request,
            gateway: 0,
            life: Client::new(Default::default(), Duration::from_secs(60)).begin(Duration::ZERO),
            attempt: strategy.begin(Duration::ZERO, &info),
            record: RequestRecord::default(),
        }
    }

    /// A freed slot is reused, its old events stay stale, and the new flight's are current.
    #[test]
    fn a_freed_slot_is_reused_without_its_old_events() {
        let mut flights = Flights::default();
        let mut free = FreeSlots::default();
        let (a, first) = flights.insert(&mut free, flight(1));
        let stale = first.bump();
        let (b, _) = flights.insert(&mut free, flight(2));
        assert_ne!(a, b);
        assert_eq!(free.live(), 2);
        assert!(flights.current(a, stale).is_some());
        let first = flights.current(a, stale).expect("current");
        free.release(a, first);
        assert_eq!(free.live(), 1);
        assert!(
            flights.current(a, stale).is_none(),
            "a freed flight's event"
        );
        let (again, reused) = flights.insert(&mut free, flight(3));
        assert_eq!(again, a);
        assert_eq!(reused.request.id, 3);
        let epoch = reused.bump();
        assert!(
            flights.current(a, stale).is_none(),
            "the old flight's event"
        );
        assert_eq!(flights.current(a, epoch).map(|f| f.request.id), Some(3));
        assert_eq!(flights.capacity(), 2);
    }
}
