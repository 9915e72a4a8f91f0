//! SIGINT and SIGTERM, handled alike by the commands that run something (`sim`, `sweep`, `tune`,
//! `plan`, `run`, `load`): the first signal raises the [`StopFlag`] the synchronous runs poll
//! and the watch the live runs await; the command then writes what finished, marks it
//! interrupted and exits 128 + the signal's number (130 for SIGINT, 143 for SIGTERM). Later
//! signals are ignored: the stop is under way and every wait after it is bounded (`--drain`,
//! the simulator's poll).
//!
//! The handlers live on a thread of their own with a small tokio runtime, so the synchronous
//! commands need no runtime; they are installed before the command prints anything.

use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};

use throttlebox::sim::StopFlag;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

/// A signal that stopped a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM.
    Terminate,
}

impl Signal {
    const INTERRUPT: i32 = 2;
    const TERMINATE: i32 = 15;

    /// The exit code of a command it stopped: 128 + its number.
    pub fn exit_code(self) -> u8 {
        128 + match self {
            Signal::Interrupt => Self::INTERRUPT,
            Signal::Terminate => Self::TERMINATE,
        } as u8
    }

    /// `SIGINT` or `SIGTERM`.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        }
    }
}

/// The installed handlers: what they raise and what they received.
pub struct Signals {
    flag: StopFlag,
    watch: watch::Receiver<bool>,
    received: Arc<AtomicI32>,
}

impl Signals {
    /// Install the handlers (returns once they are in place).
    pub fn install() -> anyhow::Result<Signals> {
        let flag = StopFlag::new();
        let received = Arc::new(AtomicI32::new(0));
        let (sender, watch) = watch::channel(false);
        let (ready, installed) = std::sync::mpsc::channel();
        let (thread_flag, thread_received) = (flag.clone(), received.clone());
        std::thread::Builder::new()
            .name("signals".to_string())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        let _ = ready.send(Err(error));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let handlers = signal(SignalKind::interrupt())
                        .and_then(|int| Ok((int, signal(SignalKind::terminate())?)));
                    let (mut interrupt, mut terminate) = match handlers {
                        Ok(handlers) => handlers,
                        Err(error) => {
                            let _ = ready.send(Err(error));
                            return;
                        }
                    };
                    let _ = ready.send(Ok(()));
                    loop {
                        let (number, signal) = tokio::select! {
                            _ = interrupt.recv() => (Signal::INTERRUPT, Signal::Interrupt),
                            _ = terminate.recv() => (Signal::TERMINATE, Signal::Terminate),
                        };
                        let first = thread_received
                            .compare_exchange(0, number, Ordering::SeqCst, Ordering::SeqCst)
                            .is_ok();
                        if first {
                            eprintln!(
                                "{}: stopping; what finished is written, then exit {}",
                                signal.name(),
                                signal.exit_code()
                            );
                            thread_flag.raise();
                            let _ = sender.send(true);
                        }
                    }
                });
            })?;
        installed
            .recv()
            .map_err(|_| anyhow::anyhow!("the signal handler thread ended"))?
            .map_err(|error| anyhow::anyhow!("cannot handle SIGINT/SIGTERM: {error}"))?;
        Ok(Signals {
            flag,
            watch,
            received,
        })
    }

    /// The flag the synchronous runs poll.
    pub fn stop_flag(&self) -> &StopFlag {
        &self.flag
    }

    /// A receiver that turns true on the first signal (for the live runs).
    pub fn watch(&self) -> watch::Receiver<bool> {
        self.watch.clone()
    }

    /// The first signal received, if any.
    pub fn received(&self) -> Option<Signal> {
        match self.received.load(Ordering::SeqCst) {
            Signal::INTERRUPT => Some(Signal::Interrupt),
            Signal::TERMINATE => Some(Signal::Terminate),
            _ => None,
        }
    }
}
