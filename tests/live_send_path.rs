//! The open-loop engine's send path waits on nothing but its timer (issue #10): the caller's
//! runtime (which hosts the in-process fleet and gateway in `run`) with every worker blocked
//! holds up no send; a sink that blocks (a stalled disk, a terminal that stopped reading) holds
//! up no send, and what overflows the bounded record channel meanwhile is counted lost rather
//! than held in memory; a target whose accept queue is full (the handshake never completes)
//! gets every request, and each fails as a connect error at the connect timeout instead of
//! holding its slot until the client timeout. Counts only: no wall-clock assertion.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use throttlebox::live::LiveClock;
use throttlebox::live::load::{LoadOptions, LoadOutcome, LoadPlan, run_load};
use throttlebox::live::setup::live_setup;
use throttlebox::metrics::{AttemptRecord, ErrorClass, RequestRecord};
use throttlebox::report::RecordSink;
use throttlebox::report::ReportError;
use throttlebox::scenario::Scenario;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::watch;

use crate::live_support::{answering_backend, steady};

/// A backend that answers every request at once; `received` counts the requests.
async fn counting_backend(received: watch::Sender<u64>) -> SocketAddr {
    let received = Arc::new(received);
    answering_backend(move || {
        received.send_modify(|count| *count += 1);
        std::future::ready(())
    })
    .await
}

/// A gate the test opens once.
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    opened: Condvar,
    /// Requests the backend had received when the sink first blocked.
    entered_at: Mutex<Option<u64>>,
}

impl Gate {
    fn wait(&self) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        while !*open {
            open = self
                .opened
                .wait(open)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn open(&self) {
        *self.open.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.opened.notify_all();
    }
}

/// A sink whose first write blocks until the gate opens (a disk that stalls); it counts what
/// reaches it.
struct BlockingSink {
    gate: Arc<Gate>,
    received: watch::Receiver<u64>,
    written: u64,
}

impl BlockingSink {
    fn write(&mut self) -> Result<(), ReportError> {
        if self.written == 0 {
            *self
                .gate
                .entered_at
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(*self.received.borrow());
            self.gate.wait();
        }
        self.written += 1;
        Ok(())
    }
}

impl RecordSink for BlockingSink {
    fn request(&mut self, _: &RequestRecord) -> Result<(), ReportError> {
        self.write()
    }

