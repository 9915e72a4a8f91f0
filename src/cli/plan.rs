//! `throttlebox plan SCENARIO --target 'p99_ttft<2s,success>=99.5%'`: search fleet sizes with
//! the simulator and write `plan.json`, `plan.md`, `plan.html` and `plan.svg` into the run
//! folder. Exit 0 when every planned strategy has a fleet meeting the targets, 1 when one has
//! none among the candidates.

use std::path::PathBuf;

use throttlebox::plan::{
    FleetBuilder, PLAN_HTML, PLAN_JSON, PLAN_MD, PLAN_SVG, PlanConfig, PtuDeploymentType,
    PtuSizing, chart::plan_svg, parse_fraction, parse_targets, plan, plan_html, plan_json,
    plan_markdown,
};
use throttlebox::report::RunDir;
use throttlebox::scenario::preflight::{self, Job};
use throttlebox::scenario::{Override, Scenario};

use super::Outcome;
use super::sim::default_jobs;
use super::wall::{Stopwatch, timestamp};

/// `throttlebox plan`.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// Scenario file (TOML) whose workload, strategies and prices the plan uses.
    pub scenario: PathBuf,
    /// Targets every strategy's fleet must meet: `p99_ttft<2s,success>=99.5%` (metrics:
    /// p50/p95/p99 _ttft and _e2e, success, 429, 5xx, goodput, retries_per_request).
    #[arg(long)]
    pub target: String,
    /// Workload growth: every arrival rate (or a trace's rate_scale) × this.
    #[arg(long, default_value_t = 1.0)]
    pub growth: f64,
    /// Spare capacity fleets must have: they are tested at the grown load × (1 + headroom).
    #[arg(long, default_value = "0%")]
    pub headroom: String,
    /// Plan only for this strategy (repeatable; default: every strategy that can be resized).
    #[arg(long = "strategy", value_name = "NAME")]
    pub strategies: Vec<String>,
    /// Override a scenario setting before planning (as `sim --set`; repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Run length of each simulation (shorter is faster); default: the scenario's. Keep it
    /// several minutes: a PTU deployment's bucket holds 60 s of drain, so a short run can hide
    /// a sustained overload that a longer one would show as 429s.
    #[arg(long)]
    pub duration: Option<String>,
    /// Most pay-as-you-go deployments a candidate has.
    #[arg(long, default_value_t = 6)]
    pub max_payg: u32,
    /// Sizes (TPM) of pay-as-you-go deployments to try, comma-separated (default: the
    /// scenario's PAYG deployment's).
    #[arg(long, value_delimiter = ',', value_name = "TPM,…")]
    pub payg_tpm: Vec<u64>,
    /// PTU deployment type (sets the default minimum and increment).
    #[arg(long, value_enum, default_value_t = PtuDeploymentType::Global)]
    pub ptu_type: PtuDeploymentType,
    /// Smallest PTU deployment (default: per model and type, loadgen reference §8).
    #[arg(long)]
    pub ptu_min: Option<u32>,
    /// PTU increment (default: per model and type).
    #[arg(long)]
    pub ptu_increment: Option<u32>,
    /// Largest PTU size tried (default: twice the analytical estimate with headroom).
    #[arg(long)]
    pub ptu_max: Option<u32>,
    /// Input tokens per minute per PTU (default: the model's; also set on the simulated PTUs).
    #[arg(long)]
    pub input_tpm_per_ptu: Option<f64>,
    /// Weight of one output token in input tokens (default: the model's; also simulated).
    #[arg(long)]
    pub output_weight: Option<f64>,
    /// Folder the run directory is created in.
    #[arg(long, default_value = "results")]
    pub results: PathBuf,
    /// Run directory name (default: `<scenario>-plan-<UTC timestamp>`).
    #[arg(long)]
    pub run: Option<String>,
    /// Threads; default: all cores.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Plan even when the pre-flight estimate of one candidate's simulation (requests, memory)
    /// is over the safety limits.
    #[arg(long)]
    pub allow_large: bool,
}

/// Refuse a plan whose every candidate simulation would be absurdly large (the scenario at its
/// planned length and `load` × its rates), unless `--allow-large`.
fn preflight_candidate(
    args: &PlanArgs,
    overrides: &[Override],
    load: f64,
    jobs: usize,
) -> anyhow::Result<()> {
    let mut overrides = overrides.to_vec();
    if let Some(duration) = &args.duration {
        overrides.push(Override::new("workload.duration", duration)?);
    }
    let scenario = Scenario::load(&args.scenario, &overrides)?;
    let job = Job::PlanCandidate { load, jobs };
    preflight::refuse_unless_allowed(&scenario, job, args.allow_large)?;
    Ok(())
}

/// Run the command.
pub fn run(args: PlanArgs) -> anyhow::Result<Outcome> {
    let targets = parse_targets(&args.target)?;
    let headroom = parse_fraction("--headroom", &args.headroom)?;
    if !(args.growth.is_finite() && args.growth > 0.0) {
        anyhow::bail!("--growth = {}: must be positive", args.growth);
    }
    let overrides = args
        .sets
        .iter()
        .map(|text| Override::parse(text))
        .collect::<Result<Vec<_>, _>>()?;
    let load = args.growth * (1.0 + headroom);
    let jobs = args.jobs.unwrap_or_else(default_jobs);
    preflight_candidate(&args, &overrides, load, jobs)?;
    let mut builder = FleetBuilder::new(&args.scenario, &overrides, &args.strategies)?;
    builder.set_ptu_model_overrides(args.input_tpm_per_ptu, args.output_weight);
    let mut sizing = PtuSizing::defaults(
        &builder.model,
        args.ptu_type,
        &builder.ptu_model_overrides(),
    );
    sizing.input_tpm_per_ptu = args.input_tpm_per_ptu.unwrap_or(sizing.input_tpm_per_ptu);
    sizing.output_weight = args.output_weight.unwrap_or(sizing.output_weight);
    sizing.min = args.ptu_min.unwrap_or(sizing.min);
    sizing.increment = args.ptu_increment.unwrap_or(sizing.increment);
    let config = PlanConfig {
        targets,
        growth: args.growth,
        headroom,
        sizing,
        ptu_max: args.ptu_max,
        max_payg: args.max_payg,
        payg_tpms: args.payg_tpm,
        duration: args.duration.clone(),
        jobs,
    };
    let clock = Stopwatch::start();
    eprintln!(
        "planning {} strategies of {} on {} thread(s)…",
        builder.strategies.len(),
        args.scenario.display(),
        config.jobs
    );
    let result = plan(&builder, &config)?;
    let run_name = args
        .run
        .clone()
        .unwrap_or_else(|| format!("{}-plan-{}", result.scenario, timestamp()));
    let dir = RunDir::create(&args.results, &run_name)?;
    let svg = plan_svg(&result)?;
    let markdown = plan_markdown(&result);
    for (name, text) in [
        (PLAN_JSON, plan_json(&result)?),
        (PLAN_MD, markdown.clone()),
        (PLAN_HTML, plan_html(&result, &svg)),
        (PLAN_SVG, svg),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text)
            .map_err(|error| anyhow::anyhow!("{}: {error}", path.display()))?;
    }
    println!("{markdown}");
    eprintln!(
        "{} candidate fleets simulated in {:.2?}; plan in {}",
        result.candidates_simulated,
        clock.elapsed(),
        dir.path().display()
    );
    Ok(if result.strategies.iter().all(|s| s.best.is_some()) {
        Outcome::Ok
    } else {
        Outcome::Failed
    })
}
