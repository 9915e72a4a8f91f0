//! aoai-mock's integration tests over real sockets, linked into one test binary.
//!
//! Each `tests/<subject>.rs` is a module here rather than a binary of its own (one link, less
//! disk). Select by module path, e.g. `cargo test -p aoai-mock --test integration http_quota::`.

mod common;

mod http_admin;
mod http_faults;
mod http_inputs;
mod http_metrics;
mod http_quota;
mod http_streaming;
mod http_surface;
mod http_timing;
mod model_vs_http;
mod sdk_python;