    fn attempt(&mut self, _: &AttemptRecord) -> Result<(), ReportError> {
        self.write()
    }
}

fn plan(scenario: &Scenario, target: String, options: LoadOptions) -> LoadPlan {
    let workload = scenario.workload().expect("workload");
    let duration = scenario.duration(&workload).expect("duration");
    let (setup, fallback) = live_setup(scenario, duration, true);
    LoadPlan {
        target,
        strategy: 0,
        setup: Arc::new(setup),
        clock: LiveClock::start(1.0),
        options: LoadOptions {
            fallback_backend: fallback,
            ..options
        },
        label: "direct".to_string(),
    }
}

/// Bounds every wait of these tests: a failure, not a measurement.
const GUARD: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_sink_holds_up_no_send_and_what_overflows_the_record_buffer_is_counted() {
    const REQUESTS: u64 = 300; // 50 a second for 6 s
    const BUFFER: usize = 8;
    let scenario = steady(50, 6);
    let (received_sender, mut received) = watch::channel(0u64);
    let backend = counting_backend(received_sender).await;
    let gate = Arc::new(Gate::default());
    let sink = BlockingSink {
        gate: gate.clone(),
        received: received.clone(),
        written: 0,
    };
    let options = LoadOptions {
        record_buffer: BUFFER,
        ..LoadOptions::default()
    };
    let plan = plan(&scenario, format!("http://{backend}"), options);
    let (_keep_open, stop) = watch::channel(false);
    let load = tokio::spawn(async move {
        let workload = scenario.workload().expect("workload");
        run_load(&scenario, &workload, plan, sink, stop).await
    });
    // Every scheduled request reaches the backend while the sink is still blocked (the gate
    // opens only after that).
    tokio::time::timeout(GUARD, received.wait_for(|count| *count >= REQUESTS))
        .await
        .expect("every request sent while the sink was blocked: the sends waited for the sink")
        .expect("backend alive");
    let entered_at = *gate
        .entered_at
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    gate.open();
    let outcome: LoadOutcome<BlockingSink> = tokio::time::timeout(GUARD, load)
        .await
        .expect("the run ends once the sink is released")
        .expect("joined")
        .expect("load");
    let stats = &outcome.stats;
    assert_eq!(
        (stats.scheduled, stats.sent, stats.dropped, stats.cancelled),
        (REQUESTS, REQUESTS, 0, 0)
    );
    let entered_at = entered_at.expect("the sink was written to");
    assert!(
        entered_at < REQUESTS,
        "the sink blocked only after every send ({entered_at}): nothing was shown"
    );
    // One request record and one attempt record per request: what the sink did not get was
    // counted lost; while it was blocked, the buffer held at most BUFFER of them.
    assert_eq!(
        outcome.sink.written + stats.records_lost,
        2 * REQUESTS,
        "every record written or counted lost"
    );
    assert!(
        stats.records_lost > 0,
        "the records produced while the sink was blocked exceed the buffer of {BUFFER}"
    );
    assert!(
        stats
            .cpu_saturation
            .is_some_and(|share| (0.0..=1.0).contains(&share))
    );
}

/// Blocks every worker of a runtime until released or dropped (a lock held elsewhere, a
/// stalled write: what a worker thread of a runtime shared with a fleet and gateway may run
/// into). Released on drop, so a failing test does not leave a runtime that cannot shut down.
struct WorkerBlock {
    gate: Arc<Gate>,
}

impl Drop for WorkerBlock {
    fn drop(&mut self) {
        self.gate.open();
    }
}

impl WorkerBlock {
    fn block(runtime: &tokio::runtime::Runtime, workers: usize) -> WorkerBlock {
        let gate = Arc::new(Gate::default());
        let (sender, blocked) = std::sync::mpsc::channel();
        for _ in 0..workers {
            let gate = gate.clone();
            let sender = sender.clone();
            runtime.spawn(async move {
                let _ = sender.send(());
                gate.wait();
            });
        }
        for _ in 0..workers {
            blocked
                .recv_timeout(GUARD)
                .expect("every worker of the runtime blocked");
        }
        WorkerBlock { gate }
    }
}

#[test]
fn every_worker_of_the_callers_runtime_blocked_holds_up_no_send() {
    const REQUESTS: u64 = 150; // 50 a second for 3 s
    const WORKERS: usize = 2;
    let scenario = steady(50, 3);
    // The runtime `run` hosts the fleet and gateway on, and awaits the engine from.
    let caller = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_all()
        .build()
        .expect("runtime");
    // The test's own, for the backend and the waiting.
    let test = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (received_sender, mut received) = watch::channel(0u64);
    let backend = test.block_on(counting_backend(received_sender));
    let plan = plan(
        &scenario,
        format!("http://{backend}"),
        LoadOptions::default(),
    );
    let (_keep_open, stop) = watch::channel(false);
    let load = caller.spawn(async move {
        let workload = scenario.workload().expect("workload");
        run_load(&scenario, &workload, plan, Keep::default(), stop).await
    });
    // Once the engine is sending, every worker of the caller's runtime is blocked.
    test.block_on(async {
        tokio::time::timeout(GUARD, received.wait_for(|count| *count >= 1))
            .await
            .expect("the engine started")
            .expect("backend alive");
    });
    let block = WorkerBlock::block(&caller, WORKERS);
    let at_block = *received.borrow();
    test.block_on(async {
        tokio::time::timeout(GUARD, received.wait_for(|count| *count >= REQUESTS))
            .await
            .expect(
                "every request sent while the caller's runtime was blocked: the engine ran on it",
            )
            .expect("backend alive");
    });
    drop(block);
    let outcome = test
        .block_on(async { tokio::time::timeout(GUARD, load).await })
        .expect("the run ends once the runtime is released")
        .expect("joined")
        .expect("load");
    assert!(
        at_block < REQUESTS,
        "the runtime was blocked only after every send ({at_block}): nothing was shown"
    );
    every_request_sent_and_recorded(&outcome, REQUESTS);
    assert!(outcome.sink.requests.iter().all(RequestRecord::succeeded));
}

/// A listener whose accept queue is full: backlog 0, one connection queued and never
/// accepted, so the kernel drops every further SYN (the handshake never completes).
async fn full_accept_queue() -> (TcpListener, std::net::TcpStream) {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .expect("bind");
    let listener = socket.listen(0).expect("listen");
    let addr = listener.local_addr().expect("addr");
    // Completed by the kernel (the queue had room for one), never accepted.
    let queued = tokio::task::spawn_blocking(move || std::net::TcpStream::connect(addr))
        .await
        .expect("joined")
        .expect("the first connection is queued");
    (listener, queued)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_with_a_full_accept_queue_gets_every_request_and_each_fails_at_the_connect_timeout()
 {
    const REQUESTS: u64 = 20; // 20 a second for 1 s
    let scenario = steady(20, 1);
    let (listener, _queued) = full_accept_queue().await;
    let target = format!("http://{}", listener.local_addr().expect("addr"));
    let options = LoadOptions {
        connect_timeout: Duration::from_millis(200),
        ..LoadOptions::default()
    };
    let plan = plan(&scenario, target, options);
    let (_keep_open, stop) = watch::channel(false);
    let sink = Keep::default();
    let workload = scenario.workload().expect("workload");
    let outcome = tokio::time::timeout(GUARD, run_load(&scenario, &workload, plan, sink, stop))
        .await
        .expect("bounded")
        .expect("load");
    every_request_sent_and_recorded(&outcome, REQUESTS);
    let records = &outcome.sink.requests;
    // Not a timeout at the client deadline (20 s): the connect gave up first.
    assert!(
        records.iter().all(|r| r.error == ErrorClass::ConnectError),
        "{:?}",
        records.iter().map(|r| r.error).collect::<Vec<_>>()
    );
}

/// All `requests` scheduled were sent, none dropped, and each left its record.
fn every_request_sent_and_recorded(outcome: &LoadOutcome<Keep>, requests: u64) {
    let stats = &outcome.stats;
    assert_eq!(
        (
            stats.scheduled,
            stats.sent,
            stats.dropped,
            stats.records_lost
        ),
        (requests, requests, 0, 0)
    );
    assert_eq!(outcome.sink.requests.len() as u64, requests);
}

/// Keeps the request records.
#[derive(Default)]
struct Keep {
    requests: Vec<RequestRecord>,
}

impl RecordSink for Keep {
    fn request(&mut self, record: &RequestRecord) -> Result<(), ReportError> {
        self.requests.push(*record);
        Ok(())
    }

    fn attempt(&mut self, _: &AttemptRecord) -> Result<(), ReportError> {
        Ok(())
    }
}
