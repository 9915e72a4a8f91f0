//! Fleet-level decisions in virtual time.

use super::*;
use crate::config::FleetConfig;
use crate::model::{
    Completion, DeploymentCounters, Disruption, FinishReason, LatencyHistogram, Operation, Outcome,
    Rejection, ThrottleReason,
};

fn fleet(toml: &str) -> Fleet {
    Fleet::new(&FleetConfig::from_toml_str(toml, "test.toml").expect("valid test fleet"))
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

const TWO_DEPLOYMENTS: &str = r#"
seed = 7
[[resources]]
name = "east"
region = "East US"
[[resources.deployments]]
name = "ptu"
model = "gpt-4o"
kind = "provisioned"
ptu = 1
model_overrides = { input_tpm_per_ptu = 6000.0, output_weight = 3.0 } # round numbers, whatever the table says
latency = { ttft_base = "100ms", ttft_jitter = 0.0, tokens_per_second = 100.0, tps_jitter = 0.0 }
completion_tokens = { dist = "constant", value = 50 }
[[resources.deployments]]
name = "payg"
model = "gpt-4o"
kind = "standard"
tpm = 10000
"#;

fn chat(max_tokens: u32) -> RequestShape<'static> {
    RequestShape {
        prompt_tokens: 100,
        prompt_chars: 400,
        max_tokens: Some(max_tokens),
        ..RequestShape::default()
    }
}

#[test]
fn unknown_deployment_is_a_404_and_counted() {
    let mut f = fleet(TWO_DEPLOYMENTS);
    let east = f.resource_index("east").unwrap();
    let answer = f.admit(secs(0.0), east, "nope", &chat(10));
    assert_eq!(
        (answer.status, answer.outcome),
        (404, Outcome::Rejected(Rejection::DeploymentNotFound))
    );
    assert_eq!(
        f.metrics(secs(0.0)).not_found,
        vec![("east".to_string(), 1)]
    );
}

#[test]
fn ptu_utilization_rises_with_a_burst_drains_and_is_corrected_at_completion() {
    // 1 PTU × 6,000 TPM: drains 100/s, 100% = 6,000. Each request: 100 + 3 × 1,000 = 3,100.
    let mut f = fleet(TWO_DEPLOYMENTS);
    let east = f.resource_index("east").unwrap();
    let first = f.admit(secs(0.0), east, "ptu", &chat(1000));
    assert_eq!(first.status, 200);
    assert!((first.headers.utilization.unwrap() - 3100.0 / 6000.0).abs() < 1e-9);
    assert!(
        first.headers.remaining_tokens.is_none(),
        "PTU sends no x-ratelimit-*"
    );
    let second = f.admit(secs(0.0), east, "ptu", &chat(1000));
    assert!((second.headers.utilization.unwrap() - 6200.0 / 6000.0).abs() < 1e-9);
    let third = f.admit(secs(0.0), east, "ptu", &chat(1000));
    assert_eq!(third.status, 429);
    // 200 above capacity at 100/s: 2 s (+1 ms).
    assert_eq!(
        third.outcome,
        Outcome::Rejected(Rejection::PtuSaturated {
            retry_after: Duration::from_millis(2001)
        })
    );
    // Completion corrects 3,000 estimated output to 3 × 50 actual: −2,850 each.
    let ticket = first.plan().unwrap().ticket;
    f.complete(
        secs(1.0),
        &ticket,
        Completion::Completed {
            completion_tokens: 50,
        },
    );
    let m = f.metrics(secs(1.0));
    let ptu = m.get("east", "ptu").unwrap();
    assert!((ptu.utilization.unwrap() - (6200.0 - 100.0 - 2850.0) / 6000.0).abs() < 1e-9);
    assert_eq!(
        (
            ptu.counters.in_flight,
            ptu.counters.completed,
            ptu.counters.tokens_billed
        ),
        (1, 1, 150)
    );
    assert!(
        (f.metrics(secs(40.0))
            .get("east", "ptu")
            .unwrap()
            .utilization
            .unwrap())
        .abs()
            < 1e-9,
        "fully drained"
    );
}

