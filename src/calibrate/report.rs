//! `calibration.md`: what was read, what the logs could not identify (always stated, first),
//! the fitted parameters with their intervals, and the fit's quality.

use std::fmt::Write as _;

use super::Calibration;
use super::tables::{sections, skipped};

/// The inputs and the run, as key/value lines shared by both reports.
pub fn facts(cal: &Calibration, command: &str) -> Vec<(&'static str, String)> {
    let files: Vec<String> = cal.files.iter().map(|f| f.display().to_string()).collect();
    vec![
        ("command", command.to_string()),
        ("logs", files.join(", ")),
        ("format", cal.format.clone()),
        ("rows read", cal.rows_read.to_string()),
        ("calls used", cal.calls.to_string()),
        (
            "run length",
            format!(
                "{:.0} s from {}",
                cal.workload.duration_s,
                super::values::utc_iso(cal.workload.start_ns, 3)
            ),
        ),
        ("seed", cal.seed.to_string()),
    ]
}

/// The sentence every report leads with when only the workload could be fitted.
pub const WORKLOAD_ONLY: &str = "Workload-only calibration: the logs carry no latency column \
(no DurationMs, BackendTime or mapped duration), so only the workload was fitted. The fleet in \
the scenario is a placeholder: the mock's default latency and quotas sized not to throttle.";

/// The whole Markdown report.
pub fn markdown(cal: &Calibration, command: &str) -> String {
    let mut out = String::from("# Calibration\n\n");
    for (key, value) in facts(cal, command) {
        let _ = writeln!(out, "- **{key}**: {value}");
    }
    out.push('\n');
    if cal.workload_only {
        let _ = writeln!(out, "> **{WORKLOAD_ONLY}**\n");
    }
    if !cal.skipped.is_empty() {
        out.push_str("Rows left out:\n\n");
        out.push_str(&skipped(cal).render_markdown());
        out.push('\n');
    }
    out.push_str("## What the logs could not identify\n\n");
    if cal.notes.is_empty() {
        out.push_str("Nothing: every parameter was fitted.\n");
    }
    for note in &cal.notes {
        let _ = writeln!(out, "- **{}**: {}", note.topic, note.text);
    }
    for section in sections(cal) {
        let _ = write!(
            out,
            "\n## {}\n\n{}\n\n{}",
            section.title,
            section.note,
            section.table.render_markdown()
        );
    }
    out
}
