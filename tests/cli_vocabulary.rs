//! One vocabulary at the user's edge: every command's `--help` is walked and every shipped
//! scenario and fleet file loaded, checking one spelling per concept — the scenario is a
//! command's positional argument (never also a `--scenario` flag), `--target` is a URL wherever
//! it appears, SLO targets are `--slo`, token distributions are spelled as the workload's — and
//! that the old spellings still work, each with a deprecation note naming what to write.

use crate::cli_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use aoai_mock::config::FleetConfig;
use cli_support::{BIN, scratch};
use throttlebox::scenario::Scenario;

/// The positional argument of every command, as `--help` names it: the scenario wherever the
/// command runs one. A new command must say here what it takes.
const POSITIONAL: &[(&str, Option<&str>)] = &[
    ("sim", Some("SCENARIO")),
    ("sweep", Some("SCENARIO")),
    ("compare", Some("RUN")),
    ("merge", Some("SHARD_DIR")),
    ("gate", Some("RUN")),
    ("plan", Some("SCENARIO")),
    ("mock", Some("FILE")),
    ("gateway", Some("SCENARIO")),
    ("load", Some("SCENARIO")),
    ("run", Some("SCENARIO")),
    ("calibrate", Some("LOGS")),
    ("conform", Some("SCENARIO")),
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn throttlebox(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// One command's `--help`: its usage line, its positional arguments, and each option's long
/// name with its value name and description.
struct Help {
    usage: String,
    positionals: Vec<String>,
    options: Vec<(String, Option<String>, String)>,
}

fn help(command: &str) -> Help {
    let output = throttlebox(&[command, "--help"]);
    assert!(output.status.success(), "{command} --help: {output:?}");
    let text = stdout(&output);
    let usage = text
        .lines()
        .find_map(|line| line.strip_prefix("Usage: "))
        .unwrap_or_else(|| panic!("{command}: no usage line"))
        .to_string();
    let mut section = "";
    let mut positionals = Vec::new();
    let mut options: Vec<(String, Option<String>, String)> = Vec::new();
    for line in text.lines() {
        if !line.starts_with(' ') && line.ends_with(':') {
            section = line;
            continue;
        }
        let item = line.trim_start();
        match section {
            "Arguments:" if line.starts_with("  ") && item.starts_with(['[', '<']) => {
                let name = item
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .trim_matches(|c| "[]<>.".contains(c));
                positionals.push(name.to_string());
            }
            "Options:" if item.starts_with('-') => {
                let mut words = item.split_whitespace();
                let mut flag = words.next().unwrap_or_default().trim_end_matches(',');
                if !flag.starts_with("--") {
                    flag = words.next().unwrap_or_default();
                }
                let rest: Vec<&str> = words.collect();
                let value = rest
                    .first()
                    .filter(|word| word.starts_with('<'))
                    .map(|word| word.trim_matches(|c| "<>".contains(c)).to_string());
                let described = rest.iter().skip(usize::from(value.is_some()));
                let description = described.copied().collect::<Vec<_>>().join(" ");
                options.push((flag.to_string(), value, description));
            }
            "Options:" if !item.is_empty() => {
                if let Some(last) = options.last_mut() {
                    last.2.push(' ');
                    last.2.push_str(item);
                }
            }
            _ => {}
        }
    }
    Help {
        usage,
        positionals,
        options,
    }
}

fn commands() -> Vec<String> {
    let text = stdout(&throttlebox(&["--help"]));
    let mut names = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if line == "Commands:" {
            inside = true;
        } else if inside && !line.starts_with(' ') {
            break;
        } else if inside && line.starts_with("  ") && !line.starts_with("   ") {
            let name = line.split_whitespace().next().unwrap_or_default();
            if name != "help" {
                names.push(name.to_string());
            }
        }
    }
    names
}

#[test]
fn every_command_spells_the_scenario_target_and_slo_one_way() {
    let commands = commands();
    let listed: Vec<&str> = POSITIONAL.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        commands, listed,
        "every command is listed with its positional argument"
    );
    for (command, positional) in POSITIONAL {
        let help = help(command);
        assert_eq!(
            help.positionals.first().map(String::as_str),
            *positional,
            "{command}: {}",
            help.usage
        );
        let flags: Vec<&str> = help
            .options
            .iter()
            .map(|(flag, ..)| flag.as_str())
            .collect();
        if *positional == Some("SCENARIO") {
            assert!(
                !flags.contains(&"--scenario"),
                "{command} takes the scenario both ways"
            );
        }
        assert!(
            !help.usage.contains("--scenario <"),
            "{command} requires --scenario: {}",
            help.usage
        );
        for (flag, value, description) in &help.options {
            if flag == "--target" {
                assert_eq!(value.as_deref(), Some("URL"), "{command} --target");
                assert!(description.contains("URL"), "{command}: {description}");
            }
        }
        if *command == "plan" {
            assert!(flags.contains(&"--slo"), "plan's SLO targets are --slo");
        }
    }
}