#[test]
fn ptu_refusal_spills_to_the_standard_deployment_named_by_the_header() {
    let mut f = fleet(TWO_DEPLOYMENTS);
    let east = f.resource_index("east").unwrap();
    f.admit(secs(0.0), east, "ptu", &chat(2000));
    let plain = f.admit(secs(0.0), east, "ptu", &chat(10));
    assert_eq!(plain.status, 429, "no spillover configured and no header");
    let with_header = RequestShape {
        spillover_header: Some("payg"),
        ..chat(10)
    };
    let spilled = f.admit(secs(0.0), east, "ptu", &with_header);
    let payg = f.deployment_index(east, "payg");
    assert_eq!((spilled.status, spilled.deployment), (200, payg));
    assert_eq!(
        spilled.spillover,
        Some(Spillover {
            from: f.deployment_index(east, "ptu").unwrap(),
            status: 429
        })
    );
    assert_eq!(
        spilled.headers.remaining_tokens,
        Some(10_000 - 100 - 10),
        "charged on the standard deployment"
    );
    let m = f.metrics(secs(0.0));
    assert_eq!(
        (
            m.get("east", "ptu").unwrap().counters.spilled_out,
            m.get("east", "payg").unwrap().counters.spilled_in
        ),
        (1, 1)
    );
}

#[test]
fn the_deployment_setting_wins_over_the_header_and_a_failing_target_answers() {
    let toml = TWO_DEPLOYMENTS.replace("ptu = 1\n", "ptu = 1\nspillover_deployment = \"payg\"\n")
        + "[[resources.deployments]]\nname = \"other\"\nmodel = \"gpt-4o\"\nkind = \"standard\"\ntpm = 1000\n";
    let mut f = fleet(&toml);
    let east = f.resource_index("east").unwrap();
    f.admit(secs(0.0), east, "ptu", &chat(2000));
    let req = RequestShape {
        spillover_header: Some("other"),
        ..chat(10)
    };
    let spilled = f.admit(secs(0.0), east, "ptu", &req);
    assert_eq!(spilled.deployment, f.deployment_index(east, "payg"));
    // The target's own refusal comes back, still marked as spilled.
    let huge = RequestShape {
        spillover_header: Some("other"),
        ..chat(20_000)
    };
    let refused = f.admit(secs(0.0), east, "ptu", &huge);
    assert_eq!(refused.status, 429);
    assert_eq!(refused.deployment, f.deployment_index(east, "payg"));
    assert!(matches!(
        refused.outcome,
        Outcome::Rejected(Rejection::RateLimited {
            reason: ThrottleReason::Tokens,
            ..
        })
    ));
    assert!(refused.spillover.is_some());
}

#[test]
fn standard_429_carries_retry_after_policy_and_remaining() {
    let mut f = fleet(TWO_DEPLOYMENTS);
    let east = f.resource_index("east").unwrap();
    for i in 0..5 {
        assert_eq!(
            f.admit(secs(f64::from(i)), east, "payg", &chat(1900))
                .status,
            200
        );
    }
    let refused = f.admit(secs(5.0), east, "payg", &chat(1900));
    assert_eq!(refused.status, 429);
    assert_eq!(refused.headers.retry_after, Some(secs(55.0)));
    assert_eq!(refused.headers.policy_id, Some("DeploymentRatelimit-Token"));
    assert_eq!(refused.headers.remaining_tokens, Some(10_000 - 5 * 2000));
}

#[test]
fn plans_follow_the_latency_model_and_cap_completions() {
    let mut f = fleet(TWO_DEPLOYMENTS);
    let east = f.resource_index("east").unwrap();
    let answer = f.admit(secs(0.0), east, "ptu", &chat(20));
    let plan = answer.plan().unwrap();
    assert_eq!(
        (plan.completion_tokens, plan.finish_reason),
        (20, FinishReason::Length),
        "50 drawn, capped at max_tokens"
    );
    assert_eq!(
        plan.ttft(),
        Duration::from_millis(100) + Duration::from_micros(20) * 100
    );
    assert_eq!(plan.total, plan.ttft() + Duration::from_millis(10) * 19);
    assert_eq!(
        plan.headers_at, plan.total,
        "non-stream headers go out at the end"
    );
    let forced = RequestShape {
        forced_completion_tokens: Some(5),
        stream: true,
        ..chat(20)
    };
    let plan = *f.admit(secs(0.0), east, "ptu", &forced).plan().unwrap();
    assert_eq!(
        (
            plan.completion_tokens,
            plan.finish_reason,
            plan.schedule.chunks()
        ),
        (5, FinishReason::Stop, 5)
    );
    assert_eq!(
        plan.headers_at,
        Duration::ZERO,
        "a stream's first event goes out at once"
    );
}

#[test]
fn context_window_overflow_is_a_400_with_the_numbers() {
    let toml = TWO_DEPLOYMENTS.replace(
        "tpm = 10000",
        "tpm = 10000\nmodel_overrides = { context_window = 4096 }",
    );
    let mut f = fleet(&toml);
    let east = f.resource_index("east").unwrap();
    let req = RequestShape {
        prompt_tokens: 3177,
        max_tokens: Some(1024),
        ..RequestShape::default()
    };
    let answer = f.admit(secs(0.0), east, "payg", &req);
    assert_eq!(
        answer.outcome,
        Outcome::Rejected(Rejection::ContextLengthExceeded {
            context_window: 4096,
            prompt_tokens: 3177,
            completion_tokens: Some(1024)
        })
    );
    let embeddings = RequestShape {
        operation: Operation::Embeddings,
        ..RequestShape::default()
    };
    assert_eq!(
        f.admit(secs(0.0), east, "payg", &embeddings).outcome,
        Outcome::Rejected(Rejection::OperationNotSupported)
    );
}

