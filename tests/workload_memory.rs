//! Memory does not grow with the run's length. An hour at 1,000 req/s (3.6 M requests, three
//! apps) and a 1-million-row trace stream through one request at a time; on Linux the process's
//! peak resident set (`VmHWM`) is checked to grow by far less than collecting would need
//! (3.6 M × 64 B ≈ 230 MB; 1 M × 64 B ≈ 64 MB). The peak is a process's, so the measuring runs
//! in a child process of its own (this test binary re-run on this one test): another test of
//! the suite allocating at the same time cannot move it.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use throttlebox::workload::{Workload, WorkloadConfig};

/// Peak resident set in bytes, where the OS reports it.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn assert_peak_grew_less_than(before: Option<u64>, limit: u64, what: &str) {
    if let (Some(before), Some(after)) = (before, peak_rss_bytes()) {
        let grown = after.saturating_sub(before);
        assert!(grown < limit, "{what}: peak RSS grew by {grown} bytes");
    }
}

/// Set in the child process that measures.
const CHILD: &str = "THROTTLEBOX_MEMORY_TEST_CHILD";

#[test]
fn long_runs_and_long_traces_stream_in_constant_memory() {
    if std::env::var_os(CHILD).is_some() {
        synthetic_hour_at_1000_per_second();
        million_row_trace();
        return;
    }
    let _cores = crate::live_support::take_the_cores();
    let test = "workload_memory::long_runs_and_long_traces_stream_in_constant_memory";
    let output = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([test, "--exact", "--test-threads=1", "--nocapture"])
        .env(CHILD, "1")
        .output()
        .expect("the test binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "the measuring child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn synthetic_hour_at_1000_per_second() {
    let cfg: WorkloadConfig = toml::from_str(
        r#"
duration = "1h"
[[apps]]
name = "chat"
deployment = "gpt-4o"
arrivals = { process = "poisson", rate = 600.0 }
prompt_tokens = { dist = "lognormal", median = 1000, sigma = 0.8, max = 8000 }
output_tokens = { dist = "exponential", mean = 200 }
stream_share = 0.5
sessions = 1000
[[apps]]
name = "batch"
deployment = "gpt-4o-mini"
arrivals = { process = "gamma", rate = 300.0, burstiness = 0.5 }
prompt_tokens = { dist = "uniform", min = 100, max = 4000 }
output_tokens = { dist = "constant", value = 50 }
[[apps]]
name = "tick"
deployment = "gpt-4o-mini"
arrivals = { process = "constant", rate = 100.0 }
prompt_tokens = { dist = "constant", value = 10 }
output_tokens = { dist = "constant", value = 10 }
"#,
    )
    .expect("parses");
    let workload = Workload::new(&cfg, Path::new("."), 2024).expect("valid");
    let before = peak_rss_bytes();
    let mut count = 0u64;
    let mut last = Duration::ZERO;
    let mut prompt_total = 0u64;
    for request in workload.requests() {
        let request = request.expect("synthetic requests cannot fail");
        assert_eq!(request.id, count);
        assert!(request.at >= last);
        last = request.at;
        prompt_total += u64::from(request.prompt_tokens);
        count += 1;
    }
    // 3.6 M expected; Poisson (sd √2.16M) + Gamma (sd √(1.08M·2)) + exact 360,000: 4 sd ≈ 8,500.
    assert!(
        (count as f64 - 3_600_000.0).abs() < 8_500.0,
        "{count} requests"
    );
    assert!(last < Duration::from_secs(3600));
    assert!(prompt_total > 0);
    assert_peak_grew_less_than(before, 32 << 20, "3.6 M synthetic requests");
}

fn million_row_trace() {
    const ROWS: u64 = 1_000_000;
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("workload_memory_1m_rows.csv");
    {
        let file = std::fs::File::create(&path).expect("create trace");
        let mut out = std::io::BufWriter::new(file);
        writeln!(out, "TIMESTAMP,ContextTokens,GeneratedTokens").expect("write");
        for i in 0..ROWS {
            // One row every 10 ms from 2024-05-10 00:00:00.
            let (seconds, centis) = (i / 100, i % 100);
            let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
            writeln!(
                out,
                "2024-05-10 {h:02}:{m:02}:{s:02}.{centis:02}0000+00:00,{},{}",
                i % 997,
                i % 13
            )
            .expect("write");
        }
        out.flush().expect("flush");
    }
    let text = format!("[trace]\npath = {path:?}\nformat = \"azure-2024\"\ndeployment = \"d\"\n");
    let cfg: WorkloadConfig = toml::from_str(&text).expect("parses");
    let workload = Workload::new(&cfg, Path::new("."), 1).expect("valid");
    let before = peak_rss_bytes();
    let (mut count, mut prompt_total) = (0u64, 0u64);
    let mut last = Duration::ZERO;
    for request in workload.requests() {
        let request = request.expect("rows parse");
        prompt_total += u64::from(request.prompt_tokens);
        last = request.at;
        count += 1;
    }
    assert_eq!(count, ROWS);
    assert_eq!(prompt_total, (0..ROWS).map(|i| i % 997).sum::<u64>());
    assert_eq!(last, Duration::from_millis(10 * (ROWS - 1)));
    assert_peak_grew_less_than(before, 16 << 20, "1 M trace rows");
    std::fs::remove_file(&path).expect("remove temp trace");
}
