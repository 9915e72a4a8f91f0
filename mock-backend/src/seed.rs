//! Named random streams derived from one scenario seed.
//!
//! Every component that draws randomness (arrivals, each deployment's latency and faults, each
//! strategy) asks for its own stream by name, so changing one component never shifts the draws
//! of another (common random numbers). The derivation is stable across platforms and releases:
//! FNV-1a over the name, mixed with the seed through SplitMix64, seeding a PCG-64 MCG.

use rand_pcg::Pcg64Mcg;

/// The RNG every pure component takes: small, fast, and fully determined by its seed.
pub type SimRng = Pcg64Mcg;

/// The RNG for component `name` under scenario seed `seed`.
pub fn stream(seed: u64, name: &str) -> SimRng {
    let name_hash = fnv1a64(name.as_bytes());
    let mixed = splitmix64(seed ^ splitmix64(name_hash));
    let hi = splitmix64(mixed);
    let lo = splitmix64(mixed ^ 0xA5A5_A5A5_5A5A_5A5A);
    Pcg64Mcg::new((u128::from(hi) << 64) | u128::from(lo))
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn same_seed_and_name_give_the_same_draws() {
        let a: Vec<u64> = (0..8)
            .map(|_| 0)
            .scan(stream(7, "arrivals"), |r, _: u64| Some(r.random()))
            .collect();
        let b: Vec<u64> = (0..8)
            .map(|_| 0)
            .scan(stream(7, "arrivals"), |r, _: u64| Some(r.random()))
            .collect();
        assert_eq!(a, b);
    }

    #[test]
    fn different_names_or_seeds_give_different_streams() {
        let first = |seed, name| stream(seed, name).random::<u64>();
        assert_ne!(first(7, "arrivals"), first(7, "backend:east"));
        assert_ne!(first(7, "arrivals"), first(8, "arrivals"));
    }

    const PINNED_FIRST_DRAW: u64 = 17_041_515_478_391_881_522;

    #[test]
    fn derivation_is_pinned() {
        // A change here changes every simulator output: bump the summary schema if it must change.
        assert_eq!(stream(1, "arrivals").random::<u64>(), PINNED_FIRST_DRAW);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
