//! The quota a standard (pay-as-you-go) deployment's 429s imply. The mock, as AOAI, admits a
//! call iff fewer than RPM/6 calls were admitted in the last 10 s and the estimated tokens
//! admitted in the last 60 s plus this call's estimate fit in the TPM (429s count toward
//! neither). Replaying the logged admissions gives, for every logged call, the two window
//! loads it met (c = calls in 10 s, s = tokens in 60 s + its own estimate): a call was
//! throttled iff c ≥ Q or s > T (windows counted on 100 ms buckets, as the mock's rings). The (Q, T) misclassifying the fewest calls is the estimate
//! (a larger Q wins ties: the request limit binds only if the data need it); T is the middle
//! of the interval that fits, and the Poisson bootstrap over calls gives the 95% intervals.

use super::Note;
use super::stats::{Bootstrap, Estimate};

/// One logged call to the deployment: admitted (2xx) or throttled (429).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuotaRow {
    /// Start, nanoseconds.
    pub start_ns: i64,
    /// Admitted (false: a 429).
    pub admitted: bool,
    /// The admission estimate in tokens.
    pub estimate: f64,
    /// Whether the estimate comes from logged tokens (a 429 usually logs none: its estimate
    /// is then taken at the deployment's median prompt).
    pub sized: bool,
}

/// The fitted standard quota.
#[derive(Debug, Clone, PartialEq)]
pub struct StandardQuota {
    /// Calls classified.
    pub rows: usize,
    /// Of them 429s.
    pub throttled: usize,
    /// Calls with logged sizes the fitted windows explain differently from the logs.
    pub misclassified: f64,
    /// Calls whose size is not logged (their estimate taken at the median prompt).
    pub unsized_calls: usize,
    /// Tokens per minute (estimated tokens per 60 s), if the 429s identify it.
    pub tpm: Option<Estimate>,
    /// The TPM interval that explains the point fit's calls: (largest admitted load, smallest
    /// throttled load).
    pub tpm_bracket: Option<(f64, f64)>,
    /// Requests per minute (6 × the 10 s limit), if request-bound 429s identify it.
    pub rpm: Option<Estimate>,
    /// The most calls admitted within 10 s, and the most estimated tokens within 60 s.
    pub peak_calls_10s: u32,
    /// See `peak_calls_10s`.
    pub peak_tokens_60s: f64,
}

/// The mock's windows are rings of 100 ms buckets (10 s = 100 buckets, 60 s = 600): an entry
/// leaves when the ring has moved a whole window past its bucket. The replay counts the same
/// way, on buckets of the logged time.
const BUCKET_NS: i64 = 100_000_000;
const TEN_S_BUCKETS: i64 = 100;
const MINUTE_BUCKETS: i64 = 600;

fn bucket(ns: i64) -> i64 {
    ns.div_euclid(BUCKET_NS)
}

/// Window loads met by each row: (calls admitted in the last 10 s, tokens admitted in the
/// last 60 s + own estimate).
fn window_loads(rows: &[QuotaRow]) -> Vec<(u32, f64)> {
    let admitted: Vec<&QuotaRow> = rows.iter().filter(|r| r.admitted).collect();
    let (mut lo10, mut lo60, mut hi, mut tokens) = (0usize, 0usize, 0usize, 0.0f64);
    rows.iter()
        .map(|row| {
            while hi < admitted.len() && admitted[hi].start_ns < row.start_ns {
                tokens += admitted[hi].estimate;
                hi += 1;
            }
            let now = bucket(row.start_ns);
            while lo10 < hi && now - bucket(admitted[lo10].start_ns) >= TEN_S_BUCKETS {
                lo10 += 1;
            }
            while lo60 < hi && now - bucket(admitted[lo60].start_ns) >= MINUTE_BUCKETS {
                tokens -= admitted[lo60].estimate;
                lo60 += 1;
            }
            ((hi - lo10) as u32, tokens.max(0.0) + row.estimate)
        })
        .collect()
}

/// Calls (by weight) a request-window bound must explain beyond what the token window alone
/// explains before it counts as identified: one call on a window's edge — a 429 whose logged
/// estimate is a token short — is noise, not evidence of an RPM, and a spurious RPM far below
/// the real one would throttle the calibrated fleet.
const REQUEST_BOUND_EVIDENCE: f64 = 3.0;

