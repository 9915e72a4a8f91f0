//! The one owner of a load run's recorder and record files: folds every record into the
//! [`StrategyRecorder`] and streams it to the sink, on a thread of its own (not a runtime
//! thread: a sink that blocks on a slow disk holds up no task), and composes the progress line
//! between batches (a printer thread writes it). A write error stops the writing (the first
//! one is returned) but not the folding. The request tasks never wait for it: the record
//! channel is bounded and drops (counts) what does not fit.
//!
//! The collector drains the channel in batches, every [`BATCH`] of wall time, instead of
//! blocking on each record: a receiver blocked on an empty channel is woken by every send, and
//! at 10,000 requests per second those wake-ups (two records per request) cost the engine a
//! context switch each, on the cores that also time the sends.

use std::time::Duration;

use tokio::sync::oneshot;

use super::RecordMessage;
use super::progress::Progress;
use super::records::RecordReceiver;
use crate::live::clock::LiveClock;
use crate::live::error::LiveError;
use crate::metrics::LatencyHistogram;
use crate::report::RecordSink;
use crate::report::ReportError;
use crate::report::StrategyRecorder;

/// Wall time between two drains of the channel.
const BATCH: Duration = Duration::from_millis(10);

/// What the collector hands back: the recorder, the sink and the send-lag histogram (scenario
/// time, µs resolution).
pub(crate) type Collected<S> = (StrategyRecorder, S, LatencyHistogram);

/// A collector running on its own thread.
pub(crate) struct CollectorThread<S> {
    result: oneshot::Receiver<Result<Collected<S>, ReportError>>,
}

impl<S> CollectorThread<S> {
    /// Wait (without blocking a runtime thread) for the collector to finish: once every
    /// record sender is gone and the channel is drained.
    pub async fn finish(self) -> Result<Collected<S>, LiveError> {
        let collected = self
            .result
            .await
            .map_err(|_| LiveError::invalid("collector", "the record collector thread failed"))?;
        Ok(collected?)
    }
}

/// Start [`collect`] on a thread of its own.
pub(crate) fn spawn<S: RecordSink + Send + 'static>(
    records: RecordReceiver,
    recorder: StrategyRecorder,
    sink: S,
    progress: Option<Progress>,
) -> Result<CollectorThread<S>, LiveError> {
    let (done, result) = oneshot::channel();
    std::thread::Builder::new()
        .name("tb-collector".to_string())
        .spawn(move || {
            let _ = done.send(collect(records, recorder, sink, progress));
        })
        .map_err(|error| LiveError::io("start the record collector thread", error))?;
    Ok(CollectorThread { result })
}

/// Consume `records` until every sender is gone; hand back the recorder, the sink and the
/// send-lag histogram.
pub(crate) fn collect<S: RecordSink>(
    mut records: RecordReceiver,
    recorder: StrategyRecorder,
    sink: S,
    progress: Option<Progress>,
) -> Result<Collected<S>, ReportError> {
    let mut collector = Collector {
        recorder,
        sink,
        progress,
        failure: None,
        send_lag: LatencyHistogram::new(),
    };
    loop {
        let open = records.drain(|message| collector.fold(&message));
        if let Some(progress) = &mut collector.progress {
            progress.tick();
        }
        if !open {
            break;
        }
        LiveClock::pause_thread(BATCH);
    }
    if let Some(progress) = collector.progress.take() {
        progress.finish();
    }
    match collector.failure {
        Some(error) => Err(error),
        None => Ok((collector.recorder, collector.sink, collector.send_lag)),
    }
}

/// The collector's state between batches.
struct Collector<S> {
    recorder: StrategyRecorder,
    sink: S,
    progress: Option<Progress>,
    failure: Option<ReportError>,
    send_lag: LatencyHistogram,
}

