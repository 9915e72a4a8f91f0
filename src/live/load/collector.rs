//! The one owner of a load run's recorder and record files: folds every record into the
//! [`StrategyRecorder`] and streams it to the sink as it arrives, on its own thread, and
//! prints the progress line between records. A write error stops the writing (the first one
//! is returned) but not the folding.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use super::RecordMessage;
use super::progress::Progress;
use crate::metrics::{LatencyHistogram, StrategyRecorder};
use crate::report::ReportError;
use crate::sim::RecordSink;

/// How often the collector looks at the clock when no record comes.
const POLL: Duration = Duration::from_millis(100);

/// Consume `records` until every sender is gone; hand back the recorder, the sink and the
/// send-lag histogram (scenario time, µs resolution).
pub(crate) fn collect<S: RecordSink>(
    records: Receiver<RecordMessage>,
    mut recorder: StrategyRecorder,
    mut sink: S,
    mut progress: Option<Progress>,
) -> Result<(StrategyRecorder, S, LatencyHistogram), ReportError> {
    let mut failure: Option<ReportError> = None;
    let mut send_lag = LatencyHistogram::new();
    loop {
        let message = match records.recv_timeout(POLL) {
            Ok(message) => message,
            Err(RecvTimeoutError::Timeout) => {
                if let Some(progress) = &mut progress {
                    progress.tick();
                }
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let written = match &message {
            RecordMessage::Request(record) => {
                recorder.add_request(record);
                send_lag.record(record.send_lag());
                if let Some(progress) = &mut progress {
                    progress.observe(record);
                }
                if failure.is_none() {
                    sink.request(record)
                } else {
                    Ok(())
                }
            }
            RecordMessage::Attempt(record) => {
                recorder.add_attempt(record);
                if failure.is_none() {
                    sink.attempt(record)
                } else {
                    Ok(())
                }
            }
        };
        if let Err(error) = written {
            failure.get_or_insert(error);
        }
        if let Some(progress) = &mut progress {
            progress.tick();
        }
    }
    if let Some(progress) = &mut progress {
        progress.print();
    }
    match failure {
        Some(error) => Err(error),
        None => Ok((recorder, sink, send_lag)),
    }
}
