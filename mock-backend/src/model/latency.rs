//! Latency model of one deployment (reference §9): TTFT = base + prompt tokens × prefill cost,
//! with log-normal jitter; generation speed with jitter, a PTU floor, and (standard only) an
//! inter-token latency that grows with in-flight requests. Also the completion length draw.

use super::time::planned_nanos;
use crate::config::{CompletionTokens, DeploymentKind, LatencyConfig};
use crate::seed::SimRng;
use rand::Rng;
use rand_distr::{Distribution, Exp, StandardNormal};
use std::time::Duration;

/// Resolved latency parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyProfile {
    ttft_base: Duration,
    per_prompt_token: Duration,
    ttft_jitter: LogNormalUnit,
    tokens_per_second: f64,
    tps_jitter: LogNormalUnit,
    load_factor: f64,
    saturation_in_flight: f64,
    embeddings_time: Duration,
    floor_tps: Option<f64>,
    /// `(ttft_base, per_prompt_token)` in nanoseconds when both are below 2^32 (see
    /// [`LatencyProfile::prefill_seconds`]).
    small_prefill: Option<(u64, u64)>,
}

/// One request's timing draw, in nanoseconds (each at most [`super::MAX_PLANNED`]), the unit
/// of the response plan's schedule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimingDraw {
    /// Time from processing start to the first token.
    pub ttft_nanos: u64,
    /// Time between tokens.
    pub itl_nanos: u64,
}

impl LatencyProfile {
    /// The profile of a deployment of `kind` whose model has PTU floor `ptu_floor_tps`.
    pub fn resolve(
        config: &LatencyConfig,
        kind: DeploymentKind,
        ptu_floor_tps: f64,
    ) -> LatencyProfile {
        let (base, tps) = match kind {
            DeploymentKind::Standard => (Duration::from_millis(600), 80.0),
            DeploymentKind::Provisioned => (Duration::from_millis(400), 60.0),
        };
        let ttft_base = config.ttft_base.unwrap_or(base);
        let per_prompt_token = config
            .ttft_per_prompt_token
            .unwrap_or(Duration::from_micros(20));
        let small = |d: Duration| u64::try_from(d.as_nanos()).ok().filter(|n| *n < 1 << 32);
        LatencyProfile {
            ttft_base,
            per_prompt_token,
            small_prefill: small(ttft_base).zip(small(per_prompt_token)),
            ttft_jitter: LogNormalUnit::new(config.ttft_jitter.unwrap_or(0.25)),
            tokens_per_second: config.tokens_per_second.unwrap_or(tps),
            tps_jitter: LogNormalUnit::new(config.tps_jitter.unwrap_or(0.15)),
            load_factor: match kind {
                DeploymentKind::Standard => config.load_factor.unwrap_or(0.0),
                DeploymentKind::Provisioned => 0.0,
            },
            saturation_in_flight: f64::from(config.saturation_in_flight.unwrap_or(64)),
            embeddings_time: config.embeddings_time.unwrap_or(Duration::from_millis(100)),
            floor_tps: (kind == DeploymentKind::Provisioned).then_some(ptu_floor_tps),
        }
    }

    /// Draw TTFT and inter-token latency for a chat/completions request. `multiplier` is the
    /// brownout factor (1 = none). Always consumes two normal draws, so the stream stays aligned.
    /// Inlined into the planning paths, so a fault-free one multiplies by no constant 1.
    #[inline(always)]
    pub fn draw(
        &self,
        rng: &mut SimRng,
        prompt_tokens: u32,
        in_flight: u64,
        multiplier: f64,
    ) -> TimingDraw {
        let ttft_factor = self.ttft_jitter.draw(rng);
        let speed_factor = self.tps_jitter.draw(rng);
        let ttft_nanos =
            planned_nanos(self.prefill_seconds(prompt_tokens) * (ttft_factor * multiplier));
        let mut tps = self.tokens_per_second * speed_factor;
        if let Some(floor) = self.floor_tps {
            tps = tps.max(floor);
        }
        let itl_nanos = planned_nanos(self.load(in_flight) * multiplier / tps);
        TimingDraw {
            ttft_nanos,
            itl_nanos,
        }
    }

    /// The inter-token latency factor of `in_flight` requests. Without a load factor (the
    /// default, and always for PTU) it is exactly 1 (the in-flight share is in `[0, 1]`, so its
    /// product with 0 is 0): no division per draw, and `in_flight` (counted in `u64`, taken
    /// as at most `u32::MAX`) is not even converted.
    #[inline]
    fn load(&self, in_flight: u64) -> f64 {
        if self.load_factor == 0.0 {
            return 1.0;
        }
        let in_flight = u32::try_from(in_flight).unwrap_or(u32::MAX);
        1.0 + self.load_factor * (f64::from(in_flight) / self.saturation_in_flight).min(1.0)
    }

