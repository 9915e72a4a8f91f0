//! Fitting an arrival process: the rate per time bin (the time-of-day profile), whether it
//! varies more than Poisson noise would (a dispersion test of the bin counts), and the
//! burstiness within it (the coefficient of variation of the inter-arrival gaps after
//! rescaling each by its bin's rate; 1 for Poisson, the Gamma shape is 1/CV²).
//!
//! The scenario schema expresses either a time-varying Poisson rate (`steps`) or a constant
//! rate with Gamma gaps (`gamma`; evenly spaced `constant` below a CV of 0.1), not both: a
//! varying rate wins, and burstiness that cannot then be expressed is stated in a note.

use std::time::Duration;

use super::Note;
use super::stats::{Bootstrap, Estimate, chi_square_sf, mean, sd};
use crate::workload::{ArrivalsConfig, RateStep};

/// The fitted arrivals of one app.
#[derive(Debug, Clone)]
pub struct ArrivalFit {
    /// What the scenario gets.
    pub process: ArrivalsConfig,
    /// Arrivals seen.
    pub requests: usize,
    /// Mean rate (requests per second) with its Poisson 95% interval.
    pub mean_rate: Estimate,
    /// Observed rate per bin: (bin start s, requests per second).
    pub bins: Vec<(f64, f64)>,
    /// p-value of "the rate is constant" (dispersion test of the bin counts).
    pub constant_p: f64,
    /// CV of the rate-rescaled gaps (1 = Poisson), with its bootstrap interval.
    pub cv: Estimate,
}

/// The rate of each bin of `bin_s` seconds over `[0, duration_s)`.
fn bin_rates(times: &[f64], duration_s: f64, bin_s: f64) -> Vec<(f64, f64, f64)> {
    let count = (duration_s / bin_s).ceil().max(1.0) as usize;
    let mut counts = vec![0u64; count];
    for t in times {
        let index = ((t / bin_s).floor().max(0.0) as usize).min(count - 1);
        counts[index] += 1;
    }
    counts
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let start = k as f64 * bin_s;
            let length = (duration_s - start).min(bin_s).max(1e-9);
            (start, *c as f64 / length, length)
        })
        .collect()
}

/// Fit the arrivals at `times` (seconds from the run start, sorted) over `duration_s`.
pub fn fit_arrivals(
    app: &str,
    times: &[f64],
    duration_s: f64,
    bin_s: f64,
    bootstrap: &mut Bootstrap,
    notes: &mut Vec<Note>,
) -> ArrivalFit {
    let n = times.len();
    let rate = n as f64 / duration_s;
    let half = 1.96 * (n as f64).sqrt() / duration_s;
    let mean_rate = Estimate {
        value: rate,
        ci: Some(((rate - half).max(0.0), rate + half)),
    };
    let bins = bin_rates(times, duration_s, bin_s);
    let dispersion: f64 = bins
        .iter()
        .map(|(_, r, len)| {
            let expected = rate * len;
            if expected > 0.0 {
                (r * len - expected).powi(2) / expected
            } else {
                0.0
            }
        })
        .sum();
    let constant_p = chi_square_sf(dispersion, bins.len() as f64 - 1.0);
    let varies = bins.len() >= 2 && constant_p < 1e-3;
    let rate_at = |t: f64| {
        if varies {
            let index = ((t / bin_s).floor().max(0.0) as usize).min(bins.len() - 1);
            bins[index].1
        } else {
            rate
        }
    };
    let gaps: Vec<f64> = times
        .windows(2)
        .map(|pair| (pair[1] - pair[0]) * rate_at(pair[1]))
        .collect();
    let cv_of = |w: &[f64]| {
        let total: f64 = w.iter().sum();
        if total < 2.0 {
            return None;
        }
        let m = gaps.iter().zip(w).map(|(g, w)| g * w).sum::<f64>() / total;
        let var = gaps
            .iter()
            .zip(w)
            .map(|(g, w)| w * (g - m).powi(2))
            .sum::<f64>()
            / total;
        (m > 0.0).then(|| [var.sqrt() / m])
    };
    let point = if gaps.len() >= 2 && mean(&gaps) > 0.0 {
        sd(&gaps) / mean(&gaps)
    } else {
        1.0
    };
    let [ci] = bootstrap.intervals(gaps.len(), cv_of);
    let cv = Estimate { value: point, ci };
    let bursty = gaps.len() >= 30 && !cv.ci_contains(1.0) && (point - 1.0).abs() > 0.1;
    let process = if n == 0 {
        notes.push(Note::new(app, "no arrivals: rate left at 0.001 req/s"));
        ArrivalsConfig::Poisson { rate: 0.001 }
    } else if varies {
        if bursty {
            notes.push(Note::new(
                app,
                format!(
                    "inter-arrival CV {point:.2} (Poisson 1) is not expressed: with a rate \
                     that varies over the day the scenario's arrivals are Poisson within each \
                     {bin_s:.0} s step"
                ),
            ));
        }
        ArrivalsConfig::Steps {
            steps: bins
                .iter()
                .map(|(start, r, _)| RateStep {
                    at: Duration::from_secs_f64(*start),
                    rate: round_rate(*r),
                })
                .collect(),
        }
    } else if bursty && point < 0.1 {
        ArrivalsConfig::Constant {
            rate: round_rate(rate),
        }
    } else if bursty {
        ArrivalsConfig::Gamma {
            rate: round_rate(rate),
            burstiness: (1.0 / (point * point) * 1000.0).round() / 1000.0,
        }
    } else {
        ArrivalsConfig::Poisson {
            rate: round_rate(rate),
        }
    };
    ArrivalFit {
        process,
        requests: n,
        mean_rate,
        bins: bins.iter().map(|(start, r, _)| (*start, *r)).collect(),
        constant_p,
        cv,
    }
}

