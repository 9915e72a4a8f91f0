//! `throttlebox tune [SCENARIO] --strategy NAME --param KEY=RANGE … --objective 'min cost'
//! --constraint '…'`: search the strategy's settings with the simulator and write `tune.md`,
//! `tune.html` and `tune.json` into the run folder. Exit 0 with a recommendation, 1 when no
//! setting met the constraints; SIGINT/SIGTERM stop the search after the simulations in
//! flight, what was found is written, exit 130/143. `--shard K/N` runs one part of an
//! independent multi-start split (shard K starts from the initial design's points K mod N with
//! 1/N of the budget) and writes `shard.json` for `throttlebox merge`.

use std::path::PathBuf;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use throttlebox::report::RunDir;
use throttlebox::report::bound::parse_bounds;
use throttlebox::scenario::Override;
use throttlebox::scenario::Scenario;
use throttlebox::shard::{
    SHARD_JSON, Shard, ShardIdentity, TunePart, TuneSetup, without_shard_flag,
};
use throttlebox::tune::{
    Evaluation, JudgeRule, Objective, Param, REQUESTS_PER_CPU_SECOND, ShardSearch, TUNE_HTML,
    TUNE_JSON, TUNE_MD, TuneRequest, TuneRun, tune, tune_html, tune_json, tune_markdown,
};

use super::Outcome;
use super::deprecated::scenario_notes;
use super::run_folder::FolderArgs;
use super::signals::Signals;
use super::sim::default_jobs;
use super::wall::{Stopwatch, timestamp};

/// `throttlebox tune`.
#[derive(Debug, clap::Args)]
pub struct TuneArgs {
    /// Scenario file (TOML); default: the embedded default scenario.
    pub scenario: Option<PathBuf>,
    /// The strategy to tune (one of the scenario's).
    #[arg(long)]
    pub strategy: String,
    /// A setting to tune, as a `--set` key with its range (repeatable): durations
    /// `breaker.trip_duration=5s..120s` (log scale), integers `retry.count=0..10`, numbers
    /// `x=0.1..0.9` (append `:log` or `:linear`), choices `breaker.accept_retry_after=true|false`.
    #[arg(long = "param", value_name = "KEY=LOW..HIGH|A|B", required = true)]
    pub params: Vec<String>,
    /// What to optimise: `min cost`, `max goodput`, or a metric alone (its good direction).
    #[arg(long)]
    pub objective: String,
    /// Bounds the recommendation must meet: `success>=99.9%,p99_ttft<2s` (the metrics of
    /// `plan --slo` and `gate`).
    #[arg(long, value_name = "METRIC OP VALUE,…", default_value = "")]
    pub constraint: String,
    /// Judge constraints on the 95 % confidence interval over the seeds (default) or the mean.
    #[arg(long, value_enum, default_value_t = JudgeRule::Interval)]
    pub judge: JudgeRule,
    /// Seeds each full evaluation runs (the scenario's seed, +1, +2, …; the same for every
    /// setting).
    #[arg(long, default_value_t = 5)]
    pub seeds: usize,
    /// Budget in CPU time, turned into simulated requests at a fixed rate before the search
    /// starts (the same result on any machine; a slower one takes longer).
    #[arg(long, default_value = "60s", value_parser = throttlebox::duration::parse)]
    pub budget_cpu: Duration,
    /// Budget in simulated requests (instead of --budget-cpu).
    #[arg(long)]
    pub budget_requests: Option<u64>,
    /// Settings per sensitivity profile through the best setting (0: none), with budget left.
    #[arg(long, default_value_t = 7)]
    pub profile_points: usize,
    /// Override a scenario setting for every evaluation (as `sim --set`; repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    #[command(flatten)]
    pub folder: FolderArgs,
    /// Threads; default: all cores.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Run shard K of N (K from 0) of an independent multi-start split: the unsharded initial
    /// design's points at positions K mod N as the starting set, 1/N of the budget (rounded
    /// down), the rest of the search on its own; plus `shard.json` for `throttlebox merge`,
    /// which pools the shards' evaluations (docs/scale.md).
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
}

/// Run the command.
pub fn run(args: TuneArgs) -> anyhow::Result<Outcome> {
    let signals = Signals::install()?;
    let fixed = args
        .sets
        .iter()
        .map(|text| Override::parse(text))
        .collect::<Result<Vec<_>, _>>()?;
    let params = args
        .params
        .iter()
        .map(|text| Param::parse(text))
        .collect::<Result<Vec<_>, _>>()?;
    let budget = args.budget_requests.unwrap_or_else(|| {
        (args.budget_cpu.as_secs_f64() * REQUESTS_PER_CPU_SECOND as f64).round() as u64
    });
    let request = TuneRequest {
        path: args.scenario.clone(),
        fixed: fixed.clone(),
        strategy: args.strategy.clone(),
        params,
        objective: Objective::parse(&args.objective)?,
        bounds: parse_bounds("--constraint", &args.constraint)?,
        rule: args.judge,
        seeds: args.seeds,
        budget,
        profile_points: args.profile_points,
        jobs: args.jobs.unwrap_or_else(default_jobs),
        stop: signals.stop_flag().clone(),
        shard: args.shard.unwrap_or(Shard::WHOLE),
    };
    let scenario = throttlebox::sweep::load_scenario(args.scenario.as_deref(), &fixed)?;
    scenario_notes(&scenario);
    let name = scenario.name().to_string();
    args.folder.folder().run_in(
        || format!("{name}-tune-{}", timestamp()),
        TUNE_JSON,
        |dir| {
            search(request, dir, &signals, &|dir, run| match args.shard {
                Some(shard) => write_manifest(dir, &scenario, shard, &args, budget, run),
                None => Ok(()),
            })
        },
    )
}

