//! `report.html`, `sweep.html` and `tune.html` in a real headless browser: fixed-seed
//! simulator runs write the pages, Chromium (Debian's `chromium` package;
//! `.ci/install-chromium`) loads them from disk and dumps the DOM after the pages' scripts ran. The page records script errors, failed loads
//! and CSP violations in `data-errors` on `<html>` and how many chart SVGs the browser laid
//! out in `data-charts-rendered`; Chromium's console log is checked too.
//!
//! Chromium missing is a failure, not a skip: CI installs it. `THROTTLEBOX_CHROMIUM` names
//! another binary.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use throttlebox::report::RunDir;
use throttlebox::report::bound::parse_bounds;
use throttlebox::report::html::chart_ids;
use throttlebox::scenario::{Override, Scenario};
use throttlebox::shard::Shard;
use throttlebox::sim::{StopFlag, run_all};
use throttlebox::sweep::{Axis, SweepRequest, run_sweep, sweep_chart_ids, sweep_html};
use throttlebox::tune::{
    JudgeRule, Objective, Param, TuneRequest, tune, tune_chart_ids, tune_html,
};

const SCENARIO: &str = "tests/fixtures/report-golden-small.toml";
const STRATEGIES: usize = 3;

fn tmp() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-html-browser")
}

fn write_report(name: &str) -> PathBuf {
    let _ = fs::remove_dir_all(tmp().join(name));
    let dir = RunDir::create(&tmp(), name).expect("run dir");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(SCENARIO);
    let scenario = Scenario::load(&path, &[]).expect("fixture scenario loads");
    run_all(&scenario, Some(&dir), 2, "throttlebox sim", &|_| {}).expect("simulation runs");
    dir.path().join("report.html")
}

pub(crate) struct Page {
    pub(crate) dom: String,
    pub(crate) console: Vec<String>,
}

impl Page {
    /// The value of attribute `name` on the `<html>` element, if present.
    pub(crate) fn html_attribute(&self, name: &str) -> Option<String> {
        let start = self.dom.find("<html")?;
        let tag = &self.dom[start..start + self.dom[start..].find('>')?];
        let needle = format!(" {name}=\"");
        let value_start = tag.find(&needle)? + needle.len();
        let value_end = value_start + tag[value_start..].find('"')?;
        Some(tag[value_start..value_end].to_string())
    }
}

/// Load `file` in headless Chromium and return the DOM after scripts ran, plus its console
/// messages.
pub(crate) fn open_in_chromium(file: &Path, profile: &str) -> Page {
    let binary = std::env::var("THROTTLEBOX_CHROMIUM").unwrap_or_else(|_| "chromium".to_string());
    let profile = tmp().join(profile);
    let _ = fs::remove_dir_all(&profile);
    let output = Command::new(&binary)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", file.display()))
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "cannot run `{binary}` ({error}): this test needs headless Chromium; install it \
                 with `apt-get install -y chromium` (see .ci/install-chromium) or point \
                 THROTTLEBOX_CHROMIUM at a Chromium binary"
            )
        });
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "`{binary} --dump-dom` failed ({}):\n{stderr}",
        output.status
    );
    Page {
        dom: String::from_utf8_lossy(&output.stdout).into_owned(),
        console: stderr
            .lines()
            .filter(|line| line.contains(":CONSOLE"))
            .map(str::to_string)
            .collect(),
    }
}

/// The page recorded no script error, failed load or CSP violation, and Chromium logged
/// nothing to the console.
pub(crate) fn assert_no_errors(page: &Page) {
    assert_eq!(
        page.html_attribute("data-errors"),
        None,
        "the page reported errors"
    );
    assert!(
        page.console.is_empty(),
        "console messages: {:#?}",
        page.console
    );
}

/// Every chart of `ids` is in the rendered DOM with an SVG and labels, the page has no other
/// chart, and the browser laid out each one (the page's probe counts them).
pub(crate) fn assert_every_chart_drawn(page: &Page, ids: &[String]) {
    for id in ids {
        let at = page
            .dom
            .find(&format!("<figure class=\"chart\" id=\"{id}\">"))
            .unwrap_or_else(|| panic!("chart {id} is missing from the rendered DOM"));
        let figure = &page.dom[at..at + page.dom[at..].find("</figure>").expect("closed")];
        assert!(figure.contains("<svg"), "chart {id} has no SVG");
        assert!(figure.contains("<text"), "chart {id} has no labels");
    }
    assert_eq!(
        page.dom.matches("<figure class=\"chart\"").count(),
        ids.len()
    );
    let expected = ids.len().to_string();
    assert_eq!(
        page.html_attribute("data-charts-expected"),
        Some(expected.clone())
    );
    assert_eq!(
        page.html_attribute("data-charts-rendered"),
        Some(expected),
        "the browser laid out fewer chart SVGs (non-empty box with labels) than the page has"
    );
}

