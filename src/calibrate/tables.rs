//! The report's tables, built once from a [`Calibration`] and rendered by both
//! `calibration.md` and `calibration.html`, so the two always show the same figures.

use aoai_mock::config::{DeploymentKind, LatencyConfig};

use super::fleet::QuotaFit;
use super::latency::PARAM_NAMES;
use super::stats::Estimate;
use super::values::utc_iso;
use super::{BackendFit, Calibration};
use crate::report::text_table::{Align, Table};

/// One titled table with a sentence saying how to read it.
#[derive(Debug, Clone)]
pub struct Section {
    /// Heading.
    pub title: String,
    /// How to read it.
    pub note: String,
    /// The figures.
    pub table: Table,
}

/// `value [lo, hi]` scaled, with `decimals`.
pub fn estimate(est: &Estimate, scale: f64, decimals: usize) -> String {
    let value = format!("{:.decimals$}", est.value * scale);
    match est.ci {
        Some((lo, hi)) => format!(
            "{value} [{:.decimals$}, {:.decimals$}]",
            lo * scale,
            hi * scale
        ),
        None => value,
    }
}

fn hour_label(ns: i64) -> String {
    let text = utc_iso(ns, 0);
    format!("{} {}", &text[..10], &text[11..16])
}

/// Rows left out of the fit, by reason.
pub fn skipped(cal: &Calibration) -> Table {
    let mut table = Table::new(&[
        ("rows", Align::Right),
        ("left out because", Align::Left),
        ("first at", Align::Left),
    ]);
    for (reason, count, first) in &cal.skipped {
        table.push(vec![count.to_string(), reason.clone(), first.clone()]);
    }
    table
}

fn workload(cal: &Calibration) -> Section {
    let mut table = Table::new(&[
        ("app", Align::Left),
        ("arrivals", Align::Right),
        ("process", Align::Left),
        ("mean rate req/s", Align::Right),
        ("gap CV (Poisson 1)", Align::Right),
        ("prompt p50", Align::Right),
        ("prompt p90", Align::Right),
        ("completion p50", Align::Right),
        ("completion p90", Align::Right),
        ("stream share", Align::Right),
    ]);
    for app in &cal.workload.apps {
        let tokens = |fit: &Option<super::tokens::TokenFit>, p90: bool| {
            fit.as_ref().map_or_else(
                || "default".to_string(),
                |f| estimate(if p90 { &f.p90 } else { &f.median }, 1.0, 0),
            )
        };
        let process = match &app.arrivals.process {
            crate::workload::ArrivalsConfig::Steps { steps } => {
                format!("steps ({} × {:.0} s)", steps.len(), cal.workload.bin_s)
            }
            crate::workload::ArrivalsConfig::Gamma { burstiness, .. } => {
                format!("gamma (shape {burstiness})")
            }
            _ => "poisson".to_string(),
        };
        table.push(vec![
            app.name.clone(),
            app.arrivals.requests.to_string(),
            process,
            estimate(&app.arrivals.mean_rate, 1.0, 3),
            estimate(&app.arrivals.cv, 1.0, 2),
            tokens(&app.prompt, false),
            tokens(&app.prompt, true),
            tokens(&app.completion, false),
            tokens(&app.completion, true),
            app.stream_share
                .map_or_else(|| "0 (default)".to_string(), |s| estimate(&s, 1.0, 3)),
        ]);
    }
    Section {
        title: "Workload".to_string(),
        note: "Per app: arrivals (calls not answered 429), the fitted process, and 95% intervals \
               in brackets (rate: Poisson; CV and token quantiles: bootstrap; stream share: Wilson)."
            .to_string(),
        table,
    }
}

fn latency_cell(backend: &BackendFit, k: usize) -> String {
    let (scale, decimals, unit) = [
        (1e3, 0, " ms"),
        (1e6, 1, " µs"),
        (1.0, 3, ""),
        (1.0, 1, ""),
        (1.0, 3, ""),
        (1.0, 2, ""),
    ][k];
    match &backend.latency.params[k] {
        Some(est) => format!("{}{unit}", estimate(est, scale, decimals)),
        None => {
            let provisioned = backend.resource.deployments[0].kind == DeploymentKind::Provisioned;
            format!(
                "{} (default)",
                default_of(&backend.latency.config, k, provisioned)
            )
        }
    }
}