/// The best (Q, T interval, errors) under weights `w`; `by_s` orders the rows by load s. A
/// request bound Q is taken only when it explains [`REQUEST_BOUND_EVIDENCE`] more calls than
/// the token bound alone.
fn classify(
    loads: &[(u32, f64)],
    y: &[bool],
    w: &[f64],
    by_s: &[usize],
) -> (Option<u32>, (f64, f64), f64) {
    let mut candidates: Vec<u32> = loads
        .iter()
        .zip(y)
        .filter(|(_, t)| **t)
        .map(|(l, _)| l.0)
        .collect();
    candidates.sort_unstable_by(|a, b| b.cmp(a));
    candidates.dedup();
    let mut best: (Option<u32>, (f64, f64), f64) = (None, (0.0, f64::INFINITY), f64::INFINITY);
    for q in std::iter::once(None).chain(candidates.into_iter().map(Some)) {
        let caught = |i: usize| q.is_some_and(|q| loads[i].0 >= q);
        let base: f64 = (0..loads.len())
            .filter(|&i| caught(i) && !y[i])
            .map(|i| w[i])
            .sum();
        if base >= best.2 {
            break;
        }
        // All rest predicted throttled (T below every load), then move them to admitted.
        let mut error: f64 = base
            + by_s
                .iter()
                .filter(|&&i| !caught(i) && !y[i])
                .map(|&i| w[i])
                .sum::<f64>();
        let (mut best_here, mut interval) =
            (error, (f64::NEG_INFINITY, first_load(loads, by_s, &caught)));
        let rest: Vec<usize> = by_s.iter().copied().filter(|&i| !caught(i)).collect();
        for (k, &i) in rest.iter().enumerate() {
            error += if y[i] { w[i] } else { -w[i] };
            let next = rest.get(k + 1).map_or(f64::INFINITY, |&j| loads[j].1);
            if next > loads[i].1 && error < best_here - 1e-9 {
                best_here = error;
                interval = (loads[i].1, next);
            }
        }
        let margin = if q.is_some() {
            REQUEST_BOUND_EVIDENCE
        } else {
            1e-9
        };
        if best_here < best.2 - margin {
            best = (q, interval, best_here);
        }
    }
    best
}

fn first_load(loads: &[(u32, f64)], by_s: &[usize], caught: &dyn Fn(usize) -> bool) -> f64 {
    by_s.iter()
        .find(|&&i| !caught(i))
        .map_or(f64::INFINITY, |&i| loads[i].1)
}

fn point_of(interval: (f64, f64)) -> Option<f64> {
    match interval {
        (_, hi) if hi.is_infinite() => None,
        (lo, hi) if lo.is_finite() => Some((lo + hi) / 2.0),
        (_, hi) => Some(hi),
    }
}

