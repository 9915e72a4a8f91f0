//! The `throttlebox` command line. Exit codes: 0 ok, 1 a gate or SLO failed, 2 a usage or
//! input error (bad scenario, bad flag, unreadable file).

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    match cli::run(args) {
        Ok(outcome) => outcome.exit_code(),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