/// The value the mock uses for parameter `k` when the fit left it out.
fn default_of(config: &LatencyConfig, k: usize, provisioned: bool) -> String {
    let show =
        |value: Option<f64>, fallback: &str| value.map_or(fallback.to_string(), |v| v.to_string());
    match k {
        1 => config
            .ttft_per_prompt_token
            .map_or("20 µs".to_string(), |d| {
                format!("{:.1} µs", d.as_secs_f64() * 1e6)
            }),
        2 => show(config.ttft_jitter, "0.25"),
        4 => show(config.tps_jitter, "0.15"),
        5 => show(config.load_factor, "0"),
        0 if provisioned => "400 ms".to_string(),
        0 => "600 ms".to_string(),
        _ if provisioned => "60".to_string(),
        _ => "80".to_string(),
    }
}

fn explained(misclassified: f64, sized: usize, unsized_calls: usize) -> String {
    let mut text = format!("{misclassified:.0} of {sized}");
    if unsized_calls > 0 {
        text.push_str(&format!(
            " (+{unsized_calls} without logged tokens, sized at the median prompt)"
        ));
    }
    text
}

fn quotas(cal: &Calibration) -> Section {
    let mut table = Table::new(&[
        ("backend", Align::Left),
        ("kind", Align::Left),
        ("calls / 429", Align::Right),
        ("fitted", Align::Right),
        ("bracket", Align::Right),
        ("RPM", Align::Right),
        ("written", Align::Left),
        ("calls explained otherwise", Align::Left),
    ]);
    for backend in &cal.fleet {
        let deployment = &backend.resource.deployments[0];
        let calls = format!("{} / {}", backend.calls, backend.throttled);
        let row = match &backend.quota {
            QuotaFit::Standard(fit) => vec![
                "standard".to_string(),
                calls,
                fit.tpm.map_or("not identified".to_string(), |t| {
                    format!("TPM {}", estimate(&t, 1.0, 0))
                }),
                fit.tpm_bracket
                    .map_or(String::new(), |(lo, hi)| format!("[{lo:.0}, {hi:.0})")),
                fit.rpm
                    .map_or("not identified".to_string(), |r| estimate(&r, 1.0, 0)),
                format!(
                    "tpm = {}{}",
                    deployment.tpm.unwrap_or(0),
                    deployment
                        .rpm
                        .map_or(String::new(), |r| format!(", rpm = {r}"))
                ),
                explained(
                    fit.misclassified,
                    fit.rows - fit.unsized_calls,
                    fit.unsized_calls,
                ),
            ],
            QuotaFit::Provisioned(fit) => vec![
                "provisioned".to_string(),
                calls,
                fit.ptu.map_or("not identified".to_string(), |p| {
                    format!("PTU {}", estimate(&p, 1.0, 0))
                }),
                format!("≥ {} admits all", fit.least_ptu),
                String::new(),
                format!("ptu = {}", deployment.ptu.unwrap_or(0)),
                explained(
                    fit.misclassified,
                    fit.rows - fit.unsized_calls,
                    fit.unsized_calls,
                ),
            ],
        };
        table.push(std::iter::once(backend.name.clone()).chain(row).collect());
    }
    Section {
        title: "Quotas from the 429s".to_string(),
        note: "The quota that best explains which calls were throttled, replaying the logged \
               admissions through the mock's windows (standard: TPM in admission-estimate tokens \
               per 60 s and RPM per 10 s; provisioned: the PTU bucket). Bracket: the TPM range \
               that explains every sized call of the point fit. 95% bootstrap intervals."
            .to_string(),
        table,
    }
}

