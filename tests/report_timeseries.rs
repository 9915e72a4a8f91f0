//! Per-second buckets: requests and attempts land in the right second across boundaries,
//! in-flight counts, breaker time per second, utilization, and the `timeseries.csv` layout.

use crate::report_fixture;

use std::time::Duration;

use report_fixture::{ms, setup};
use throttlebox::metrics::{AttemptRecord, ErrorClass, RequestRecord};
use throttlebox::report::StrategyRecorder;
use throttlebox::report::{TIMESERIES_HEADER, write_timeseries_csv};

fn request(id: u64, intended: u64, actual: u64, end: u64, status: u16) -> RequestRecord {
    RequestRecord {
        request_id: id,
        intended_start: ms(intended),
        actual_start: ms(actual),
        end: ms(end),
        status,
        error: ErrorClass::from_status(status),
        attempts: 1,
        ..RequestRecord::default()
    }
}

fn attempt(backend: u16, start: u64, end: u64, status: u16) -> AttemptRecord {
    AttemptRecord {
        backend,
        start: ms(start),
        end: ms(end),
        status,
        error: ErrorClass::from_status(status),
        attempt: 1,
        ..AttemptRecord::default()
    }
}

/// The CSV of a recorder fed the boundary cases, as rows of cells (header dropped).
fn boundary_rows() -> Vec<Vec<String>> {
    let setup = setup();
    let mut recorder = StrategyRecorder::new(0, setup.clone());
    // A: sent 0.999 s, ended 1.001 s (e2e 2 ms) — crosses a boundary.
    recorder.add_request(&request(1, 999, 999, 1001, 200));
    // B: sent 1.000 s, ended exactly at 2.000 s → ends in second 2 (e2e 1.024 s).
    recorder.add_request(&request(2, 976, 1000, 2000, 429));
    // C: sent 1.5 s, ended 1.6 s (e2e 100 ms).
    recorder.add_request(&request(3, 1500, 1500, 1600, 200));
    // D: sent 0.2 s, ended 3.5 s (e2e 3.3 s).
    recorder.add_request(&request(4, 200, 200, 3500, 500));
    recorder.add_attempt(&attempt(0, 1999, 2000, 200));
    recorder.add_attempt(&attempt(1, 500, 600, 429));
    recorder.breaker_transition(ms(500), 1, true, "429");
    recorder.breaker_transition(ms(2250), 1, false, "half-open");
    recorder.utilization_sample(ms(1000), 0, 40.0);
    recorder.utilization_sample(ms(1999), 0, 60.0);
    let (_, series) = recorder.finish_with_series();
    assert_eq!(series.seconds(), 4);

    let bytes = write_timeseries_csv(Vec::new(), &setup, &[("priority", &series)]).unwrap();
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        TIMESERIES_HEADER
    );
    reader
        .records()
        .map(|row| row.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// Columns 0..=8 (identity, counts, in-flight) and 11..=14 (breaker, utilization).
fn counts_and_state(row: &[String]) -> String {
    let mut cells: Vec<&str> = row[..9].iter().map(String::as_str).collect();
    cells.extend(row[11..].iter().map(String::as_str));
    cells.join(",")
}

#[test]
fn counts_land_in_the_second_they_happen() {
    let rows = boundary_rows();
    let got: Vec<String> = rows.iter().map(|row| counts_and_state(row)).collect();
    let expected = [
        // second 0: A and D sent, nothing ended; payg-west's attempt and breaker open 0.5 s.
        "priority,0,all,2,0,0,0,0,2,,,,",
        "priority,0,ptu-east,0,0,0,0,0,,closed,0.000,,",
        "priority,0,payg-west,1,0,1,0,0,,open,0.500,,",
        "priority,0,payg-spill,0,0,0,0,0,,closed,0.000,,",
        // second 1: B and C sent, A and C ended ok; B and D in flight.
        "priority,1,all,2,2,0,0,0,2,,,,",
        "priority,1,ptu-east,1,0,0,0,0,,closed,0.000,50.00,60.00",
        "priority,1,payg-west,0,0,0,0,0,,open,1.000,,",
        "priority,1,payg-spill,0,0,0,0,0,,closed,0.000,,",
        // second 2: B ends exactly at 2.000 s (429); the ptu-east attempt ends at 2.000 s.
        "priority,2,all,0,0,1,0,0,1,,,,",
        "priority,2,ptu-east,0,1,0,0,0,,closed,0.000,,",
        "priority,2,payg-west,0,0,0,0,0,,closed,0.250,,",
        "priority,2,payg-spill,0,0,0,0,0,,closed,0.000,,",
        // second 3: D ends with a 500; nothing in flight.
        "priority,3,all,0,0,0,1,0,0,,,,",
        "priority,3,ptu-east,0,0,0,0,0,,closed,0.000,,",
        "priority,3,payg-west,0,0,0,0,0,,closed,0.000,,",
        "priority,3,payg-spill,0,0,0,0,0,,closed,0.000,,",
    ];
    assert_eq!(got, expected);
}

#[test]
fn per_second_latency_is_within_one_percent() {
    let rows = boundary_rows();
    let latency = |second: usize, column: usize| -> Option<f64> {
        let cell = &rows[second * 4][column];
        (!cell.is_empty()).then(|| cell.parse().unwrap())
    };
    let close = |reported: Option<f64>, truth: f64| {
        let reported = reported.expect("a latency for a second with completions");
        assert!(
            (reported - truth).abs() <= truth / 100.0 + 0.0005,
            "reported {reported} for true {truth}"
        );
    };
    assert_eq!(latency(0, 9), None, "no request ended in second 0");
    // Second 1: A (2 ms) and C (100 ms): p50 = A, p99 = C.
    close(latency(1, 9), 0.002);
    close(latency(1, 10), 0.100);
    close(latency(2, 9), 1.024);
    close(latency(3, 10), 3.3);
    // Backend rows carry no latency.
    assert_eq!(rows[1][9], "");
}

#[test]
fn an_unclosed_breaker_is_closed_at_the_run_end() {
    let setup = setup();
    let mut recorder = StrategyRecorder::new(0, setup.clone());
    recorder.breaker_transition(Duration::from_millis(9_400), 2, true, "timeout");
    let (summary, series) = recorder.finish_with_series();
    // Run duration is 10 s: open 0.6 s, 0.4 s of it in second 9.
    assert_eq!(summary.backends[2].breaker_open_s, 0.6);
    let second_9: Vec<_> = series.backend_rows(9).collect();
    assert_eq!(second_9[2].breaker_open, Duration::from_millis(600));
    assert!(second_9[2].breaker_open_at_end);
}

#[test]
fn a_bogus_far_future_timestamp_is_left_out_of_the_series_not_allocated() {
    let mut recorder = StrategyRecorder::new(0, setup());
    recorder.add_request(&request(1, 0, 0, 500, 200));
    let forty_days = 40 * 86_400 * 1000;
    recorder.add_request(&request(2, 0, 0, forty_days, 200));
    let (summary, series) = recorder.finish_with_series();
    assert_eq!(summary.requests, 2, "totals still count it");
    assert_eq!(series.beyond_horizon(), 1);
    assert!(
        series.seconds() <= 11,
        "series covers the run, got {}",
        series.seconds()
    );
}
