//! The open-loop engine measures honestly: against a backend that stalls for one second,
//! requests scheduled during the stall are still sent on schedule (no coordinated omission) and
//! their latency, measured from the intended send time, contains the stall; the report carries
//! the engine's own send lag for every request.

use std::net::SocketAddr;
use std::time::Duration;

use throttlebox::live::LiveClock;
use throttlebox::live::load::run_load;
use throttlebox::metrics::RequestRecord;
use throttlebox::report::RecordSink;
use throttlebox::report::{AttemptsCsvWriter, ReportError, RequestsCsvWriter};

const STALL_FROM: Duration = Duration::from_millis(1_000);
const STALL_UNTIL: Duration = Duration::from_millis(2_000);

/// A backend that answers at once, except that nothing is answered during [1 s, 2 s): a
/// request arriving then waits for the stall to end.
async fn stalling_backend(clock: LiveClock) -> SocketAddr {
    crate::live_support::answering_backend(move || async move {
        if (STALL_FROM..STALL_UNTIL).contains(&clock.now()) {
            clock.sleep_until(STALL_UNTIL).await;
        }
    })
    .await
}

/// Keeps every request record (and writes the CSV rows, as a run directory would).
struct Keep {
    records: Vec<RequestRecord>,
    requests: RequestsCsvWriter<Vec<u8>>,
    attempts: AttemptsCsvWriter<Vec<u8>>,
}

impl RecordSink for Keep {
    fn request(&mut self, record: &RequestRecord) -> Result<(), ReportError> {
        self.records.push(*record);
        self.requests.write(record)
    }

    fn attempt(&mut self, record: &throttlebox::metrics::AttemptRecord) -> Result<(), ReportError> {
        self.attempts.write(record)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_scheduled_during_a_stall_carry_the_stall_in_their_latency() {
    let scenario = crate::live_support::steady(50, 3);
    let workload = scenario.workload().expect("workload");
    let clock = LiveClock::start(1.0);
    let backend = stalling_backend(clock).await;
    let plan = crate::live_support::opaque_plan(&scenario, backend, clock, Duration::from_secs(3));
    let setup = plan.setup.clone();
    let sink = Keep {
        records: Vec::new(),
        requests: RequestsCsvWriter::new(Vec::new(), setup.clone()).expect("csv"),
        attempts: AttemptsCsvWriter::new(Vec::new(), setup.clone()).expect("csv"),
    };
    let (_keep_open, stop) = tokio::sync::watch::channel(false);
    let outcome = run_load(&scenario, &workload, plan, sink, stop)
        .await
        .expect("load");
    let records = &outcome.sink.records;
    assert_eq!(records.len() as u64, outcome.stats.scheduled);
    assert_eq!(outcome.stats.dropped, 0);
    assert!(records.iter().all(|r| r.succeeded()));
    // Scheduled well inside the stall (margins for timer granularity).
    let in_stall: Vec<&RequestRecord> = records
        .iter()
        .filter(|r| {
            r.intended_start >= STALL_FROM + Duration::from_millis(50)
                && r.intended_start < STALL_UNTIL - Duration::from_millis(50)
        })
        .collect();
    assert!(
        in_stall.len() >= 40,
        "{} requests scheduled in the stall",
        in_stall.len()
    );
    for record in &in_stall {
        assert!(
            record.actual_start < STALL_UNTIL,
            "request {} was held back until {:?}: the engine waited for responses",
            record.request_id,
            record.actual_start
        );
        assert!(
            record.end >= STALL_UNTIL && record.e2e() >= STALL_UNTIL - record.intended_start,
            "request {}: latency {:?} misses the stall",
            record.request_id,
            record.e2e()
        );
    }
    // The request scheduled first in the stall waited for most of it.
    let worst = in_stall.iter().map(|r| r.e2e()).max().expect("some");
    assert!(worst >= Duration::from_millis(900), "worst {worst:?}");
    let summary = outcome.recorder.finish();
    assert_eq!(
        summary.send_lag.count,
        records.len() as u64,
        "send lag reported for every request"
    );
    assert!(summary.e2e.max_s.is_some_and(|max| max >= 0.9));
}
