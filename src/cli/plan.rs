//! `throttlebox plan SCENARIO --slo 'p99_ttft<2s,success>=99.5%'`: search fleet sizes with
//! the simulator, price them per deployment type and pricing mode, and write `plan.json`,
//! `plan.md`, `plan.html`, `plan.svg` and `plan-cost.svg` into the run folder. Exit 0 when
//! every planned strategy has a fleet meeting the targets, 1 when one has none among the
//! candidates. SIGINT/SIGTERM stop the search within milliseconds; a plan needs every
//! candidate, so none is written (exit 130/143, no folder left).

use std::path::PathBuf;

use throttlebox::plan::PlanError;
use throttlebox::plan::{
    FleetBuilder, PLAN_COST_SVG, PLAN_HTML, PLAN_JSON, PLAN_MD, PLAN_SVG, PlanConfig, PriceBook,
    PriceOrigin, PtuDeploymentType, PtuSizing, chart::plan_svg, cost_chart::cost_svg,
    parse_fraction, parse_targets, plan, plan_html, plan_json, plan_markdown,
};
use throttlebox::report::RunDir;
use throttlebox::scenario::preflight::{self, Job};
use throttlebox::scenario::{Override, Scenario};
use throttlebox::shard::Shard;

use super::Outcome;
use super::deprecated::{Renamed, scenario_notes};
use super::run_folder::FolderArgs;
use super::signals::Signals;
use super::sim::default_jobs;
use super::wall::{Stopwatch, timestamp};

/// `--slo` was `--target`, which every other command reads as a URL.
const SLO_FLAG: Renamed<'static> = Renamed {
    command: "plan",
    new: "--slo",
    old: "--target",
    why: "`--target` is a URL in `run` and `load`",
};

/// `throttlebox plan`.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// Scenario file (TOML) whose workload, strategies and prices the plan uses.
    pub scenario: PathBuf,
    /// SLO targets every strategy's fleet must meet: `p99_ttft<2s,success>=99.5%` (metrics:
    /// p50/p95/p99 _ttft and _e2e, success, 429, 5xx, goodput, retries_per_request).
    #[arg(long, required_unless_present = "target")]
    pub slo: Option<String>,
    /// The old spelling of `--slo`.
    #[arg(long, hide = true, conflicts_with = "slo")]
    pub target: Option<String>,
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
    /// Run length of each simulation; default: the scenario's, lengthened when it is too short
    /// for the PTU bucket (60 s of drain) to show an overload of one increment (the plan says
    /// so). A shorter --duration is faster and is warned about.
    #[arg(long)]
    pub duration: Option<String>,
    /// Share of prompt tokens served from the prompt cache, for the calculator figures (20% or
    /// 0.2); the simulated workload sends none.
    #[arg(long, default_value = "0%")]
    pub cache_hit_rate: String,
    /// Try no fleets that spill the PTU's overflow over to a standard deployment in its
    /// resource (default: tried when the scenario has a PTU and a pay-as-you-go deployment).
    #[arg(long)]
    pub no_spillover: bool,
    /// Most pay-as-you-go deployments a candidate has.
    #[arg(long, default_value_t = 6)]
    pub max_payg: u32,
    /// Sizes (TPM) of pay-as-you-go deployments to try, comma-separated (default: the
    /// scenario's PAYG deployment's).
    #[arg(long, value_delimiter = ',', value_name = "TPM,…")]
    pub payg_tpm: Vec<u64>,
    /// PTU deployment types to plan, comma-separated (each has its minimum, increment and
    /// price; default: every type with a price in [costs.ptu], or in the example prices).
    #[arg(
        long = "ptu-type",
        value_enum,
        value_delimiter = ',',
        value_name = "TYPE,…"
    )]
    pub ptu_types: Vec<PtuDeploymentType>,
    /// Smallest PTU deployment, for every planned type (default: per model and type, from the
    /// model table).
    #[arg(long)]
    pub ptu_min: Option<u32>,
    /// PTU increment, for every planned type (default: per model and type).
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
    #[command(flatten)]
    pub folder: FolderArgs,
    /// Threads; default: all cores.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Plan even when the pre-flight estimate of one candidate's simulation (requests, memory)
    /// is over the safety limits.
    #[arg(long)]
    pub allow_large: bool,
    /// Plan shard K of N (K from 0): only the strategies whose position among those planned is
    /// K modulo N. Each shard's folder is the complete plan of its strategies.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
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
    let signals = Signals::install()?;
    let slo = SLO_FLAG
        .value(args.slo.clone(), args.target.clone())
        .ok_or_else(|| anyhow::anyhow!("--slo is required"))?;
    let targets = parse_targets(&slo)?;
    let headroom = parse_fraction("--headroom", &args.headroom)?;
    let cache_hit_rate = parse_fraction("--cache-hit-rate", &args.cache_hit_rate)?;
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
    if let Some(shard) = args.shard {
        let planned = builder.strategies.len();
        builder.strategies = shard.pick(builder.strategies).collect();
        if builder.strategies.is_empty() {
            anyhow::bail!(
                "--shard {shard}: {planned} strategies to plan, so at most {planned} shards have one"
            );
        }
    }
    builder.set_ptu_model_overrides(args.input_tpm_per_ptu, args.output_weight);
    let prices = PriceBook::resolve(&builder.costs()?, &builder.model)?;
    if matches!(prices.payg_origin, PriceOrigin::Example { .. }) {
        builder.set_payg_prices(prices.payg_input_per_1k, prices.payg_output_per_1k);
    }
    let sizings = sizings(&args, &builder, &prices)?;
    let config = PlanConfig {
        targets,
        growth: args.growth,
        headroom,
        sizings,
        cache_hit_rate,
        prices,
        ptu_max: args.ptu_max,
        max_payg: args.max_payg,
        payg_tpms: args.payg_tpm,
        spillover: !args.no_spillover,
        duration: args.duration.clone(),
        jobs,
        stop: signals.stop_flag().clone(),
    };
    eprintln!(
        "planning {} strategies of {} on {} thread(s)…",
        builder.strategies.len(),
        args.scenario.display(),
        config.jobs
    );
    let loaded = Scenario::load(&args.scenario, &overrides)?;
    scenario_notes(&loaded);
    let name = loaded.name().to_string();
    args.folder.folder().run_in(
        || format!("{name}-plan-{}", timestamp()),
        PLAN_JSON,
        |dir| search(&builder, &config, dir, &signals),
    )
}

