//! Named switches for AOAI behaviours that changed over time or that no source pins down
//! (reference aoai-wire.md §12). Fleet-wide defaults, overridable per deployment.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What `x-ratelimit-limit-requests` / `-remaining-requests` count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LimitRequestsHeaderMode {
    /// Requests per 10 s window (RPM/6), as observed 2024 to 2025-03.
    #[serde(rename = "per_10s")]
    PerTenSeconds,
    /// Requests per minute, as documented and observed from 2025-07.
    #[serde(rename = "per_minute")]
    PerMinute,
}

/// The sliding window of the request limiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RequestWindow {
    /// RPM/6 requests per sliding 10 s (observed).
    #[serde(rename = "10s")]
    TenSeconds,
    /// RPM/60 requests per sliding 1 s (documented alternative).
    #[serde(rename = "1s")]
    OneSecond,
}

/// Wording of the standard 429 message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RateLimitMessage {
    /// "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version … (2023–2025).
    Classic,
    /// "Your requests to {model} for {model} in {region} have exceeded …" (2025-12).
    NamedModel,
}

/// How streamed content is cut into SSE events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BurstShape {
    /// One content event per token.
    PerToken,
    /// Tokens merged into events of `burst_tokens` (AOAI's buffered content filter).
    Merged,
}

/// How streamed content is filtered (reference §7, *Content streaming*).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamFilterMode {
    /// Default: content filtered in buffers; every content event carries `content_filter_results`.
    Buffered,
    /// Asynchronous filter: token by token, no per-event filter results, `"usage":null`, and
    /// annotation events with `content_filter_offsets` every ~1,000 characters and after the finish.
    Async,
}

/// What an aborted (client-disconnected) request is charged at completion (PTU correction and billing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AbortedAccounting {
    /// Charge the tokens actually generated before the disconnect.
    ChargeGenerated,
    /// Keep the admission estimate (no correction).
    ChargeEstimate,
}

/// What `x-ms-client-request-id` says when the client sent none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientRequestIdFallback {
    /// `Not-Set` (2026 captures).
    NotSet,
    /// The `apim-request-id` value (2025 captures).
    ApimId,
}

/// The effective switch set of one deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Switches {
    /// Meaning of `x-ratelimit-limit-requests` (default `per_10s`).
    pub limit_requests_header_mode: LimitRequestsHeaderMode,
    /// Send `x-ratelimit-limit-*` (default true; false = 2024 behaviour).
    pub emit_limit_headers: bool,
    /// Send `x-ratelimit-reset-requests` / `-tokens` in seconds (default false).
    pub emit_reset_headers: bool,
    /// Send `retry-after` / `retry-after-ms` on 429s (default true; false = 2023 behaviour).
    pub emit_retry_after: bool,
    /// Request limiter window (default `10s`).
    pub request_window: RequestWindow,
    /// Throttled requests still take a slot of the request window (default false, as observed).
    pub rejected_count_toward_rpm: bool,
    /// `n`/`best_of` multiply the completion part of the estimate (default true).
    pub n_multiplies_estimate: bool,
    /// Wording of standard 429 messages (default `classic`).
    pub rate_limit_message: RateLimitMessage,
    /// PTU utilization horizon: the bucket holds `drain rate × horizon` at 100% (default 60s).
    #[serde(with = "crate::duration::serde_human")]
    pub ptu_horizon: Duration,
    /// Extra utilization (percent) admitted above 100% before PTU 429s (default 0).
    pub ptu_overshoot_pct: f64,
    /// Send the utilization header on PTU 429s and streams too (default true).
    pub ptu_util_header_on_429_and_stream: bool,
    /// Statuses of the PTU deployment that trigger spillover; empty = any non-2xx (default, as documented).
    pub spillover_trigger_codes: Vec<u16>,
    /// Send `x-ms-spillover-from-deployment` / `x-ms-spillover-error` on spilled responses (default true).
    pub spillover_headers: bool,
    /// Streamed content events: `per_token` (default) or `merged`.
    pub burst_shape: BurstShape,
    /// Tokens per event in `merged` mode (default 8).
    pub burst_tokens: u32,
    /// Content filter mode of streams (default `buffered`; `async` streams token by token).
    pub stream_filter_mode: StreamFilterMode,
    /// Refuse `stream_options.include_usage` below api-version 2024-09-01-preview with a 400 (default false).
    pub include_usage_strict: bool,
    /// Refuse request arguments the API version does not accept with AOAI's 400 "Unrecognized
    /// request argument supplied: …" (default false: any argument is ignored).
    pub strict_arguments: bool,
    /// Accounting of client-aborted requests (default `charge_generated`).
    pub aborted_stream_accounting: AbortedAccounting,
    /// `x-ms-client-request-id` when the client sent none (default `not_set`).
    pub client_request_id_fallback: ClientRequestIdFallback,
}

