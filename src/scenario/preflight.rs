//! The pre-flight check of `sim`, `run`, `sweep` and `plan`: before a run starts, a rough
//! estimate of the requests it will simulate or send, the disk its results take and the memory
//! it holds, refused above safety ceilings unless the user says `--allow-large`. A scenario
//! that says `duration = "876000h"` or `rate = 1e12` is a typo far more often than a plan, and
//! would otherwise fill the disk (or the memory) before anyone noticed.
//!
//! Pure arithmetic on the scenario: the workload's expected request count (the rate's integral,
//! as the progress bars use), its length, the pool's size, and per-item costs measured on this
//! repository's outputs (the constants below). The estimate is deliberately rough — within a
//! factor of two of what a run writes — since it only has to tell a big run from an absurd one.
//! The one input read from disk is a trace's size, for a trace without a row limit.

use std::time::Duration;

use crate::metrics::series::MAX_SECONDS;

use super::Scenario;

/// Results bytes per request and strategy: a `requests.csv` row (~120 B) and its attempts'
/// `attempts.csv` rows (~75 B each, ~1.1 per request).
pub const DISK_PER_REQUEST: f64 = 200.0;
/// Results bytes per scenario second, strategy and backend row of `timeseries.csv` (~60 B; the
/// `all` row and the histogram log count as two more rows).
pub const DISK_PER_SERIES_ROW: f64 = 60.0;
/// Fixed results bytes per run (report.html, summary.json, report.md).
pub const DISK_PER_RUN: f64 = 1.0 * 1024.0 * 1024.0;
/// Memory per scenario second of one strategy's per-second series (request and latency
/// buckets), plus [`MEMORY_PER_BACKEND_SECOND`] per backend.
pub const MEMORY_PER_SECOND: f64 = 64.0;
/// Memory per scenario second and backend of one strategy's series.
pub const MEMORY_PER_BACKEND_SECOND: f64 = 48.0;
/// Memory per simulated request in flight.
pub const MEMORY_PER_FLIGHT: f64 = 1024.0;
/// Seconds a request is assumed to stay in flight (simulated: most take a few seconds; the
/// client timeout bounds the rest).
pub const ASSUMED_FLIGHT_SECONDS: f64 = 30.0;
/// Memory per live request in flight, over the load engine, the gateway and the mock (tasks,
/// sockets, buffers).
pub const MEMORY_PER_LIVE_FLIGHT: f64 = 48.0 * 1024.0;
/// Average bytes of a trace row, to count the rows of a trace without `max_requests`.
pub const TRACE_BYTES_PER_ROW: f64 = 32.0;

/// What is about to run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Job {
    /// `sim`: every strategy in virtual time, `jobs` at once; results written.
    Sim {
        /// Strategies simulated at once.
        jobs: usize,
    },
    /// `run`: every strategy live, one after the other; results written.
    Live {
        /// Scenario time runs this many times faster than the wall clock.
        time_scale: f64,
        /// The load engine's cap on requests in flight.
        max_in_flight: usize,
    },
    /// One simulation of a `sweep` (a cell's scenario with the strategies it runs there),
    /// only a summary kept. Sum the simulations.
    SweepCell {
        /// Simulations run at once.
        jobs: usize,
    },
    /// One candidate fleet of a `plan`: every strategy simulated at `load` times the workload's
    /// rates (growth × headroom), only a summary kept.
    PlanCandidate {
        /// Load factor on the workload.
        load: f64,
        /// Candidates simulated at once.
        jobs: usize,
    },
}

/// What a run is expected to cost.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Estimate {
    /// Requests simulated or sent, over every strategy (and cell).
    pub requests: f64,
    /// Results written, bytes.
    pub disk_bytes: f64,
    /// Memory held at the peak, bytes.
    pub memory_bytes: f64,
    /// Wall-clock seconds a live run takes (0 for simulations).
    pub wall_seconds: f64,
    /// Scenario seconds of one run.
    pub scenario_seconds: f64,
}