fn fleet(cal: &Calibration) -> Section {
    let mut columns = vec![
        ("backend", Align::Left),
        ("region", Align::Left),
        ("model", Align::Left),
        ("kind", Align::Left),
        ("calls", Align::Right),
        ("2xx", Align::Right),
        ("429", Align::Right),
        ("other", Align::Right),
    ];
    columns.extend(PARAM_NAMES.iter().map(|name| (*name, Align::Right)));
    let mut table = Table::new(&columns);
    for backend in &cal.fleet {
        let deployment = &backend.resource.deployments[0];
        let kind = match deployment.kind {
            DeploymentKind::Standard => "standard",
            DeploymentKind::Provisioned => "provisioned",
        };
        let mut row = vec![
            backend.name.clone(),
            backend.resource.region.clone(),
            deployment.model.clone(),
            kind.to_string(),
            backend.calls.to_string(),
            backend.ok.to_string(),
            backend.throttled.to_string(),
            backend.other.to_string(),
        ];
        row.extend((0..PARAM_NAMES.len()).map(|k| latency_cell(backend, k)));
        table.push(row);
    }
    Section {
        title: "Fleet".to_string(),
        note:
            "Per backend: the mock's latency model fitted to the successful calls (95% bootstrap \
               intervals; \"default\": not identified, see above)."
                .to_string(),
        table,
    }
}

fn hours(cal: &Calibration) -> Section {
    let mut table = Table::new(&[
        ("hour (UTC)", Align::Left),
        ("logged", Align::Right),
        ("fitted", Align::Right),
        ("re-simulated", Align::Right),
        ("residual", Align::Right),
    ]);
    for hour in &cal.quality.hours {
        table.push(vec![
            hour_label(hour.start_ns),
            hour.observed.to_string(),
            format!("{:.1}", hour.expected),
            hour.resimulated.to_string(),
            format!("{:+.2}", hour.residual),
        ]);
    }
    Section {
        title: "Rate per clock hour".to_string(),
        note: "Arrivals per hour (the first and last hours partial): logged, expected from the fitted rate, and drawn again from the calibrated workload; residual = (logged − fitted) / √fitted.".to_string(),
        table,
    }
}

fn distributions(cal: &Calibration) -> Section {
    let mut table = Table::new(&[
        ("quantity", Align::Left),
        ("n logged / re-sim", Align::Right),
        ("KS", Align::Right),
        ("p10", Align::Right),
        ("p50", Align::Right),
        ("p90", Align::Right),
        ("p99", Align::Right),
    ]);
    let checks = cal
        .quality
        .workload
        .iter()
        .map(|c| (c.name.clone(), c))
        .chain(cal.quality.backends.iter().filter_map(|(name, b)| {
            b.as_ref()
                .map(|b| (format!("{name}: call duration (s) vs model"), &b.durations))
        }));
    for (name, check) in checks {
        let mut row = vec![
            name,
            format!("{} / {}", check.n.0, check.n.1),
            format!("{:.3}", check.ks),
        ];
        row.extend(
            check
                .quantiles
                .iter()
                .map(|(a, b)| format!("{} / {}", short(*a), short(*b))),
        );
        table.push(row);
    }
    Section {
        title: "Distributions: logged / re-simulated".to_string(),
        note: "Two-sample Kolmogorov–Smirnov distance and quantiles (logged / re-simulated). Workload rows compare the logs with the calibrated workload drawn again; duration rows compare each logged call with the mock's model replaying it (same tokens, stream and in-flight).".to_string(),
        table,
    }
}

fn hourly_latency(cal: &Calibration) -> Section {
    let mut table = Table::new(&[
        ("backend", Align::Left),
        ("hour (UTC)", Align::Left),
        ("calls", Align::Right),
        ("median logged s", Align::Right),
        ("median model s", Align::Right),
        ("residual", Align::Right),
    ]);
    for (name, check) in &cal.quality.backends {
        for (hour, n, logged, model) in check.iter().flat_map(|c| &c.hourly) {
            table.push(vec![
                name.clone(),
                hour_label(*hour),
                n.to_string(),
                format!("{logged:.3}"),
                format!("{model:.3}"),
                format!("{:+.1}%", (logged / model - 1.0) * 100.0),
            ]);
        }
    }
    Section {
        title: "Latency per clock hour".to_string(),
        note: "Median call duration per backend and hour, logged against the model's replay; residual = logged / model − 1.".to_string(),
        table,
    }
}

fn short(value: f64) -> String {
    if value.abs() >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.3}")
    }
}

/// Every section, in page order.
pub fn sections(cal: &Calibration) -> Vec<Section> {
    vec![
        workload(cal),
        fleet(cal),
        quotas(cal),
        hours(cal),
        distributions(cal),
        hourly_latency(cal),
    ]
}
