//! `report.md`: a banner when the run cannot be trusted, run metadata, the head-to-head,
//! outcome and per-backend tables, SLO verdicts, the run's validity and the metric
//! definitions, for pull requests and humans. Deterministic: only the summary's content goes
//! in (the wall-clock start only when the caller put it in the summary).

use super::comparison_tables::{
    backend_shares, head_to_head, outcome_breakdown, slo_verdicts, validity_table,
};
use super::format::seconds_text;
use super::labels::Mode;
use super::summary::Summary;

const DEFINITIONS: &str = "\
- **e2e**: end of response − intended start (open-loop schedule; includes generator lag and \
every retry), over successful requests.
- **ttft**: first content token − intended start, over successful streams; `ttft_from_send` in \
summary.json measures from the actual send.
- **success / 429 / 5xx / other %**: final outcome of each logical request as the client saw \
it (other: the balancer had no backend left (exhausted), the connection failed, the client timed \
out, another 4xx — broken down under Outcomes); a row adds up to 100 %. 429s and 5xx absorbed \
by retries count as successes.
- **retries/req**: (client + gateway retries) / requests.
- **goodput %**: requests that succeeded with TTFT ≤ `slo.p99_ttft` and e2e ≤ `slo.p99_e2e` \
(bounds that are not set are not checked), over all requests.
- **ptu util %**: mean over PTU backends of their mean utilization samples.
- **cost**: PTUs × price per PTU-hour × run hours, plus PAYG tokens of successful requests at \
the serving deployment's prices; throttled and failed calls are not billed.
";

/// The warning at the top of a report of a run that cannot be trusted (empty otherwise).
pub fn distrust_banner(summary: &Summary) -> String {
    let lines = summary.distrust();
    if lines.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "> **⚠ This run cannot be trusted as it stands**: its figures are incomplete or distorted \
         by the load generator itself, so do not compare them (Validity, below).\n>\n",
    );
    for line in lines {
        out.push_str(&format!("> - {}\n", line.replace('|', "\\|")));
    }
    out.push('\n');
    out
}

/// The "Validity" section: one sentence for the simulator, the engine's figures for a live
/// run.
fn validity_section(summary: &Summary) -> String {
    let mut out = String::from("\n## Validity\n\n");
    if summary.mode == Mode::Sim {
        out.push_str(
            "Simulated in virtual time: every request is sent at its intended time, so every \
             strategy's run is valid by construction",
        );
        out.push_str(if summary.interrupted {
            "; the run itself was interrupted (see above).\n"
        } else {
            ".\n"
        });
        return out;
    }
    out.push_str(
        "What the load generator measured about itself, in scenario time, against the limits \
         that keep the figures above comparable (README, Validity).\n\n",
    );
    out.push_str(&validity_table(summary).render_markdown());
    out
}

/// The complete `report.md` text.
pub fn report_markdown(summary: &Summary) -> String {
    let mut out = format!("# throttlebox run: {}\n\n", summary.scenario);
    out.push_str(&distrust_banner(summary));
    out.push_str("| | |\n| :--- | :--- |\n");
    let mut meta = |key: &str, value: String| {
        out.push_str(&format!("| {key} | {} |\n", value.replace('|', "\\|")));
    };
    meta("scenario", summary.scenario.clone());
    meta("mode", summary.mode.as_str().to_string());
    meta("seed", summary.seed.to_string());
    meta("duration s", seconds_text(Some(summary.duration_s)));
    if let Some(command) = &summary.command {
        meta("command", format!("`{command}`"));
    }
    if let Some(started_at) = &summary.started_at {
        meta("started at", started_at.clone());
    }
    meta("throttlebox", summary.throttlebox_version.clone());
    meta("summary schema", summary.schema_version.to_string());

    out.push_str("\n## Head to head\n\n");
    out.push_str(&head_to_head(summary).render_markdown());
    out.push_str("\n## Outcomes\n\nEvery final outcome class, as a share of requests.\n\n");
    out.push_str(&outcome_breakdown(summary).render_markdown());
    out.push_str("\n## Traffic per backend\n\n");
    out.push_str(&backend_shares(summary).render_markdown());
    out.push_str("\n## SLO verdicts\n\n");
    if summary
        .strategies
        .iter()
        .all(|strategy| strategy.slo.is_empty())
    {
        out.push_str("No SLOs configured.\n");
    } else {
        out.push_str(&slo_verdicts(summary).render_markdown());
    }
    out.push_str(&validity_section(summary));
    out.push_str("\n## Definitions\n\n");
    out.push_str(DEFINITIONS);
    out
}