/// Writes what a shard adds (`shard.json`) before `tune.json`.
type BeforeTuneJson<'a> = &'a dyn Fn(&RunDir, &TuneRun) -> anyhow::Result<()>;

fn search(
    request: TuneRequest,
    dir: &RunDir,
    signals: &Signals,
    before: BeforeTuneJson<'_>,
) -> anyhow::Result<Outcome> {
    let bar = ProgressBar::new(request.budget);
    bar.set_style(
        ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {pos}/{len} simulated requests of the budget {msg}",
        )
        .map_err(|error| anyhow::anyhow!("progress bar template: {error}"))?,
    );
    eprintln!(
        "tuning {} ({} parameter(s), {} seed(s), budget {} simulated requests) on {} thread(s)…",
        request.strategy,
        request.params.len(),
        request.seeds,
        request.budget,
        request.jobs
    );
    let clock = Stopwatch::start();
    let on_progress = |used: u64| bar.set_position(used);
    let on_evaluation = |evaluation: &Evaluation, params: &[Param]| {
        let line = evaluation_line(evaluation, params);
        if bar.is_hidden() {
            // No terminal (a log, a pipe): a line per evaluation instead of the bar.
            eprintln!("  {line}");
        } else {
            bar.set_message(format!("— evaluation {}", evaluation.index + 1));
        }
    };
    let run = tune(request, &on_progress, &on_evaluation)?;
    bar.finish_and_clear();
    if !run.evaluations.is_empty() {
        before(dir, &run)?;
        write(dir, &run)?;
    }
    eprintln!(
        "{} evaluations ({} simulations, {} simulated requests) in {:.2?}; results in {}",
        run.evaluations.len(),
        run.simulations,
        run.used,
        clock.elapsed(),
        dir.path().display()
    );
    Ok(match signals.received() {
        Some(signal) => Outcome::Interrupted(signal),
        None => outcome(&run),
    })
}

/// Exit 0 with a recommendation, 1 when no setting met the constraints.
pub fn outcome(run: &TuneRun) -> Outcome {
    if run.recommended.is_none() {
        Outcome::Failed
    } else {
        Outcome::Ok
    }
}

fn evaluation_line(evaluation: &Evaluation, params: &[Param]) -> String {
    let objective = evaluation
        .verdict
        .objective
        .map_or("not measured".to_string(), |o| {
            if o.n > 1 {
                format!("{:.4} ± {:.4}", o.mean, o.half_width())
            } else {
                format!("{:.4}", o.mean)
            }
        });
    format!(
        "evaluation {} ({:?}, {} seed(s) × {} s): {} → {objective}, {} (spent {})",
        evaluation.index + 1,
        evaluation.stage,
        evaluation.fidelity.seeds,
        evaluation.fidelity.duration.as_secs(),
        evaluation.setting.label(params),
        if evaluation.verdict.feasible {
            "meets the constraints"
        } else {
            "breaks a constraint"
        },
        evaluation.requests_after
    )
}

/// `tune.md` and `tune.html`, then `tune.json`, whose presence marks a tune folder.
pub fn write(dir: &RunDir, run: &TuneRun) -> anyhow::Result<()> {
    let markdown = tune_markdown(run)?;
    dir.write_text(TUNE_MD, &markdown)?;
    dir.write_text(TUNE_HTML, &tune_html(run)?)?;
    dir.write_text(TUNE_JSON, &tune_json(run)?)?;
    println!("{markdown}");
    Ok(())
}

/// Write a tune shard's `shard.json` (before `tune.json`) for shard `shard` of the tune `args`
/// asked for, over `base` (the scenario with the `--set`s applied), with a whole budget of
/// `budget` simulated requests: the search's inputs as given (which every shard of one run
/// must share), the whole design's size and this shard's full-fidelity evaluations and
/// neighbourhood checks.
fn write_manifest(
    dir: &RunDir,
    base: &Scenario,
    shard: Shard,
    args: &TuneArgs,
    budget: u64,
    run: &TuneRun,
) -> anyhow::Result<()> {
    let words: Vec<String> = std::env::args().collect();
    let identity = ShardIdentity::new(base, shard, without_shard_flag(&words))?;
    let json = identity.tune_json(TunePart {
        setup: TuneSetup {
            scenario: run.scenario.clone(),
            scenario_path: args.scenario.as_ref().map(|p| p.display().to_string()),
            fixed: args.sets.clone(),
            strategy: args.strategy.clone(),
            params: args.params.clone(),
            objective: args.objective.clone(),
            constraint: args.constraint.clone(),
            judge: args.judge,
            seeds: run.context.seeds.clone(),
            run_length_ns: u64::try_from(run.context.full_duration.as_nanos()).unwrap_or(u64::MAX),
            budget,
            profile_points: args.profile_points,
            design_points: run.design_points,
            full_run_requests: run.full_run_requests,
            rungs: run.rungs.clone(),
        },
        search: ShardSearch::of(run),
    })?;
    dir.write_text(SHARD_JSON, &json)?;
    Ok(())
}
