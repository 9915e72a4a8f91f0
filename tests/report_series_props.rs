//! Property: however records fall across seconds, the per-second series adds up to the
//! run's totals, and nothing is in flight once every request has ended.

use crate::report_fixture;

use std::time::Duration;

use proptest::prelude::*;
use report_fixture::setup;
use throttlebox::metrics::{AttemptRecord, ErrorClass, RequestRecord};
use throttlebox::report::StrategyRecorder;

fn class_of(code: u8) -> (u16, ErrorClass) {
    match code % 5 {
        0 | 1 => (200, ErrorClass::None),
        2 => (429, ErrorClass::Throttled),
        3 => (503, ErrorClass::ServerError),
        _ => (0, ErrorClass::Timeout),
    }
}

proptest! {
    #[test]
    fn per_second_series_sums_to_the_totals(
        records in prop::collection::vec((0u64..20_000, 0u64..50, 0u64..6_000, 0u8..5, 0u16..3), 1..200)
    ) {
        let mut recorder = StrategyRecorder::new(0, setup());
        for (id, (intended_ms, lag_ms, duration_ms, code, backend)) in records.iter().enumerate() {
            let (status, error) = class_of(*code);
            let intended = Duration::from_millis(*intended_ms);
            let actual = intended + Duration::from_millis(*lag_ms);
            let end = actual + Duration::from_millis(*duration_ms);
            recorder.add_request(&RequestRecord {
                request_id: id as u64,
                intended_start: intended,
                actual_start: actual,
                end,
                status,
                error,
                attempts: 1,
                final_backend: Some(*backend),
                ..RequestRecord::default()
            });
            recorder.add_attempt(&AttemptRecord {
                request_id: id as u64,
                attempt: 1,
                backend: *backend,
                start: actual,
                end,
                status,
                error,
                ..AttemptRecord::default()
            });
        }
        let (summary, series) = recorder.finish_with_series();
        let rows: Vec<_> = series.request_rows().collect();
        let sum = |f: fn(&throttlebox::metrics::series::RequestSecondRow) -> u64| -> u64 {
            rows.iter().map(f).sum()
        };
        prop_assert_eq!(sum(|r| u64::from(r.sent)), summary.requests);
        prop_assert_eq!(sum(|r| u64::from(r.ended.ok)), summary.outcomes.ok);
        prop_assert_eq!(sum(|r| u64::from(r.ended.throttled)), summary.outcomes.throttled);
        prop_assert_eq!(sum(|r| u64::from(r.ended.server_error)), summary.outcomes.server_error);
        prop_assert_eq!(sum(|r| u64::from(r.ended.other_error)), summary.outcomes.timeout);
        prop_assert_eq!(rows.last().map(|r| r.in_flight), Some(0));
        for (index, backend) in summary.backends.iter().enumerate() {
            let (mut sent, mut ended) = (0u64, 0u64);
            for second in 0..series.seconds() {
                let row = series.backend_rows(second).nth(index).unwrap();
                sent += u64::from(row.sent);
                ended += u64::from(row.ended.total());
            }
            prop_assert_eq!(sent, backend.attempts);
            prop_assert_eq!(ended, backend.attempts);
        }
    }
}
