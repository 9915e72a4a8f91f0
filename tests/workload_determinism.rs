//! Common random numbers: the same seed gives the same sequence; adding an app or changing one
//! app's sizes does not move another app's draws; a different seed gives a different sequence;
//! the merged order is total (time, then app order).

use std::path::Path;

use throttlebox::workload::{Request, Workload, WorkloadConfig};

const CHAT: &str = r#"
[[apps]]
name = "chat"
deployment = "gpt-4o"
arrivals = { process = "poisson", rate = 20.0 }
prompt_tokens = { dist = "lognormal", median = 1000, sigma = 0.8, max = 8000 }
max_tokens = { dist = "uniform", min = 100, max = 900 }
output_tokens = { dist = "exponential", mean = 200 }
stream_share = 0.5
priority = 1
sessions = 100
"#;

const BATCH: &str = r#"
[[apps]]
name = "batch"
deployment = "gpt-4o-mini"
arrivals = { process = "gamma", rate = 5.0, burstiness = 0.5 }
prompt_tokens = { dist = "normal", mean = 3000, std = 500 }
output_tokens = { dist = "constant", value = 50 }
sessions = 10
session_pick = { dist = "zipf", s = 1.2 }
"#;

fn requests(apps: &[&str], seed: u64) -> (Workload, Vec<Request>) {
    let text = format!("duration = \"5m\"\n{}", apps.concat());
    let cfg: WorkloadConfig = toml::from_str(&text).expect("config parses");
    let workload = Workload::new(&cfg, Path::new("."), seed).expect("valid");
    let all = workload.requests().map(|r| r.expect("synthetic")).collect();
    (workload, all)
}

/// A request without its position in the merged sequence.
fn content(r: &Request) -> Request {
    Request { id: 0, ..*r }
}

#[test]
fn same_seed_gives_the_identical_sequence_every_time() {
    let (workload, first) = requests(&[CHAT, BATCH], 42);
    let (_, second) = requests(&[CHAT, BATCH], 42);
    assert_eq!(first, second);
    // And replaying the same Workload gives it again.
    let again: Vec<Request> = workload.requests().map(|r| r.expect("synthetic")).collect();
    assert_eq!(first, again);
    assert!(first.len() > 5_000);
}

#[test]
fn adding_an_app_does_not_move_the_first_apps_requests() {
    let (_, alone) = requests(&[CHAT], 42);
    let (_, mixed) = requests(&[CHAT, BATCH], 42);
    let chat_in_mix: Vec<Request> = mixed.iter().filter(|r| r.app == 0).map(content).collect();
    let chat_alone: Vec<Request> = alone.iter().map(content).collect();
    assert_eq!(chat_alone, chat_in_mix);
    assert!(
        mixed.iter().any(|r| r.app == 1),
        "the second app contributes requests"
    );
}

#[test]
fn changing_one_apps_sizes_does_not_move_its_arrivals_or_the_other_app() {
    let (_, before) = requests(&[CHAT, BATCH], 42);
    let resized = BATCH.replace("mean = 3000, std = 500", "mean = 100, std = 5");
    let (_, after) = requests(&[CHAT, &resized], 42);
    let chat = |all: &[Request]| -> Vec<Request> {
        all.iter().filter(|r| r.app == 0).map(content).collect()
    };
    assert_eq!(chat(&before), chat(&after));
    let batch_times = |all: &[Request]| -> Vec<_> {
        all.iter()
            .filter(|r| r.app == 1)
            .map(|r| (r.at, r.session, r.output_tokens))
            .collect()
    };
    assert_eq!(batch_times(&before), batch_times(&after));
}

#[test]
fn different_seed_gives_a_different_sequence() {
    let (_, a) = requests(&[CHAT], 1);
    let (_, b) = requests(&[CHAT], 2);
    let times = |all: &[Request]| all.iter().map(|r| r.at).collect::<Vec<_>>();
    assert_ne!(times(&a), times(&b));
}

#[test]
fn merged_order_is_total_and_ids_are_sequential() {
    // Two constant apps at the same rate tie at every instant: app order breaks the tie.
    let tie = |name: &str| {
        format!(
            "[[apps]]\nname = \"{name}\"\ndeployment = \"d\"\narrivals = {{ process = \"constant\", rate = 2.0 }}\nprompt_tokens = {{ dist = \"constant\", value = 1 }}\noutput_tokens = {{ dist = \"constant\", value = 1 }}\n"
        )
    };
    let (workload, all) = requests(&[&tie("first"), &tie("second"), CHAT], 5);
    for (i, pair) in all.windows(2).enumerate() {
        assert!(
            (pair[0].at, pair[0].app) < (pair[1].at, pair[1].app)
                || (pair[0].at == pair[1].at && pair[0].app == pair[1].app),
            "requests {i} and {} out of order",
            i + 1
        );
    }
    assert!(all.iter().enumerate().all(|(i, r)| r.id == i as u64));
    assert_eq!(all[0].app, 0);
    assert_eq!(all[1].app, 1);
    assert_eq!(all[0].at, all[1].at);
    assert_eq!(workload.app_names(), ["first", "second", "chat"]);
    let chat = all.iter().find(|r| r.app == 2).expect("chat requests");
    assert_eq!(workload.deployment_name(chat.deployment), "gpt-4o");
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn app(name: &str, process: u8, rate: f64) -> String {
        let arrivals = match process {
            0 => format!("{{ process = \"poisson\", rate = {rate} }}"),
            1 => format!("{{ process = \"gamma\", rate = {rate}, burstiness = 0.3 }}"),
            2 => format!("{{ process = \"constant\", rate = {rate} }}"),
            3 => format!("{{ process = \"ramp\", from = 0, to = {rate} }}"),
            _ => format!(
                "{{ process = \"diurnal\", mean = {rate}, amplitude = {}, period = \"20s\" }}",
                rate / 2.0
            ),
        };
        format!(
            "[[apps]]\nname = \"{name}\"\ndeployment = \"d\"\narrivals = {arrivals}\nprompt_tokens = {{ dist = \"exponential\", mean = 50 }}\noutput_tokens = {{ dist = \"uniform\", min = 1, max = 9 }}\n"
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Any mix: time-ordered, numbered 0.., and each app's requests are exactly what the app
        /// produces alone (the merge neither drops, reorders nor perturbs a source).
        #[test]
        fn merge_is_ordered_and_each_app_is_unperturbed(
            seed in any::<u64>(),
            specs in proptest::collection::vec((0u8..5, 0.5f64..40.0), 1..4),
        ) {
            let apps: Vec<String> = specs
                .iter()
                .enumerate()
                .map(|(i, (process, rate))| app(&format!("app{i}"), *process, *rate))
                .collect();
            let refs: Vec<&str> = apps.iter().map(String::as_str).collect();
            let (_, all) = requests(&refs, seed);
            prop_assert!(all.iter().enumerate().all(|(i, r)| r.id == i as u64));
            prop_assert!(all.windows(2).all(|w| (w[0].at, w[0].app) <= (w[1].at, w[1].app)));
            for (i, text) in apps.iter().enumerate() {
                let (_, alone) = requests(&[text.as_str()], seed);
                let from_mix: Vec<_> = all
                    .iter()
                    .filter(|r| usize::from(r.app) == i)
                    .map(|r| (r.at, r.prompt_tokens, r.output_tokens))
                    .collect();
                let from_alone: Vec<_> =
                    alone.iter().map(|r| (r.at, r.prompt_tokens, r.output_tokens)).collect();
                prop_assert_eq!(from_mix, from_alone);
            }
        }
    }
}
