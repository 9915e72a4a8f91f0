//! The comparison tables built from a [`Summary`]: head to head (one row per strategy, every
//! final outcome class accounted for, a strategy whose run cannot be trusted marked
//! `[INVALID]`), the outcome breakdown, traffic per backend (one row per strategy and
//! backend) and the SLO verdicts. Rendered as terminal text by [`head_to_head_table`], as
//! Markdown in `report.md` and `compare.md`, as HTML in `report.html`.

use super::format::{self, fixed_text, percent_text, seconds_text};
use super::summary::{StrategySummary, Summary};
use super::text_table::{Align, Table};

/// Appended to the name of a strategy whose validity failed.
pub const INVALID_MARK: &str = "[INVALID]";

/// The strategy's name, marked when its run cannot be trusted.
pub fn marked_name(strategy: &StrategySummary) -> String {
    if strategy.validity.valid {
        strategy.name.clone()
    } else {
        format!("{} {INVALID_MARK}", strategy.name)
    }
}

/// One row per strategy: outcome ratios (success, 429, 5xx and every other final outcome, so
/// a row adds up to 100 %), retries, latency percentiles, PTU utilization, spillover, cost,
/// goodput and the SLO verdict.
pub fn head_to_head(summary: &Summary) -> Table {
    use Align::{Left, Right};
    let mut table = Table::new(&[
        ("strategy", Left),
        ("success %", Right),
        ("429 %", Right),
        ("5xx %", Right),
        ("other %", Right),
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
            marked_name(strategy),
            percent_text(strategy.success_ratio),
            percent_text(strategy.client_429_ratio),
            percent_text(strategy.server_error_ratio),
            percent_text(strategy.other_error_ratio),
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

/// One row per strategy: every final outcome class as a share of its requests (each row adds
/// up to 100 %; "other %" of the head to head is the last four columns).
pub fn outcome_breakdown(summary: &Summary) -> Table {
    use Align::{Left, Right};
    let mut table = Table::new(&[
        ("strategy", Left),
        ("requests", Right),
        ("success %", Right),
        ("429 %", Right),
        ("5xx %", Right),
        ("exhausted %", Right),
        ("connect %", Right),
        ("timeout %", Right),
        ("other 4xx %", Right),
    ]);
    for strategy in &summary.strategies {
        let outcomes = &strategy.outcomes;
        let share = |count: u64| percent_text(format::ratio(count, strategy.requests));
        table.push(vec![
            marked_name(strategy),
            strategy.requests.to_string(),
            share(outcomes.ok),
            share(outcomes.throttled),
            share(outcomes.server_error),
            share(outcomes.exhausted),
            share(outcomes.connect_error),
            share(outcomes.timeout),
            share(outcomes.client_error),
        ]);
    }
    table
}

/// One row per strategy of a live run: what its load engine measured about itself and the
/// verdict drawn from it (scenario seconds).
pub fn validity_table(summary: &Summary) -> Table {
    use Align::{Left, Right};
    let mut table = Table::new(&[
        ("strategy", Left),
        ("valid", Left),
        ("covered s", Right),
        ("scheduled", Right),
        ("never sent", Right),
        ("cancelled", Right),
        ("send lag p50 / p99 / max s", Right),
        ("limits p50 / p99 / max s", Right),
        ("time scale", Right),
    ]);
    for strategy in &summary.strategies {
        let validity = &strategy.validity;
        let limits = validity.limits.unwrap_or_default();
        table.push(vec![
            strategy.name.clone(),
            if validity.valid { "yes" } else { "NO" }.to_string(),
            format!("{:.3}", validity.covered_s),
            validity.scheduled.to_string(),
            validity.never_sent.to_string(),
            validity.cancelled.to_string(),
            format!(
                "{:.3} / {:.3} / {:.3}",
                validity.send_lag_p50_s, validity.send_lag_p99_s, validity.send_lag_max_s
            ),
            format!(
                "{:.3} / {} / {}",
                limits.send_lag_p50_s,
                seconds_text(limits.send_lag_p99_s),
                seconds_text(limits.send_lag_max_s)
            ),
            format!("{}", validity.time_scale),
        ]);
    }
    table
}

/// One row per (strategy, backend): shares of attempts and successes, answers (200, 429, 5xx
/// and every other failure, so they add up to the attempts), tokens, PTU utilization and
/// breaker time.
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
        ("other", Right),
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
                backend.other_error.to_string(),
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
