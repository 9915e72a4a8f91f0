//! Parsing and validation of fleet files.

use super::*;

const MINIMAL: &str = r#"
[[resources]]
name = "east"
region = "East US"
[[resources.deployments]]
name = "chat"
model = "gpt-4o"
kind = "standard"
capacity = 30
"#;

#[test]
fn defaults_are_filled_in() {
    let config = FleetConfig::from_toml_str(MINIMAL, "fleet.toml").unwrap();
    assert_eq!(config.bind, IpAddr::from([127, 0, 0, 1]));
    assert_eq!(config.seed, 0);
    assert_eq!(config.switches, Switches::default());
    assert_eq!(
        config.resources[0].deployments[0].quota(),
        Quota::Standard {
            tpm: 30_000,
            rpm: None
        }
    );
}

#[test]
fn unknown_keys_are_refused_with_the_origin() {
    let error = FleetConfig::from_toml_str(
        &MINIMAL.replace("capacity = 30", "capacity = 30\ntmp = 5"),
        "fleet.toml",
    )
    .unwrap_err();
    let text = error.to_string();
    assert!(
        text.starts_with("fleet.toml: ") && text.contains("tmp"),
        "{text}"
    );
}

#[test]
fn rule_violations_name_path_and_value() {
    let cases = [
        (
            MINIMAL.replace("capacity = 30", "tpm = 0"),
            "resources[0].deployments[0].tpm",
            "0",
        ),
        (
            MINIMAL.replace(
                "kind = \"standard\"\ncapacity = 30",
                "kind = \"provisioned\"",
            ),
            "resources[0].deployments[0].ptu",
            "\"none\"",
        ),
        (
            MINIMAL.replace(
                "capacity = 30",
                "capacity = 30\nspillover_deployment = \"x\"",
            ),
            "resources[0].deployments[0].spillover_deployment",
            "\"set\"",
        ),
        (
            MINIMAL.replace(
                "capacity = 30",
                "capacity = 30\nfaults = [{ kind = \"server_errors\", rate = 1.5 }]",
            ),
            "resources[0].deployments[0].faults[0].rate",
            "1.5",
        ),
        (
            MINIMAL.replace(
                "capacity = 30",
                "capacity = 30\nfaults = [{ kind = \"brownout\" }]",
            ),
            "resources[0].deployments[0].faults[0].multiplier",
            "None",
        ),
        (
            MINIMAL.replace(
                "capacity = 30",
                "capacity = 30\ncompletion_tokens = { dist = \"uniform\", min = 9, max = 3 }",
            ),
            "resources[0].deployments[0].completion_tokens.min",
            "9",
        ),
        (
            MINIMAL.to_string() + "[[resources]]\nname = \"east\"\nregion = \"x\"\n",
            "resources[1].name",
            "\"east\"",
        ),
    ];
    for (toml, path, value) in cases {
        match FleetConfig::from_toml_str(&toml, "f.toml") {
            Err(ConfigError::Invalid {
                origin,
                path: p,
                value: v,
                ..
            }) => {
                assert_eq!(
                    (origin.as_str(), p.as_str(), v.as_str()),
                    ("f.toml", path, value)
                );
            }
            other => panic!("expected an Invalid error at {path}, got {other:?}"),
        }
    }
}

#[test]
fn spillover_must_name_a_standard_deployment_of_the_same_resource() {
    let toml = r#"
[[resources]]
name = "east"
region = "East US"
[[resources.deployments]]
name = "ptu"
model = "gpt-4o"
kind = "provisioned"
ptu = 50
spillover_deployment = "ptu2"
[[resources.deployments]]
name = "ptu2"
model = "gpt-4o"
kind = "provisioned"
ptu = 50
"#;
    let error = FleetConfig::from_toml_str(toml, "f.toml").unwrap_err();
    assert!(
        error
            .to_string()
            .contains("must name a standard deployment"),
        "{error}"
    );
}

#[test]
fn located_errors_can_be_embedded_under_a_prefix() {
    let mut config = FleetConfig::from_toml_str(MINIMAL, "f.toml").unwrap();
    config.resources[0].deployments[0].rpm = Some(0);
    let error = config
        .validate()
        .unwrap_err()
        .located("scenario.toml", "fleet.");
    assert_eq!(
        error.to_string(),
        "scenario.toml: fleet.resources[0].deployments[0].rpm = 0: must be positive"
    );
}

#[test]
fn the_example_fleet_parses() {
    let text = include_str!("../../fleet.example.toml");
    let config = FleetConfig::from_toml_str(text, "fleet.example.toml").unwrap();
    assert_eq!(config.resources.len(), 2);
}

#[test]
fn switches_merge_per_deployment() {
    let overrides = SwitchOverrides {
        emit_reset_headers: Some(true),
        burst_tokens: Some(3),
        ..SwitchOverrides::default()
    };
    let merged = Switches::default().with(&overrides);
    assert!(merged.emit_reset_headers);
    assert_eq!(merged.burst_tokens, 3);
    assert_eq!(merged.request_window, RequestWindow::TenSeconds);
}

#[test]
fn tagged_tables_refuse_unknown_keys_too() {
    let toml = MINIMAL.replace(
        "capacity = 30",
        "capacity = 30\ncompletion_tokens = { dist = \"constant\", value = 5, bogus = 1 }",
    );
    assert!(
        FleetConfig::from_toml_str(&toml, "f.toml")
            .unwrap_err()
            .to_string()
            .contains("bogus")
    );
    let toml = MINIMAL.replace(
        "capacity = 30",
        "capacity = 30\nservice = { concurrency = 2, service_time = { gamma = \"1s\" } }",
    );
    assert!(FleetConfig::from_toml_str(&toml, "f.toml").is_err());
}

#[test]
fn the_old_completion_tokens_spelling_reads_the_same_with_a_note() {
    let with = |tokens: &str| {
        MINIMAL.replace(
            "capacity = 30",
            &format!("capacity = 30\ncompletion_tokens = {tokens}"),
        )
    };
    let (now, none) = FleetConfig::from_toml_str_noting(
        &with("{ dist = \"lognormal\", median = 90.0, sigma = 0.5 }"),
        "f.toml",
    )
    .unwrap();
    assert!(none.is_empty());
    let (then, notes) = FleetConfig::from_toml_str_noting(
        &with("{ distribution = \"log_normal\", median = 90.0, sigma = 0.5 }"),
        "f.toml",
    )
    .unwrap();
    assert_eq!(then, now);
    assert_eq!(notes.len(), 1);
    assert!(
        notes[0].starts_with("f.toml: resources[0].deployments[0].completion_tokens"),
        "{}",
        notes[0]
    );
    let (fixed, _) = FleetConfig::from_toml_str_noting(
        &with("{ distribution = \"fixed\", tokens = 7 }"),
        "f.toml",
    )
    .unwrap();
    assert_eq!(
        fixed.resources[0].deployments[0].completion_tokens,
        CompletionTokens::Constant { value: 7 }
    );
}
