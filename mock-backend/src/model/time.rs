//! Saturating duration arithmetic for plans: any configuration (however extreme) yields a
//! finite plan instead of a panic. Planned offsets are capped at about 31 years.

use std::time::Duration;

/// The longest planned offset.
pub const MAX_PLANNED: Duration = Duration::from_secs(1_000_000_000);

/// [`MAX_PLANNED`] in nanoseconds.
pub const MAX_PLANNED_NANOS: u64 = MAX_PLANNED.as_secs() * 1_000_000_000;

/// `seconds` as a duration, NaN and negatives as zero, capped at [`MAX_PLANNED`]: what
/// `Duration::try_from_secs_f64(seconds)` capped at `MAX_PLANNED` gives (the nearest
/// nanosecond, ties to even), without its general conversion (see [`round_nanos`]).
#[inline]
pub fn seconds(seconds: f64) -> Duration {
    Duration::from_nanos(planned_nanos(seconds))
}

/// [`seconds`] in nanoseconds (at most [`MAX_PLANNED_NANOS`]): the plans keep their offsets
/// in `u64` nanoseconds, so a draw is not split into seconds and nanoseconds only to be
/// multiplied back.
#[inline]
pub fn planned_nanos(seconds: f64) -> u64 {
    if seconds.is_nan() || seconds <= 0.0 {
        0
    } else if let Some(nanos) = short_nanos(seconds) {
        nanos
    } else if seconds < MAX_PLANNED.as_secs() as f64 {
        // The cap is below 2^30 s, where `round_nanos` is exact; just below the cap it can
        // round up to the cap itself, never past it.
        round_nanos(seconds)
    } else {
        MAX_PLANNED_NANOS
    }
}

/// [`round_nanos`] of a positive `seconds` under about 4.3 s (every TTFT and ITL of a usual
/// plan) with three float operations, or `None` when this cannot decide it (see
/// [`nearest_nanos`]; below 2^32 ns half an ulp of `p` is at most 2^-22).
#[inline]
fn short_nanos(seconds: f64) -> Option<u64> {
    const LIMIT: f64 = 4_294_967_296.0; // 2^32 ns
    const MARGIN: f64 = 0.5 - 1.0 / 1_048_576.0; // 0.5 − 2^-20
    let p = seconds * 1_000_000_000.0;
    if p >= LIMIT {
        // (A NaN `p` goes on: it fails the margin test.)
        return None;
    }
    nearest_nanos(p, MARGIN)
}

/// The nearest integer to the exact product behind `p = seconds × 10^9` (`p` in `[0, 2^52)`,
/// rounded to nearest, so within half an ulp of the exact count), when `p` is closer than
/// `margin` to it and `margin + ½ ulp(p) ≤ 0.5`: then the exact count is closer than 0.5 to
/// that integer, so it is the count's nearest and no tie is possible; else `None` (rarely: a
/// value in 2^19 or fewer, the exact ties among them). Adding and taking away 2^52 rounds `p`
/// to its nearest integer `n` (exactly, ties to even) and `p − n` is exact; `n` is read off the
/// bits of `p + 2^52`.
#[inline]
fn nearest_nanos(p: f64, margin: f64) -> Option<u64> {
    const SHIFTER: f64 = 4_503_599_627_370_496.0; // 2^52
    let shifted = p + SHIFTER;
    let nearest = shifted - SHIFTER;
    ((p - nearest).abs() < margin).then(|| shifted.to_bits() - SHIFTER.to_bits())
}

/// `duration` in nanoseconds, saturating at `u64::MAX` (about 584 years).
#[inline]
pub fn saturating_nanos(duration: Duration) -> u64 {
    duration
        .as_secs()
        .checked_mul(1_000_000_000)
        .and_then(|n| n.checked_add(u64::from(duration.subsec_nanos())))
        .unwrap_or(u64::MAX)
}

