//! `throttlebox compare`: the head to head of existing runs. Reads each run directory's
//! `summary.json` (and, where present, its `histograms/*.hlog`), and builds one table with a
//! row per run and strategy (labelled `run/strategy`), plus latency percentiles of each
//! strategy pooled over every run, merged exactly from the interval logs. A strategy whose run
//! cannot be trusted keeps its `[INVALID]` mark, and the runs table says which runs were
//! interrupted. Pure apart from reading the files; rendered as terminal text and Markdown.

use std::path::{Path, PathBuf};

use super::comparison_tables::{backend_shares, head_to_head, outcome_breakdown};
use super::error::ReportError;
use super::format::seconds_text;
use super::hlog::{HISTOGRAMS_DIR, MergedHistograms, hlog_file_names};
use super::run_dir::SUMMARY_JSON;
use super::summary::{SCHEMA_VERSION, Summary};
use super::text_table::{Align, Table};
use crate::metrics::intervals::{E2E_TAG, TTFT_TAG};

/// One run read back from its directory.
#[derive(Debug, Clone)]
pub struct ComparedRun {
    /// The label of its rows (the directory name, made unique among the compared runs).
    pub label: String,
    /// The run directory.
    pub dir: PathBuf,
    /// Its `summary.json`.
    pub summary: Summary,
}

/// Read `<dir>/summary.json`, refusing a schema this version does not understand.
pub fn load_run(dir: &Path) -> Result<ComparedRun, ReportError> {
    let path = dir.join(SUMMARY_JSON);
    let text = std::fs::read_to_string(&path).map_err(|error| ReportError::io(&path, error))?;
    let invalid = |reason: String| ReportError::Invalid {
        field: path.display().to_string(),
        reason,
    };
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|error| invalid(format!("not JSON: {error}")))?;
    match value
        .get("schema_version")
        .and_then(serde_json::Value::as_u64)
    {
        Some(version) if version == u64::from(SCHEMA_VERSION) => {}
        Some(version) => {
            return Err(invalid(format!(
                "schema_version {version}, but this throttlebox reads version {SCHEMA_VERSION}"
            )));
        }
        None => {
            return Err(invalid(
                "no schema_version: not a throttlebox summary".to_string(),
            ));
        }
    }
    let summary: Summary = serde_json::from_value(value)
        .map_err(|error| invalid(format!("does not match schema {SCHEMA_VERSION}: {error}")))?;
    let label = dir.file_name().map_or_else(
        || dir.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    );
    Ok(ComparedRun {
        label,
        dir: dir.to_path_buf(),
        summary,
    })
}

/// Read every run in order; labels that repeat get `#2`, `#3`, … appended.
pub fn load_runs(dirs: &[PathBuf]) -> Result<Vec<ComparedRun>, ReportError> {
    let mut runs: Vec<ComparedRun> = Vec::with_capacity(dirs.len());
    for dir in dirs {
        let mut run = load_run(dir)?;
        let base = run.label.clone();
        let mut copy = 1;
        while runs.iter().any(|other| other.label == run.label) {
            copy += 1;
            run.label = format!("{base}#{copy}");
        }
        runs.push(run);
    }
    Ok(runs)
}

/// Latency of one strategy pooled over the runs that have its interval log.
#[derive(Debug, Clone)]
pub struct PooledStrategy {
    /// Strategy name.
    pub name: String,
    /// Labels of the runs whose logs were merged.
    pub runs: Vec<String>,
    /// The merged histograms (tags `e2e`, `ttft`).
    pub histograms: MergedHistograms,
}

/// The head to head of several runs.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// The runs, in command-line order.
    pub runs: Vec<ComparedRun>,
    /// One summary whose strategies are every run's strategies renamed `run/strategy`.
    pub combined: Summary,
    /// Per strategy name (first-seen order), its latencies pooled over every run.
    pub pooled: Vec<PooledStrategy>,
    /// Runs without interval logs (left out of the pooled table).
    pub runs_without_histograms: Vec<String>,
}