/// The shipped scenarios, the test fixtures and the benchmark scenarios.
fn scenario_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for folder in [
        "scenarios",
        "tests/fixtures",
        "tests/fixtures/litellm",
        "benches",
    ] {
        for entry in std::fs::read_dir(root().join(folder)).expect("folder") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|ext| ext == "toml") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn no_shipped_file_uses_a_deprecated_spelling() {
    let files = scenario_files();
    assert!(files.len() >= 10, "{files:?}");
    for path in &files {
        let scenario = Scenario::load(path, &[]).expect("a shipped scenario loads");
        assert!(
            scenario.deprecations.is_empty(),
            "{}: {:?}",
            path.display(),
            scenario.deprecations
        );
    }
    for fleet in ["bench/fleet.toml", "mock-backend/fleet.example.toml"] {
        let path = root().join(fleet);
        let text = std::fs::read_to_string(&path).expect("fleet file");
        let (_, notes) = FleetConfig::from_toml_str_noting(&text, fleet).expect("loads");
        assert!(notes.is_empty(), "{fleet}: {notes:?}");
    }
}

/// `scenarios/conformance-sdk.toml` with its fleet's completion length in the old spelling.
fn old_spelling_scenario() -> (String, String) {
    let path = root().join("scenarios/conformance-sdk.toml");
    let current = std::fs::read_to_string(&path).expect("scenario");
    let new = "completion_tokens = { dist = \"constant\", value = 40 }";
    assert!(current.contains(new), "the shipped spelling");
    let old = current.replace(
        new,
        "completion_tokens = { distribution = \"fixed\", tokens = 40 }",
    );
    (current, old)
}

#[test]
fn the_old_token_distribution_spelling_loads_the_same_fleet_with_a_note() {
    let (current, old) = old_spelling_scenario();
    let now = Scenario::parse(&current, "now.toml", Some(root().join("scenarios")), &[])
        .expect("current spelling");
    let then = Scenario::parse(&old, "old.toml", Some(root().join("scenarios")), &[])
        .expect("old spelling still loads");
    assert_eq!(then.file.fleet, now.file.fleet);
    assert_eq!(
        then.deprecations,
        [
            "old.toml: fleet.resources[0].deployments[0].completion_tokens = { distribution = \"fixed\", tokens = 40 }: a deprecated spelling; write { dist = \"constant\", value = 40 } (the workload's spelling of a token distribution)"
        ]
    );
    // Through the binary: the note is on stderr, and the run is the same as with the new one.
    let dir = scratch("cli_vocabulary", "old-spelling");
    let file = dir.join("old.toml");
    std::fs::write(&file, &old).expect("write");
    let output = throttlebox(&[
        "sim",
        file.to_str().unwrap(),
        "--set",
        "workload.duration=20s",
        "--results",
        dir.to_str().unwrap(),
        "--run",
        "r",
    ]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let text = stderr(&output);
    assert!(
        text.contains(&format!(
            "warning: deprecated: {}: fleet.resources[0].deployments[0].completion_tokens",
            file.display()
        )),
        "{text}"
    );
}

#[test]
fn the_old_scenario_flag_and_plan_target_still_work_with_a_note() {
    let scenario = root().join("tests/fixtures/report-golden-small.toml");
    let scenario = scenario.to_str().unwrap();
    // A --set naming a strategy the file lacks: the refusal shows which file was read.
    let missing = "strategies[absent].breaker.count=1";
    for (command, required) in [
        ("gateway", ["--strategy", "x"]),
        ("load", ["--target", "http://127.0.0.1:9"]),
    ] {
        let mut args = vec![command, "--scenario", scenario, "--set", missing];
        args.extend(required);
        let output = throttlebox(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        let text = stderr(&output);
        assert!(
            text.contains(&format!(
                "warning: deprecated: `throttlebox {command} --scenario {scenario}`: give the scenario as the first argument"
            )) && text.contains(&format!("{scenario}: ")) && text.contains("absent"),
            "{text}"
        );
        let mut both = vec![command, scenario, "--scenario", scenario];
        both.extend(required);
        let output = throttlebox(&both);
        assert_eq!(output.status.code(), Some(2), "{both:?}: {output:?}");
        assert!(
            stderr(&output).contains("cannot be used with"),
            "{}",
            stderr(&output)
        );
    }
    // plan --target: read as --slo (its bad metric is refused under the new name).
    let output = throttlebox(&["plan", scenario, "--target", "latency<2s"]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let text = stderr(&output);
    assert!(
        text.contains("warning: deprecated: `throttlebox plan --target`: write `--slo` instead")
            && text.contains("--slo")
            && text.contains("unknown metric"),
        "{text}"
    );
    let neither = throttlebox(&["plan", scenario]);
    assert_eq!(neither.status.code(), Some(2));
    assert!(stderr(&neither).contains("--slo"), "{}", stderr(&neither));
}