impl Default for Switches {
    fn default() -> Self {
        Switches {
            limit_requests_header_mode: LimitRequestsHeaderMode::PerTenSeconds,
            emit_limit_headers: true,
            emit_reset_headers: false,
            emit_retry_after: true,
            request_window: RequestWindow::TenSeconds,
            rejected_count_toward_rpm: false,
            n_multiplies_estimate: true,
            rate_limit_message: RateLimitMessage::Classic,
            ptu_horizon: Duration::from_secs(60),
            ptu_overshoot_pct: 0.0,
            ptu_util_header_on_429_and_stream: true,
            spillover_trigger_codes: Vec::new(),
            spillover_headers: true,
            burst_shape: BurstShape::PerToken,
            burst_tokens: 8,
            stream_filter_mode: StreamFilterMode::Buffered,
            include_usage_strict: false,
            strict_arguments: false,
            aborted_stream_accounting: AbortedAccounting::ChargeGenerated,
            client_request_id_fallback: ClientRequestIdFallback::NotSet,
        }
    }
}

/// Per-deployment overrides of [`Switches`]: every field optional, absent = fleet value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SwitchOverrides {
    /// Overrides [`Switches::limit_requests_header_mode`].
    pub limit_requests_header_mode: Option<LimitRequestsHeaderMode>,
    /// Overrides [`Switches::emit_limit_headers`].
    pub emit_limit_headers: Option<bool>,
    /// Overrides [`Switches::emit_reset_headers`].
    pub emit_reset_headers: Option<bool>,
    /// Overrides [`Switches::emit_retry_after`].
    pub emit_retry_after: Option<bool>,
    /// Overrides [`Switches::request_window`].
    pub request_window: Option<RequestWindow>,
    /// Overrides [`Switches::rejected_count_toward_rpm`].
    pub rejected_count_toward_rpm: Option<bool>,
    /// Overrides [`Switches::n_multiplies_estimate`].
    pub n_multiplies_estimate: Option<bool>,
    /// Overrides [`Switches::rate_limit_message`].
    pub rate_limit_message: Option<RateLimitMessage>,
    #[serde(
        with = "crate::duration::serde_human_opt",
        skip_serializing_if = "Option::is_none"
    )]
    /// Overrides [`Switches::ptu_horizon`].
    pub ptu_horizon: Option<Duration>,
    /// Overrides [`Switches::ptu_overshoot_pct`].
    pub ptu_overshoot_pct: Option<f64>,
    /// Overrides [`Switches::ptu_util_header_on_429_and_stream`].
    pub ptu_util_header_on_429_and_stream: Option<bool>,
    /// Overrides [`Switches::spillover_trigger_codes`].
    pub spillover_trigger_codes: Option<Vec<u16>>,
    /// Overrides [`Switches::spillover_headers`].
    pub spillover_headers: Option<bool>,
    /// Overrides [`Switches::burst_shape`].
    pub burst_shape: Option<BurstShape>,
    /// Overrides [`Switches::burst_tokens`].
    pub burst_tokens: Option<u32>,
    /// Overrides [`Switches::stream_filter_mode`].
    pub stream_filter_mode: Option<StreamFilterMode>,
    /// Overrides [`Switches::include_usage_strict`].
    pub include_usage_strict: Option<bool>,
    /// Overrides [`Switches::strict_arguments`].
    pub strict_arguments: Option<bool>,
    /// Overrides [`Switches::aborted_stream_accounting`].
    pub aborted_stream_accounting: Option<AbortedAccounting>,
    /// Overrides [`Switches::client_request_id_fallback`].
    pub client_request_id_fallback: Option<ClientRequestIdFallback>,
}

impl Switches {
    /// These switches with `overrides` applied on top.
    pub fn with(&self, overrides: &SwitchOverrides) -> Switches {
        let base = self.clone();
        macro_rules! pick {
            ($($field:ident),* $(,)?) => {
                Switches { $($field: overrides.$field.clone().unwrap_or(base.$field),)* }
            };
        }
        pick!(
            limit_requests_header_mode,
            emit_limit_headers,
            emit_reset_headers,
            emit_retry_after,
            request_window,
            rejected_count_toward_rpm,
            n_multiplies_estimate,
            rate_limit_message,
            ptu_horizon,
            ptu_overshoot_pct,
            ptu_util_header_on_429_and_stream,
            spillover_trigger_codes,
            spillover_headers,
            burst_shape,
            burst_tokens,
            stream_filter_mode,
            include_usage_strict,
            strict_arguments,
            aborted_stream_accounting,
            client_request_id_fallback,
        )
    }

    /// Cross-field rules, with `path` the key path of this table.
    pub fn validate(&self, path: &str) -> Result<(), super::ConfigError> {
        if !(0.0..=100.0).contains(&self.ptu_overshoot_pct) {
            return Err(super::ConfigError::invalid(
                format!("{path}ptu_overshoot_pct"),
                self.ptu_overshoot_pct,
                "must be between 0 and 100 (percent above 100% utilization)",
            ));
        }
        if self.ptu_horizon < Duration::from_secs(1) {
            return Err(super::ConfigError::invalid(
                format!("{path}ptu_horizon"),
                crate::duration::format(self.ptu_horizon),
                "must be at least 1s",
            ));
        }
        if self.burst_tokens == 0 {
            return Err(super::ConfigError::invalid(
                format!("{path}burst_tokens"),
                self.burst_tokens,
                "must be at least 1",
            ));
        }
        Ok(())
    }
}