    /// `(ttft_base + per_prompt_token × prompt_tokens).as_secs_f64()`, the `Duration` sum
    /// saturating. When both terms are below 2^32 ns (4.3 s) the sum cannot overflow `u64`
    /// nanoseconds, so it is formed there and split into whole seconds and nanoseconds
    /// exactly as `Duration::as_secs_f64` adds them: the same `f64`, without `Duration`'s
    /// carries and overflow checks on every draw.
    #[inline]
    fn prefill_seconds(&self, prompt_tokens: u32) -> f64 {
        if let Some((base, per_token)) = self.small_prefill {
            let nanos = base + per_token * u64::from(prompt_tokens);
            if nanos < 1_000_000_000 {
                // Under a second (the usual prefill) the whole seconds are 0, and
                // `0.0 + x` is `x`: no division into seconds and nanoseconds.
                // (Signed: the exact same value, converted in one instruction.)
                return nanos as i64 as f64 / 1_000_000_000.0;
            }
            let (secs, subsec) = (nanos / 1_000_000_000, nanos % 1_000_000_000);
            secs as f64 + subsec as f64 / 1_000_000_000.0
        } else {
            self.ttft_base
                .saturating_add(self.per_prompt_token.saturating_mul(prompt_tokens))
                .as_secs_f64()
        }
    }

    /// Draw the duration of an embeddings request, in nanoseconds (at most
    /// [`super::MAX_PLANNED`]).
    pub fn draw_embeddings(&self, rng: &mut SimRng, multiplier: f64) -> u64 {
        let factor = self.ttft_jitter.draw(rng) * multiplier;
        planned_nanos(self.embeddings_time.as_secs_f64() * factor)
    }
}

/// A log-normal multiplier with mean 1, `exp(σZ − σ²/2)`: its `σ²/2` is computed once, with
/// `σ` (the same `f64` a per-draw computation gives).
#[derive(Debug, Clone, Copy, PartialEq)]
struct LogNormalUnit {
    sigma: f64,
    half_variance: f64,
}

impl LogNormalUnit {
    fn new(sigma: f64) -> Self {
        LogNormalUnit {
            sigma,
            half_variance: sigma * sigma / 2.0,
        }
    }

    /// One multiplier, from one standard normal draw of `rng`.
    #[inline(always)]
    fn draw(&self, rng: &mut SimRng) -> f64 {
        let z: f64 = StandardNormal.sample(rng);
        (self.sigma * z - self.half_variance).exp()
    }
}

