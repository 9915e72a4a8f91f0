//! `tune.json` (every evaluation, the recommendation, the runner-up, the best setting found,
//! the budget) and `tune.md` (the recommendation with its figures and intervals, the
//! constraints' slack, the runner-up, what to paste, and the search). Pure: the same run gives
//! the same bytes (no clock, no machine figures; wall time is printed, not written).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::REQUESTS_PER_CPU_SECOND;
use super::error::TuneError;
use super::evaluate::{Evaluation, Fidelity, Stage};
use super::fragment::{Fragments, fragments};
use super::judge::{JudgeRule, Slack};
use super::pool::provenance;
use super::search::{Check, MergedFrom, TuneRun};
use super::stats::Estimate;
use crate::report::metric::{METRICS, Unit, lookup};
use crate::split::Shard;

/// `tune.json`.
pub const TUNE_JSON: &str = "tune.json";
/// `tune.md`.
pub const TUNE_MD: &str = "tune.md";
/// `tune.html`.
pub const TUNE_HTML: &str = "tune.html";
/// Version of `tune.json`'s layout.
pub const TUNE_SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct KeyValue<'a> {
    key: &'a str,
    value: &'a str,
}

#[derive(Serialize)]
struct Candidate<'a> {
    evaluation: usize,
    values: Vec<KeyValue<'a>>,
    full_fidelity: bool,
    feasible: bool,
    objective: Option<Estimate>,
    slack: &'a [Slack],
    figures: &'a BTreeMap<String, Estimate>,
    neighbourhood: Option<Neighbourhood>,
    fragments: Fragments,
}

#[derive(Serialize)]
struct Neighbourhood {
    neighbours: Vec<usize>,
    complete: bool,
    robust: bool,
    cliff_edge: bool,
}

#[derive(Serialize)]
struct EvaluationRow<'a> {
    index: usize,
    stage: Stage,
    values: Vec<KeyValue<'a>>,
    fidelity: Fidelity,
    full: bool,
    objective: Option<Estimate>,
    feasible: bool,
    violation: f64,
    requests_after: u64,
}

#[derive(Serialize)]
struct Budget {
    requests: u64,
    used: u64,
    requests_per_cpu_second: u64,
    full_run_requests: u64,
    simulations: usize,
    evaluations: usize,
    full_evaluations: usize,
}

#[derive(Serialize)]
struct Param {
    key: String,
    domain: String,
}

#[derive(Serialize)]
struct TuneJson<'a> {
    tune_schema_version: u32,
    /// A shard of `tune --shard K/N` (absent when unsharded).
    #[serde(skip_serializing_if = "Option::is_none")]
    shard: Option<String>,
    /// A merge of tune shards (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    merged_from: Option<&'a MergedFrom>,
    scenario: &'a str,
    strategy: &'a str,
    objective: String,
    constraints: Vec<String>,
    judge: JudgeRule,
    confidence: f64,
    seeds: &'a [u64],
    run_length_s: f64,
    params: Vec<Param>,
    budget: Budget,
    rungs: &'a [Fidelity],
    interrupted: bool,
    recommendation: Option<Candidate<'a>>,
    runner_up: Option<Candidate<'a>>,
    best_found: Option<Candidate<'a>>,
    evaluations: Vec<EvaluationRow<'a>>,
}

fn values<'a>(run: &'a TuneRun, evaluation: &'a Evaluation) -> Vec<KeyValue<'a>> {
    run.context
        .params
        .iter()
        .zip(&evaluation.setting.0)
        .map(|(param, value)| KeyValue {
            key: &param.key,
            value,
        })
        .collect()
}

fn neighbourhood(check: Option<&Check>) -> Option<Neighbourhood> {
    check.map(|check| Neighbourhood {
        neighbours: check.neighbours.clone(),
        complete: check.complete,
        robust: check.robust,
        cliff_edge: check.complete && !check.robust,
    })
}

fn candidate<'a>(
    run: &'a TuneRun,
    index: Option<usize>,
) -> Result<Option<Candidate<'a>>, TuneError> {
    let Some(index) = index else { return Ok(None) };
    let evaluation = &run.evaluations[index];
    Ok(Some(Candidate {
        evaluation: index,
        values: values(run, evaluation),
        full_fidelity: evaluation.full,
        feasible: evaluation.verdict.feasible,
        objective: evaluation.verdict.objective,
        slack: &evaluation.verdict.slack,
        figures: &evaluation.estimates,
        neighbourhood: neighbourhood(run.check_of(index)),
        fragments: fragments(&run.context, &evaluation.setting)?,
    }))
}