fn round_rate(rate: f64) -> f64 {
    (rate * 1e6).round() / 1e6
}

/// Expected arrivals of `process` in `[from, to)` seconds (for per-hour residuals).
pub fn expected_between(process: &ArrivalsConfig, from: f64, to: f64) -> f64 {
    let until = |t: f64| -> f64 {
        match process {
            ArrivalsConfig::Poisson { rate }
            | ArrivalsConfig::Gamma { rate, .. }
            | ArrivalsConfig::Constant { rate } => rate * t,
            ArrivalsConfig::Steps { steps } => steps
                .iter()
                .enumerate()
                .map(|(i, step)| {
                    let start = step.at.as_secs_f64();
                    let end = steps
                        .get(i + 1)
                        .map_or(f64::INFINITY, |s| s.at.as_secs_f64());
                    step.rate * (end.min(t) - start).max(0.0)
                })
                .sum(),
            _ => f64::NAN,
        }
    };
    until(to) - until(from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    fn poisson_times(rate: f64, duration: f64, seed: u64) -> Vec<f64> {
        let mut rng = crate::seed::stream(seed, "t");
        let mut t = 0.0;
        let mut times = Vec::new();
        loop {
            t += -(1.0 - rng.random::<f64>()).ln() / rate;
            if t >= duration {
                return times;
            }
            times.push(t);
        }
    }

    /// Fit 20 minutes of `times` in 5-minute steps.
    fn fit(times: &[f64]) -> (ArrivalFit, Vec<Note>) {
        let mut notes = Vec::new();
        let fit = fit_arrivals(
            "a",
            times,
            1200.0,
            300.0,
            &mut Bootstrap::new(1, "a", 100),
            &mut notes,
        );
        (fit, notes)
    }

    #[test]
    fn a_steady_poisson_stream_fits_a_constant_poisson_rate() {
        let (fit, notes) = fit(&poisson_times(5.0, 1200.0, 3));
        let ArrivalsConfig::Poisson { rate } = fit.process else {
            panic!("{:?}", fit.process)
        };
        assert!((rate - 5.0).abs() < 0.2, "{rate}");
        assert!(fit.cv.ci_contains(1.0), "{:?}", fit.cv);
        assert!(notes.is_empty());
    }

    #[test]
    fn a_rate_that_doubles_halfway_fits_steps() {
        let mut times = poisson_times(2.0, 600.0, 4);
        times.extend(poisson_times(6.0, 600.0, 5).iter().map(|t| t + 600.0));
        let (fit, _) = fit(&times);
        let ArrivalsConfig::Steps { steps } = &fit.process else {
            panic!("{:?}", fit.process)
        };
        assert_eq!(steps.len(), 4);
        assert!((steps[0].rate - 2.0).abs() < 0.4 && (steps[3].rate - 6.0).abs() < 0.6);
        let expected = expected_between(&fit.process, 0.0, 1200.0);
        assert!((expected - times.len() as f64).abs() < 1e-6 * expected);
    }
}
