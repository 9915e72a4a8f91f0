//! Retry policies: the gateway's own loop over backends (`GatewayRetry`) and the client SDK's
//! retries of a whole request (`ClientRetryPolicy`), kept apart because they run in different
//! places (the gateway re-selects a backend; the client resends to the same endpoint).

pub mod client;
pub mod gateway;
