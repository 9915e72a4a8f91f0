//! `throttlebox conform SCENARIO --system NAME`: run a real balancer (LiteLLM proxy or Router,
//! openai-priority-loadbalancer, the OpenAI SDK) in front of the scenario's mock fleet on its
//! seeded schedule, simulate the matching strategy on the same seed and on `--seeds` others,
//! and print the sim-vs-real table with bounds from the simulator's seed-to-seed spread.
//! Writes `conformance.md`, `conformance.json` and the lab's files (schedule, configs, logs,
//! records) into `results/<run>/`. `--check`: exit 1 when a figure is out of its bound.

use std::path::PathBuf;
use std::time::Duration;

use throttlebox::conformance::{CheckOptions, LabOptions, System, check, markdown, python};
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
        },
    };
    eprintln!(
        "conformance: {} against {name} (seed {base_seed}, {} seeds for the spread)…",
        args.system.name(),
        args.seeds
    );
    let result =
        block_on(check(&load, &sets, args.system, &options))?.map_err(anyhow::Error::msg)?;
    let mut text = format!(
        "## {} vs `{}` (seed {}, spread over {} seeds)\n\n{}",
        result.system.name(),
        result.strategy,
        result.seed,
        result.seeds.len(),
        markdown(&result.rows)
    );
    if let Some((_, rows)) = &result.before {
        text.push_str(&format!(
            "\nBefore ({}):\n\n{}",
            args.before_sets.join(", "),
            markdown(rows)
        ));
    }
    println!("{text}");
    std::fs::write(dir.join("conformance.md"), &text)?;
    std::fs::write(
        dir.join("conformance.json"),
        serde_json::to_string_pretty(&result)?,
    )?;
    eprintln!("results in {}", dir.display());
    Ok(if args.check && !result.agrees() {
        Outcome::Failed
    } else {
        Outcome::Ok
    })
}
