//! The load engine's own tokio runtime: the scheduler, every request task and the HTTP
//! client's connections run on worker threads of their own (`tb-engine`), never on the runtime
//! that hosts an in-process fleet and gateway. However busy those are, the engine's tasks do
//! not queue behind theirs; the two share only the machine's CPUs, as separate processes
//! would.
//!
//! It also measures how saturated the engine was over the run: the share of the wall time its
//! workers were busy (tokio's own count), and on Linux the share they were ready to run but
//! waited for a CPU (each thread's `/proc/thread-self/schedstat`): a machine that starves the
//! engine shows there.

use std::fs::File;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::task::JoinHandle;

use super::super::clock::LiveClock;
use super::super::error::LiveError;

/// How saturated the engine's workers were, as shares of the wall time they existed (0–1 per
/// worker, averaged over the workers).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct CpuUse {
    /// Busy (running tasks, not parked).
    pub busy: Option<f64>,
    /// Ready to run but waiting for a CPU (Linux only).
    pub waiting: Option<f64>,
}

/// The engine's runtime, shut down (without waiting) when dropped.
pub(crate) struct EngineRuntime {
    runtime: Option<tokio::runtime::Runtime>,
    /// The scheduler statistics file of every thread the runtime started.
    threads: Arc<Mutex<Vec<File>>>,
    /// Wall time since the runtime started.
    started: LiveClock,
}

impl EngineRuntime {
    /// A multi-threaded runtime (a worker per CPU) with I/O and timers.
    pub fn start() -> Result<EngineRuntime, LiveError> {
        let threads = Arc::new(Mutex::new(Vec::new()));
        let registry = threads.clone();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .thread_name("tb-engine")
            .enable_all()
            .on_thread_start(move || {
                // Opened by the thread itself, so the file keeps naming this thread.
                if let Ok(file) = File::open("/proc/thread-self/schedstat") {
                    registry
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(file);
                }
            })
            .build()
            .map_err(|error| LiveError::io("start the load engine's runtime", error))?;
        Ok(EngineRuntime {
            runtime: Some(runtime),
            threads,
            started: LiveClock::start(1.0),
        })
    }

    /// Run `future` on the engine's workers.
    pub fn spawn<F>(&self, future: F) -> Option<JoinHandle<F::Output>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.runtime.as_ref().map(|runtime| runtime.spawn(future))
    }

    /// The workers' saturation since the start.
    pub fn cpu_use(&self) -> CpuUse {
        let Some(runtime) = &self.runtime else {
            return CpuUse::default();
        };
        let wall = self.started.wall_elapsed().as_secs_f64();
        let metrics = runtime.metrics();
        let workers = metrics.num_workers();
        if wall <= 0.0 || workers == 0 {
            return CpuUse::default();
        }
        let capacity = wall * workers as f64;
        let busy: Duration = (0..workers)
            .map(|worker| metrics.worker_total_busy_duration(worker))
            .sum();
        let threads = self.threads.lock().unwrap_or_else(PoisonError::into_inner);
        let waiting: Option<Duration> = if threads.is_empty() {
            None
        } else {
            threads.iter().map(runqueue_wait).sum()
        };
        CpuUse {
            busy: Some((busy.as_secs_f64() / capacity).min(1.0)),
            waiting: waiting.map(|wait| (wait.as_secs_f64() / capacity).min(1.0)),
        }
    }
}

impl Drop for EngineRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            // Callable from async code (a plain drop is not): the work is done by now, and
            // what is left (idle pooled connections) is dropped by the exiting workers.
            runtime.shutdown_background();
        }
    }
}

/// A thread's time runnable but waiting for a CPU (the second field of its schedstat); a
/// thread that has exited counts nothing, an unreadable file makes the whole sum unknown.
#[cfg(unix)]
fn runqueue_wait(schedstat: &File) -> Option<Duration> {
    use std::os::unix::fs::FileExt;
    let mut text = [0u8; 96];
    let read = match schedstat.read_at(&mut text, 0) {
        Ok(read) => read,
        // The thread is gone (a blocking thread that retired).
        Err(error) if error.raw_os_error() == Some(rustix::io::Errno::SRCH.raw_os_error()) => {
            return Some(Duration::ZERO);
        }
        Err(_) => return None,
    };
    let text = std::str::from_utf8(&text[..read]).ok()?;
    let nanos: u64 = text.split_ascii_whitespace().nth(1)?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

#[cfg(not(unix))]
fn runqueue_wait(_: &File) -> Option<Duration> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_engine_runtime_runs_tasks_and_reports_shares_between_zero_and_one() {
        let engine = EngineRuntime::start().expect("runtime");
        let handle = engine
            .spawn(async { (0..10_000u64).sum::<u64>() })
            .expect("running");
        let (sender, receiver) = std::sync::mpsc::channel();
        engine.spawn(async move {
            let _ = sender.send(handle.await);
        });
        assert_eq!(
            receiver.recv().expect("task ran").expect("joined"),
            49_995_000
        );
        let used = engine.cpu_use();
        let busy = used.busy.expect("tokio counts busy time");
        assert!((0.0..=1.0).contains(&busy), "{used:?}");
        if cfg!(target_os = "linux") {
            let waiting = used.waiting.expect("schedstat is readable on Linux");
            assert!((0.0..=1.0).contains(&waiting), "{used:?}");
        }
    }
}
