//! The search space: `--param KEY=SPEC`, one per setting tuned, where KEY is any `--set` key
//! and SPEC is
//!
//! - a duration range `5s..120s` — searched on a log scale, values rounded to 1 ms below 1 s,
//!   0.1 s below 10 s and whole seconds above;
//! - an integer range `0..10` — every integer equally likely;
//! - a number range `0.1..0.9` — linear, 3 significant figures; append `:log` for a log scale
//!   (durations take `:linear` for a linear one);
//! - a set of choices `a|b|c` (or `true|false`) — unordered.
//!
//! The search works in unit coordinates: each parameter maps `u ∈ [0, 1]` to a value
//! ([`Param::decode`]) and a value back to the `u` it stands for ([`Param::encode`]), so every
//! method (design, refinement, neighbourhoods, charts) treats all kinds alike. A candidate is
//! known by its values as written, which is what `--set` receives.

use std::time::Duration;

use super::error::TuneError;

/// What values a parameter takes.
#[derive(Debug, Clone, PartialEq)]
pub enum Domain {
    /// A duration in seconds between two bounds.
    Duration {
        /// Smallest, in seconds.
        low: f64,
        /// Largest, in seconds.
        high: f64,
        /// Searched on a log scale.
        log: bool,
    },
    /// A real number between two bounds.
    Number {
        /// Smallest.
        low: f64,
        /// Largest.
        high: f64,
        /// Searched on a log scale.
        log: bool,
    },
    /// An integer between two bounds, both included.
    Integer {
        /// Smallest.
        low: i64,
        /// Largest.
        high: i64,
    },
    /// One of a set of values, unordered.
    Choice(Vec<String>),
}

/// One tuned setting.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// The `--set` key.
    pub key: String,
    /// Its values.
    pub domain: Domain,
}

fn bad(text: &str, reason: impl Into<String>) -> TuneError {
    TuneError::Usage {
        flag: "--param".to_string(),
        value: text.to_string(),
        reason: reason.into(),
    }
}

fn seconds(text: &str) -> Option<f64> {
    // A bare number is not a duration here: `0..10` is an integer range.
    if text.trim().parse::<f64>().is_ok() {
        return None;
    }
    crate::duration::parse(text).ok().map(|d| d.as_secs_f64())
}

impl Param {
    /// Parse `KEY=SPEC`.
    pub fn parse(text: &str) -> Result<Param, TuneError> {
        let (key, spec) = text
            .split_once('=')
            .ok_or_else(|| bad(text, "expected KEY=LOW..HIGH or KEY=a|b|c"))?;
        let key = key.trim();
        if key.is_empty() {
            return Err(bad(text, "empty key"));
        }
        let spec = spec.trim();
        let domain = if let Some((low, high)) = spec.split_once("..") {
            let (high, scale) = match high.rsplit_once(':') {
                Some((high, scale)) => (high, Some(scale.trim())),
                None => (high, None),
            };
            let log = match scale {
                None => None,
                Some("log") => Some(true),
                Some("linear") => Some(false),
                Some(other) => {
                    return Err(bad(
                        text,
                        format!("unknown scale {other:?} (log or linear)"),
                    ));
                }
            };
            range(text, low.trim(), high.trim(), log)?
        } else if spec.contains('|') {
            let choices: Vec<String> = spec
                .split('|')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect();
            if choices.len() < 2 {
                return Err(bad(text, "give at least two choices: a|b"));
            }
            Domain::Choice(choices)
        } else {
            return Err(bad(
                text,
                "expected a range LOW..HIGH (5s..120s, 0..10, 0.1..0.9) or choices a|b|c",
            ));
        };
        Ok(Param {
            key: key.to_string(),
            domain,
        })
    }