/// `tune.json`'s text (two-space indent, trailing newline).
pub fn tune_json(run: &TuneRun) -> Result<String, TuneError> {
    let context = &run.context;
    let json = TuneJson {
        tune_schema_version: TUNE_SCHEMA_VERSION,
        shard: (run.shard != Shard::WHOLE).then(|| run.shard.to_string()),
        merged_from: run.merged_from.as_ref(),
        scenario: &run.scenario,
        strategy: &context.strategy,
        objective: context.objective.text(),
        constraints: context.bounds.iter().map(ToString::to_string).collect(),
        judge: context.rule,
        confidence: 0.95,
        seeds: &context.seeds,
        run_length_s: context.full_duration.as_secs_f64(),
        params: context
            .params
            .iter()
            .map(|p| Param {
                key: p.key.clone(),
                domain: p.domain_text(),
            })
            .collect(),
        budget: Budget {
            requests: run.budget,
            used: run.used,
            requests_per_cpu_second: REQUESTS_PER_CPU_SECOND,
            full_run_requests: run.full_run_requests,
            simulations: run.simulations,
            evaluations: run.evaluations.len(),
            full_evaluations: run.evaluations.iter().filter(|e| e.full).count(),
        },
        rungs: &run.rungs,
        interrupted: run.interrupted,
        recommendation: candidate(run, run.recommended)?,
        runner_up: candidate(run, run.runner_up)?,
        best_found: candidate(run, run.best)?,
        evaluations: run
            .evaluations
            .iter()
            .map(|e| EvaluationRow {
                index: e.index,
                stage: e.stage,
                values: values(run, e),
                fidelity: e.fidelity,
                full: e.full,
                objective: e.verdict.objective,
                feasible: e.verdict.feasible,
                violation: e.verdict.violation,
                requests_after: e.requests_after,
            })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&json).map_err(crate::report::ReportError::from)?;
    text.push('\n');
    Ok(text)
}

/// `value` of metric `name` for a table.
fn shown(name: &str, value: f64) -> String {
    lookup(name).map_or_else(|| format!("{value:.4}"), |metric| metric.value_text(value))
}

/// A constraint's slack in the metric's unit: `+0.123 s`, `+0.05 pt`, `−0.0123`.
fn slack_text(constraint: &str, slack: f64) -> String {
    let name = constraint.split(['<', '>']).next().unwrap_or_default();
    match lookup(name).map(|m| m.unit) {
        Some(Unit::Seconds) => format!("{slack:+.3} s"),
        Some(Unit::Ratio) => format!("{:+.3} pt", slack * 100.0),
        _ => format!("{slack:+.4}"),
    }
}

fn setting_text(run: &TuneRun, evaluation: &Evaluation) -> String {
    format!("`{}`", evaluation.setting.label(&run.context.params))
}

fn objective_text(run: &TuneRun, evaluation: &Evaluation) -> String {
    let name = run.context.objective.metric.name;
    match evaluation.verdict.objective {
        Some(e) if e.n > 1 => format!(
            "{name} {} (95 % interval {} – {})",
            shown(name, e.mean),
            shown(name, e.low),
            shown(name, e.high)
        ),
        Some(e) => format!("{name} {}", shown(name, e.mean)),
        None => format!("{name} not measured"),
    }
}

/// `` `key=value …` — cost 12.7 (95 % interval …)``.
fn headline(run: &TuneRun, evaluation: &Evaluation) -> String {
    format!(
        "{} — {}",
        setting_text(run, evaluation),
        objective_text(run, evaluation)
    )
}

fn figures_table(out: &mut String, evaluation: &Evaluation) {
    out.push_str("| metric | mean | 95 % interval | sd |\n|:---|---:|---:|---:|\n");
    for metric in METRICS {
        if let Some(e) = evaluation.estimates.get(metric.name) {
            let _ = writeln!(
                out,
                "| {} | {} | {} – {} | {} |",
                metric.name,
                metric.value_text(e.mean),
                metric.value_text(e.low),
                metric.value_text(e.high),
                metric.value_text(e.sd)
            );
        }
    }
}

