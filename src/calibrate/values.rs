//! Parsing one log value: times in the forms Azure exports write them, numbers, statuses,
//! booleans, and backend names out of resource ids and URLs. Each parser returns why it
//! refused, for a message that also names the file, line and column.

use crate::workload::trace::timestamp::{parse_datetime_ns, parse_seconds_ns};

use super::format::TimeKind;

/// .NET ticks (100 ns since 0001-01-01) at the Unix epoch.
const TICKS_AT_EPOCH: i64 = 621_355_968_000_000_000;

/// A time as nanoseconds: ISO-8601 (`2024-05-10T08:00:00.1234567Z`, a space separator too),
/// Log Analytics' CSV form (`5/10/2024, 8:00:00.123 AM`), or seconds.
pub fn time_ns(text: &str, kind: TimeKind) -> Result<i64, String> {
    match kind {
        TimeKind::Seconds => parse_seconds_ns(text).map_err(str::to_string),
        TimeKind::Datetime if text.contains('/') => us_datetime_ns(text),
        TimeKind::Datetime => parse_datetime_ns(text).map_err(|reason| {
            format!("{reason} (or Log Analytics' M/D/YYYY, h:mm:ss.fff AM form)")
        }),
    }
}

/// `M/D/YYYY, h:mm:ss[.fff] AM|PM` (UTC), as the Log Analytics portal exports `TimeGenerated`.
fn us_datetime_ns(text: &str) -> Result<i64, String> {
    const FORM: &str = "expected M/D/YYYY, h:mm:ss[.fff] AM|PM";
    let (date, time) = text.split_once(',').ok_or(FORM)?;
    let parts: Vec<&str> = date.trim().split('/').collect();
    let [month, day, year] = parts.as_slice() else {
        return Err(FORM.to_string());
    };
    let (clock, meridiem) = time.trim().split_once(' ').ok_or(FORM)?;
    let (hms, fraction) = clock.split_once('.').unwrap_or((clock, ""));
    let hms: Vec<&str> = hms.split(':').collect();
    let [hour, minute, second] = hms.as_slice() else {
        return Err(FORM.to_string());
    };
    let hour: u32 = hour.parse().map_err(|_| FORM)?;
    let hour = match (meridiem.trim().to_ascii_uppercase().as_str(), hour) {
        ("AM", 12) => 0,
        ("AM", h @ 1..=11) => h,
        ("PM", 12) => 12,
        ("PM", h @ 1..=11) => h + 12,
        _ => return Err(FORM.to_string()),
    };
    let fraction = if fraction.is_empty() {
        String::new()
    } else {
        format!(".{fraction}")
    };
    let iso =
        format!("{year:0>4}-{month:0>2}-{day:0>2} {hour:02}:{minute:0>2}:{second:0>2}{fraction}Z");
    parse_datetime_ns(&iso).map_err(|reason| format!("{reason} ({FORM})"))
}

/// .NET ticks to nanoseconds since the epoch.
pub fn ticks_ns(text: &str) -> Result<i64, String> {
    let ticks: i64 = text
        .parse()
        .map_err(|_| "expected .NET ticks (a whole number)".to_string())?;
    ticks
        .checked_sub(TICKS_AT_EPOCH)
        .and_then(|since| since.checked_mul(100))
        .filter(|ns| *ns >= 0)
        .ok_or_else(|| "ticks before 1970 or out of range".to_string())
}

/// A non-negative number of `unit_s` seconds, as seconds.
pub fn seconds(text: &str, unit_s: f64) -> Result<f64, String> {
    let value: f64 = text.parse().map_err(|_| "expected a number".to_string())?;
    if !value.is_finite() || value < 0.0 {
        return Err("expected a duration ≥ 0".to_string());
    }
    Ok(value * unit_s)
}

/// A whole number of tokens (`12` or `12.0`).
pub fn tokens(text: &str) -> Result<u32, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| "expected a whole number of tokens".to_string())?;
    if value.fract() != 0.0 || !(0.0..=f64::from(u32::MAX)).contains(&value) {
        return Err("expected a whole number of tokens (0 to 4294967295)".to_string());
    }
    Ok(value as u32)
}

/// An HTTP status (`200`, `429`, `200.0`).
pub fn status(text: &str) -> Result<u16, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| "expected an HTTP status code".to_string())?;
    if value.fract() != 0.0 || !(100.0..=599.0).contains(&value) {
        return Err("expected an HTTP status code (100 to 599)".to_string());
    }
    Ok(value as u16)
}

