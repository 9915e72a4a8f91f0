//! Where and how the lab runs a real system: its Python, its folder, how long it may take to
//! start and drain, the warm-up before the schedule, and the self-check that kills it.

use std::path::PathBuf;
use std::time::Duration;

/// Where and how long.
#[derive(Debug, Clone)]
pub struct LabOptions {
    /// The lab's Python (see [`super::python::lab_python`]).
    pub python: PathBuf,
    /// Folder for the schedule, configs, logs and the driver's output.
    pub work_dir: PathBuf,
    /// Longest wait for the proxy to become healthy or the driver to import its packages.
    pub startup_timeout: Duration,
    /// How long requests may stay open after the last intended send.
    pub drain: Duration,
    /// The lab's self-check: SIGKILL the system's own process (the LiteLLM proxy) once this
    /// many requests got an HTTP answer, to show that the lab reports a system that died
    /// (`throttlebox conform --kill-system-after N`). None in every real measurement.
    pub kill_system_after: Option<u64>,
    /// Rounds of warm-up before the schedule (0: none): each round sends two one-token
    /// requests per pool backend at once through the system under test, then the lab waits
    /// [`WARMUP_SETTLE`] for them to leave the backends' request windows and counts backend
    /// attempts from there. A cold LiteLLM proxy answered its first requests 0.6–1.3 s late
    /// (docs/conformance.md, "Fast throttling").
    pub warmup_rounds: u32,
}

/// How long after the warm-up the schedule starts: the PAYG request window (10 s) and a margin.
pub const WARMUP_SETTLE: Duration = Duration::from_secs(11);