impl std::ops::Add for Estimate {
    type Output = Estimate;

    /// Runs one after the other: requests, disk and time add up; memory is the larger peak.
    fn add(self, other: Estimate) -> Estimate {
        Estimate {
            requests: self.requests + other.requests,
            disk_bytes: self.disk_bytes + other.disk_bytes,
            memory_bytes: self.memory_bytes.max(other.memory_bytes),
            wall_seconds: self.wall_seconds + other.wall_seconds,
            scenario_seconds: self.scenario_seconds.max(other.scenario_seconds),
        }
    }
}

impl std::iter::Sum for Estimate {
    fn sum<I: Iterator<Item = Estimate>>(iter: I) -> Estimate {
        iter.fold(Estimate::default(), |total, one| total + one)
    }
}

/// Above these a run is refused unless `--allow-large`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ceilings {
    /// Requests over the whole command.
    pub requests: f64,
    /// Results on disk, bytes.
    pub disk_bytes: f64,
    /// Peak memory, bytes.
    pub memory_bytes: f64,
    /// Wall-clock length of a live run, seconds.
    pub wall_seconds: f64,
}

/// The default ceilings: a billion requests, 20 GiB of results, 8 GiB of memory, a week of
/// wall-clock time. The README's hour at 1,000 requests per second over six strategies is
/// 2% of the first.
pub const CEILINGS: Ceilings = Ceilings {
    requests: 1e9,
    disk_bytes: 20.0 * GIB,
    memory_bytes: 8.0 * GIB,
    wall_seconds: 7.0 * 86_400.0,
};

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// The workload facts the estimate needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WorkloadFacts {
    /// Expected requests over one run.
    pub requests: f64,
    /// Scenario seconds of one run.
    pub seconds: f64,
    /// Strategies in the scenario.
    pub strategies: usize,
    /// Backends a strategy reports on (pool and spillover targets).
    pub backends: usize,
}

impl WorkloadFacts {
    /// Read them off `scenario` (a trace without a row limit is counted from its size).
    pub fn of(scenario: &Scenario) -> Result<WorkloadFacts, super::ScenarioError> {
        let workload = scenario.workload()?;
        let summary = workload.summary();
        let seconds = summary
            .duration
            .map_or(0.0, |duration| duration.as_secs_f64());
        let counted: f64 = summary
            .sources
            .iter()
            .filter_map(|source| source.expected_requests)
            .sum();
        let trace_rows = match (&scenario.file.workload.trace, summary.expected_requests) {
            (Some(trace), None) => {
                let path = scenario.base_dir().join(&trace.path);
                let bytes = std::fs::metadata(path).map_or(0, |meta| meta.len());
                bytes as f64 / TRACE_BYTES_PER_ROW * trace.rate_scale
            }
            _ => 0.0,
        };
        Ok(WorkloadFacts {
            requests: counted + trace_rows,
            seconds,
            strategies: scenario.strategies.len(),
            backends: scenario.pool.len() + scenario.spillover_targets.len(),
        })
    }
}