/// Fit the quota of deployment `subject` from its calls (sorted by start).
pub fn fit_standard(
    subject: &str,
    rows: &[QuotaRow],
    bootstrap: &mut Bootstrap,
    notes: &mut Vec<Note>,
) -> StandardQuota {
    let loads = window_loads(rows);
    let y: Vec<bool> = rows.iter().map(|r| !r.admitted).collect();
    let throttled = y.iter().filter(|t| **t).count();
    let admitted_loads = loads.iter().zip(&y).filter(|(_, t)| !**t).map(|(l, _)| *l);
    let peak_calls_10s = admitted_loads.clone().map(|l| l.0 + 1).max().unwrap_or(0);
    let peak_tokens_60s = admitted_loads.map(|l| l.1).fold(0.0, f64::max);
    let mut quota = StandardQuota {
        rows: rows.len(),
        throttled,
        misclassified: 0.0,
        unsized_calls: rows.iter().filter(|r| !r.sized).count(),
        tpm: None,
        tpm_bracket: None,
        rpm: None,
        peak_calls_10s,
        peak_tokens_60s,
    };
    if throttled == 0 {
        notes.push(Note::new(subject, format!(
            "no 429s: the quota is not identified; it is at least {peak_tokens_60s:.0} estimated tokens per minute and {} calls per 10 s (the peaks admitted)",
            peak_calls_10s
        )));
        return quota;
    }
    let mut by_s: Vec<usize> = (0..rows.len()).collect();
    by_s.sort_by(|&a, &b| loads[a].1.total_cmp(&loads[b].1));
    let ones = vec![1.0; rows.len()];
    let (q, interval, _) = classify(&loads, &y, &ones, &by_s);
    let sized: Vec<f64> = rows.iter().map(|r| f64::from(u8::from(r.sized))).collect();
    let t = point_of(interval).unwrap_or(f64::INFINITY);
    quota.misclassified = (0..rows.len())
        .filter(|&i| (q.is_some_and(|q| loads[i].0 >= q) || loads[i].1 > t) != y[i])
        .map(|i| sized[i])
        .sum();
    let [t_ci, q_ci] = bootstrap.intervals(rows.len(), |w| {
        let (q, interval, _) = classify(&loads, &y, w, &by_s);
        Some([
            point_of(interval).unwrap_or(f64::NAN),
            q.map_or(f64::NAN, |q| 6.0 * f64::from(q)),
        ])
    });
    quota.tpm = point_of(interval).map(|value| Estimate { value, ci: t_ci });
    quota.tpm_bracket = quota.tpm.map(|_| interval);
    quota.rpm = q.map(|q| Estimate {
        value: 6.0 * f64::from(q),
        ci: q_ci,
    });
    if quota.tpm.is_none() {
        notes.push(Note::new(
            subject,
            "the 429s are all explained by the request window: TPM not identified",
        ));
    }
    if quota.rpm.is_none() {
        notes.push(Note::new(
            subject,
            "no request-bound 429s: RPM not identified (derived from the TPM by the model's ratio)",
        ));
    }
    quota
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `calls` calls `gap_ns` apart of `estimate` tokens each, admitted by `admit(admitted
    /// start times, this start)`.
    fn calls(
        count: i64,
        gap_ns: i64,
        estimate: f64,
        admit: impl Fn(&[i64], i64) -> bool,
    ) -> Vec<QuotaRow> {
        let mut admitted = Vec::new();
        (0..count)
            .map(|k| {
                let start_ns = k * gap_ns;
                let ok = admit(&admitted, start_ns);
                if ok {
                    admitted.push(start_ns);
                }
                QuotaRow {
                    start_ns,
                    admitted: ok,
                    estimate,
                    sized: true,
                }
            })
            .collect()
    }

    /// Admitted calls within `buckets` 100 ms buckets of `now`.
    fn within(admitted: &[i64], now: i64, buckets: i64) -> usize {
        admitted
            .iter()
            .filter(|t| bucket(now) - bucket(**t) < buckets)
            .count()
    }

    fn fit(rows: &[QuotaRow]) -> (StandardQuota, Vec<Note>) {
        let mut notes = Vec::new();
        let quota = fit_standard("d", rows, &mut Bootstrap::new(1, "q", 50), &mut notes);
        (quota, notes)
    }

    #[test]
    fn a_token_window_is_recovered_from_who_was_throttled() {
        // One 1,000-token call every second against a 30,000 TPM window.
        let rows = calls(600, 1_000_000_000, 1000.0, |admitted, now| {
            (within(admitted, now, MINUTE_BUCKETS) + 1) * 1000 <= 30_000
        });
        let (quota, _) = fit(&rows);
        let tpm = quota.tpm.unwrap();
        assert!((30_000.0..31_000.0).contains(&tpm.value), "{tpm:?}");
        assert_eq!(quota.misclassified, 0.0);
        assert!(quota.rpm.is_none());
    }

    #[test]
    fn a_request_window_is_recovered_when_it_binds() {
        // A small call every 0.4 s against 60 RPM (10 per 10 s): tokens never bind.
        let rows = calls(1500, 400_000_000, 50.0, |admitted, now| {
            within(admitted, now, TEN_S_BUCKETS) < 10
        });
        let (quota, notes) = fit(&rows);
        let rpm = quota.rpm.expect("request-bound 429s identify the RPM");
        assert_eq!(rpm.value, 60.0);
        assert_eq!(rpm.ci, Some((60.0, 60.0)));
        assert!(quota.tpm.is_none(), "{quota:?}");
        assert!(notes.iter().any(|n| n.text.contains("TPM not identified")));
    }
}
