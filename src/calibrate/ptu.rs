//! The PTU count a provisioned deployment's 429s imply. The mock, as AOAI, keeps a leaky
//! bucket: each admitted call adds its estimate (prompt + output weight × max_tokens or the
//! model's default), corrected to the actual cost (prompt + output weight × completion) when
//! it ends; the bucket drains at PTU × input-TPM-per-PTU / 60 per second; a call is throttled
//! when the level is at or above 60 s of drain. For each candidate PTU count the logged
//! admissions are replayed and every logged call classified; the count that misclassifies the
//! fewest calls is the estimate (the middle of the best run of counts), with a Poisson
//! bootstrap over calls for the interval.

use super::Note;
use super::stats::{Bootstrap, Estimate};

/// One logged call to the deployment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PtuRow {
    /// Start, nanoseconds.
    pub start_ns: i64,
    /// End, nanoseconds, if the duration is logged.
    pub end_ns: Option<i64>,
    /// Admitted (false: a 429).
    pub admitted: bool,
    /// Admission estimate, input-token equivalents.
    pub estimate: f64,
    /// Actual cost, input-token equivalents.
    pub actual: f64,
    /// Whether the sizes come from logged tokens (a 429 usually logs none: its estimate is
    /// then taken at the deployment's median prompt).
    pub sized: bool,
}

/// The bucket's constants.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// Input tokens per minute per PTU of the model.
    pub input_tpm_per_ptu: f64,
    /// Seconds of drain at 100% utilization (the mock's `ptu_horizon`).
    pub horizon_s: f64,
    /// Admission allowed up to 100% + this (percent).
    pub overshoot_pct: f64,
}

/// The fitted PTU count.
#[derive(Debug, Clone, PartialEq)]
pub struct PtuQuota {
    /// Calls classified, and of them 429s.
    pub rows: usize,
    /// See `rows`.
    pub throttled: usize,
    /// The count, if the 429s identify it.
    pub ptu: Option<Estimate>,
    /// Calls with logged sizes the fitted bucket explains differently from the logs.
    pub misclassified: f64,
    /// Calls whose size is not logged.
    pub unsized_calls: usize,
    /// The smallest count under which no admitted call would have been throttled.
    pub least_ptu: u32,
}

/// Throttle predictions of every row under `ptu` units; `admitted(i, predicted)` says whether
/// row i was admitted (the logs' answer when fitting; the prediction when generating).
fn replay_with(
    rows: &[PtuRow],
    ptu: f64,
    bucket: Bucket,
    admitted: &dyn Fn(usize, bool) -> bool,
) -> Vec<bool> {
    let drain = ptu * bucket.input_tpm_per_ptu / 60.0;
    let full = drain * bucket.horizon_s * (1.0 + bucket.overshoot_pct / 100.0);
    // Pending corrections (end, delta) of admitted calls, earliest end first.
    let mut pending = std::collections::BinaryHeap::new();
    let (mut level, mut now) = (0.0f64, i64::MIN);
    let advance = |to: i64, level: &mut f64, now: &mut i64| {
        if *now != i64::MIN && to > *now {
            *level = (*level - drain * (to - *now) as f64 / 1e9).max(0.0);
        }
        *now = to.max(*now);
    };
    rows.iter()
        .enumerate()
        .map(|(i, row)| {
            while let Some(&(std::cmp::Reverse(end), Delta(delta))) = pending.peek() {
                if end > row.start_ns {
                    break;
                }
                pending.pop();
                advance(end, &mut level, &mut now);
                level = (level + delta).max(0.0);
            }
            advance(row.start_ns, &mut level, &mut now);
            let throttled = level >= full;
            if admitted(i, throttled) {
                level += row.estimate;
                if let Some(end) = row.end_ns {
                    pending.push((std::cmp::Reverse(end), Delta(row.actual - row.estimate)));
                }
            }
            throttled
        })
        .collect()
}

/// A correction amount, ordered only so that it can sit in the heap beside its end time.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Delta(f64);

impl Eq for Delta {}

