//! `histograms/<strategy>.hlog`: file names of a run's HdrHistogram interval logs and the
//! reader that merges them. Merging adds the raw bucket counts of every interval, so the
//! percentiles of several runs pooled together are exact (to the 3 significant digits of the
//! histograms), not an average of percentiles. The logs themselves are produced by
//! [`crate::metrics::intervals::IntervalHistograms`].

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};

use super::error::ReportError;
use super::format;
use super::summary::LatencySummary;
use crate::metrics::intervals::latency_histogram;

/// The folder of a run directory that holds the interval logs.
pub const HISTOGRAMS_DIR: &str = "histograms";

fn file_stem(strategy: &str) -> String {
    let mut stem: String = strategy
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    stem = stem.trim_matches(['_', '.']).to_string();
    if stem.is_empty() {
        stem.push_str("strategy");
    }
    stem
}

/// The interval log file name of each strategy, in the given (scenario) order: the name with
/// every character other than ASCII letters, digits, `-`, `_` and `.` replaced by `_`, plus
/// `-<position>` when two strategies would otherwise share a file.
pub fn hlog_file_names(strategies: &[&str]) -> Vec<String> {
    let stems: Vec<String> = strategies.iter().map(|name| file_stem(name)).collect();
    stems
        .iter()
        .enumerate()
        .map(|(index, stem)| {
            let shared = stems.iter().filter(|other| *other == stem).count() > 1;
            if shared {
                format!("{stem}-{index}.hlog")
            } else {
                format!("{stem}.hlog")
            }
        })
        .collect()
}

/// Where an interval of a log is, for its histogram's errors.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IntervalAt<'a> {
    /// The log.
    pub origin: &'a str,
    /// The interval's start (run time).
    pub start: Duration,
    /// The interval's length.
    pub length: Duration,
    /// Its tag (`""`: none).
    pub tag: &'a str,
}

impl IntervalAt<'_> {
    /// An error about this interval.
    pub fn invalid(&self, reason: String) -> ReportError {
        ReportError::Invalid {
            field: self.origin.to_string(),
            reason: format!(
                "interval at {:?} (tag {:?}): {reason}",
                self.start, self.tag
            ),
        }
    }
}