fn slack_table(out: &mut String, run: &TuneRun, evaluation: &Evaluation) {
    if evaluation.verdict.slack.is_empty() {
        return;
    }
    let judged_on = match run.context.rule {
        JudgeRule::Mean => "mean",
        JudgeRule::Interval => "interval end",
    };
    out.push_str(
        "\n| constraint | judged on | figure | slack | met |\n|:---|:---|---:|---:|:---|\n",
    );
    for slack in &evaluation.verdict.slack {
        let name = slack
            .constraint
            .split(['<', '>'])
            .next()
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "| `{}` | {judged_on} | {} | {} | {} |",
            slack.constraint,
            slack
                .judged
                .map_or("not measured".to_string(), |v| shown(name, v)),
            slack
                .slack
                .map_or("—".to_string(), |s| slack_text(&slack.constraint, s)),
            if slack.met { "yes" } else { "**no**" }
        );
    }
}

fn apply(out: &mut String, fragments: &Fragments, strategy: &str) {
    let _ = writeln!(
        out,
        "### Apply it\n\nThe exact `--set` line (keys as tuned):\n\n```sh\n{}\n```\n",
        fragments.set_line
    );
    if let Some(line) = &fragments.strategy_set_line {
        let _ = writeln!(out, "For `{strategy}` alone:\n\n```sh\n{line}\n```\n");
    }
    let _ = writeln!(
        out,
        "In the scenario file, in the `[[strategies]]` entry named `{strategy}` (strategy keys) \
         or at the top (others):\n\n```toml\n{}\n```\n",
        fragments.scenario_lines
    );
    if let Some(rule) = &fragments.apim_rule {
        let _ = writeln!(
            out,
            "APIM backend pool JSON, `properties.circuitBreaker.rules[0]` (durations ISO-8601):\n\n```json\n{rule}\n```\n"
        );
    }
    if let Some(retry) = &fragments.apim_retry {
        let _ = writeln!(out, "APIM `<retry>` policy attributes: `{retry}`\n");
    }
    if let Some(yaml) = &fragments.litellm {
        let _ = writeln!(out, "LiteLLM `config.yaml`:\n\n```yaml\n{yaml}```\n");
    }
}

fn stage_name(stage: Stage) -> &'static str {
    match stage {
        Stage::Design => "design",
        Stage::Halving => "halving",
        Stage::Refine => "refine",
        Stage::Profile => "profile",
        Stage::Neighbourhood => "neighbourhood",
    }
}

