//! throttlebox's integration tests, linked into one test binary.
//!
//! Each `tests/<area>_<subject>.rs` is a module here rather than a binary of its own: one link
//! instead of forty keeps a clean `cargo test --workspace` small on disk and quick to build.
//! Select by module path, e.g. `cargo test --test integration live_goose::`.

mod balance_support;
mod cli_support;
mod live_support;
mod report_fixture;
mod wire_support;

mod balance_apim;
mod balance_breaker_traces;
mod balance_config;
mod balance_flag_presets;
mod balance_litellm;
mod balance_litellm_import;
mod balance_overrides;
mod balance_properties;
mod balance_selectors;
mod calibrate_azure_trace;
mod calibrate_html_browser;
mod calibrate_inputs;
mod calibrate_roundtrip;
mod cli_run_folder;
mod cli_signals;
mod cli_vocabulary;
mod client_request_life;
mod compare_runs;
mod conformance_lab;
mod deploy_manifests;
mod gate_baselines;
mod gate_budget;
mod gate_cli;
mod gate_judge;
mod gate_mann_whitney;
mod live_client_view;
mod live_connection_cap;
mod live_end_to_end;
mod live_fleet_metrics;
mod live_fuzz;
mod live_gateway_hardening;
mod live_goose;
mod live_mock_hardening;
mod live_open_loop;
mod live_send_path;
mod live_sim_agreement;
mod live_streaming;
mod live_validity;
mod plan_cli;
mod plan_payg_steady;
mod plan_pricing;
mod plan_sizing;
mod report_cost_slo;
mod report_csv;
mod report_golden;
mod report_html_browser;
mod report_series_props;
mod report_sim_golden;
mod report_summary;
mod report_timeseries;
mod report_validity;
mod scenario_files;
mod scenario_preflight;
mod shard_live_merge;
mod shard_sim_merge;
mod sim_determinism;
mod sim_validation;
mod structure_imports;
mod sweep_cli;
mod tune_search;
mod workload_config;
mod workload_determinism;
mod workload_memory;
mod workload_rates;
mod workload_sizes;
mod workload_trace;
