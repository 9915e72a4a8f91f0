//! Saturating duration arithmetic for plans: any configuration (however extreme) yields a
//! finite plan instead of a panic. Planned offsets are capped at about 31 years.

use std::time::Duration;

/// The longest planned offset.
pub const MAX_PLANNED: Duration = Duration::from_secs(1_000_000_000);

/// `seconds` as a duration, NaN and negatives as zero, capped at [`MAX_PLANNED`].
pub fn seconds(seconds: f64) -> Duration {
    if seconds.is_nan() || seconds <= 0.0 {
        Duration::ZERO
    } else {
        Duration::try_from_secs_f64(seconds)
            .unwrap_or(MAX_PLANNED)
            .min(MAX_PLANNED)
    }
}

/// `duration × factor`, saturating.
pub fn scale(duration: Duration, factor: f64) -> Duration {
    seconds(duration.as_secs_f64() * factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extremes_saturate() {
        assert_eq!(seconds(f64::NAN), Duration::ZERO);
        assert_eq!(seconds(-1.0), Duration::ZERO);
        assert_eq!(seconds(1e300), MAX_PLANNED);
        assert_eq!(scale(Duration::from_secs(2), 1.5), Duration::from_secs(3));
        assert_eq!(scale(MAX_PLANNED, 1e9), MAX_PLANNED);
    }
}
