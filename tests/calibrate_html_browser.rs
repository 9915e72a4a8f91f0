//! `calibration.html` in headless Chromium (as `report_html_browser.rs` checks `report.html`):
//! a calibration with a latency fit writes its page; the browser loads it from disk with no
//! script error, failed load, CSP violation or console message, and lays out every chart the
//! page lists (the arrival rate and one QQ plot per compared distribution).

use throttlebox::calibrate::{calibrate, chart_ids, write_reports};

use crate::calibrate_inputs::{diagnostics_lines, options, write};
use crate::report_html_browser::{assert_every_chart_drawn, assert_no_errors, open_in_chromium};

#[test]
fn calibration_html_renders_every_chart_without_errors_in_headless_chromium() {
    let calls = [("gpt-4o", "gpt-4o", "ChatCompletions_Create", "app-1")];
    let logs = write("browser.jsonl", &diagnostics_lines(&calls, 300));
    let calibration =
        calibrate(std::slice::from_ref(&logs), &options("azure-diagnostics")).expect("calibrates");
    let dir = logs.with_file_name("browser-report");
    std::fs::create_dir_all(&dir).expect("report dir");
    write_reports(&calibration, &dir, "throttlebox calibrate browser.jsonl").expect("reports");
    let html = std::fs::read_to_string(dir.join("calibration.html")).expect("page");
    for fetch in ["<link", "src=\"http", "href=\"http", "url(", "@import"] {
        assert!(
            !html.contains(fetch),
            "calibration.html would fetch something: {fetch}"
        );
    }
    let page = open_in_chromium(&dir.join("calibration.html"), "profile-calibration");
    assert!(
        page.dom.contains("<h1>throttlebox calibration</h1>"),
        "{}",
        &page.dom[..page.dom.len().min(400)]
    );
    assert_no_errors(&page);
    let ids = chart_ids(&calibration);
    assert_eq!(
        ids.len(),
        1 + 3 + 1,
        "rate, three workload QQ plots, one backend's durations"
    );
    assert_every_chart_drawn(&page, &ids);
}
