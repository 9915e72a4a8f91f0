//! `throttlebox gate RUN --baseline FILE`: judge a run against its SLOs and a committed
//! baseline, write `gate.xml` and `gate.md` into the run folder, exit 0 (pass) or 1 (fail);
//! `--update-baseline FILE` records the run as the new baseline instead. A run that cannot be
//! trusted (interrupted, or a strategy whose validity failed) is refused either way: exit 3,
//! with the reasons in `gate.xml`/`gate.md` (nothing recorded as a baseline).

use std::path::{Path, PathBuf};

use throttlebox::gate::{
    Baseline, Budget, GATE_MD, GATE_XML, GateSection, GateVerdict, Status, gate_markdown, judge,
    junit_xml, load_summary, refusal,
};
use throttlebox::report::atomic_file::write_file;
use throttlebox::report::{ReportError, Summary};

use super::Outcome;

/// `throttlebox gate`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("against").required(true).args(["baseline", "update_baseline"])))]
pub struct GateArgs {
    /// The run folder (`results/<run>`, holding summary.json).
    pub run: PathBuf,
    /// The baseline to judge the run against (`results/baselines/NAME.json`).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Record the run as the baseline FILE (keeps the file's `gate` section if it has one).
    #[arg(long, value_name = "FILE")]
    pub update_baseline: Option<PathBuf>,
    /// A budget, overriding the baseline's: `p99_ttft=+10%`, `success_ratio=-0.5pt`,
    /// `p99_e2e=+0.5s` (repeatable).
    #[arg(long = "budget", value_name = "METRIC=CHANGE")]
    pub budgets: Vec<String>,
    /// Live runs: the repeated runs besides RUN (each a run folder).
    #[arg(long, num_args = 1.., value_name = "DIR")]
    pub runs: Vec<PathBuf>,
    /// Live runs: significance level of the Mann–Whitney U test (default: the baseline's, else 0.05).
    #[arg(long)]
    pub alpha: Option<f64>,
    /// Judge against a baseline of another scenario, seed or mode.
    #[arg(long)]
    pub force: bool,
}

/// Run the command.
pub fn run(args: GateArgs) -> anyhow::Result<Outcome> {
    let overrides = args
        .budgets
        .iter()
        .map(|text| Budget::parse(text, "--budget"))
        .collect::<Result<Vec<_>, _>>()?;
    let mut loaded: Vec<(String, Summary)> = Vec::new();
    for dir in std::iter::once(&args.run).chain(&args.runs) {
        loaded.push((dir.display().to_string(), load_summary(dir)?.1));
    }
    let against = args
        .baseline
        .as_ref()
        .or(args.update_baseline.as_ref())
        .map_or_else(String::new, |path| path.display().to_string());
    if let Some(refused) = refusal(&loaded) {
        write_verdict(&args.run, &refused, &against)?;
        return Ok(Outcome::Untrusted);
    }
    let runs: Vec<Summary> = loaded.into_iter().map(|(_, summary)| summary).collect();
    if let Some(path) = &args.update_baseline {
        return update_baseline(path, &runs);
    }
    let Some(path) = &args.baseline else {
        anyhow::bail!("give --baseline FILE or --update-baseline FILE");
    };
    let mut baseline = Baseline::load(path)?;
    baseline.check_compatible(path, &runs[0], args.force)?;
    if let Some(alpha) = args.alpha {
        baseline.gate.alpha = Some(alpha);
    }
    let alpha = baseline.alpha(path)?;
    let budgets = baseline.budgets(path, &overrides)?;
    let verdict = judge(&runs, &baseline, &budgets, alpha)?;
    write_verdict(&args.run, &verdict, &path.display().to_string())?;
    Ok(if verdict.passed() {
        Outcome::Ok
    } else {
        Outcome::Failed
    })
}

/// Write `gate.xml` and `gate.md` into the run folder and print the failed rules.
fn write_verdict(run: &Path, verdict: &GateVerdict, baseline: &str) -> anyhow::Result<()> {
    let folder = run_folder(run);
    let xml = junit_xml(verdict)?;
    let markdown = gate_markdown(verdict, baseline);
    write(&folder.join(GATE_XML), &xml)?;
    write(&folder.join(GATE_MD), &markdown)?;
    for case in verdict
        .cases
        .iter()
        .filter(|case| case.status == Status::Fail)
    {
        eprintln!("FAIL {} / {}: {}", case.strategy, case.rule, case.message);
    }
    let failed = verdict.failures().count();
    println!(
        "gate {}: {} rules, {failed} failed; {} and {} in {}",
        if verdict.refused() {
            "REFUSED (the run cannot be trusted)"
        } else if verdict.passed() {
            "PASS"
        } else {
            "FAIL"
        },
        verdict.cases.len(),
        GATE_XML,
        GATE_MD,
        folder.display()
    );
    Ok(())
}

fn update_baseline(path: &Path, runs: &[Summary]) -> anyhow::Result<Outcome> {
    // Keep a hand-edited `gate` section across re-recordings.
    let gate = if path.exists() {
        Baseline::load(path)?.gate
    } else {
        GateSection::with_default_budgets()
    };
    let baseline =
        Baseline::from_runs(runs, gate).ok_or_else(|| anyhow::anyhow!("no run to record"))?;
    baseline.save(path)?;
    println!(
        "baseline {} recorded: scenario {}, seed {}, {} mode, {} strategies",
        path.display(),
        baseline.scenario,
        baseline.seed,
        baseline.mode.as_str(),
        baseline.strategies.len()
    );
    Ok(Outcome::Ok)
}

fn run_folder(run: &Path) -> PathBuf {
    if run.is_dir() {
        run.to_path_buf()
    } else {
        run.parent().map(Path::to_path_buf).unwrap_or_default()
    }
}

/// Written atomically, as every file of a run folder.
fn write(path: &Path, text: &str) -> Result<(), ReportError> {
    write_file(path, text.as_bytes())
}