/// The estimate of `job` on a workload with `facts`.
pub fn estimate(facts: &WorkloadFacts, job: Job) -> Estimate {
    let strategies = facts.strategies.max(1) as f64;
    let backends = facts.backends as f64;
    let series_seconds = facts.seconds.min(MAX_SECONDS as f64);
    let series_memory = series_seconds * (MEMORY_PER_SECOND + MEMORY_PER_BACKEND_SECOND * backends);
    let (load, parallel, writes) = match job {
        Job::Sim { jobs } => (1.0, jobs.clamp(1, facts.strategies.max(1)), true),
        Job::Live { .. } => (1.0, 1, true),
        Job::SweepCell { jobs } | Job::PlanCandidate { jobs, .. } => {
            let load = match job {
                Job::PlanCandidate { load, .. } => load,
                _ => 1.0,
            };
            (load, jobs.max(1), false)
        }
    };
    let requests_per_run = facts.requests * load;
    let rate = if facts.seconds > 0.0 {
        requests_per_run / facts.seconds
    } else {
        0.0
    };
    let (flight_memory, wall_seconds) = match job {
        Job::Live {
            time_scale,
            max_in_flight,
        } => {
            let in_flight = (rate / time_scale.max(f64::MIN_POSITIVE) * ASSUMED_FLIGHT_SECONDS)
                .min(max_in_flight as f64);
            (
                in_flight * MEMORY_PER_LIVE_FLIGHT,
                facts.seconds / time_scale.max(f64::MIN_POSITIVE) * strategies,
            )
        }
        _ => (rate * ASSUMED_FLIGHT_SECONDS * MEMORY_PER_FLIGHT, 0.0),
    };
    let disk_per_strategy = if writes {
        requests_per_run * DISK_PER_REQUEST
            + series_seconds * DISK_PER_SERIES_ROW * (backends + 2.0)
    } else {
        0.0
    };
    Estimate {
        requests: requests_per_run * strategies,
        disk_bytes: disk_per_strategy * strategies + DISK_PER_RUN,
        memory_bytes: (series_memory + flight_memory) * parallel as f64,
        wall_seconds,
        scenario_seconds: facts.seconds,
    }
}

/// Why a run was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "this run is too large to start without --allow-large: {estimate}; above the safety \
     limit of {over}. Shorten workload.duration or lower the arrival rates (a typo such as \
     duration = \"876000h\" or rate = 1e12 looks like this), or pass --allow-large to run it \
     anyway"
)]
pub struct TooLarge {
    /// The estimate, in words.
    pub estimate: String,
    /// The ceilings it is over, in words.
    pub over: String,
}

