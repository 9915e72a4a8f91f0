//! The run folder through the built binary: `--run NAME` never overwrites another run unless
//! `--force` (which replaces it whole: no stale `gate.xml` or `compare.md`), and a write that
//! fails mid-run — a full disk — names the file and leaves neither a truncated file, a
//! temporary, nor the folder behind.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::cli_support::{BIN, fixture};

const FIXTURE: &str = "tests/fixtures/report-golden-small.toml";

fn scratch(name: &str) -> PathBuf {
    crate::cli_support::scratch("cli-run-folder", name)
}

fn throttlebox(args: &[&str], paths: &[&Path]) -> Output {
    Command::new(BIN)
        .args(args)
        .args(paths)
        .output()
        .expect("throttlebox runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn sim(results: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "sim",
        FIXTURE,
        "--set",
        "workload.duration=1m",
        "--run",
        "pool",
    ];
    args.extend_from_slice(extra);
    Command::new(BIN)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(&args)
        .arg("--results")
        .arg(results)
        .output()
        .expect("throttlebox runs")
}

#[test]
fn an_existing_run_is_refused_without_force_and_force_replaces_it_whole() {
    let results = scratch("reuse");
    let dir = results.join("pool");
    assert!(sim(&results, &[]).status.success());
    // A gate and a comparison leave their files in the run folder.
    let baseline = results.join("baseline.json");
    let recorded = throttlebox(
        &["gate"],
        &[&dir, Path::new("--update-baseline"), &baseline],
    );
    assert!(recorded.status.success(), "{}", stderr(&recorded));
    let gated = throttlebox(&["gate"], &[&dir, Path::new("--baseline"), &baseline]);
    assert!(gated.status.success(), "{}", stderr(&gated));
    let compared = throttlebox(&["compare"], &[&dir]);
    assert!(compared.status.success(), "{}", stderr(&compared));
    for file in ["gate.xml", "gate.md", "compare.md"] {
        assert!(dir.join(file).is_file(), "{file}");
    }
    let summary = fs::read(dir.join("summary.json")).expect("summary");

    let refused = sim(&results, &["--set", "seed=8"]);
    assert_eq!(refused.status.code(), Some(2));
    let message = stderr(&refused);
    assert!(
        message.contains(&dir.display().to_string()) && message.contains("--force"),
        "{message}"
    );
    assert_eq!(
        fs::read(dir.join("summary.json")).expect("summary"),
        summary,
        "the existing run is untouched"
    );
    assert!(dir.join("gate.xml").is_file());

    let replaced = sim(&results, &["--set", "seed=8", "--force"]);
    assert!(replaced.status.success(), "{}", stderr(&replaced));
    assert_ne!(
        fs::read(dir.join("summary.json")).expect("summary"),
        summary
    );
    for stale in ["gate.xml", "gate.md", "compare.md"] {
        assert!(!dir.join(stale).exists(), "{stale} survived --force");
    }

    // --force replaces run folders only.
    let precious = results.join("precious");
    fs::create_dir_all(&precious).expect("dir");
    fs::write(precious.join("notes.txt"), "mine").expect("write");
    let output = Command::new(BIN)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["sim", FIXTURE, "--run", "precious", "--force", "--results"])
        .arg(&results)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("holds no throttlebox result"));
    assert_eq!(
        fs::read_to_string(precious.join("notes.txt")).unwrap(),
        "mine"
    );
}

/// What a run that hit a write failure left: its exit code, its last stderr line, and every
/// path under the results folder.
struct Failed {
    code: Option<i32>,
    error: String,
    left: Vec<String>,
}

/// The shell body of a failing run: `sim` of the fixture into `$1` (binary `$2`, scenario
/// `$3`, stderr to `$4`), then its exit code and every path left under `$1`.
const BODY: &str = "\"$2\" sim \"$3\" --results \"$1\" --run full >/dev/null 2>\"$4\"; \
                    echo \"rc=$?\"; find \"$1\" -mindepth 1";

/// Run `script` (which ends in [`BODY`]) with `sh -c` and read what it reports.
fn sim_under(script: &str, results: &Path) -> Failed {
    let errors = results.with_extension("stderr");
    let output = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("sh")
        .arg(results)
        .arg(BIN)
        .arg(fixture())
        .arg(&errors)
        .output()
        .expect("sh runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let mut lines = text.lines();
    let code = lines
        .next()
        .and_then(|line| line.strip_prefix("rc="))
        .and_then(|code| code.parse().ok());
    let error = fs::read_to_string(&errors)
        .unwrap_or_default()
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    Failed {
        code,
        error,
        left: lines.map(str::to_string).collect(),
    }
}

/// The file-size limit makes every write past `blocks` × 512 bytes fail (EFBIG, with SIGXFSZ
/// ignored), as a full disk does for the file that crosses it.
fn file_size_limit(blocks: u32) -> String {
    format!("trap '' XFSZ; ulimit -f {blocks}; {BODY}")
}

fn assert_failed_cleanly(failed: &Failed, results: &Path, symptom: &str, file: &str) {
    assert_eq!(failed.code, Some(2), "{}", failed.error);
    assert!(
        failed.error.contains(symptom) && failed.error.contains(file),
        "the error names {file}: {}",
        failed.error
    );
    assert!(
        failed.error.contains(&results.display().to_string()),
        "the error names the folder: {}",
        failed.error
    );
    assert!(
        failed.left.is_empty(),
        "nothing may be left behind: {:?}",
        failed.left
    );
}

#[test]
fn a_write_that_fails_mid_run_names_the_file_and_leaves_nothing_behind() {
    // The file-size limit makes every write past it fail (EFBIG; SIGXFSZ ignored), like a full
    // disk for the file that crosses it. At 512 bytes the records fail while simulating; at
    // 100 KiB the records fit and report.html does not.
    for (blocks, file) in [(1, ".csv"), (200, "report.html")] {
        let results = scratch(&format!("ulimit-{blocks}"));
        let failed = sim_under(&file_size_limit(blocks), &results);
        assert_failed_cleanly(&failed, &results, "File too large", file);
    }
}

#[test]
fn a_full_disk_names_the_file_and_leaves_nothing_behind() {
    // A tiny tmpfs in a private mount namespace (nothing stays mounted). Where user namespaces
    // are not allowed, the file-size limit stands in for the full disk.
    let namespaces = Command::new("unshare")
        .args(["-Urm", "true"])
        .status()
        .is_ok_and(|status| status.success());
    for (size, blocks, file) in [("64k", 1, ".csv"), ("600k", 200, "report.html")] {
        let results = scratch(&format!("tmpfs-{size}"));
        if namespaces {
            let script = format!(
                "unshare -Urm sh -c 'mount -t tmpfs -o size={size} tmpfs \"$1\" && {{ {BODY}; }}' \
                 sh \"$1\" \"$2\" \"$3\" \"$4\""
            );
            let failed = sim_under(&script, &results);
            assert_failed_cleanly(&failed, &results, "No space left on device", file);
        } else {
            eprintln!("no user namespaces here: a file-size limit stands in for the full disk");
            let failed = sim_under(&file_size_limit(blocks), &results);
            assert_failed_cleanly(&failed, &results, "File too large", file);
        }
    }
}