/// `Duration::from_secs_f64(secs)`, bit for bit (and panicking where it panics), without
/// std's general conversion on the common ranges: below 2^42 ns (73 minutes) the nearest
/// nanosecond (std's rounding: to nearest, ties to even) from [`nearest_nanos`] when it can
/// decide; else for 1 s ≤ `secs` < 2^32 s std's own
/// computation for that exponent range (whole seconds by shifting the significand, the
/// fraction's exact product with 10^9 rounded to nearest, ties to even); below 1 s by
/// [`round_nanos`]. The one exact fast conversion of the project: the fleet's latency plans
/// and the workload's arrival times both go through it.
#[inline]
pub fn duration_from_secs_f64(secs: f64) -> Duration {
    const FRACTION_BITS: u64 = 52;
    const FRACTION_MASK: u64 = (1 << FRACTION_BITS) - 1;
    const HALF: u64 = 1 << (FRACTION_BITS - 1);
    const NEAREST_LIMIT: f64 = 4_398_046_511_104.0; // 2^42 ns
    const NEAREST_MARGIN: f64 = 0.5 - 1.0 / 1024.0; // half an ulp below 2^42 is at most 2^-11
    let p = secs * 1_000_000_000.0;
    if (0.0..NEAREST_LIMIT).contains(&p)
        && let Some(nanos) = nearest_nanos(p, NEAREST_MARGIN)
    {
        return Duration::from_nanos(nanos);
    }
    let bits = secs.to_bits();
    // The unbiased exponent: 0..=31 exactly for 1 ≤ secs < 2^32; below 1 it wraps around, and
    // the sign bit, infinities and NaN put it above 1023.
    let exponent = (bits >> FRACTION_BITS).wrapping_sub(1023);
    if exponent >= 32 {
        return if secs > 0.0 && secs < 1.0 {
            // At most 10^9 ns: a carry into the second, if any, happens inside `new`.
            Duration::new(0, round_nanos(secs) as u32)
        } else {
            Duration::from_secs_f64(secs)
        };
    }
    let significand = (bits & FRACTION_MASK) | (1 << FRACTION_BITS);
    let whole = significand >> (FRACTION_BITS - exponent);
    // The fraction × 2^52, exact (the bits shifted out are the whole seconds).
    let fraction = (significand << exponent) & FRACTION_MASK;
    let scaled = u128::from(fraction) * 1_000_000_000;
    let nanos = (scaled >> FRACTION_BITS) as u32; // < 10^9
    let rest = scaled as u64 & FRACTION_MASK;
    let round_up = rest > HALF || (rest == HALF && nanos & 1 == 1);
    // 999,999,999 rounding up carries into the seconds inside `Duration::new`.
    Duration::new(whole, nanos + u32::from(round_up))
}