/// An amount of bytes in words (`1.9 TiB`).
fn bytes(value: f64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = value.max(0.0);
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// A count in words (`3.2e9`).
fn count(value: f64) -> String {
    if value < 1e6 {
        format!("{value:.0}")
    } else {
        format!("{value:.1e}")
    }
}

impl Estimate {
    /// The estimate in words: requests, disk, memory (and wall time for a live run).
    pub fn describe(&self) -> String {
        let mut text = format!(
            "about {} requests over {} of scenario time, {} of results, {} of memory",
            count(self.requests),
            crate::duration::format(Duration::from_secs_f64(
                self.scenario_seconds.clamp(0.0, 1e15)
            )),
            bytes(self.disk_bytes),
            bytes(self.memory_bytes),
        );
        if self.wall_seconds > 0.0 {
            text.push_str(&format!(
                ", {} of wall-clock time",
                crate::duration::format(Duration::from_secs_f64(
                    self.wall_seconds.clamp(0.0, 1e15)
                ))
            ));
        }
        text
    }

    /// Ok when within `ceilings` or `allow_large`; else the refusal with the estimate.
    pub fn check(&self, ceilings: &Ceilings, allow_large: bool) -> Result<(), TooLarge> {
        let mut over = Vec::new();
        if self.requests > ceilings.requests {
            over.push(format!("{} requests", count(ceilings.requests)));
        }
        if self.disk_bytes > ceilings.disk_bytes {
            over.push(format!("{} of results", bytes(ceilings.disk_bytes)));
        }
        if self.memory_bytes > ceilings.memory_bytes {
            over.push(format!("{} of memory", bytes(ceilings.memory_bytes)));
        }
        if self.wall_seconds > ceilings.wall_seconds {
            over.push(format!(
                "{} of wall-clock time",
                crate::duration::format(Duration::from_secs_f64(ceilings.wall_seconds))
            ));
        }
        if over.is_empty() || allow_large {
            return Ok(());
        }
        Err(TooLarge {
            estimate: self.describe(),
            over: over.join(", "),
        })
    }
}

/// Estimate `job` on `scenario` and refuse it above the default ceilings unless `allow_large`:
/// the one call each command makes before it starts.
pub fn refuse_unless_allowed(
    scenario: &Scenario,
    job: Job,
    allow_large: bool,
) -> Result<Estimate, PreflightError> {
    let estimate = estimate(&WorkloadFacts::of(scenario)?, job);
    estimate.check(&CEILINGS, allow_large)?;
    Ok(estimate)
}

/// What the pre-flight check can fail with.
#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    /// The scenario's workload could not be compiled.
    #[error(transparent)]
    Scenario(#[from] super::ScenarioError),
    /// The run is over a ceiling.
    #[error(transparent)]
    TooLarge(#[from] TooLarge),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The embedded default's shape: ~3 requests a second, six strategies, three backends.
    fn facts(rate: f64, seconds: f64) -> WorkloadFacts {
        WorkloadFacts {
            requests: rate * seconds,
            seconds,
            strategies: 6,
            backends: 3,
        }
    }

    #[test]
    fn ordinary_runs_pass_and_the_readmes_big_hour_too() {
        for (rate, seconds) in [(3.0, 180.0), (1000.0, 3600.0), (100.0, 86_400.0)] {
            let sim = estimate(&facts(rate, seconds), Job::Sim { jobs: 2 });
            assert_eq!(
                sim.check(&CEILINGS, false),
                Ok(()),
                "{rate}/s for {seconds} s"
            );
        }
        let live = estimate(
            &facts(1000.0, 600.0),
            Job::Live {
                time_scale: 1.0,
                max_in_flight: 10_000,
            },
        );
        assert_eq!(live.check(&CEILINGS, false), Ok(()));
        assert_eq!(live.wall_seconds, 6.0 * 600.0);
    }

    #[test]
    fn a_century_or_a_terarate_is_refused_with_the_estimate_unless_allowed() {
        let century = estimate(&facts(3.0, 876_000.0 * 3600.0), Job::Sim { jobs: 2 });
        let refusal = century.check(&CEILINGS, false).unwrap_err().to_string();
        assert!(refusal.contains("5.7e10 requests"), "{refusal}");
        assert!(refusal.contains("TiB of results"), "{refusal}");
        assert!(
            refusal.contains("above the safety limit of 1.0e9 requests, 20.0 GiB of results"),
            "{refusal}"
        );
        assert!(refusal.contains("--allow-large"), "{refusal}");
        assert_eq!(century.check(&CEILINGS, true), Ok(()));
        let flood = estimate(&facts(1e12, 180.0), Job::SweepCell { jobs: 2 });
        let refusal = flood.check(&CEILINGS, false).unwrap_err().to_string();
        assert!(refusal.contains("1.1e15 requests"), "{refusal}");
        assert!(refusal.contains("of memory"), "{refusal}");
    }

    #[test]
    fn sums_add_up_runs_and_keep_the_largest_peak() {
        let small = estimate(&facts(1.0, 60.0), Job::SweepCell { jobs: 1 });
        let big = estimate(&facts(100.0, 60.0), Job::SweepCell { jobs: 1 });
        let total: Estimate = [small, big].into_iter().sum();
        assert_eq!(total.requests, small.requests + big.requests);
        assert_eq!(total.memory_bytes, big.memory_bytes);
        assert_eq!(
            estimate(&facts(1.0, 60.0), Job::PlanCandidate { load: 2.0, jobs: 1 }).requests,
            2.0 * small.requests
        );
    }

    #[test]
    fn a_long_live_run_is_refused_for_its_wall_clock_time() {
        let slow = estimate(
            &facts(0.01, 30.0 * 86_400.0),
            Job::Live {
                time_scale: 1.0,
                max_in_flight: 10_000,
            },
        );
        let refusal = slow.check(&CEILINGS, false).unwrap_err().to_string();
        assert!(refusal.contains("wall-clock time"), "{refusal}");
    }
}
