//! Command-line flags for the bounds on clients ([`LimitFlags`], shared by `aoai-mock`,
//! `throttlebox mock` and `throttlebox gateway`) and for the mock's admin listener
//! ([`AdminFlags`]), with the byte-size parser they use (`256MiB`).

use std::net::SocketAddr;
use std::time::Duration;

use super::admin_listener::AdminOptions;
use super::limits::{self, Limits};

/// `--header-timeout`, `--body-timeout`, `--body-budget`.
#[derive(Debug, Clone, clap::Args)]
pub struct LimitFlags {
    /// Longest wait for a request's head (request line and headers), idle keep-alive time
    /// included; then the connection is closed. Keep it above 30 s, the idle time of the
    /// HTTP clients here.
    #[arg(long, default_value = "60s", value_parser = positive_duration)]
    pub header_timeout: Duration,
    /// Longest wait for a whole request body; then 408 and the connection is closed.
    #[arg(long, default_value = "30s", value_parser = positive_duration)]
    pub body_timeout: Duration,
    /// Request-body bytes all connections may hold at once; a body beyond it is answered 503
    /// with `retry-after` (`B`, `KiB`, `MiB`, `GiB`).
    #[arg(long, default_value = "256MiB", value_parser = parse_bytes)]
    pub body_budget: u64,
}

impl LimitFlags {
    /// The limits these flags set.
    pub fn limits(&self) -> Limits {
        Limits {
            header_timeout: self.header_timeout,
            body_timeout: self.body_timeout,
            body_budget: self.body_budget,
        }
    }
}

impl Default for LimitFlags {
    fn default() -> Self {
        LimitFlags {
            header_timeout: limits::DEFAULT_HEADER_TIMEOUT,
            body_timeout: limits::DEFAULT_BODY_TIMEOUT,
            body_budget: limits::DEFAULT_BODY_BUDGET,
        }
    }
}

/// `--admin-listen`, `--admin-token`, `--no-admin`.
#[derive(Debug, Clone, clap::Args)]
pub struct AdminFlags {
    /// Address of the admin listener (`GET /metrics`, `GET`/`PATCH /admin/config`); port 0:
    /// any free port (printed). Beyond loopback only with a token.
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub admin_listen: SocketAddr,
    /// Bearer token the admin listener requires (`Authorization: Bearer TOKEN`).
    #[arg(long, env = "AOAI_MOCK_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Serve no admin listener (the other admin flags are then ignored).
    #[arg(long)]
    pub no_admin: bool,
}

impl AdminFlags {
    /// The admin listener these flags ask for (None: `--no-admin`).
    pub fn options(&self) -> Option<AdminOptions> {
        (!self.no_admin).then(|| AdminOptions {
            listen: self.admin_listen,
            token: self.admin_token.clone().filter(|token| !token.is_empty()),
        })
    }
}

/// A duration above zero (`30s`, `500ms`).
pub fn positive_duration(text: &str) -> Result<Duration, String> {
    let duration = crate::duration::parse(text).map_err(|error| error.to_string())?;
    if duration.is_zero() {
        return Err(format!("{text:?}: must be above zero"));
    }
    Ok(duration)
}

/// A byte count: digits with an optional unit `B`, `KiB`, `MiB` or `GiB` (`256MiB`), above
/// zero.
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let digits = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(digits);
    let scale: u64 = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        other => {
            return Err(format!(
                "{text:?}: unknown unit {other:?} (use B, KiB, MiB or GiB)"
            ));
        }
    };
    let value: u64 = number
        .parse()
        .map_err(|_| format!("{text:?}: expected a number of bytes such as 256MiB"))?;
    match value.checked_mul(scale) {
        Some(0) => Err(format!("{text:?}: must be above zero")),
        Some(bytes) => Ok(bytes),
        None => Err(format!("{text:?}: too large")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes_take_binary_units() {
        assert_eq!(parse_bytes("256MiB"), Ok(256 << 20));
        assert_eq!(parse_bytes("4 KiB"), Ok(4096));
        assert_eq!(parse_bytes("10"), Ok(10));
        assert_eq!(parse_bytes("1GiB"), Ok(1 << 30));
        assert!(parse_bytes("0").unwrap_err().contains("above zero"));
        assert!(parse_bytes("5MB").unwrap_err().contains("MB"));
        assert!(parse_bytes("MiB").is_err());
        assert!(parse_bytes("99999999999GiB").unwrap_err().contains("large"));
    }

    #[test]
    fn durations_must_be_positive() {
        assert_eq!(positive_duration("2s"), Ok(Duration::from_secs(2)));
        assert!(positive_duration("0s").is_err());
    }
}