impl PartialOrd for Delta {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Delta {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// Throttle predictions of every row under `ptu` units, with the logged admissions.
fn replay(rows: &[PtuRow], ptu: f64, bucket: Bucket) -> Vec<bool> {
    replay_with(rows, ptu, bucket, &|i, _| rows[i].admitted)
}

/// Fit the PTU count of deployment `subject` from its calls (sorted by start).
pub fn fit_ptu(
    subject: &str,
    rows: &[PtuRow],
    bucket: Bucket,
    bootstrap: &mut Bootstrap,
    notes: &mut Vec<Note>,
) -> PtuQuota {
    let throttled = rows.iter().filter(|r| !r.admitted).count();
    let span_s = rows.last().zip(rows.first()).map_or(1.0, |(l, f)| {
        ((l.start_ns - f.start_ns) as f64 / 1e9).max(1.0)
    });
    let demand: f64 = rows
        .iter()
        .filter(|r| r.admitted)
        .map(|r| r.actual)
        .sum::<f64>()
        * 60.0
        / span_s;
    let most = (4.0 * demand / bucket.input_tpm_per_ptu).max(10.0).ceil() as u32;
    let mut counts: Vec<u32> = Vec::new();
    let mut p = 1.0f64;
    while (p as u32) <= most {
        counts.push(p as u32);
        p = (p * 1.05).max(p + 1.0);
    }
    counts.dedup();
    let errors = |predicted: &[bool], w: &[f64]| -> f64 {
        rows.iter()
            .zip(predicted)
            .zip(w)
            .filter(|((r, t), _)| r.admitted == **t)
            .map(|(_, w)| *w)
            .sum()
    };
    let ones = vec![1.0; rows.len()];
    let mut predictions: Vec<(u32, Vec<bool>)> = counts
        .iter()
        .map(|&c| (c, replay(rows, f64::from(c), bucket)))
        .collect();
    let least_ptu = predictions
        .iter()
        .find(|(_, p)| rows.iter().zip(p).all(|(r, t)| !(r.admitted && *t)))
        .map_or(most, |(c, _)| *c);
    let unsized_calls = rows.iter().filter(|r| !r.sized).count();
    let mut quota = PtuQuota {
        rows: rows.len(),
        throttled,
        ptu: None,
        misclassified: 0.0,
        unsized_calls,
        least_ptu,
    };
    if throttled == 0 {
        notes.push(Note::new(subject, format!("no 429s: the PTU count is not identified; at least {least_ptu} PTU never throttles what was admitted")));
        return quota;
    }
    // Refine to every whole count around the coarse optimum.
    let coarse = predictions
        .iter()
        .min_by(|a, b| errors(&a.1, &ones).total_cmp(&errors(&b.1, &ones)))
        .map_or(1, |(c, _)| *c);
    for c in coarse.saturating_sub(coarse / 10 + 2).max(1)..=coarse + coarse / 10 + 2 {
        if !predictions.iter().any(|(k, _)| *k == c) {
            predictions.push((c, replay(rows, f64::from(c), bucket)));
        }
    }
    predictions.sort_by_key(|(c, _)| *c);
    // Rows classified alike under every candidate cannot move the optimum: leave them out.
    let varying: Vec<usize> = (0..rows.len())
        .filter(|&i| predictions.iter().any(|(_, p)| p[i] != predictions[0].1[i]))
        .collect();
    let best = |w: &[f64]| -> (f64, f64) {
        let scores: Vec<f64> = predictions
            .iter()
            .map(|(_, p)| {
                varying
                    .iter()
                    .filter(|&&i| rows[i].admitted == p[i])
                    .map(|&i| w[i])
                    .sum()
            })
            .collect();
        let low = scores.iter().copied().fold(f64::INFINITY, f64::min);
        let run: Vec<u32> = predictions
            .iter()
            .zip(&scores)
            .filter(|(_, s)| **s <= low + 1e-9)
            .map(|((c, _), _)| *c)
            .collect();
        let middle = run.get(run.len() / 2).copied().unwrap_or(1);
        (f64::from(middle), low)
    };
    let (point, _) = best(&ones);
    let [ci] = bootstrap.intervals(rows.len(), |w| Some([best(w).0]));
    let sized: Vec<f64> = rows.iter().map(|r| f64::from(u8::from(r.sized))).collect();
    let chosen = predictions
        .iter()
        .find(|(c, _)| f64::from(*c) == point)
        .map_or(0.0, |(_, p)| errors(p, &sized));
    quota.misclassified = chosen;
    quota.ptu = Some(Estimate { value: point, ci });
    quota
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ptu_count_that_throttled_the_logged_calls_is_found() {
        let bucket = Bucket {
            input_tpm_per_ptu: 2500.0,
            horizon_s: 60.0,
            overshoot_pct: 0.0,
        };
        // Calls of 1,000 estimated (600 actual) tokens every 0.2 s against 20 PTU.
        let mut calls: Vec<PtuRow> = (0..3000i64)
            .map(|k| PtuRow {
                start_ns: k * 200_000_000,
                end_ns: Some(k * 200_000_000 + 2_000_000_000),
                admitted: true,
                estimate: 1000.0,
                actual: 600.0,
                sized: true,
            })
            .collect();
        let truth = replay_with(&calls, 20.0, bucket, &|_, throttled| !throttled);
        for (call, throttled) in calls.iter_mut().zip(truth) {
            call.admitted = !throttled;
        }
        let mut notes = Vec::new();
        let fit = fit_ptu(
            "p",
            &calls,
            bucket,
            &mut Bootstrap::new(1, "p", 40),
            &mut notes,
        );
        let ptu = fit.ptu.unwrap();
        assert!((19.0..=21.0).contains(&ptu.value), "{fit:?}");
        assert!(fit.throttled > 100);
    }
}