/// Draw a completion length (per choice) from `distribution`, at least 1.
pub fn draw_completion_tokens(distribution: &CompletionTokens, rng: &mut SimRng) -> u32 {
    let drawn = match *distribution {
        CompletionTokens::Constant { value } => f64::from(value),
        CompletionTokens::Uniform { min, max } => f64::from(rng.random_range(min..=max)),
        CompletionTokens::Lognormal { median, sigma } => {
            let z: f64 = StandardNormal.sample(rng);
            median * (sigma * z).exp()
        }
        CompletionTokens::Exponential { mean } => match Exp::new(1.0 / mean) {
            Ok(exp) => exp.sample(rng),
            Err(_) => mean,
        },
    };
    (drawn.round() as u32).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::stream;

    fn config(tps: f64) -> LatencyConfig {
        LatencyConfig {
            ttft_base: Some(Duration::from_millis(500)),
            ttft_per_prompt_token: Some(Duration::from_millis(1)),
            ttft_jitter: Some(0.0),
            tokens_per_second: Some(tps),
            tps_jitter: Some(0.0),
            load_factor: Some(1.0),
            saturation_in_flight: Some(10),
            embeddings_time: None,
        }
    }

    #[test]
    fn without_jitter_ttft_is_base_plus_prefill_and_itl_is_one_over_tps() {
        let profile = LatencyProfile::resolve(&config(50.0), DeploymentKind::Standard, 25.0);
        let draw = profile.draw(&mut stream(1, "t"), 100, 0, 1.0);
        assert_eq!(
            Duration::from_nanos(draw.ttft_nanos),
            Duration::from_millis(600)
        );
        assert_eq!(
            Duration::from_nanos(draw.itl_nanos),
            Duration::from_millis(20)
        );
    }

    #[test]
    fn standard_itl_grows_with_in_flight_and_brownout_multiplies() {
        let profile = LatencyProfile::resolve(&config(50.0), DeploymentKind::Standard, 25.0);
        assert_eq!(
            Duration::from_nanos(profile.draw(&mut stream(1, "t"), 0, 5, 1.0).itl_nanos),
            Duration::from_millis(30)
        );
        assert_eq!(
            Duration::from_nanos(profile.draw(&mut stream(1, "t"), 0, 50, 1.0).itl_nanos),
            Duration::from_millis(40),
            "capped at saturation"
        );
        let slow = profile.draw(&mut stream(1, "t"), 0, 0, 3.0);
        assert_eq!(
            (
                Duration::from_nanos(slow.ttft_nanos),
                Duration::from_nanos(slow.itl_nanos)
            ),
            (Duration::from_millis(1500), Duration::from_millis(60))
        );
    }

    #[test]
    fn ptu_speed_never_falls_below_the_floor_and_ignores_load() {
        let profile = LatencyProfile::resolve(&config(10.0), DeploymentKind::Provisioned, 25.0);
        assert_eq!(
            Duration::from_nanos(profile.draw(&mut stream(1, "t"), 0, 50, 1.0).itl_nanos),
            Duration::from_millis(40)
        );
    }

    #[test]
    fn jittered_draws_are_deterministic_and_centred() {
        let profile =
            LatencyProfile::resolve(&LatencyConfig::default(), DeploymentKind::Standard, 25.0);
        let draws = |seed| {
            let mut rng = stream(seed, "deployment:east/a:latency");
            (0..2000)
                .map(|_| {
                    Duration::from_nanos(profile.draw(&mut rng, 0, 0, 1.0).ttft_nanos).as_secs_f64()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(draws(3), draws(3));
        assert_ne!(draws(3), draws(4));
        let mean = draws(3).iter().sum::<f64>() / 2000.0;
        assert!((mean - 0.6).abs() < 0.03, "mean TTFT {mean}");
    }

    #[test]
    fn no_load_factor_means_a_load_of_exactly_one() {
        for load_factor in [0.0, -0.0] {
            for saturation in [0, 1, 64] {
                let profile = LatencyProfile::resolve(
                    &LatencyConfig {
                        load_factor: Some(load_factor),
                        saturation_in_flight: Some(saturation),
                        ..LatencyConfig::default()
                    },
                    DeploymentKind::Standard,
                    25.0,
                );
                for in_flight in [0, 1, 63, 64, 1000, u32::MAX] {
                    let general =
                        1.0 + load_factor * (f64::from(in_flight) / f64::from(saturation)).min(1.0);
                    assert_eq!(
                        profile.load(u64::from(in_flight)).to_bits(),
                        general.to_bits()
                    );
                }
            }
        }
    }

    #[test]
    fn the_nanosecond_prefill_equals_the_duration_sum() {
        for (base, per_token) in [
            (Duration::from_millis(500), Duration::from_micros(20)),
            (Duration::new(4, 294_967_295), Duration::new(4, 294_967_295)),
            (Duration::new(0, 999_999_999), Duration::new(0, 1)),
            (Duration::ZERO, Duration::from_nanos(7)),
        ] {
            let profile = LatencyProfile::resolve(
                &LatencyConfig {
                    ttft_base: Some(base),
                    ttft_per_prompt_token: Some(per_token),
                    ..LatencyConfig::default()
                },
                DeploymentKind::Standard,
                25.0,
            );
            assert!(profile.small_prefill.is_some(), "{base:?} {per_token:?}");
            // 24,999 to 25,001 tokens straddle one second at 500 ms + 20 µs a token.
            for prompt_tokens in [
                0,
                1,
                799,
                8000,
                24_999,
                25_000,
                25_001,
                123_456_789,
                u32::MAX,
            ] {
                let general = base
                    .saturating_add(per_token.saturating_mul(prompt_tokens))
                    .as_secs_f64();
                assert_eq!(
                    profile.prefill_seconds(prompt_tokens).to_bits(),
                    general.to_bits(),
                    "{base:?} {per_token:?} {prompt_tokens}"
                );
            }
        }
        let large = LatencyProfile::resolve(
            &LatencyConfig {
                ttft_base: Some(Duration::from_secs(5)),
                ..LatencyConfig::default()
            },
            DeploymentKind::Standard,
            25.0,
        );
        assert!(large.small_prefill.is_none());
        assert_eq!(large.prefill_seconds(1000), 5.02);
    }

    #[test]
    fn completion_draws_respect_their_distribution() {
        let mut rng = stream(9, "c");
        assert_eq!(
            draw_completion_tokens(&CompletionTokens::Constant { value: 7 }, &mut rng),
            7
        );
        for _ in 0..500 {
            let n = draw_completion_tokens(&CompletionTokens::Uniform { min: 3, max: 5 }, &mut rng);
            assert!((3..=5).contains(&n));
        }
        let mean = (0..4000)
            .map(|_| {
                f64::from(draw_completion_tokens(
                    &CompletionTokens::Exponential { mean: 100.0 },
                    &mut rng,
                ))
            })
            .sum::<f64>()
            / 4000.0;
        assert!((mean - 100.0).abs() < 8.0, "{mean}");
    }
}
