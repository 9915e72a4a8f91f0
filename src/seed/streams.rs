//! The names of the random streams the simulator and the live shells share, in one place.
//!
//! A decision that draws randomness draws it from the stream named here, whichever shell drives
//! it: the client's retry jitter, each gateway instance's balancing draws, the choice of gateway
//! instance. The names keep their historical `sim:` prefix so that simulator output stays
//! byte-identical to the runs made before the live shells used them too. Workload and fleet
//! streams are named by the code that owns them (`workload:<app>:…`, `deployment:…`), which
//! both shells already share.

use std::borrow::Cow;

use super::{SimRng, stream};

/// The client SDK's retry jitter (one stream for every request of a strategy's run).
pub const CLIENT_RETRY: &str = "sim:client-retry";

/// Which gateway instance takes a request (`gateways > 1`).
pub const GATEWAY_INSTANCE: &str = "sim:gateway-instance";

/// Balancing draws of the first gateway instance; instance `k ≥ 1` appends `:k`.
const BALANCE: &str = "sim:balance";

/// The name of gateway instance `instance`'s balancing stream: instances share nothing, so
/// each has its own; instance 0 keeps the single-instance name.
pub fn balance_name(instance: usize) -> Cow<'static, str> {
    match instance {
        0 => Cow::Borrowed(BALANCE),
        k => Cow::Owned(format!("{BALANCE}:{k}")),
    }
}

/// Gateway instance `instance`'s balancing stream under `seed`.
pub fn balance(seed: u64, instance: usize) -> SimRng {
    stream(seed, &balance_name(instance))
}

/// The client retry stream under `seed`.
pub fn client_retry(seed: u64) -> SimRng {
    stream(seed, CLIENT_RETRY)
}

/// The gateway-instance choice stream under `seed`.
pub fn gateway_instance(seed: u64) -> SimRng {
    stream(seed, GATEWAY_INSTANCE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_zero_keeps_the_single_instance_name_and_others_differ() {
        assert_eq!(balance_name(0), "sim:balance");
        assert_eq!(balance_name(2), "sim:balance:2");
        assert_ne!(balance_name(1), balance_name(2));
    }
}