/// Build the comparison of `runs` (reading their interval logs where present).
pub fn compare(runs: Vec<ComparedRun>) -> Result<Comparison, ReportError> {
    let first = runs.first().ok_or_else(|| ReportError::Invalid {
        field: "runs".to_string(),
        reason: "compare needs at least one run directory".to_string(),
    })?;
    let mut combined = first.summary.clone();
    combined.scenario = runs
        .iter()
        .map(|run| run.summary.scenario.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    combined.command = None;
    combined.started_at = None;
    combined.strategies = runs
        .iter()
        .flat_map(|run| {
            run.summary.strategies.iter().map(|strategy| {
                let mut strategy = strategy.clone();
                strategy.name = format!("{}/{}", run.label, strategy.name);
                strategy
            })
        })
        .collect();

    let mut pooled: Vec<PooledStrategy> = Vec::new();
    let mut runs_without_histograms = Vec::new();
    for run in &runs {
        let folder = run.dir.join(HISTOGRAMS_DIR);
        if !folder.is_dir() {
            runs_without_histograms.push(run.label.clone());
            continue;
        }
        let names: Vec<&str> = run
            .summary
            .strategies
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        for (name, file) in names.iter().zip(hlog_file_names(&names)) {
            let index = match pooled.iter().position(|entry| entry.name == *name) {
                Some(index) => index,
                None => {
                    pooled.push(PooledStrategy {
                        name: (*name).to_string(),
                        runs: Vec::new(),
                        histograms: MergedHistograms::new(),
                    });
                    pooled.len() - 1
                }
            };
            let entry = &mut pooled[index];
            entry.histograms.add_file(&folder.join(file))?;
            entry.runs.push(run.label.clone());
        }
    }
    Ok(Comparison {
        runs,
        combined,
        pooled,
        runs_without_histograms,
    })
}

/// `yes`, or why a run cannot be trusted in a few words.
fn trust_text(summary: &Summary) -> String {
    let invalid = summary
        .strategies
        .iter()
        .filter(|strategy| !strategy.validity.valid)
        .count();
    match (summary.interrupted, invalid) {
        (false, 0) => "yes".to_string(),
        (true, 0) => "no: interrupted".to_string(),
        (false, n) => format!("no: {n} invalid"),
        (true, n) => format!("no: interrupted, {n} invalid"),
    }
}

impl Comparison {
    /// One row per run: where it came from.
    pub fn runs_table(&self) -> Table {
        use Align::{Left, Right};
        let mut table = Table::new(&[
            ("run", Left),
            ("scenario", Left),
            ("mode", Left),
            ("seed", Right),
            ("duration s", Right),
            ("strategies", Right),
            ("trusted", Left),
            ("throttlebox", Left),
        ]);
        for run in &self.runs {
            let summary = &run.summary;
            table.push(vec![
                run.label.clone(),
                summary.scenario.clone(),
                summary.mode.as_str().to_string(),
                summary.seed.to_string(),
                seconds_text(Some(summary.duration_s)),
                summary.strategies.len().to_string(),
                trust_text(summary),
                summary.throttlebox_version.clone(),
            ]);
        }
        table
    }

    /// One row per strategy name: e2e and TTFT percentiles over every run's requests.
    pub fn pooled_table(&self) -> Table {
        use Align::{Left, Right};
        let mut table = Table::new(&[
            ("strategy", Left),
            ("runs", Right),
            ("requests ok", Right),
            ("e2e p50 s", Right),
            ("e2e p95 s", Right),
            ("e2e p99 s", Right),
            ("ttft p50 s", Right),
            ("ttft p95 s", Right),
            ("ttft p99 s", Right),
        ]);
        for entry in &self.pooled {
            let e2e = entry.histograms.latency(E2E_TAG);
            let ttft = entry.histograms.latency(TTFT_TAG);
            table.push(vec![
                entry.name.clone(),
                entry.runs.len().to_string(),
                e2e.count.to_string(),
                seconds_text(e2e.p50_s),
                seconds_text(e2e.p95_s),
                seconds_text(e2e.p99_s),
                seconds_text(ttft.p50_s),
                seconds_text(ttft.p95_s),
                seconds_text(ttft.p99_s),
            ]);
        }
        table
    }

    fn missing_note(&self) -> Option<String> {
        let untrusted: Vec<&str> = self
            .runs
            .iter()
            .filter(|run| !run.summary.distrust().is_empty())
            .map(|run| run.label.as_str())
            .collect();
        let mut notes = Vec::new();
        if !untrusted.is_empty() {
            notes.push(format!(
                "runs that cannot be trusted (pooled all the same; see their report.md): {}",
                untrusted.join(", ")
            ));
        }
        if let Some(note) = self.no_histograms_note() {
            notes.push(note);
        }
        (!notes.is_empty()).then(|| notes.join("\n"))
    }

    fn no_histograms_note(&self) -> Option<String> {
        (!self.runs_without_histograms.is_empty()).then(|| {
            format!(
                "runs without histograms/ (not pooled): {}",
                self.runs_without_histograms.join(", ")
            )
        })
    }

    /// The terminal rendering: head to head, then pooled latencies.
    pub fn render_text(&self) -> String {
        let mut out = head_to_head(&self.combined).render_text();
        out.push_str("\npooled over runs (exact merge of histograms/*.hlog):\n");
        out.push_str(&self.pooled_table().render_text());
        if let Some(note) = self.missing_note() {
            out.push_str(&note);
            out.push('\n');
        }
        out
    }

    /// `compare.md`: runs, head to head, traffic per backend, pooled latencies.
    pub fn render_markdown(&self) -> String {
        let mut out = String::from("# throttlebox compare\n\n## Runs\n\n");
        out.push_str(&self.runs_table().render_markdown());
        out.push_str("\n## Head to head\n\nOne row per run and strategy (`run/strategy`).\n\n");
        out.push_str(&head_to_head(&self.combined).render_markdown());
        out.push_str("\n## Outcomes\n\nEvery final outcome class, as a share of requests.\n\n");
        out.push_str(&outcome_breakdown(&self.combined).render_markdown());
        out.push_str("\n## Traffic per backend\n\n");
        out.push_str(&backend_shares(&self.combined).render_markdown());
        out.push_str(
            "\n## Latency pooled over runs\n\nEvery request of every run of the strategy, \
             merged from the HdrHistogram interval logs (`histograms/*.hlog`): exact \
             percentiles of the pooled requests, not an average of per-run percentiles.\n\n",
        );
        out.push_str(&self.pooled_table().render_markdown());
        if let Some(note) = self.missing_note() {
            out.push('\n');
            out.push_str(&note);
            out.push('\n');
        }
        out
    }
}
