//! One interval log from several logs of the same run time (the shards of a live run): the
//! intervals that start at the same time with the same tag are added bucket for bucket, so the
//! merged log is the one a single recorder of every shard's requests would have written (same
//! intervals, same counts), and every percentile read from it is exact to the histograms' 3
//! significant digits. Intervals are written in start order, `e2e` before `ttft` as the
//! recorder writes them.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};

use super::error::ReportError;
use super::hlog::for_each_interval;
use crate::metrics::intervals::{E2E_TAG, LOG_LEGEND, TTFT_TAG, latency_histogram};

/// Tags in the order the recorder writes them; others after.
fn tag_rank(tag: &str) -> u8 {
    match tag {
        E2E_TAG => 0,
        TTFT_TAG => 1,
        _ => 2,
    }
}

/// Interval start, tag rank, tag.
type IntervalKey = (Duration, u8, String);

/// The interval log of `logs` (text and a name for errors) aligned by interval start and
/// tag, headed by the comment `comment` and the usual legend.
pub fn merge_aligned_logs(logs: &[(&[u8], String)], comment: &str) -> Result<Vec<u8>, ReportError> {
    let mut intervals: BTreeMap<IntervalKey, (Duration, Histogram<u64>)> = BTreeMap::new();
    for (bytes, origin) in logs {
        for_each_interval(bytes, origin, |at, tag, histogram| {
            let (_, merged) = intervals
                .entry((at.start, tag_rank(tag), tag.to_string()))
                .or_insert_with(|| (at.length, latency_histogram()));
            merged
                .add(&histogram)
                .map_err(|error| at.invalid(format!("values beyond one day: {error:?}")))
        })?;
    }
    let mut log = Vec::new();
    let mut builder = IntervalLogWriterBuilder::new();
    for line in std::iter::once(comment).chain(LOG_LEGEND) {
        builder.add_comment(line);
    }
    let mut serializer = V2DeflateSerializer::new();
    let failed = |error: String| ReportError::Invalid {
        field: "merged interval log".to_string(),
        reason: error,
    };
    let mut writer = builder
        .begin_log_with(&mut log, &mut serializer)
        .map_err(|error| failed(error.to_string()))?;
    for ((start, _, tag), (length, histogram)) in &intervals {
        if histogram.is_empty() {
            continue;
        }
        writer
            .write_histogram(histogram, *start, *length, Tag::new(tag))
            .map_err(|error| failed(error.to_string()))?;
    }
    drop(writer);
    Ok(log)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::intervals::IntervalHistograms;
    use crate::report::MergedHistograms;

    #[test]
    fn aligned_intervals_add_up_to_one_recorder_of_every_sample() {
        let ms = Duration::from_millis;
        let interval = Duration::from_secs(10);
        let (mut a, mut b, mut both) = (
            IntervalHistograms::new(interval, "a"),
            IntervalHistograms::new(interval, "b"),
            IntervalHistograms::new(interval, "both"),
        );
        for i in 0..200u64 {
            let (end, e2e, ttft) = (ms(i * 150), ms(100 + i * 7 % 900), Some(ms(20 + i % 50)));
            let shard = if i % 2 == 0 { &mut a } else { &mut b };
            shard.record(end, e2e, ttft);
            both.record(end, e2e, ttft);
        }
        let (a, b, both) = (
            a.finish().unwrap(),
            b.finish().unwrap(),
            both.finish().unwrap(),
        );
        let merged =
            merge_aligned_logs(&[(&a, "a".to_string()), (&b, "b".to_string())], "both").unwrap();
        assert_eq!(
            String::from_utf8_lossy(&merged),
            String::from_utf8_lossy(&both)
        );
        let mut pooled = MergedHistograms::new();
        pooled.add_log(&merged, "merged").unwrap();
        assert_eq!(pooled.tag(E2E_TAG).map(Histogram::len), Some(200));
    }
}
