//! `requests.csv` / `attempts.csv`: headers, rows, and reading requests back.

use crate::report_fixture;

use report_fixture::{ms, priority_records, setup};
use throttlebox::metrics::{AttemptRecord, RequestRecord};
use throttlebox::report::{
    ATTEMPTS_HEADER, AttemptsCsvWriter, REQUESTS_HEADER, ReportError, RequestsCsvWriter,
    read_requests_csv,
};

fn requests_csv(records: &[RequestRecord]) -> String {
    let mut writer = RequestsCsvWriter::new(Vec::new(), setup()).unwrap();
    for record in records {
        writer.write(record).unwrap();
    }
    String::from_utf8(writer.finish().unwrap()).unwrap()
}

#[test]
fn requests_header_and_spilled_row() {
    let (requests, _) = priority_records();
    let text = requests_csv(&requests[7..8]);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(REQUESTS_HEADER.join(",").as_str()));
    // Request 7: intended 7 s, sent 7.007 s, TTFT 400 ms, e2e 800 ms, spilled to payg-spill.
    assert_eq!(
        lines.next(),
        Some(
            "priority,7,chat,7.000,7.007,7.800,0.007,0.400,0.393,0.800,200,none,1,0,0,\
             ptu-east,ptu-east,1000,200,true,true,payg-spill"
        )
    );
    assert_eq!(lines.next(), None);
}

#[test]
fn every_request_row_reads_back_as_the_same_record() {
    let (requests, _) = priority_records();
    let text = requests_csv(&requests);
    let read = read_requests_csv(text.as_bytes(), &setup()).unwrap();
    assert_eq!(read, requests);
}

#[test]
fn a_failed_request_has_empty_ttft_and_lists_every_backend_tried() {
    let (requests, _) = priority_records();
    let text = requests_csv(&requests[9..10]);
    let row = text.lines().nth(1).unwrap();
    assert_eq!(
        row,
        "priority,9,chat,9.000,9.009,10.200,0.009,,,1.200,500,server_error,2,1,0,\
         payg-west;payg-west,payg-west,1000,0,true,false,"
    );
}

#[test]
fn attempts_header_and_rows() {
    let (_, attempts) = priority_records();
    let mut writer = AttemptsCsvWriter::new(Vec::new(), setup()).unwrap();
    for record in attempts
        .iter()
        .filter(|a| a.request_id == 6 || a.request_id == 0)
    {
        writer.write(record).unwrap();
    }
    let text = String::from_utf8(writer.finish().unwrap()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], ATTEMPTS_HEADER.join(","));
    assert_eq!(
        &lines[1..],
        [
            "priority,0,1,ptu-east,0.000,0.100,0.100,0.050,200,none,false",
            "priority,6,1,ptu-east,6.006,6.011,0.005,,429,throttled,false",
            "priority,6,2,payg-west,6.011,6.700,0.689,,200,none,false",
        ]
    );
}

#[test]
fn unknown_indices_and_bad_rows_are_clear_errors() {
    let mut writer = AttemptsCsvWriter::new(Vec::new(), setup()).unwrap();
    let error = writer
        .write(&AttemptRecord {
            backend: 9,
            end: ms(1),
            ..AttemptRecord::default()
        })
        .unwrap_err();
    assert!(
        matches!(
            error,
            ReportError::UnknownIndex {
                kind: "backend",
                index: 9,
                len: 3
            }
        ),
        "{error}"
    );

    let (requests, _) = priority_records();
    let text = requests_csv(&requests[..1]).replace(",200,none,", ",200,mystery,");
    let error = read_requests_csv(text.as_bytes(), &setup())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("requests.csv: row 1, column error"),
        "{error}"
    );
    assert!(error.contains("mystery"), "{error}");
}
