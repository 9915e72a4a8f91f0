//! Number formatting shared by every writer, so JSON, CSV and Markdown agree digit for digit:
//! durations as seconds with millisecond precision, ratios with 4 decimals (percentages with
//! 2), money with 4 decimals, utilization percentages with 2.

use std::fmt::Write as _;
use std::time::Duration;

/// Decimals of a duration in seconds.
pub const SECONDS_DIGITS: i32 = 3;
/// Decimals of a ratio (0..1); as a percentage that is 2 decimals.
pub const RATIO_DIGITS: i32 = 4;
/// Decimals of a cost.
pub const COST_DIGITS: i32 = 4;
/// Decimals of a utilization percentage and of per-request averages.
pub const PERCENT_DIGITS: i32 = 2;

/// `value` rounded half away from zero to `digits` decimals (non-finite values become 0).
pub fn round(value: f64, digits: i32) -> f64 {
    if !value.is_finite() {
        return 0.0;
    }
    let scale = 10f64.powi(digits);
    let rounded = (value * scale).round() / scale;
    // Normalise -0.0 so the JSON never prints "-0.0".
    if rounded == 0.0 { 0.0 } else { rounded }
}

/// A duration in seconds rounded to the millisecond.
pub fn seconds(duration: Duration) -> f64 {
    round_millis(duration) as f64 / 1000.0
}

/// A duration in whole milliseconds, rounded half up.
pub(crate) fn round_millis(duration: Duration) -> u128 {
    (duration.as_micros() + 500) / 1000
}

/// `part / whole` rounded to [`RATIO_DIGITS`]; 0 when `whole` is 0.
pub fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        round(part as f64 / whole as f64, RATIO_DIGITS)
    }
}

/// Append a duration as seconds with exactly three decimals (`1.250`), integer arithmetic.
pub fn push_seconds(out: &mut String, duration: Duration) {
    let millis = round_millis(duration);
    // Writing into a String cannot fail.
    let _ = write!(out, "{}.{:03}", millis / 1000, millis % 1000);
}

/// Seconds with three decimals, or `-` when absent (for tables).
pub fn seconds_text(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_string(), |v| format!("{v:.3}"))
}

/// A ratio as a percentage with two decimals (`12.34`).
pub fn percent_text(ratio: f64) -> String {
    format!("{:.2}", ratio * 100.0)
}

/// A number with a fixed count of decimals, or `-` when absent.
pub fn fixed_text(value: Option<f64>, digits: usize) -> String {
    value.map_or_else(|| "-".to_string(), |v| format!("{v:.digits$}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_round_to_the_millisecond_with_three_digits() {
        let text = |micros: u64| {
            let mut out = String::new();
            push_seconds(&mut out, Duration::from_micros(micros));
            out
        };
        assert_eq!(text(0), "0.000");
        assert_eq!(text(1_499), "0.001");
        assert_eq!(text(1_500), "0.002");
        assert_eq!(text(61_250_000), "61.250");
        assert_eq!(seconds(Duration::from_micros(999_600)), 1.0);
    }

    #[test]
    fn ratios_and_rounding_are_safe_on_edge_values() {
        assert_eq!(ratio(1, 3), 0.3333);
        assert_eq!(ratio(5, 0), 0.0);
        assert_eq!(round(f64::NAN, 2), 0.0);
        assert_eq!(round(-0.0001, 2).to_string(), "0");
        assert_eq!(percent_text(0.12345), "12.35");
    }
}