/// `tune.md`'s text.
pub fn tune_markdown(run: &TuneRun) -> Result<String, TuneError> {
    let context = &run.context;
    let mut out = format!("# Tuning `{}` on {}\n\n", context.strategy, run.scenario);
    let constraints: Vec<String> = context.bounds.iter().map(|b| format!("`{b}`")).collect();
    let seeds: Vec<String> = context.seeds.iter().map(u64::to_string).collect();
    let _ = writeln!(
        out,
        "**Objective** `{}`; **constraints** {}, judged on {} over {} seed(s) ({}: the same for \
         every setting) of {} s runs.\n",
        context.objective.text(),
        if constraints.is_empty() {
            "none".to_string()
        } else {
            constraints.join(", ")
        },
        match context.rule {
            JudgeRule::Interval => "the 95 % confidence interval of the mean",
            JudgeRule::Mean => "the mean",
        },
        seeds.len(),
        seeds.join(", "),
        super::param::number_text(context.full_duration.as_secs_f64())
    );
    for param in &context.params {
        let _ = writeln!(out, "- `{}`: {}", param.key, param.domain_text());
    }
    out.push('\n');
    out.push_str(&provenance(run));
    if run.interrupted {
        out.push_str(
            "> **Interrupted**: the search was stopped; below is the best of what was evaluated \
             by then.\n\n",
        );
    }
    out.push_str("## Recommendation\n\n");
    match run.recommended {
        None => {
            out.push_str("No setting evaluated meets the constraints.");
            if let Some(best) = run.best {
                let e = &run.evaluations[best];
                let _ = write!(out, " The closest: {}.", headline(run, e));
            }
            out.push_str("\n\n");
        }
        Some(index) => {
            let e = &run.evaluations[index];
            let _ = writeln!(out, "{}.\n", headline(run, e));
            match run.check_of(index) {
                Some(check) if check.robust => out.push_str(
                    "Robust: every neighbour (a tenth of each range, or one step, down and up) \
                     meets the constraints too.\n\n",
                ),
                Some(check) if check.complete => out.push_str(
                    "**Cliff edge**: a neighbour breaks a constraint, and no better-checked \
                     setting was found; a small change may break it.\n\n",
                ),
                _ => out.push_str("Its neighbourhood was not checked (budget or stop).\n\n"),
            }
            if !e.full {
                out.push_str("Not evaluated at full fidelity (the search was stopped first).\n\n");
            }
            figures_table(&mut out, e);
            slack_table(&mut out, run, e);
            out.push('\n');
            apply(
                &mut out,
                &fragments(context, &e.setting)?,
                &context.strategy,
            );
        }
    }
    if let (Some(best), Some(recommended)) = (run.best, run.recommended) {
        if best != recommended {
            let e = &run.evaluations[best];
            let reason = match run.check_of(best) {
                Some(check) if check.complete && !check.robust => {
                    let broken: Vec<String> = check
                        .neighbours
                        .iter()
                        .filter(|n| !run.evaluations[**n].verdict.feasible)
                        .map(|n| setting_text(run, &run.evaluations[*n]))
                        .collect();
                    format!(
                        "it is on a cliff edge: {} break(s) a constraint",
                        broken.join(", ")
                    )
                }
                _ => "its neighbourhood could not be checked".to_string(),
            };
            let _ = writeln!(
                out,
                "## Not recommended: the best setting found\n\n{} — is better on the objective, \
                 but {reason}.\n",
                headline(run, e)
            );
        }
    }
    if let Some(index) = run.runner_up {
        let e = &run.evaluations[index];
        let _ = writeln!(
            out,
            "## Runner-up\n\n{}; {}; {}.\n",
            headline(run, e),
            if e.verdict.feasible {
                "meets the constraints"
            } else {
                "breaks a constraint"
            },
            match run.check_of(index) {
                Some(check) if check.robust => "so does its neighbourhood",
                Some(check) if check.complete => "a cliff edge",
                _ => "its neighbourhood was not checked",
            }
        );
        slack_table(&mut out, run, e);
        out.push('\n');
    }
    search(&mut out, run);
    Ok(out)
}

fn search(out: &mut String, run: &TuneRun) {
    let _ = writeln!(
        out,
        "## Search\n\n{} simulated requests of a budget of {} ({} simulations; one full-length \
         run is {} requests). Successive halving over seeds and run lengths on a Latin \
         hypercube, then a coordinate search, profiles and neighbourhood checks at full \
         fidelity.\n",
        run.used, run.budget, run.simulations, run.full_run_requests
    );
    out.push_str("| stage | evaluations | seeds × run length |\n|:---|---:|:---|\n");
    for stage in [
        Stage::Design,
        Stage::Halving,
        Stage::Refine,
        Stage::Profile,
        Stage::Neighbourhood,
    ] {
        let of: Vec<&Evaluation> = run
            .evaluations
            .iter()
            .filter(|e| e.stage == stage)
            .collect();
        if of.is_empty() {
            continue;
        }
        let mut fidelities: Vec<String> = of
            .iter()
            .map(|e| format!("{} × {} s", e.fidelity.seeds, e.fidelity.duration.as_secs()))
            .collect();
        fidelities.dedup();
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            stage_name(stage),
            of.len(),
            fidelities.join(", ")
        );
    }
    out.push_str("\nThe ten best settings at full fidelity:\n\n");
    out.push_str("| setting | objective (mean) | meets constraints |\n|:---|---:|:---|\n");
    let mut full: Vec<&Evaluation> = run.evaluations.iter().filter(|e| e.full).collect();
    full.sort_by(|a, b| super::judge::rank(&a.verdict, &b.verdict, &run.context.objective));
    let name = run.context.objective.metric.name;
    for e in full.iter().take(10) {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            setting_text(run, e),
            e.verdict
                .objective
                .map_or("—".to_string(), |o| shown(name, o.mean)),
            if e.verdict.feasible { "yes" } else { "no" }
        );
    }
}