#[test]
fn a_deployments_draws_do_not_depend_on_traffic_to_another() {
    let run = |extra_traffic: bool| {
        let mut f = fleet(
            &TWO_DEPLOYMENTS
                .replace("tps_jitter = 0.0", "tps_jitter = 0.3")
                .replace("ttft_jitter = 0.0", "ttft_jitter = 0.3"),
        );
        let east = f.resource_index("east").unwrap();
        (0..20)
            .map(|i| {
                if extra_traffic {
                    f.admit(secs(f64::from(i)), east, "payg", &chat(10));
                }
                let plan = *f
                    .admit(secs(f64::from(i) * 100.0), east, "ptu", &chat(10))
                    .plan()
                    .unwrap();
                (plan.ttft(), plan.total)
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(run(false), run(true));
}

#[test]
fn service_slots_queue_and_the_wait_adds_to_ttft() {
    let toml = TWO_DEPLOYMENTS.replace("tpm = 10000", "tpm = 1000000\nservice = { concurrency = 1, service_time = { fixed = \"2s\" } }\ncompletion_tokens = { dist = \"constant\", value = 4 }");
    let mut f = fleet(&toml);
    let east = f.resource_index("east").unwrap();
    let plans: Vec<_> = (0..3)
        .map(|_| *f.admit(secs(0.0), east, "payg", &chat(100)).plan().unwrap())
        .collect();
    assert_eq!(
        plans.iter().map(|p| p.queue_wait).collect::<Vec<_>>(),
        [secs(0.0), secs(2.0), secs(4.0)]
    );
    // Service 2 s spread over 4 tokens: first token at 0.5 s after start, last at 2 s.
    assert_eq!(plans[2].ttft(), secs(4.5));
    assert_eq!(plans[2].total, secs(6.0));
}

#[test]
fn faults_on_the_timeline_reject_or_disrupt() {
    let toml = TWO_DEPLOYMENTS.replace(
        "tpm = 10000",
        "tpm = 10000\nfaults = [ { kind = \"outage\", from = \"10s\", until = \"20s\" }, { kind = \"hang\", from = \"30s\", delay = \"5s\" } ]",
    );
    let mut f = fleet(&toml);
    let east = f.resource_index("east").unwrap();
    assert_eq!(f.admit(secs(5.0), east, "payg", &chat(10)).status, 200);
    assert_eq!(f.admit(secs(15.0), east, "payg", &chat(10)).status, 503);
    let hung = f.admit(secs(35.0), east, "payg", &chat(10));
    assert_eq!(hung.plan().unwrap().disruption, Disruption::Hang(secs(5.0)));
    let m = f.metrics(secs(35.0));
    assert_eq!(
        (
            m.get("east", "payg").unwrap().counters.fault_errors,
            m.get("east", "payg").unwrap().counters.disrupted
        ),
        (1, 1)
    );
}

#[test]
fn a_patch_changes_the_quota_and_bad_patches_change_nothing() {
    let mut f = fleet(TWO_DEPLOYMENTS);
    let east = f.resource_index("east").unwrap();
    assert_eq!(f.admit(secs(0.0), east, "payg", &chat(9000)).status, 200);
    assert_eq!(f.admit(secs(0.0), east, "payg", &chat(9000)).status, 429);
    let patch = ConfigPatch {
        deployment: "payg".into(),
        tpm: Some(100_000),
        ..ConfigPatch::default()
    };
    f.apply(secs(1.0), &patch).unwrap();
    let answer = f.admit(secs(1.0), east, "payg", &chat(9000));
    assert_eq!(
        (answer.status, answer.headers.limit_tokens),
        (200, Some(100_000))
    );
    let bad = ConfigPatch {
        deployment: "payg".into(),
        tpm: Some(0),
        ..ConfigPatch::default()
    };
    assert!(f.apply(secs(1.0), &bad).is_err());
    assert_eq!(f.config().resources[0].deployments[1].tpm, Some(100_000));
    let missing = ConfigPatch {
        deployment: "nope".into(),
        ..ConfigPatch::default()
    };
    assert!(f.apply(secs(1.0), &missing).is_err());
}

#[test]
fn aborted_requests_are_charged_per_the_switch() {
    let estimate_toml = TWO_DEPLOYMENTS.replace(
        "kind = \"provisioned\"",
        "kind = \"provisioned\"\nswitches = { aborted_stream_accounting = \"charge_estimate\" }",
    );
    for (toml, expected_level) in [
        (TWO_DEPLOYMENTS.to_string(), 100.0 + 3.0 * 7.0),
        (estimate_toml, 3100.0),
    ] {
        let mut f = fleet(&toml);
        let east = f.resource_index("east").unwrap();
        let ticket = f
            .admit(secs(0.0), east, "ptu", &chat(1000))
            .plan()
            .unwrap()
            .ticket;
        f.complete(secs(0.0), &ticket, Completion::Aborted { tokens_sent: 7 });
        let m = f.metrics(secs(0.0));
        let ptu = m.get("east", "ptu").unwrap();
        assert!((ptu.utilization.unwrap() * 6000.0 - expected_level).abs() < 1e-6);
        assert_eq!(ptu.counters.aborted, 1);
    }
}

/// 400 requests alternating between a faulty PAYG and a PTU deployment, each settled at its
/// planned end: every answer (as text) and the final metrics.
fn replay(seed: u64, skip_latency_histograms: bool) -> (Vec<String>, FleetMetrics) {
    use crate::config::{DeploymentConfig, FaultEntry, FaultKind, ResourceConfig};
    let mut payg = DeploymentConfig::standard("payg", "gpt-4o", 20_000);
    payg.faults.push(FaultEntry {
        kind: FaultKind::ServerErrors,
        from: Duration::ZERO,
        until: None,
        rate: 0.1,
        status: None,
        delay: None,
        after_chunks: None,
        multiplier: None,
        factor: None,
    });
    let config = FleetConfig {
        seed,
        resources: vec![ResourceConfig::new(
            "east",
            "East US",
            vec![payg, DeploymentConfig::provisioned("ptu", "gpt-4o", 15)],
        )],
        ..FleetConfig::default()
    };
    config.validate().unwrap();
    let mut f = Fleet::new(&config);
    if skip_latency_histograms {
        f.skip_latency_histograms();
    }
    let east = f.resource_index("east").unwrap();
    let answers = (0..400)
        .map(|i| {
            let now = secs(f64::from(i) * 0.05);
            let name = if i % 3 == 0 { "ptu" } else { "payg" };
            let answer = f.admit(now, east, name, &chat(200));
            if let Some(plan) = answer.plan() {
                f.complete(
                    now + plan.total,
                    &plan.ticket,
                    Completion::Completed {
                        completion_tokens: plan.completion_tokens,
                    },
                );
            }
            format!("{answer:?}")
        })
        .collect();
    (answers, f.metrics(secs(20.0)))
}

#[test]
fn the_same_seed_and_calls_give_identical_answers() {
    assert_eq!(replay(11, false), replay(11, false));
    assert_ne!(replay(11, false).0, replay(12, false).0);
}

#[test]
fn skipping_the_latency_histograms_changes_no_answer_and_no_other_counter() {
    let (kept_answers, kept) = replay(11, false);
    let (skipped_answers, skipped) = replay(11, true);
    assert_eq!(kept_answers, skipped_answers);
    assert!(kept.deployments.iter().all(|d| d.counters.ttft.count() > 0));
    assert_eq!(kept.deployments.len(), skipped.deployments.len());
    for (kept, skipped) in kept.deployments.iter().zip(&skipped.deployments) {
        assert_eq!(skipped.counters.ttft, LatencyHistogram::default());
        assert_eq!(skipped.counters.itl, LatencyHistogram::default());
        assert_eq!(skipped.counters.queue_wait_seconds_sum, 0.0);
        let without_latency = |m: &DeploymentMetrics| DeploymentMetrics {
            counters: DeploymentCounters {
                ttft: LatencyHistogram::default(),
                itl: LatencyHistogram::default(),
                queue_wait_seconds_sum: 0.0,
                ..m.counters.clone()
            },
            ..m.clone()
        };
        assert_eq!(without_latency(kept), *skipped);
    }
}

#[test]
fn without_retry_after_headers_the_429_still_knows_its_wait() {
    let toml = TWO_DEPLOYMENTS.replace(
        "tpm = 10000",
        "tpm = 10000\nswitches = { emit_retry_after = false }",
    );
    let mut f = fleet(&toml);
    let east = f.resource_index("east").unwrap();
    f.admit(secs(0.0), east, "payg", &chat(9000));
    let refused = f.admit(secs(1.0), east, "payg", &chat(9000));
    assert_eq!(refused.headers.retry_after, None);
    assert_eq!(
        refused.outcome,
        Outcome::Rejected(Rejection::RateLimited {
            reason: ThrottleReason::Tokens,
            retry_after: secs(59.0)
        })
    );
}
