//! The bounded channel that carries records from the request tasks to the collector. A send
//! never waits and never grows memory past the bound: a record that finds the channel full is
//! dropped and counted (`records_lost` in the engine's stats). So a collector held up by its
//! sink (a stalled disk, a terminal that stopped reading) costs counted records, never a send.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::mpsc::error::TryRecvError;

use super::RecordMessage;

/// Records the channel holds by default: 2^18, about 13 s of a stalled collector at 10,000
/// requests per second (two records each), about 40 MB when full.
pub const DEFAULT_RECORD_BUFFER: usize = 1 << 18;

/// The request tasks' end: cloned into every task, never blocks.
#[derive(Clone)]
pub(crate) struct RecordSender {
    inner: tokio::sync::mpsc::Sender<RecordMessage>,
    lost: Arc<AtomicU64>,
}

impl RecordSender {
    /// Hand `message` to the collector, or count it lost when the channel is full (or the
    /// collector is gone).
    pub fn send(&self, message: RecordMessage) {
        if self.inner.try_send(message).is_err() {
            self.lost.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The running count of lost records (stays readable after every sender is gone).
    pub fn lost_counter(&self) -> Arc<AtomicU64> {
        self.lost.clone()
    }
}

/// The collector's end.
pub(crate) struct RecordReceiver {
    inner: tokio::sync::mpsc::Receiver<RecordMessage>,
}

impl RecordReceiver {
    /// Pass every record waiting now to `fold`, without blocking; false once every sender is
    /// gone and nothing is left.
    pub fn drain(&mut self, mut fold: impl FnMut(RecordMessage)) -> bool {
        loop {
            match self.inner.try_recv() {
                Ok(message) => fold(message),
                Err(TryRecvError::Empty) => return true,
                Err(TryRecvError::Disconnected) => return false,
            }
        }
    }
}

/// A channel holding at most `capacity` records (at least one).
pub(crate) fn channel(capacity: usize) -> (RecordSender, RecordReceiver) {
    let (inner, receiver) = tokio::sync::mpsc::channel(capacity.max(1));
    (
        RecordSender {
            inner,
            lost: Arc::new(AtomicU64::new(0)),
        },
        RecordReceiver { inner: receiver },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::RequestRecord;

    fn record(request_id: u64) -> RecordMessage {
        RecordMessage::Request(RequestRecord {
            request_id,
            ..RequestRecord::default()
        })
    }

    #[test]
    fn a_full_channel_counts_what_it_refuses_and_keeps_the_rest_in_order() {
        let (sender, mut receiver) = channel(3);
        let lost = sender.lost_counter();
        for id in 0..5 {
            sender.send(record(id));
        }
        assert_eq!(lost.load(Ordering::Relaxed), 2);
        let mut kept = Vec::new();
        let open = receiver.drain(|message| {
            if let RecordMessage::Request(r) = message {
                kept.push(r.request_id);
            }
        });
        assert!(open);
        assert_eq!(kept, vec![0, 1, 2]);
        // Room again once drained.
        sender.send(record(9));
        drop(sender);
        let mut after = 0;
        assert!(!receiver.drain(|_| after += 1));
        assert_eq!((after, lost.load(Ordering::Relaxed)), (1, 2));
    }
}