/// Decode every interval of the log text `bytes` (`origin` names it in errors) and hand it,
/// with its tag (`""` when untagged), to `visit`.
pub(crate) fn for_each_interval(
    bytes: &[u8],
    origin: &str,
    mut visit: impl FnMut(IntervalAt<'_>, &str, Histogram<u64>) -> Result<(), ReportError>,
) -> Result<(), ReportError> {
    let mut deserializer = Deserializer::new();
    for entry in IntervalLogIterator::new(bytes) {
        let entry = entry.map_err(|error| ReportError::Invalid {
            field: origin.to_string(),
            reason: format!("not an HdrHistogram interval log: {error:?}"),
        })?;
        let LogEntry::Interval(interval) = entry else {
            continue;
        };
        let tag = interval.tag().map_or("", |tag| tag.as_str());
        let at = IntervalAt {
            origin,
            start: interval.start_timestamp(),
            length: interval.duration(),
            tag,
        };
        let encoded = base64::engine::general_purpose::STANDARD
            .decode(interval.encoded_histogram())
            .map_err(|error| at.invalid(format!("bad base64: {error}")))?;
        let histogram: Histogram<u64> = deserializer
            .deserialize(&mut encoded.as_slice())
            .map_err(|error| at.invalid(format!("bad histogram: {error:?}")))?;
        visit(at, tag, histogram)?;
    }
    Ok(())
}

/// Histograms merged per tag from one or more interval logs.
#[derive(Debug, Clone, Default)]
pub struct MergedHistograms {
    by_tag: BTreeMap<String, Histogram<u64>>,
    intervals: u64,
}

impl MergedHistograms {
    /// Nothing merged yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Read the interval log at `path` and add every interval to the tag it carries
    /// (untagged intervals go to tag `""`).
    pub fn add_file(&mut self, path: &Path) -> Result<(), ReportError> {
        let bytes = std::fs::read(path).map_err(|error| ReportError::io(path, error))?;
        self.add_log(&bytes, &path.display().to_string())
    }

    /// Add every interval of the log text `bytes`; `origin` names it in errors.
    pub fn add_log(&mut self, bytes: &[u8], origin: &str) -> Result<(), ReportError> {
        for_each_interval(bytes, origin, |interval, tag, histogram| {
            let merged = self
                .by_tag
                .entry(tag.to_string())
                .or_insert_with(latency_histogram);
            merged
                .add(&histogram)
                .map_err(|error| interval.invalid(format!("values beyond one day: {error:?}")))?;
            self.intervals += 1;
            Ok(())
        })
    }

    /// The merged histogram of `tag`, if any interval carried it.
    pub fn tag(&self, tag: &str) -> Option<&Histogram<u64>> {
        self.by_tag.get(tag)
    }

    /// Interval histograms merged so far (all tags).
    pub fn intervals(&self) -> u64 {
        self.intervals
    }

    /// p50/p95/p99/max of `tag` in seconds, as `summary.json` reports them (middle of the
    /// bucket; `max_s` is the top of the highest bucket, the log does not keep the exact max).
    pub fn latency(&self, tag: &str) -> LatencySummary {
        let Some(histogram) = self.tag(tag).filter(|histogram| !histogram.is_empty()) else {
            return LatencySummary::default();
        };
        let seconds = |micros: u64| Some(format::seconds(Duration::from_micros(micros)));
        let quantile =
            |q: f64| seconds(histogram.median_equivalent(histogram.value_at_quantile(q)));
        LatencySummary {
            count: histogram.len(),
            p50_s: quantile(0.50),
            p95_s: quantile(0.95),
            p99_s: quantile(0.99),
            max_s: seconds(histogram.max()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::intervals::{E2E_TAG, IntervalHistograms, TTFT_TAG};

    #[test]
    fn file_names_are_plain_and_unique() {
        assert_eq!(
            hlog_file_names(&[
                "apim-pool (seed JSON)",
                "round-robin",
                "a/b",
                "a?b",
                "..",
                ""
            ]),
            [
                "apim-pool__seed_JSON.hlog",
                "round-robin.hlog",
                "a_b-2.hlog",
                "a_b-3.hlog",
                "strategy-4.hlog",
                "strategy-5.hlog"
            ]
        );
    }

    #[test]
    fn garbage_is_refused_with_the_file_named() {
        let mut merged = MergedHistograms::new();
        let error = merged
            .add_log(b"Tag=e2e,0.0,10.0,1.0,@@@notbase64\n", "x.hlog")
            .unwrap_err()
            .to_string();
        assert!(error.contains("x.hlog"), "{error}");
    }

    /// The interval log the recorder writes reads back whole, late samples included.
    #[test]
    fn late_samples_are_kept_in_a_later_interval_and_nothing_is_lost() {
        let mut intervals = IntervalHistograms::new(Duration::from_secs(10), "test");
        intervals.record(Duration::from_secs(1), Duration::from_millis(100), None);
        // Interval 0 is written once a sample three intervals newer arrives.
        intervals.record(
            Duration::from_secs(35),
            Duration::from_millis(200),
            Some(Duration::from_millis(50)),
        );
        intervals.record(Duration::from_secs(2), Duration::from_millis(300), None);
        assert_eq!(intervals.late_samples(), 1);
        let log = intervals.finish().expect("log");
        let text = String::from_utf8(log.clone()).expect("utf-8");
        assert!(text.starts_with("#test\n"), "{text}");
        assert_eq!(text.matches("Tag=e2e,0.000,10.000,").count(), 1);
        assert_eq!(
            text.matches("Tag=e2e,10.000,10.000,").count(),
            1,
            "late sample's interval"
        );
        assert_eq!(
            text.matches("Tag=ttft,").count(),
            1,
            "empty ttft intervals are left out"
        );
        let mut merged = MergedHistograms::new();
        merged.add_log(&log, "test").expect("reads back");
        assert_eq!(merged.tag(E2E_TAG).map(|h| h.len()), Some(3));
        assert_eq!(merged.tag(TTFT_TAG).map(|h| h.len()), Some(1));
    }
}
