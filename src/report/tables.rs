//! The comparison tables built from a [`Summary`]: head to head (one row per strategy) and
//! traffic per backend (one row per strategy and backend). Rendered as terminal text by
//! [`head_to_head_table`] and as Markdown in `report.md`.

use super::format::{fixed_text, percent_text, seconds_text};
use super::summary::Summary;
use super::table::{Align, Table};

/// One row per strategy: outcome ratios, retries, latency percentiles, PTU utilization,
/// spillover, cost, goodput and the SLO verdict.
pub fn head_to_head(summary: &Summary) -> Table {
    use Align::{Left, Right};
    let mut table = Table::new(&[
        ("strategy", Left),
        ("success %", Right),
        ("429 %", Right),
        ("5xx %", Right),
        ("retries/req", Right),
        ("e2e p50 s", Right),
        ("e2e p95 s", Right),
        ("e2e p99 s", Right),
        ("ttft p50 s", Right),
        ("ttft p95 s", Right),
        ("ttft p99 s", Right),
        ("ptu util %", Right),
        ("spillover %", Right),
        ("cost", Right),
        ("goodput %", Right),
        ("slo", Left),
    ]);
    for strategy in &summary.strategies {
        let slo = if strategy.slo.is_empty() {
            "-".to_string()
        } else if strategy.slo_pass {
            "pass".to_string()
        } else {
            let failed = strategy.slo.iter().filter(|verdict| !verdict.pass).count();
            format!("FAIL ({failed}/{})", strategy.slo.len())
        };
        table.push(vec![
            strategy.name.clone(),
            percent_text(strategy.success_ratio),
            percent_text(strategy.client_429_ratio),
            percent_text(strategy.server_error_ratio),
            format!("{:.2}", strategy.retries_per_request),
            seconds_text(strategy.e2e.p50_s),
            seconds_text(strategy.e2e.p95_s),
            seconds_text(strategy.e2e.p99_s),
            seconds_text(strategy.ttft.p50_s),
            seconds_text(strategy.ttft.p95_s),
            seconds_text(strategy.ttft.p99_s),
            fixed_text(strategy.ptu_utilization_mean, 2),
            percent_text(strategy.spillover_share),
            format!("{:.4}", strategy.cost.total),
            percent_text(strategy.goodput.ratio),
            slo,
        ]);
    }
    table
}

/// One row per (strategy, backend): shares of attempts and successes, answers, tokens, PTU
/// utilization and breaker time.
pub fn backend_shares(summary: &Summary) -> Table {
    use Align::{Left, Right};
    let mut table = Table::new(&[
        ("strategy", Left),
        ("backend", Left),
        ("ptu", Right),
        ("attempts %", Right),
        ("success %", Right),
        ("200", Right),
        ("429", Right),
        ("5xx", Right),
        ("tokens in", Right),
        ("tokens out", Right),
        ("util mean %", Right),
        ("util max %", Right),
        ("breaker open s", Right),
        ("trips", Right),
        ("cost", Right),
    ]);
    for strategy in &summary.strategies {
        for backend in &strategy.backends {
            table.push(vec![
                strategy.name.clone(),
                backend.name.clone(),
                backend.provisioned_ptus.to_string(),
                percent_text(backend.attempt_share),
                percent_text(backend.success_share),
                backend.ok.to_string(),
                backend.throttled.to_string(),
                backend.server_error.to_string(),
                backend.tokens_in.to_string(),
                backend.tokens_out.to_string(),
                fixed_text(backend.ptu_utilization_mean, 2),
                fixed_text(backend.ptu_utilization_max, 2),
                format!("{:.3}", backend.breaker_open_s),
                backend.breaker_trips.to_string(),
                format!("{:.4}", backend.cost),
            ]);
        }
    }
    table
}

/// One row per (strategy, SLO rule).
pub fn slo_verdicts(summary: &Summary) -> Table {
    use Align::{Left, Right};
    let mut table = Table::new(&[
        ("strategy", Left),
        ("rule", Left),
        ("limit", Right),
        ("actual", Right),
        ("verdict", Left),
    ]);
    for strategy in &summary.strategies {
        for verdict in &strategy.slo {
            table.push(vec![
                strategy.name.clone(),
                verdict.rule.clone(),
                verdict.value_text(verdict.limit),
                verdict.actual.map_or_else(
                    || "no data".to_string(),
                    |actual| verdict.value_text(actual),
                ),
                if verdict.pass { "pass" } else { "FAIL" }.to_string(),
            ]);
        }
    }
    table
}

/// The terminal comparison: the head-to-head table, then the per-backend traffic table.
pub fn head_to_head_table(summary: &Summary) -> String {
    format!(
        "{}\n{}",
        head_to_head(summary).render_text(),
        backend_shares(summary).render_text()
    )
}