    /// The value `u ∈ [0, 1]` stands for, as written to `--set`.
    pub fn decode(&self, u: f64) -> String {
        let u = u.clamp(0.0, 1.0);
        match &self.domain {
            Domain::Duration { low, high, log } => {
                duration_text(round_seconds(scaled(*low, *high, *log, u)).clamp(*low, *high))
            }
            Domain::Number { low, high, log } => {
                number_text(round_significant(scaled(*low, *high, *log, u), 3).clamp(*low, *high))
            }
            Domain::Integer { low, high } => {
                let levels = (high - low + 1) as f64;
                (low + ((u * levels).floor() as i64).min(high - low)).to_string()
            }
            Domain::Choice(choices) => {
                let index = ((u * choices.len() as f64).floor() as usize).min(choices.len() - 1);
                choices[index].clone()
            }
        }
    }

    /// The unit coordinate of `value` (the centre of its level for integers and choices).
    pub fn encode(&self, value: &str) -> f64 {
        let position = match &self.domain {
            Domain::Duration { low, high, log } => {
                unscaled(*low, *high, *log, seconds(value).unwrap_or(*low))
            }
            Domain::Number { low, high, log } => {
                unscaled(*low, *high, *log, value.parse().unwrap_or(*low))
            }
            Domain::Integer { low, high } => {
                let level = value.parse::<i64>().unwrap_or(*low) - low;
                (level as f64 + 0.5) / (high - low + 1) as f64
            }
            Domain::Choice(choices) => {
                let index = choices.iter().position(|c| c == value).unwrap_or(0);
                (index as f64 + 0.5) / choices.len() as f64
            }
        };
        position.clamp(0.0, 1.0)
    }

    /// Whether values have an order (ranges) — choices do not.
    pub fn is_ordered(&self) -> bool {
        !matches!(self.domain, Domain::Choice(_))
    }

    /// The unit coordinates of a step of one level (integers), or None.
    pub fn level_width(&self) -> Option<f64> {
        match &self.domain {
            Domain::Integer { low, high } => Some(1.0 / (high - low + 1) as f64),
            Domain::Choice(choices) => Some(1.0 / choices.len() as f64),
            _ => None,
        }
    }

    /// The domain as typed back: `5s..120s (log)`, `0..10`, `a|b`.
    pub fn domain_text(&self) -> String {
        match &self.domain {
            Domain::Duration { low, high, log } => format!(
                "{}..{}{}",
                duration_text(*low),
                duration_text(*high),
                if *log { " (log scale)" } else { "" }
            ),
            Domain::Number { low, high, log } => format!(
                "{}..{}{}",
                number_text(*low),
                number_text(*high),
                if *log { " (log scale)" } else { "" }
            ),
            Domain::Integer { low, high } => format!("{low}..{high} (integers)"),
            Domain::Choice(choices) => choices.join("|"),
        }
    }

    /// The value in seconds when the parameter is a duration.
    pub fn seconds_of(&self, value: &str) -> Option<f64> {
        match self.domain {
            Domain::Duration { .. } => seconds(value),
            _ => None,
        }
    }
}

fn range(text: &str, low: &str, high: &str, log: Option<bool>) -> Result<Domain, TuneError> {
    if let (Some(low), Some(high)) = (seconds(low), seconds(high)) {
        if !(low > 0.0 || log == Some(false)) || high <= low {
            return Err(bad(
                text,
                "a duration range needs 0 < LOW < HIGH (a log scale cannot start at 0; add \
                 :linear)",
            ));
        }
        return Ok(Domain::Duration {
            low,
            high,
            log: log.unwrap_or(true),
        });
    }
    if let (Ok(low), Ok(high)) = (low.parse::<i64>(), high.parse::<i64>()) {
        if high <= low {
            return Err(bad(text, "an integer range needs LOW < HIGH"));
        }
        if log.is_some() {
            return Err(bad(text, "integer ranges are linear"));
        }
        return Ok(Domain::Integer { low, high });
    }
    match (low.parse::<f64>(), high.parse::<f64>()) {
        (Ok(low), Ok(high)) if low.is_finite() && high.is_finite() && low < high => {
            let log = log.unwrap_or(false);
            if log && low <= 0.0 {
                return Err(bad(text, "a log scale needs 0 < LOW"));
            }
            Ok(Domain::Number { low, high, log })
        }
        _ => Err(bad(
            text,
            "LOW..HIGH must be two durations (5s..120s), two integers (0..10) or two numbers \
             (0.1..0.9) with LOW < HIGH",
        )),
    }
}

