//! Helpers shared by the tests that drive the built binary: its path, the small fixture
//! scenario, scratch folders under the target directory, starting the binary (and a
//! `throttlebox mock` fleet), checking that a run succeeded, merging shard folders, and listing
//! what a run left.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use rustix::process::{Pid, Signal, kill_process};

/// The built `throttlebox` binary.
pub const BIN: &str = env!("CARGO_BIN_EXE_throttlebox");

/// The small three-strategy scenario of the golden files.
pub fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report-golden-small.toml")
}

/// An empty folder `<target tmp>/<group>/<name>` (emptied if it exists).
pub fn scratch(group: &str, name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(group)
        .join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// The binary's run must have succeeded; else fail with its exit code and stderr.
pub fn succeeded(output: &Output) {
    assert!(
        output.status.success(),
        "exit {:?}: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Command-line arguments as owned strings.
pub fn owned(args: &[&str]) -> Vec<String> {
    args.iter().map(|arg| arg.to_string()).collect()
}

/// Every path under `dir` (recursive, relative, folders included), sorted.
pub fn files(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in fs::read_dir(&folder).expect("readable folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path.clone());
            }
            let relative = path.strip_prefix(dir).expect("inside");
            names.push(relative.display().to_string());
        }
    }
    names.sort();
    names
}

/// `throttlebox ARGS` run in `cwd` (created if need be), started, not waited for; its stderr
/// is kept for the message of a failure.
pub fn start_in(cwd: &Path, args: &[impl AsRef<OsStr>]) -> Child {
    fs::create_dir_all(cwd).expect("cwd");
    Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("throttlebox starts")
}

/// `throttlebox merge SHARDS… --out OUT EXTRA…`, run to its end.
pub fn merge(shards: &[PathBuf], out: &Path, extra: &[&str]) -> Output {
    Command::new(BIN)
        .arg("merge")
        .args(shards)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .expect("throttlebox merge runs")
}

/// A `throttlebox mock` of a scenario's fleet (its first resource's URL), stopped (SIGINT) when
/// dropped.
pub struct Mock {
    child: Child,
    /// The first resource's base URL, as its ready line gives it.
    pub url: String,
}

impl Mock {
    /// Start `throttlebox mock SCENARIO ARGS…` and wait for its first ready line
    /// (`listening <resource> http://127.0.0.1:PORT …`).
    pub fn start(scenario: &Path, args: &[&str]) -> Mock {
        let mut child = Command::new(BIN)
            .arg("mock")
            .arg(scenario)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("throttlebox mock starts");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let url = lines
            .by_ref()
            .map(|line| line.expect("mock output"))
            .find_map(|line| {
                let rest = line.strip_prefix("listening ")?;
                Some(rest.split_whitespace().nth(1)?.to_string())
            })
            .expect("the mock's ready line");
        // Keep its stdout open (a closed pipe would fail its next line).
        std::thread::spawn(move || lines.for_each(drop));
        Mock { child, url }
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = kill_process(Pid::from_child(&self.child), Signal::INT);
        let _ = self.child.wait();
    }
}
