//! Durations as people write them in scenario and fleet files.
//!
//! Accepts the human form (`250ms`, `1.5s`, `10s`, `2m`, `1h`, `1h30m`, `0`) and the ISO-8601 form
//! APIM uses (`PT1M`, `PT30S`, `PT1H30M`, `PT0.5S`, `P1D`). Serde helpers let config structs
//! write `#[serde(with = "aoai_mock::duration::serde_human")]`. Output (serialisation) is always
//! the human form with the largest exact unit (`60s` → `1m`, `1500ms` stays `1500ms`).

use std::time::Duration;

/// Why a duration string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: {reason} (write e.g. 250ms, 10s, 2m, 1h or ISO-8601 PT1M)")]
pub struct DurationError {
    pub input: String,
    pub reason: &'static str,
}

/// Parse a human or ISO-8601 duration.
pub fn parse(input: &str) -> Result<Duration, DurationError> {
    let text = input.trim();
    let fail = |reason| DurationError {
        input: input.to_string(),
        reason,
    };
    if text.is_empty() {
        return Err(fail("empty"));
    }
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    if let Some(iso) = text.strip_prefix('P').or_else(|| text.strip_prefix('p')) {
        return parse_iso(iso).map_err(fail);
    }
    parse_human(text).map_err(fail)
}

fn parse_human(text: &str) -> Result<Duration, &'static str> {
    let mut total = 0f64;
    let mut rest = text;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or("missing unit")?;
        if number_len == 0 {
            return Err("expected a number");
        }
        let value: f64 = rest[..number_len].parse().map_err(|_| "bad number")?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds_per_unit = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" | "sec" | "secs" => 1.0,
            "m" | "min" | "mins" => 60.0,
            "h" | "hr" | "hrs" => 3600.0,
            "d" => 86_400.0,
            _ => return Err("unknown unit"),
        };
        total += value * seconds_per_unit;
        rest = &rest[unit_len..];
    }
    to_duration(total)
}

fn parse_iso(text: &str) -> Result<Duration, &'static str> {
    let mut total = 0f64;
    let mut in_time = false;
    let mut number = String::new();
    let mut any = false;
    for c in text.chars() {
        match c.to_ascii_uppercase() {
            'T' if !in_time && number.is_empty() => in_time = true,
            d if d.is_ascii_digit() || d == '.' || d == ',' => {
                number.push(if d == ',' { '.' } else { d })
            }
            unit => {
                let value: f64 = number
                    .parse()
                    .map_err(|_| "bad number in ISO-8601 duration")?;
                number.clear();
                total += value
                    * match (in_time, unit) {
                        (false, 'W') => 604_800.0,
                        (false, 'D') => 86_400.0,
                        (true, 'H') => 3600.0,
                        (true, 'M') => 60.0,
                        (true, 'S') => 1.0,
                        _ => {
                            return Err(
                                "unsupported ISO-8601 designator (years and months have no fixed length)",
                            );
                        }
                    };
                any = true;
            }
        }
    }
    if !number.is_empty() || !any {
        return Err("incomplete ISO-8601 duration");
    }
    to_duration(total)
}

fn to_duration(seconds: f64) -> Result<Duration, &'static str> {
    if !seconds.is_finite() || !(0.0..=1e12).contains(&seconds) {
        return Err("out of range");
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// The human form with the largest exact unit: `1h`, `2m`, `10s`, `250ms`, `1500us`.
pub fn format(duration: Duration) -> String {
    let nanos = duration.as_nanos();
    if nanos == 0 {
        return "0s".to_string();
    }
    for (unit, size) in [
        ("h", 3_600_000_000_000u128),
        ("m", 60_000_000_000),
        ("s", 1_000_000_000),
        ("ms", 1_000_000),
        ("us", 1_000),
    ] {
        if nanos % size == 0 {
            return format!("{}{unit}", nanos / size);
        }
    }
    format!("{nanos}ns")
}

/// `#[serde(with = "aoai_mock::duration::serde_human")]` for `Duration` fields.
pub mod serde_human {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&super::format(*value))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(deserializer)?;
        super::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// `#[serde(default, with = "aoai_mock::duration::serde_human_opt")]` for `Option<Duration>`.
pub mod serde_human_opt {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(
        value: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(duration) => serializer.serialize_str(&super::format(*duration)),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        Option::<String>::deserialize(deserializer)?
            .map(|text| super::parse(&text).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_forms() {
        assert_eq!(parse("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse("0").unwrap(), Duration::ZERO);
    }

    #[test]
    fn iso_forms_as_apim_writes_them() {
        assert_eq!(parse("PT1M").unwrap(), Duration::from_secs(60));
        assert_eq!(parse("PT30S").unwrap(), Duration::from_secs(30));
        assert_eq!(parse("PT1H30M").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse("PT0.5S").unwrap(), Duration::from_millis(500));
        assert_eq!(parse("P1D").unwrap(), Duration::from_secs(86_400));
        assert_eq!(parse("P1DT1H").unwrap(), Duration::from_secs(90_000));
    }

    #[test]
    fn refusals_name_the_input() {
        for bad in ["", "10", "10x", "s", "PT", "P1M", "PT1", "-5s"] {
            let error = parse(bad).unwrap_err();
            assert_eq!(error.input, bad);
            assert!(error.to_string().contains("invalid duration"), "{error}");
        }
    }

    #[test]
    fn format_round_trips() {
        for text in ["1h", "2m", "10s", "250ms", "1500us", "0s"] {
            assert_eq!(format(parse(text).unwrap()), text);
        }
        assert_eq!(format(Duration::from_secs(90)), "90s");
    }
}
