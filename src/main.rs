//! The `throttlebox` command line. Exit codes: 0 ok, 1 a gate or SLO failed, 2 a usage or
//! input error (bad scenario, bad flag, unreadable file).

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    // The live commands hold a socket per request in flight; 1,024 (a common soft default)
    // would cap a 10,000 req/s run long before the machine does.
    aoai_mock::http::sockets::raise_open_file_limit();
    match cli::run(args) {
        Ok(outcome) => outcome.exit_code(),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
