//! `aoai-mock`: a faithful Azure OpenAI backend emulator.
//!
//! The decisions (admission, 429s and their retry-after, PTU utilization, token estimates,
//! response plans, fault draws) live in the pure [`model`] module, which takes `now` and an RNG
//! and is reused verbatim by throttlebox's simulator. The [`http`] module is the thin hyper shell
//! that reads the clock and speaks the wire format. [`config`] is the fleet file.

pub mod config;
pub mod duration;
pub mod http;
pub mod model;
pub mod seed;
