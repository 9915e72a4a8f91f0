//! The operations endpoints behind the admin listener ([`super::admin_listener`]): `GET
//! /metrics` (Prometheus text, per deployment) and `GET`/`PATCH /admin/config` to read the
//! fleet — its API keys redacted — and change a deployment's quota, latency, faults or
//! switches without a restart.
//!
//! Every series is labelled with its `resource`, so a view of one resource (what a per-resource
//! listener would report) is [`render`] given that resource's deployments and listener alone.

use super::errors;
use super::mock_body::MockBody;
use super::state::{Listener, Shared};
use crate::config::FleetConfig;
use crate::model::{
    ConfigPatch, DeploymentCounters, FleetMetrics, LATENCY_BUCKETS, LatencyHistogram,
};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use std::fmt::Write;
use std::sync::atomic::Ordering;

/// A whole response of `content_type`.
pub fn text(status: StatusCode, content_type: &'static str, body: String) -> Response<MockBody> {
    let mut response = Response::new(MockBody::full(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// `GET /metrics`.
pub fn metrics(shared: &Shared) -> Response<MockBody> {
    let now = shared.clock.now();
    let snapshot = shared.core().fleet.metrics(now);
    text(
        StatusCode::OK,
        "text/plain; version=0.0.4",
        render(&snapshot, &shared.listeners),
    )
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Prometheus text exposition of a snapshot plus the shell's own refusal counters.
pub fn render(m: &FleetMetrics, listeners: &[Listener]) -> String {
    let mut out = String::with_capacity(4096);
    let labels: Vec<String> = m
        .deployments
        .iter()
        .map(|d| {
            format!(
                r#"resource="{}",deployment="{}""#,
                escape(&d.resource),
                escape(&d.deployment)
            )
        })
        .collect();
    let mut family =
        |name: &str, kind: &str, help: &str, rows: &mut dyn Iterator<Item = (String, String)>| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (labels, value) in rows {
                let _ = writeln!(out, "{name}{{{labels}}} {value}");
            }
        };
    macro_rules! per_deployment {
        ($name:expr, $kind:expr, $help:expr, |$c:ident| $value:expr) => {
            family(
                $name,
                $kind,
                $help,
                &mut m.deployments.iter().zip(&labels).map(|(d, l)| {
                    let $c = &d.counters;
                    (l.clone(), $value.to_string())
                }),
            )
        };
    }
    per_deployment!(
        "aoai_mock_requests_total",
        "counter",
        "Requests answered by the deployment (including spilled-in).",
        |c| c.requests
    );
    per_deployment!(
        "aoai_mock_admitted_total",
        "counter",
        "Requests admitted (a response plan was made).",
        |c| c.admitted
    );
    family(
        "aoai_mock_throttled_total",
        "counter",
        "429s by reason: tokens, requests (standard windows), utilization (PTU), capacity (fault).",
        &mut m.deployments.iter().zip(&labels).flat_map(|(d, l)| {
            let c = &d.counters;
            [
                ("tokens", c.throttled_tokens),
                ("requests", c.throttled_requests),
                ("utilization", c.throttled_utilization),
                ("capacity", c.throttled_capacity),
            ]
            .into_iter()
            .map(move |(reason, v)| (format!(r#"{l},reason="{reason}""#), v.to_string()))
        }),
    );
    per_deployment!(
        "aoai_mock_fault_errors_total",
        "counter",
        "5xx answered by the fault timeline.",
        |c| c.fault_errors
    );
    per_deployment!(
        "aoai_mock_bad_requests_total",
        "counter",
        "400s decided by the model (context length, operation).",
        |c| c.bad_requests
    );
    per_deployment!(
        "aoai_mock_disrupted_total",
        "counter",
        "Admitted responses planned to reset or hang.",
        |c| c.disrupted
    );
    per_deployment!(
        "aoai_mock_completed_total",
        "counter",
        "Admitted requests that ran to the end.",
        |c| c.completed
    );
    per_deployment!(
        "aoai_mock_aborted_total",
        "counter",
        "Admitted requests cut short (client gone, reset, hang).",
        |c| c.aborted
    );
    per_deployment!(
        "aoai_mock_tokens_estimated_total",
        "counter",
        "Admission estimates charged.",
        |c| c.tokens_estimated
    );
    per_deployment!(
        "aoai_mock_tokens_billed_total",
        "counter",
        "Prompt + completion tokens billed at settlement.",
        |c| c.tokens_billed
    );
    family(
        "aoai_mock_spillover_total",
        "counter",
        "Requests spilled from a PTU deployment (direction=out) or received by spillover (direction=in).",
        &mut m.deployments.iter().zip(&labels).flat_map(|(d, l)| {
            [
                ("out", d.counters.spilled_out),
                ("in", d.counters.spilled_in),
            ]
            .into_iter()
            .map(move |(dir, v)| (format!(r#"{l},direction="{dir}""#), v.to_string()))
        }),
    );
    family(
        "aoai_mock_client_requests_total",
        "counter",
        "Requests by x-stainless-retry-count: attempt=new (absent or 0) or attempt=retry.",
        &mut m.deployments.iter().zip(&labels).flat_map(|(d, l)| {
            [
                ("new", d.counters.client_new),
                ("retry", d.counters.client_retries),
            ]
            .into_iter()
            .map(move |(a, v)| (format!(r#"{l},attempt="{a}""#), v.to_string()))
        }),
    );
    per_deployment!(
        "aoai_mock_in_flight",
        "gauge",
        "Admitted and not yet settled.",
        |c| c.in_flight
    );
    per_deployment!(
        "aoai_mock_queue_wait_seconds_sum",
        "counter",
        "Sum of service-slot waits of admitted requests.",
        |c| c.queue_wait_seconds_sum
    );
    family(
        "aoai_mock_utilization_ratio",
        "gauge",
        "PTU utilization (1 = 100%).",
        &mut m
            .deployments
            .iter()
            .zip(&labels)
            .filter_map(|(d, l)| d.utilization.map(|u| (l.clone(), format!("{u:.6}")))),
    );
    family(
        "aoai_mock_deployment_not_found_total",
        "counter",
        "Requests naming a deployment the resource does not have.",
        &mut m
            .not_found
            .iter()
            .map(|(r, n)| (format!(r#"resource="{}""#, escape(r)), n.to_string())),
    );
    family(
        "aoai_mock_shell_refusals_total",
        "counter",
        "Refusals before the model: status=401, 400 (body), 404 (path), 405, 408 (body too slow), 413, 503 (body budget full).",
        &mut listeners.iter().flat_map(|l| {
            let c = &l.counters;
            [
                ("401", c.unauthorized.load(Ordering::Relaxed)),
                ("400", c.bad_bodies.load(Ordering::Relaxed)),
                ("404", c.unknown_paths.load(Ordering::Relaxed)),
                ("405", c.wrong_methods.load(Ordering::Relaxed)),
                ("408", c.timed_out.load(Ordering::Relaxed)),
                ("413", c.too_large.load(Ordering::Relaxed)),
                ("503", c.over_budget.load(Ordering::Relaxed)),
            ]
            .into_iter()
            .map(move |(status, v)| {
                (
                    format!(r#"resource="{}",status="{status}""#, escape(&l.name)),
                    v.to_string(),
                )
            })
        }),
    );
    for (name, help, pick) in [
        (
            "aoai_mock_ttft_seconds",
            "Planned time to first token of admitted requests (queue wait included).",
            (|c| &c.ttft) as fn(&DeploymentCounters) -> &LatencyHistogram,
        ),
        (
            "aoai_mock_itl_seconds",
            "Planned inter-token latency of admitted chat/completions requests.",
            |c| &c.itl,
        ),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (d, l) in m.deployments.iter().zip(&labels) {
            let histogram = pick(&d.counters);
            let mut cumulative = 0;
            for (i, count) in histogram.counts.iter().enumerate() {
                cumulative += count;
                let bound = LATENCY_BUCKETS
                    .get(i)
                    .map_or_else(|| "+Inf".to_string(), |b| b.to_string());
                let _ = writeln!(out, r#"{name}_bucket{{{l},le="{bound}"}} {cumulative}"#);
            }
            let _ = writeln!(
                out,
                "{name}_sum{{{l}}} {}\n{name}_count{{{l}}} {cumulative}",
                histogram.sum
            );
        }
    }
    out
}

/// What API keys read as in `/admin/config`.
pub const REDACTED: &str = "<redacted>";

/// The fleet as JSON with every API key replaced by [`REDACTED`] (their number stays).
fn redacted(config: &FleetConfig) -> String {
    let mut json = serde_json::to_value(config).unwrap_or_default();
    if let Some(resources) = json.get_mut("resources").and_then(|r| r.as_array_mut()) {
        for resource in resources {
            if let Some(keys) = resource.get_mut("api_keys").and_then(|k| k.as_array_mut()) {
                keys.fill(serde_json::Value::from(REDACTED));
            }
        }
    }
    serde_json::to_string_pretty(&json).unwrap_or_default()
}

/// `GET /admin/config`: the fleet as JSON, keys redacted. `PATCH /admin/config` with a
/// [`ConfigPatch`] JSON body (without `resource`, the only resource with a deployment of that
/// name): 200 with the fleet, or 400 naming the field.
pub async fn config(shared: &Shared, request: Request<Incoming>) -> Response<MockBody> {
    if request.method() == Method::GET {
        let json = redacted(shared.core().fleet.config());
        return text(StatusCode::OK, "application/json", json);
    }
    let bytes = match Limited::new(request.into_body(), 1 << 20).collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => {
            return text(
                StatusCode::PAYLOAD_TOO_LARGE,
                "application/json",
                errors::gateway("RequestEntityTooLarge", "patch body over 1 MiB"),
            );
        }
    };
    let patch: ConfigPatch = match serde_json::from_slice(&bytes) {
        Ok(patch) => patch,
        Err(error) => {
            return text(
                StatusCode::BAD_REQUEST,
                "application/json",
                errors::gateway("InvalidPatch", &error.to_string()),
            );
        }
    };
    let now = shared.clock.now();
    let mut core = shared.core();
    match core.fleet.apply(now, &patch) {
        Ok(()) => text(
            StatusCode::OK,
            "application/json",
            redacted(core.fleet.config()),
        ),
        Err(error) => text(
            StatusCode::BAD_REQUEST,
            "application/json",
            errors::gateway(
                "InvalidPatch",
                &error.located("PATCH /admin/config", "").to_string(),
            ),
        ),
    }
}