#[test]
fn report_html_renders_every_chart_without_errors_in_headless_chromium() {
    let report = write_report("render");
    let page = open_in_chromium(&report, "profile-render");
    assert!(
        page.dom
            .contains("<h1>throttlebox run: report-golden-small</h1>"),
        "the page did not render its heading; DOM starts with:\n{}",
        &page.dom[..page.dom.len().min(500)]
    );
    assert_no_errors(&page);

    let ids = chart_ids(STRATEGIES);
    assert_eq!(ids.len(), 3 + 4 * STRATEGIES);
    assert_every_chart_drawn(&page, &ids);
}

#[test]
fn sweep_html_renders_a_heatmap_per_metric_and_strategy_in_headless_chromium() {
    // Simulates in this process: not while the memory test measures its peak.
    let _cores = crate::live_support::take_the_cores();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(SCENARIO);
    let axes = [
        Axis::parse("retry.count=0,2").expect("axis"),
        Axis::parse("seed=7,8,9").expect("axis"),
    ];
    let constraint = parse_bounds("--constraint", "success>=99.5%").expect("bounds");
    let run = run_sweep(
        &SweepRequest {
            path: Some(&path),
            fixed: &[],
            axes: &axes,
            strategies: &[],
            jobs: 2,
            shard: Shard::WHOLE,
        },
        &|_| {},
        &StopFlag::new(),
    )
    .expect("sweep runs");
    let file = tmp().join("sweep.html");
    fs::create_dir_all(tmp()).expect("folder");
    fs::write(
        &file,
        sweep_html(&run, &constraint, "report-golden-small").expect("page"),
    )
    .expect("write");
    let page = open_in_chromium(&file, "profile-sweep");
    let ids = sweep_chart_ids(&run);
    // Nine metrics × three strategies, each a heatmap over the two axes.
    assert_eq!(ids.len(), 9 * STRATEGIES);
    assert_no_errors(&page);
    assert_every_chart_drawn(&page, &ids);
}

#[test]
fn tune_html_renders_its_heatmap_sensitivity_and_convergence_in_headless_chromium() {
    // Simulates in this process: not while the memory test measures its peak.
    let _cores = crate::live_support::take_the_cores();
    let run = tune(
        TuneRequest {
            path: None,
            fixed: vec![Override::parse("workload.duration=2m").expect("set")],
            strategy: "apim-pool trip 10s".to_string(),
            params: vec![
                Param::parse("breaker.trip_duration=5s..120s").expect("param"),
                Param::parse("breaker.interval=5s..120s").expect("param"),
            ],
            objective: Objective::parse("min cost").expect("objective"),
            bounds: parse_bounds("--constraint", "success>=99%,p99_ttft<2s").expect("bounds"),
            rule: JudgeRule::Interval,
            seeds: 2,
            budget: 60_000,
            profile_points: 5,
            jobs: 2,
            stop: StopFlag::new(),
            shard: Shard::WHOLE,
        },
        &|_| {},
        &|_, _| {},
    )
    .expect("tune runs");
    let file = tmp().join("tune.html");
    fs::create_dir_all(tmp()).expect("folder");
    fs::write(&file, tune_html(&run).expect("page")).expect("write");
    let page = open_in_chromium(&file, "profile-tune");
    let ids = tune_chart_ids(&run);
    for expected in [
        "chart-heatmap-0-1",
        "chart-sensitivity-0-cost",
        "chart-sensitivity-1-success_ratio",
        "chart-sensitivity-0-p99_ttft",
        "chart-convergence",
    ] {
        assert!(
            ids.iter().any(|id| id == expected),
            "{expected} not drawn: {ids:?}"
        );
    }
    assert_no_errors(&page);
    assert_every_chart_drawn(&page, &ids);
}

#[test]
fn the_browser_check_catches_script_errors_and_blocked_loads() {
    // Negative control: the same report with a broken script and an external image must be
    // flagged, or the test above proves nothing.
    let report = write_report("broken");
    let html = fs::read_to_string(&report).expect("report");
    let broken = html.replace(
        "</body>",
        "<script>notAFunction();</script><img src=\"missing.png\"></body>",
    );
    let broken_path = report.with_file_name("broken.html");
    fs::write(&broken_path, broken).expect("write");
    let page = open_in_chromium(&broken_path, "profile-broken");
    let errors = page
        .html_attribute("data-errors")
        .expect("errors were recorded");
    assert!(errors.contains("notAFunction"), "{errors}");
    assert!(errors.contains("missing.png"), "{errors}");
    assert!(
        !page.console.is_empty(),
        "Chromium's console log shows the errors too"
    );
}

#[test]
fn report_html_is_self_contained() {
    let html = fs::read_to_string(write_report("offline")).expect("report");
    for fetch in [
        "<link",
        "src=\"http",
        "href=\"http",
        "url(",
        "@import",
        "<iframe",
        "fetch(",
    ] {
        assert!(
            !html.contains(fetch),
            "report.html would fetch something: {fetch}"
        );
    }
    assert!(html.contains("Content-Security-Policy\" content=\"default-src 'none'"));
    for strategy in ["apim-smart-policy", "powerproxy", "round-robin"] {
        assert!(html.contains(strategy), "{strategy} is not in the report");
    }
}
