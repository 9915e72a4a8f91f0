//! An hour at 1,000 req/s (3.6 M requests, three apps) streams through without the schedule
//! ever being collected: the iterator is consumed one request at a time, keeping only running
//! totals. (Collecting would hold ~200 MB; the lazy path holds one pending request per app.)

use std::path::Path;
use std::time::Duration;

use throttlebox::workload::{Workload, WorkloadConfig};

#[test]
fn an_hour_at_1000_per_second_streams_in_constant_memory() {
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
}
