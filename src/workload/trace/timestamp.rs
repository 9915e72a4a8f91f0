//! Parsing trace timestamps to nanoseconds since the Unix epoch (UTC), without a date-time
//! dependency: `YYYY-MM-DD HH:MM:SS[.fraction][Z|±HH:MM|±HHMM]` (a `T` separator is accepted;
//! any number of fractional digits, beyond nine truncated) and plain seconds (`12.5`).

/// Nanoseconds since 1970-01-01T00:00:00Z of a date-time, or why it was refused.
pub fn parse_datetime_ns(text: &str) -> Result<i64, &'static str> {
    const FORM: &str = "expected YYYY-MM-DD HH:MM:SS[.fraction][+HH:MM]";
    let text = text.trim();
    let bytes = text.as_bytes();
    if bytes.len() < 19
        || bytes[4] != b'-'
        || bytes[7] != b'-'
        || bytes[13] != b':'
        || bytes[16] != b':'
    {
        return Err(FORM);
    }
    if !matches!(bytes[10], b' ' | b'T' | b't') {
        return Err(FORM);
    }
    let year = digits(&text[0..4]).ok_or(FORM)?;
    let month = digits(&text[5..7]).ok_or(FORM)?;
    let day = digits(&text[8..10]).ok_or(FORM)?;
    let hour = digits(&text[11..13]).ok_or(FORM)?;
    let minute = digits(&text[14..16]).ok_or(FORM)?;
    let second = digits(&text[17..19]).ok_or(FORM)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err("no such date");
    }
    if hour > 23 || minute > 59 || second > 60 {
        return Err("no such time of day");
    }
    let mut rest = &text[19..];
    let mut fraction_ns = 0i64;
    if let Some(after_dot) = rest.strip_prefix('.') {
        let len = after_dot
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(after_dot.len());
        if len == 0 {
            return Err("expected digits after the decimal point");
        }
        let kept = &after_dot[..len.min(9)];
        let value = digits(kept).ok_or(FORM)?;
        fraction_ns = value * 10i64.pow(9 - kept.len() as u32);
        rest = &after_dot[len..];
    }
    let offset_seconds = parse_utc_offset(rest)?;
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    Ok(seconds * 1_000_000_000 + fraction_ns)
}

/// Nanoseconds of a plain seconds value (`12`, `12.5`, `1e3`), or why it was refused.
pub fn parse_seconds_ns(text: &str) -> Result<i64, &'static str> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| "expected a number of seconds")?;
    if !value.is_finite() || value.abs() > 9.0e9 {
        return Err("expected a finite number of seconds (|x| < 9e9)");
    }
    Ok((value * 1e9).round() as i64)
}

fn parse_utc_offset(text: &str) -> Result<i64, &'static str> {
    const FORM: &str = "expected a UTC offset like Z, +00:00 or -0530 after the time";
    let text = text.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("z") {
        return Ok(0);
    }
    let sign = match text.as_bytes()[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return Err(FORM),
    };
    let body = &text[1..];
    let (hours, minutes) = match body.len() {
        5 if body.as_bytes()[2] == b':' => (&body[0..2], &body[3..5]),
        4 => (&body[0..2], &body[2..4]),
        2 => (&body[0..2], "00"),
        _ => return Err(FORM),
    };
    let (hours, minutes) = (digits(hours).ok_or(FORM)?, digits(minutes).ok_or(FORM)?);
    if hours > 23 || minutes > 59 {
        return Err(FORM);
    }
    Ok(sign * (hours * 3600 + minutes * 60))
}

fn digits(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn azure_2023_and_2024_forms() {
        // 2023-11-16T18:15:46Z = 1_700_158_546 s since the epoch.
        assert_eq!(
            parse_datetime_ns("2023-11-16 18:15:46.6805900"),
            Ok(1_700_158_546_680_590_000)
        );
        assert_eq!(
            parse_datetime_ns("2024-05-10 00:00:00.009930+00:00"),
            Ok(1_715_299_200_009_930_000)
        );
        assert_eq!(
            parse_datetime_ns("2024-05-10 00:00:01+00:00"),
            Ok(1_715_299_201_000_000_000)
        );
        assert_eq!(
            parse_datetime_ns("2024-05-10T02:00:01+02:00"),
            Ok(1_715_299_201_000_000_000)
        );
        assert_eq!(parse_datetime_ns("1970-01-01 00:00:00Z"), Ok(0));
        assert_eq!(
            parse_datetime_ns("2024-02-29 00:00:00"),
            Ok(1_709_164_800_000_000_000)
        );
    }

    #[test]
    fn refuses_malformed_dates() {
        for bad in [
            "2023-11-16",
            "2023-13-01 00:00:00",
            "2023-02-29 00:00:00",
            "2023-11-16 18:15:46.",
            "2023-11-16 18:15:46 UTC",
            "not a date at all!!",
        ] {
            assert!(parse_datetime_ns(bad).is_err(), "{bad} should be refused");
        }
        assert!(parse_seconds_ns("abc").is_err());
        assert_eq!(parse_seconds_ns("1.5"), Ok(1_500_000_000));
    }
}
