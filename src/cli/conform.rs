//! `throttlebox conform SCENARIO --system NAME`: run a real balancer (LiteLLM proxy or Router,
//! openai-priority-loadbalancer, the OpenAI SDK) in front of the scenario's mock fleet on its
//! seeded schedule, simulate the matching strategy on the same seed and on `--seeds` others,
//! and print the sim-vs-real table with bounds from the simulator's seed-to-seed spread.
//! Writes `conformance.md`, `conformance.json` and the lab's files (schedule, configs, logs,
//! records) into `results/<run>/`. `--check`: exit 1 when a figure is out of its bound. A real
//! system that died or stopped answering during the run makes it invalid: the verdict says
//! where and why, the table is marked invalid, and the command exits 3 (as `gate` does for a
//! run it cannot trust), `--check` or not.

use std::path::PathBuf;
use std::time::Duration;

use throttlebox::conformance::{
    CheckOptions, LabOptions, Row, System, check, markdown, markdown_invalid, python,
};
use throttlebox::scenario::{Override, Scenario};

use super::Outcome;
use super::deprecated::scenario_notes;
use super::live_common::block_on;
use super::wall::timestamp;

/// `throttlebox conform`.
#[derive(Debug, clap::Args)]
pub struct ConformArgs {
    /// Scenario file (TOML); its fleet must fix completion lengths.
    pub scenario: PathBuf,
    /// The real system to run.
    #[arg(long, value_enum)]
    pub system: System,
    /// The strategy it stands for (default: the first it can stand for).
    #[arg(long)]
    pub strategy: Option<String>,
    /// Override a scenario setting (as in `sim`), repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Seeds simulated for the spread: the scenario's seed + 1 … + N.
    #[arg(long, default_value_t = 20)]
    pub seeds: u64,
    /// The lab's Python (default: $THROTTLEBOX_LAB_PYTHON, else target/conformance-venv).
    #[arg(long)]
    pub python: Option<PathBuf>,
    /// Longest wait for the system to start (LiteLLM takes ~10 s).
    #[arg(long, default_value = "120s", value_parser = throttlebox::duration::parse)]
    pub startup_timeout: Duration,
    /// How long requests may stay open after the last intended send.
    #[arg(long, default_value = "120s", value_parser = throttlebox::duration::parse)]
    pub drain: Duration,
    /// Folder the run directory is created in.
    #[arg(long, default_value = "results")]
    pub results: PathBuf,
    /// Run directory name (default: `<scenario>-<system>-<UTC timestamp>`).
    #[arg(long)]
    pub run: Option<String>,
    /// Exit 1 when a figure is outside its bound.
    #[arg(long)]
    pub check: bool,
    /// Also compare the same real run with the model these overrides give (the model before
    /// a change, e.g. `strategies[x].litellm.version=legacy`), repeatable.
    #[arg(long = "before-set", value_name = "KEY=VALUE")]
    pub before_sets: Vec<String>,
    /// Rounds of warm-up through the system before the schedule (two one-token requests per
    /// backend at once each; then 11 s for the backends' request windows to empty). 0: none.
    #[arg(long, default_value_t = 2)]
    pub warmup_rounds: u32,
    /// The lab's self-check: SIGKILL the system under test (litellm-proxy) once N requests
    /// got an HTTP answer, to see the lab report it (exit 3). Never for a measurement.
    #[arg(long, value_name = "N")]
    pub kill_system_after: Option<u64>,
}

/// Run the command.
pub fn run(args: ConformArgs) -> anyhow::Result<Outcome> {
    let sets = args
        .sets
        .iter()
        .map(|text| Override::parse(text))
        .collect::<Result<Vec<_>, _>>()?;
    let path = args.scenario.clone();
    let load = move |overrides: &[Override]| {
        Scenario::load(&path, overrides).map_err(|error| error.to_string())
    };
    let loaded = load(&sets).map_err(anyhow::Error::msg)?;
    scenario_notes(&loaded);
    let name = loaded.name().to_string();
    let run_name = args
        .run
        .clone()
        .unwrap_or_else(|| format!("{name}-{}-{}", args.system.name(), timestamp()));
    let dir = args.results.join(run_name);
    std::fs::create_dir_all(&dir)?;
    let base_seed = load(&sets).map_err(anyhow::Error::msg)?.file.seed;
    let before = args
        .before_sets
        .iter()
        .map(|text| Override::parse(text))
        .collect::<Result<Vec<_>, _>>()?;
    let options = CheckOptions {
        strategy: args.strategy.clone(),
        before,
        seeds: (1..=args.seeds).map(|k| base_seed + k).collect(),
        lab: LabOptions {
            python: python::lab_python(args.python.as_deref()),
            work_dir: dir.clone(),
            startup_timeout: args.startup_timeout,
            drain: args.drain,
            kill_system_after: args.kill_system_after,
            warmup_rounds: args.warmup_rounds,
        },
    };
    eprintln!(
        "conformance: {} against {name} (seed {base_seed}, {} seeds for the spread)…",
        args.system.name(),
        args.seeds
    );
    let result =
        block_on(check(&load, &sets, args.system, &options))?.map_err(anyhow::Error::msg)?;
    let invalid = if result.valid() { "" } else { " — INVALID" };
    let mut text = format!(
        "## {} vs `{}` (seed {}, spread over {} seeds){invalid}\n\n",
        result.system.name(),
        result.strategy,
        result.seed,
        result.seeds.len(),
    );
    if let Some(stopped) = &result.stopped {
        text.push_str(&format!(
            "**Invalid run: {}**\n\nThe figures below are about a system that stopped answering, \
             not about the preset: they are shown for the record and agree or disagree with \
             nothing.\n\n```\n{}\n```\n\n",
            verdict_line(stopped),
            stopped.log_tail
        ));
    }
    let table = |rows: &[Row]| {
        if result.valid() {
            markdown(rows)
        } else {
            markdown_invalid(rows)
        }
    };
    text.push_str(&table(&result.rows));
    if let Some((_, rows)) = &result.before {
        text.push_str(&format!(
            "\nBefore ({}){invalid}:\n\n{}",
            args.before_sets.join(", "),
            table(rows)
        ));
    }
    println!("{text}");
    std::fs::write(dir.join("conformance.md"), &text)?;
    std::fs::write(
        dir.join("conformance.json"),
        serde_json::to_string_pretty(&result)?,
    )?;
    eprintln!("results in {}", dir.display());
    if let Some(stopped) = &result.stopped {
        eprintln!("invalid run: {stopped}");
        return Ok(Outcome::Untrusted);
    }
    Ok(if args.check && !result.agrees() {
        Outcome::Failed
    } else {
        Outcome::Ok
    })
}

/// The verdict without the log tail (the Markdown shows that in a block of its own).
fn verdict_line(stopped: &throttlebox::conformance::Stopped) -> String {
    let full = stopped.to_string();
    match full.strip_suffix(&stopped.log_tail) {
        Some(head) => head.trim_end().to_string(),
        None => full,
    }
}