fn scaled(low: f64, high: f64, log: bool, u: f64) -> f64 {
    if log {
        low * (high / low).powf(u)
    } else {
        low + (high - low) * u
    }
}

fn unscaled(low: f64, high: f64, log: bool, value: f64) -> f64 {
    if log {
        (value / low).ln() / (high / low).ln()
    } else {
        (value - low) / (high - low)
    }
}

/// Durations rounded to what people write: 1 ms below 1 s, 0.1 s below 10 s, else 1 s.
fn round_seconds(value: f64) -> f64 {
    let step = if value < 1.0 {
        0.001
    } else if value < 10.0 {
        0.1
    } else {
        1.0
    };
    (value / step).round() * step
}

fn round_significant(value: f64, digits: i32) -> f64 {
    if value == 0.0 || !value.is_finite() {
        return value;
    }
    let scale = 10f64.powi(digits - 1 - value.abs().log10().floor() as i32);
    (value * scale).round() / scale
}

/// `250ms`, `5.3s`, `120s`.
pub fn duration_text(seconds: f64) -> String {
    if seconds < 1.0 {
        let millis = (seconds * 1000.0).round() as u64;
        return crate::duration::format(Duration::from_millis(millis));
    }
    format!("{}s", number_text(seconds))
}

/// A number without trailing zeros: `5.3`, `120`, `0.25`.
pub fn number_text(value: f64) -> String {
    let text = format!("{value:.6}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text.is_empty() || text == "-" {
        "0".to_string()
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duration_ranges_are_log_scaled_and_rounded_like_people_write_them() {
        let param = Param::parse("breaker.trip_duration=5s..120s").unwrap();
        assert_eq!(param.decode(0.0), "5s");
        assert_eq!(param.decode(1.0), "120s");
        // The geometric middle of 5 s and 120 s is 24.5 s.
        assert_eq!(param.decode(0.5), "24s");
        assert_eq!(param.decode(0.1), "6.9s");
        assert!((param.encode("24.49s") - 0.5).abs() < 1e-3);
        assert_eq!(param.decode(param.encode("37s")), "37s");
        assert_eq!(param.domain_text(), "5s..120s (log scale)");
        let short = Param::parse("x=100ms..900ms:linear").unwrap();
        assert_eq!(short.decode(0.5), "500ms");
    }

    #[test]
    fn integers_take_every_level_equally_and_choices_are_unordered() {
        let count = Param::parse("retry.count=0..10").unwrap();
        assert_eq!(count.decode(0.0), "0");
        assert_eq!(count.decode(0.999), "10");
        assert_eq!(count.decode(1.0), "10");
        assert_eq!(count.decode(count.encode("4")), "4");
        assert_eq!(count.level_width(), Some(1.0 / 11.0));
        let choice = Param::parse("breaker.accept_retry_after=true|false").unwrap();
        assert!(!choice.is_ordered());
        assert_eq!(choice.decode(0.2), "true");
        assert_eq!(choice.decode(0.7), "false");
        let number = Param::parse("selector.buffer=0.01..1:log").unwrap();
        assert_eq!(number.decode(0.5), "0.1");
    }

    #[test]
    fn bad_specs_are_refused_with_the_reason() {
        for text in [
            "breaker.trip_duration",
            "x=120s..5s",
            "x=0s..10s",
            "x=a",
            "x=1..2:cubic",
            "x=1..x",
            "=1..2",
        ] {
            let error = Param::parse(text).unwrap_err();
            assert!(error.to_string().contains("--param"), "{text}: {error}");
        }
    }
}