impl<S: RecordSink> Collector<S> {
    fn fold(&mut self, message: &RecordMessage) {
        let written = match message {
            RecordMessage::Request(record) => {
                self.recorder.add_request(record);
                self.send_lag.record(record.send_lag());
                if let Some(progress) = &mut self.progress {
                    progress.observe(record);
                }
                if self.failure.is_none() {
                    self.sink.request(record)
                } else {
                    Ok(())
                }
            }
            RecordMessage::Attempt(record) => {
                self.recorder.add_attempt(record);
                if self.failure.is_none() {
                    self.sink.attempt(record)
                } else {
                    Ok(())
                }
            }
        };
        if let Err(error) = written {
            self.failure.get_or_insert(error);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::live::load::records::channel;
    use crate::metrics::{AttemptRecord, RequestRecord};
    use crate::report::Mode;
    use crate::scenario::Scenario;

    /// Counts what reaches it; fails every write after the first `fail_after`.
    struct CountingSink {
        requests: u64,
        attempts: u64,
        fail_after: u64,
    }

    impl CountingSink {
        fn failing_after(fail_after: u64) -> CountingSink {
            CountingSink {
                requests: 0,
                attempts: 0,
                fail_after,
            }
        }
    }

    impl RecordSink for CountingSink {
        fn request(&mut self, _: &RequestRecord) -> Result<(), ReportError> {
            self.requests += 1;
            if self.requests > self.fail_after {
                return Err(ReportError::Invalid {
                    field: "disk".to_string(),
                    reason: "full".to_string(),
                });
            }
            Ok(())
        }
        fn attempt(&mut self, _: &AttemptRecord) -> Result<(), ReportError> {
            self.attempts += 1;
            Ok(())
        }
    }

    fn recorder() -> StrategyRecorder {
        let scenario = Scenario::embedded_default(&[]).expect("the embedded scenario loads");
        let setup = scenario.run_setup(Mode::Live, Duration::from_secs(1));
        StrategyRecorder::new(0, Arc::new(setup))
    }

    /// Two senders on other threads, records left in the channel when both hang up: the
    /// batches lose none of them.
    fn send_from_two_threads(per_thread: u64) -> RecordReceiver {
        let (sender, receiver) = channel(4 * per_thread as usize);
        let threads: Vec<_> = (0..2)
            .map(|thread| {
                let sender = sender.clone();
                std::thread::spawn(move || {
                    for id in 0..per_thread {
                        let request_id = thread * per_thread + id;
                        let record = RequestRecord {
                            request_id,
                            actual_start: Duration::from_micros(request_id % 7),
                            end: Duration::from_millis(5),
                            status: 200,
                            ..RequestRecord::default()
                        };
                        sender.send(RecordMessage::Request(record));
                        sender.send(RecordMessage::Attempt(AttemptRecord {
                            request_id,
                            attempt: 1,
                            status: 200,
                            ..AttemptRecord::default()
                        }));
                    }
                })
            })
            .collect();
        drop(sender);
        for thread in threads {
            thread.join().expect("sender thread");
        }
        receiver
    }

    #[test]
    fn every_record_sent_before_the_senders_hang_up_is_folded_and_written() {
        let receiver = send_from_two_threads(5_000);
        let sink = CountingSink::failing_after(u64::MAX);
        let (recorder, sink, send_lag) =
            collect(receiver, recorder(), sink, None).expect("no write fails");
        assert_eq!((sink.requests, sink.attempts), (10_000, 10_000));
        assert_eq!(send_lag.count(), 10_000);
        assert_eq!(recorder.finish().requests, 10_000);
    }

    #[test]
    fn the_first_write_error_is_returned_once_the_channel_is_drained() {
        let receiver = send_from_two_threads(100);
        let sink = CountingSink::failing_after(10);
        let error = collect(receiver, recorder(), sink, None).err();
        assert!(
            matches!(error, Some(ReportError::Invalid { ref field, .. }) if field == "disk"),
            "{error:?}"
        );
    }
}
