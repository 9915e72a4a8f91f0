//! Trace replay: read a `TIMESTAMP,ContextTokens,GeneratedTokens`-style CSV lazily and turn
//! its rows into requests (window, speed-up, rate scaling).

pub mod reader;
pub mod replay;
pub mod timestamp;

pub use reader::{TraceReader, TraceRow};
pub use replay::{TracePlan, TraceStream};
