//! Old spellings of the command line that are still accepted, each with a note on stderr
//! saying what to write instead, and the notes the scenario loader collected for old spellings
//! in a file. One vocabulary at the user's edge: the scenario is every command's positional
//! argument, `--target` is always a URL, `--slo` holds SLO targets.

use std::path::PathBuf;

use throttlebox::scenario::Scenario;

/// Prints one deprecation note.
pub fn note(text: &str) {
    eprintln!("warning: deprecated: {text}");
}

/// Prints the notes of the old spellings `scenario`'s file used.
pub fn scenario_notes(scenario: &Scenario) {
    for text in &scenario.deprecations {
        note(text);
    }
}

/// The scenario argument of a command that once took it as `--scenario FILE`: the positional
/// argument, as in every command; the flag is still read (hidden from `--help`, with a note).
#[derive(Debug, Clone, clap::Args)]
pub struct ScenarioArg {
    /// Scenario file (TOML); default: the embedded `ptu-payg-pool` scenario.
    #[arg(value_name = "SCENARIO")]
    scenario: Option<PathBuf>,
    /// The old spelling of SCENARIO.
    #[arg(
        long = "scenario",
        id = "scenario_flag",
        value_name = "SCENARIO",
        hide = true,
        conflicts_with = "scenario"
    )]
    flag: Option<PathBuf>,
}

impl ScenarioArg {
    /// The scenario file given to `command`, if any (noting the old spelling).
    pub fn path(&self, command: &str) -> Option<&PathBuf> {
        if let Some(path) = &self.flag {
            note(&format!(
                "`throttlebox {command} --scenario {}`: give the scenario as the first argument instead (`throttlebox {command} {} …`)",
                path.display(),
                path.display()
            ));
            return Some(path);
        }
        self.scenario.as_ref()
    }
}

/// A flag renamed on a command, its old name still read (hidden from `--help`, with a note).
pub struct Renamed<'a> {
    /// The command (`plan`).
    pub command: &'a str,
    /// The name now (`--slo`).
    pub new: &'a str,
    /// The old name (`--target`).
    pub old: &'a str,
    /// Why it was renamed, for the note.
    pub why: &'a str,
}

impl Renamed<'_> {
    /// The value given under the new name, else under the old one (noting it).
    pub fn value(&self, new: Option<String>, old: Option<String>) -> Option<String> {
        if new.is_none() && old.is_some() {
            note(&format!(
                "`throttlebox {} {}`: write `{}` instead ({})",
                self.command, self.old, self.new, self.why
            ));
        }
        new.or(old)
    }
}