/// Streamed: `true`/`false`, `1`/`0`, or AOAI's `Streaming`/`Non-Streaming`.
pub fn stream(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" | "streaming" | "yes" => Ok(true),
        "false" | "0" | "non-streaming" | "nonstreaming" | "no" => Ok(false),
        _ => Err("expected true/false, 1/0 or Streaming/Non-Streaming".to_string()),
    }
}

/// A backend's name: the last segment of a resource id, lower-cased (AzureDiagnostics writes
/// resource names in capitals).
pub fn backend_name(text: &str) -> String {
    text.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(text)
        .to_ascii_lowercase()
}

/// The backend a URL points at: the first label of its host
/// (`https://eastus-aoai.openai.azure.com/…` → `eastus-aoai`).
pub fn url_backend(url: &str) -> Option<String> {
    let host = url.split("://").nth(1)?.split(['/', ':', '?']).next()?;
    let label = host.split('.').next()?;
    (!label.is_empty()).then(|| label.to_ascii_lowercase())
}

/// The deployment an AOAI URL names (`…/openai/deployments/{name}/chat/completions`).
pub fn url_deployment(url: &str) -> Option<String> {
    let rest = url.split("/deployments/").nth(1)?;
    let name = rest.split(['/', '?']).next()?;
    (!name.is_empty()).then(|| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn azure_time_forms_agree() {
        let iso = time_ns("2024-05-10T20:01:02.5000000Z", TimeKind::Datetime).unwrap();
        assert_eq!(
            time_ns("5/10/2024, 8:01:02.500 PM", TimeKind::Datetime),
            Ok(iso)
        );
        assert_eq!(
            time_ns("5/10/2024, 12:00:00 AM", TimeKind::Datetime),
            time_ns("2024-05-10 00:00:00", TimeKind::Datetime)
        );
        // 2024-05-10T20:01:02.5Z in .NET ticks.
        assert_eq!(ticks_ns("638509680625000000"), Ok(iso));
        assert!(time_ns("yesterday", TimeKind::Datetime).is_err());
        assert!(time_ns("13/40/2024, 1:00:00 XM", TimeKind::Datetime).is_err());
        assert_eq!(time_ns("1.5", TimeKind::Seconds), Ok(1_500_000_000));
    }

    #[test]
    fn values_parse_or_say_why() {
        assert_eq!(seconds("1500", 1e-3), Ok(1.5));
        assert!(seconds("-3", 1e-3).is_err());
        assert_eq!(tokens("12.0"), Ok(12));
        assert!(tokens("1.5").is_err());
        assert_eq!(status("429"), Ok(429));
        assert!(status("Succeeded").is_err());
        assert_eq!(stream("Non-Streaming"), Ok(false));
        assert_eq!(stream("True"), Ok(true));
        assert_eq!(
            backend_name(
                "/SUBSCRIPTIONS/X/PROVIDERS/MICROSOFT.COGNITIVESERVICES/ACCOUNTS/AOAI-EAST"
            ),
            "aoai-east"
        );
        let url = "https://aoai-east.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=1";
        assert_eq!(url_backend(url).as_deref(), Some("aoai-east"));
        assert_eq!(url_deployment(url).as_deref(), Some("gpt-4o"));
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z` of nanoseconds since the epoch, with `digits` (0 to 9)
/// fractional digits (truncated), as Azure's JSON exports write times.
pub fn utc_iso(ns: i64, digits: u32) -> String {
    let seconds = ns.div_euclid(1_000_000_000);
    let fraction = ns.rem_euclid(1_000_000_000);
    let (days, clock) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    let mut text = format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        clock / 3600,
        clock % 3600 / 60,
        clock % 60
    );
    if digits > 0 {
        let digits = digits.min(9);
        let kept = fraction / 10i64.pow(9 - digits);
        text.push_str(&format!(".{kept:0width$}", width = digits as usize));
    }
    text.push('Z');
    text
}

/// Year, month, day of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod format_tests {
    use super::*;

    #[test]
    fn times_print_back_as_they_parse() {
        for text in [
            "2023-11-16T18:15:46.6805900Z",
            "2024-02-29T00:00:00.0000000Z",
            "1999-12-31T23:59:59.1234567Z",
        ] {
            let ns = time_ns(text, TimeKind::Datetime).unwrap();
            assert_eq!(utc_iso(ns, 7), text);
        }
        assert_eq!(utc_iso(0, 0), "1970-01-01T00:00:00Z");
    }
}