/// `seconds` (positive, below 2^30) in nanoseconds, rounded to the nearest, ties to even —
/// the rounding of `Duration::try_from_secs_f64`. A positive normal `f64` is `m × 2^(e − 1075)`
/// with a 53-bit `m`, so the exact count is `m × 10^9` (below 2^83) shifted right by
/// `1075 − e`, at least 23 below 2^30 s; the bits shifted out decide the rounding. Taking 22 of
/// them off first with a constant shift leaves a `u64` and a shift of 1 to 61 (the rest round
/// to zero): no variable-width `u128` shift. Called twice per planned response.
#[inline]
fn round_nanos(seconds: f64) -> u64 {
    const MANTISSA_BITS: u32 = 52;
    let bits = seconds.to_bits();
    let biased = (bits >> MANTISSA_BITS) as u32;
    // Zero for subnormals (and below 2^-31 s, under half a nanosecond): 1075 − 22 − 61.
    if biased <= 1075 - 22 - 62 {
        return 0;
    }
    let mantissa = (bits & ((1 << MANTISSA_BITS) - 1)) | (1 << MANTISSA_BITS);
    let product = u128::from(mantissa) * 1_000_000_000;
    let high = (product >> 22) as u64;
    let low_sticky = product as u64 & ((1 << 22) - 1) != 0;
    let shift = 1075 - 22 - biased;
    let whole = high >> shift;
    let round_bit = (high >> (shift - 1)) & 1 == 1;
    let sticky = low_sticky || high & ((1 << (shift - 1)) - 1) != 0;
    whole + u64::from(round_bit && (sticky || whole & 1 == 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extremes_saturate() {
        assert_eq!(seconds(f64::NAN), Duration::ZERO);
        assert_eq!(seconds(-1.0), Duration::ZERO);
        assert_eq!(seconds(1e300), MAX_PLANNED);
    }

    /// The conversion as it was written before the fast one: the standard library's.
    fn reference(seconds: f64) -> Duration {
        if seconds.is_nan() || seconds <= 0.0 {
            Duration::ZERO
        } else {
            Duration::try_from_secs_f64(seconds)
                .unwrap_or(MAX_PLANNED)
                .min(MAX_PLANNED)
        }
    }

    #[test]
    fn the_short_conversion_equals_the_exact_one_next_to_every_half_nanosecond() {
        // Where `short_nanos` must give up or be right: around (k + 0.5) ns, and around whole
        // nanoseconds, up to and past its 2^32 ns limit.
        let mut checked = 0;
        for k in (0..5_000u64).chain((1..4_000).map(|i| i * 1_073_741 + 7)) {
            for offset in [0.5, 0.0, 0.499_999, 0.500_001] {
                let x = (k as f64 + offset) / 1e9;
                for bits in x.to_bits().saturating_sub(3)..=x.to_bits() + 3 {
                    let s = f64::from_bits(bits);
                    if s > 0.0 {
                        if let Some(fast) = short_nanos(s) {
                            assert_eq!(fast, round_nanos(s), "{s:e}");
                            checked += 1;
                        }
                        assert_eq!(u128::from(planned_nanos(s)), reference(s).as_nanos());
                    }
                }
            }
        }
        assert!(checked > 100_000, "{checked}");
        assert_eq!(short_nanos(4.294_967_296), None);
        assert_eq!(short_nanos(0.6), Some(600_000_000));
    }

    #[test]
    fn the_duration_conversion_equals_std_next_to_every_half_nanosecond() {
        // Arrival times up to past the 2^42 ns limit of the nearest-integer path, next to
        // half and whole nanoseconds, and random ones.
        let mut values = vec![0.0, -0.0, 4_398.046_511_104, 1e-9, 0.5e-9];
        for whole in [0u64, 1, 59, 3599, 4397, 4398, 4399, 100_000] {
            for k in 0..2_000u64 {
                let nanos = k * 500_000_037 % 1_000_000_000;
                for offset in [0.5, 0.0, 0.499_9, 0.500_1] {
                    values.push(whole as f64 + (nanos as f64 + offset) / 1e9);
                }
            }
        }
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            values.push((state >> 11) as f64 / (1u64 << 53) as f64 * 5000.0);
        }
        for x in values {
            for bits in x.to_bits().saturating_sub(2)..=x.to_bits() + 2 {
                let s = f64::from_bits(bits);
                if s >= 0.0 {
                    assert_eq!(
                        duration_from_secs_f64(s),
                        Duration::from_secs_f64(s),
                        "{s:e}"
                    );
                }
            }
        }
    }

    #[test]
    fn saturating_nanos_equals_the_u128_count_saturated() {
        for d in [
            Duration::ZERO,
            Duration::new(0, 999_999_999),
            Duration::new(18_446_744_073, 709_551_615),
            Duration::new(18_446_744_073, 709_551_616),
            Duration::new(18_446_744_074, 0),
            Duration::MAX,
            MAX_PLANNED,
        ] {
            let general = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
            assert_eq!(saturating_nanos(d), general, "{d:?}");
        }
    }

    #[test]
    fn equals_the_standard_conversion_capped() {
        let mut special = vec![
            0.0,
            -0.0,
            f64::MIN_POSITIVE,
            f64::from_bits(1),
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
            1e9,
            1e9 - 1e-7,
            f64::from_bits(1e9f64.to_bits() - 1),
            f64::from_bits(1e9f64.to_bits() + 1),
            2f64.powi(-31),
            2f64.powi(-30),
            2f64.powi(-32),
            0.5e-9,
            1.5e-9,
            2.5e-9,
            1e-9,
            0.999_999_999_5,
            1.0,
            0.0125,
            0.6,
            4503599627370496.0,
        ];
        // Exact ties: `t / 1024` s for odd `t` is `t × 976,562.5` ns (10^9 = 2^9 × 5^9), so
        // the even and the odd rounding cases both occur.
        for t in (1..200_000u64)
            .step_by(2)
            .chain((1u64 << 39..).step_by(2).take(100))
        {
            special.push(t as f64 / 1024.0);
        }
        for k in 0..64u32 {
            special.push(f64::from(k) * 2f64.powi(-31));
        }
        for x in special {
            for bits in [x.to_bits().wrapping_sub(1), x.to_bits(), x.to_bits() + 1] {
                let s = f64::from_bits(bits);
                assert_eq!(seconds(s), reference(s), "{s:e} ({bits:#x})");
                assert_eq!(
                    u128::from(planned_nanos(s)),
                    reference(s).as_nanos(),
                    "{s:e}"
                );
            }
        }
        // Every exponent from far below a nanosecond to past the cap, random mantissas.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..400_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let exponent = 1023 - 40 + (state >> 52) % 72;
            let s = f64::from_bits((exponent << 52) | (state & ((1 << 52) - 1)));
            assert_eq!(seconds(s), reference(s), "{s:e}");
            assert_eq!(u128::from(planned_nanos(s)), reference(s).as_nanos());
        }
    }
}
