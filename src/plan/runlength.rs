//! How long each candidate must run for its answer to hold. A PTU deployment's bucket holds
//! `horizon` (60 s by default) of drain, so a sustained overload of a fraction ε fills it only
//! after `horizon ÷ ε`: a run shorter than that passes a fleet one increment too small. Sizing to
//! the increment at `s` PTUs means seeing an overload of `increment ÷ (s − increment)`, so the
//! run needs `horizon × (s − increment) ÷ increment` of overload plus two 60 s token windows to
//! settle. The plan lengthens a scenario's run to that (when it runs an arrival process and no
//! `--duration` was given) and warns otherwise.

use std::time::Duration;

use serde::Serialize;

/// Two 60 s token windows: pay-as-you-go limits and the PTU bucket settle within them.
pub const WARM_UP: Duration = Duration::from_secs(120);
/// The longest run the plan lengthens to.
pub const LONGEST: Duration = Duration::from_secs(4 * 3600);

/// The run length a plan used, and whether it was long enough.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunLength {
    /// Seconds each candidate was simulated for.
    pub seconds: f64,
    /// The scenario's own run length.
    pub scenario_seconds: f64,
    /// Seconds needed to resolve one PTU increment at the estimated size.
    pub needed_seconds: f64,
    /// Whether the plan lengthened the scenario's run to `needed_seconds`.
    pub lengthened: bool,
    /// Why the answer may be an increment low, when it may.
    pub warnings: Vec<String>,
}

/// Seconds a run needs to tell `size` PTUs from one increment fewer, with a bucket of
/// `horizon`; a fleet without PTUs needs only the warm-up.
pub fn needed(horizon: Duration, size: u32, increment: u32) -> Duration {
    let overload = if size > increment && increment > 0 {
        horizon.mul_f64(f64::from(size - increment) / f64::from(increment))
    } else {
        horizon
    };
    let total = WARM_UP + overload;
    // Whole minutes, at most LONGEST.
    Duration::from_secs(total.as_secs().div_ceil(60) * 60).min(LONGEST)
}

/// The warning for a run of `run` that needed `need` to size `size` PTUs to `increment` with a
/// bucket of `horizon`.
pub fn short_run_warning(
    run: Duration,
    need: Duration,
    horizon: Duration,
    size: u32,
    increment: u32,
) -> String {
    let hidden = if run > WARM_UP {
        horizon.as_secs_f64() / (run - WARM_UP).as_secs_f64() * 100.0
    } else {
        100.0
    };
    format!(
        "the run ({}) is shorter than the {} needed to resolve one increment ({increment} PTU) at {size} PTU: a sustained overload of up to {hidden:.0}% fills the PTU bucket only after the run ends, so the simulated size may be one or more increments low (give --duration {} or more)",
        minutes(run),
        minutes(need),
        minutes(need),
    )
}

/// `10m`, `33m`, `90s`.
pub fn minutes(duration: Duration) -> String {
    let seconds = duration.as_secs();
    if seconds % 60 == 0 {
        format!("{}m", seconds / 60)
    } else {
        format!("{seconds}s")
    }
}