fn search(
    builder: &FleetBuilder,
    config: &PlanConfig,
    dir: &RunDir,
    signals: &Signals,
) -> anyhow::Result<Outcome> {
    let clock = Stopwatch::start();
    let result = match plan(builder, config) {
        Err(PlanError::Stopped) => {
            let signal = signals
                .received()
                .unwrap_or(super::signals::Signal::Interrupt);
            eprintln!("stopped before every candidate fleet was simulated: no plan written");
            return Ok(Outcome::Interrupted(signal));
        }
        other => other?,
    };
    let svg = plan_svg(&result)?;
    let cost = cost_svg(&result)?;
    let markdown = plan_markdown(&result);
    // plan.json last: its presence marks a complete plan folder.
    let json = plan_json(&result)?;
    for (name, text) in [
        (PLAN_MD, markdown.clone()),
        (PLAN_HTML, plan_html(&result, &svg, &cost)),
        (PLAN_SVG, svg),
        (PLAN_COST_SVG, cost),
        (PLAN_JSON, json),
    ] {
        dir.write_text(name, &text)?;
    }
    println!("{markdown}");
    for warning in &result.run.warnings {
        eprintln!("warning: {warning}");
    }
    eprintln!(
        "{} candidate fleets simulated in {:.2?}; plan in {}",
        result.candidates_simulated,
        clock.elapsed(),
        dir.path().display()
    );
    Ok(
        if result.strategies.iter().all(|s| s.recommendation.is_some()) {
            Outcome::Ok
        } else {
            Outcome::Failed
        },
    )
}

/// The PTU figures of every planned deployment type: the ones asked for (each must be
/// priced), else every priced one; flags override the model table's figures.
fn sizings(
    args: &PlanArgs,
    builder: &FleetBuilder,
    prices: &PriceBook,
) -> anyhow::Result<Vec<PtuSizing>> {
    let priced = prices.priced_types();
    let kinds: Vec<PtuDeploymentType> = if args.ptu_types.is_empty() {
        priced
    } else {
        for kind in &args.ptu_types {
            if !priced.contains(kind) {
                anyhow::bail!(
                    "--ptu-type = {}: no price for it; give [costs.ptu.{}] hourly, monthly_reservation and/or yearly_reservation in {}",
                    kind.key(),
                    kind.key(),
                    args.scenario.display()
                );
            }
        }
        let mut kinds = args.ptu_types.clone();
        kinds.sort_unstable();
        kinds.dedup();
        kinds
    };
    if builder.has_ptu() && kinds.is_empty() {
        anyhow::bail!(
            "{}: the scenario has a PTU deployment but [costs.ptu] prices no deployment type (global, data-zone, regional)",
            args.scenario.display()
        );
    }
    Ok(kinds
        .into_iter()
        .map(|kind| {
            let mut sizing =
                PtuSizing::defaults(&builder.model, kind, &builder.ptu_model_overrides());
            sizing.input_tpm_per_ptu = args.input_tpm_per_ptu.unwrap_or(sizing.input_tpm_per_ptu);
            sizing.output_weight = args.output_weight.unwrap_or(sizing.output_weight);
            sizing.min = args.ptu_min.unwrap_or(sizing.min);
            sizing.increment = args.ptu_increment.unwrap_or(sizing.increment);
            sizing
        })
        .collect())
}
