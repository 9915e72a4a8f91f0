//! The hyper shell around the model: listeners, routes, auth, error and success bodies, SSE,
//! admin and metrics endpoints. It reads the clock (only in [`clock`]), tokenizes prompts, asks
//! the model under a short lock, and sleeps until the planned times. No decision is made here.

mod admin;
mod answer;
mod auth;
mod bodies;
mod body;
pub mod clock;
mod decide;
mod errors;
mod handler;
mod ids;
mod parse;
mod respond;
mod router;
mod serve;
mod server;
pub mod sockets;
mod state;
mod stream;
mod tokens;

pub use admin::render as render_metrics;
pub use serve::{serve_scaled_until_ctrl_c, serve_until_ctrl_c};
pub use server::{BoundListener, RunningFleet};
