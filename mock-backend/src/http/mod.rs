//! The hyper shell around the model: listeners, routes, auth, error and success bodies, SSE,
//! the admin listener (admin and metrics endpoints, off the data path), and the bounds on what
//! clients control ([`limits`]). It reads the clock (only in [`clock`]), tokenizes prompts,
//! asks the model under a short lock, and sleeps until the planned times. No decision is made
//! here.

mod admin;
mod admin_listener;
mod answer;
mod arguments;
mod auth;
pub mod clock;
mod decide;
pub mod errors;
pub mod flags;
pub mod flush_before_cut;
mod foreground;
mod handler;
mod ids;
pub mod limits;
mod linger;
mod mock_body;
mod models_list;
mod parse;
mod payload;
mod protocol_errors;
mod respond;
pub mod router;
mod server;
pub mod sockets;
mod state;
mod stream;
mod tokens;

pub use admin::{REDACTED, render as render_metrics};
pub use admin_listener::AdminOptions;
pub use foreground::serve_until_ctrl_c;
pub use server::{BoundListener, RunningFleet, ServeOptions};
