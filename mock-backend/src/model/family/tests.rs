use super::*;

fn profile(model: &str) -> ModelProfile {
    ModelProfile::resolve(model, &ModelOverrides::default())
}

fn ptu(model: &str) -> PtuFigures {
    model_entry(model)
        .unwrap_or_else(|| panic!("{model} has a row"))
        .ptu
}

/// (model, input TPM per PTU, output-to-input ratio, latency target tokens/s, global min,
/// global increment, regional min, regional increment) transcribed from Microsoft Learn,
/// "Determine PTU sizing for a workload", ms.date 2026-05-22 (azure-ai-docs 24dcd56), tables
/// "Latest Azure OpenAI models" and "Previous Azure OpenAI models".
type Documented = (&'static str, f64, f64, f64, u32, u32, u32, u32);

const DOCUMENTED: &[Documented] = &[
    ("gpt-5.5", 1_200.0, 6.0, 100.0, 15, 5, 50, 50),
    ("gpt-5.4", 2_400.0, 6.0, 50.0, 15, 5, 50, 50),
    ("gpt-5.3-codex", 3_400.0, 8.0, 50.0, 15, 5, 50, 50),
    ("gpt-5.2", 3_400.0, 8.0, 50.0, 15, 5, 50, 50),
    ("gpt-5.2-codex", 3_400.0, 8.0, 50.0, 15, 5, 50, 50),
    ("gpt-5.1", 4_750.0, 8.0, 50.0, 15, 5, 50, 50),
    ("gpt-5.1-codex", 4_750.0, 8.0, 50.0, 15, 5, 50, 50),
    ("gpt-5", 4_750.0, 8.0, 50.0, 15, 5, 50, 50),
    ("gpt-5-mini", 23_750.0, 8.0, 80.0, 15, 5, 25, 25),
    ("gpt-4.1", 3_000.0, 4.0, 80.0, 15, 5, 50, 50),
    ("gpt-4.1-mini", 14_900.0, 4.0, 90.0, 15, 5, 25, 25),
    ("gpt-4.1-nano", 59_400.0, 4.0, 100.0, 15, 5, 25, 25),
    ("o3", 3_000.0, 4.0, 80.0, 15, 5, 50, 50),
    ("o4-mini", 5_400.0, 4.0, 90.0, 15, 5, 25, 25),
    ("gpt-4o", 2_500.0, 4.0, 25.0, 15, 5, 50, 50),
    ("gpt-4o-mini", 37_000.0, 4.0, 33.0, 15, 5, 25, 25),
    ("o3-mini", 2_500.0, 4.0, 66.0, 15, 5, 25, 25),
    ("o1", 230.0, 4.0, 25.0, 15, 5, 25, 50),
];

#[test]
fn every_documented_model_matches_the_page() {
    for &(model, tpm, weight, floor, gmin, ginc, rmin, rinc) in DOCUMENTED {
        let figures = ptu(model);
        assert_eq!(
            (
                figures.input_tpm_per_ptu,
                figures.output_weight,
                figures.latency_floor_tps
            ),
            (tpm, weight, floor),
            "{model}"
        );
        assert_eq!(
            (
                figures.global_min,
                figures.global_increment,
                figures.regional_min,
                figures.regional_increment
            ),
            (Some(gmin), Some(ginc), Some(rmin), Some(rinc)),
            "{model}"
        );
        let entry = model_entry(model).unwrap();
        assert_eq!(entry.ptu_source, "learn-ptu-sizing", "{model}");
        let source = model_source(&entry.ptu_source).unwrap();
        assert!(
            source.revision.contains("2026-05-22") && source.read == "2026-12-07",
            "{model}: {source}"
        );
        // The mock's PTU behaviour follows the row.
        let simulated = profile(model);
        assert_eq!(
            (
                simulated.input_tpm_per_ptu,
                simulated.output_weight,
                simulated.ptu_floor_tps
            ),
            (tpm, weight, floor),
            "{model}"
        );
    }
}

// One test per row the 2026-05-22 page corrected (each failed on the old table).

#[test]
fn gpt_4o_weighs_output_4_to_1() {
    assert_eq!(profile("gpt-4o").output_weight, 4.0);
    assert_eq!(profile("gpt-4o-2024-11-20").output_weight, 4.0);
}

#[test]
fn gpt_4o_mini_weighs_output_4_to_1() {
    assert_eq!(profile("gpt-4o-mini").output_weight, 4.0);
}

#[test]
fn o3_mini_weighs_output_4_to_1() {
    assert_eq!(profile("o3-mini").output_weight, 4.0);
}

#[test]
fn o1_weighs_output_4_to_1() {
    assert_eq!(profile("o1").output_weight, 4.0);
    assert_eq!(ptu("o1").regional_increment, Some(50));
}

#[test]
fn gpt_4_1_latency_floor_is_80() {
    assert_eq!(profile("gpt-4.1").ptu_floor_tps, 80.0);
}

#[test]
fn gpt_4_1_mini_latency_floor_is_90() {
    assert_eq!(profile("gpt-4.1-mini").ptu_floor_tps, 90.0);
}

#[test]
fn gpt_4_1_nano_has_its_own_row() {
    let nano = profile("gpt-4.1-nano");
    assert_eq!(nano.input_tpm_per_ptu, 59_400.0);
    assert_eq!(nano.ptu_floor_tps, 100.0);
    let figures = ptu("gpt-4.1-nano-2025-04-14");
    assert_eq!(
        (figures.regional_min, figures.regional_increment),
        (Some(25), Some(25))
    );
    assert_eq!(
        model_entry("gpt-4.1-nano-2025-04-14").unwrap().name,
        "gpt-4.1-nano"
    );
}

#[test]
fn o3_is_3000_tpm_per_ptu_weighted_4() {
    let o3 = profile("o3");
    assert_eq!(
        (o3.input_tpm_per_ptu, o3.output_weight, o3.ptu_floor_tps),
        (3_000.0, 4.0, 80.0)
    );
    assert_eq!(model_entry("o3-2025-04-16").unwrap().name, "o3");
}

#[test]
fn o4_mini_is_5400_tpm_per_ptu_regional_25() {
    let o4 = profile("o4-mini");
    assert_eq!(
        (o4.input_tpm_per_ptu, o4.output_weight, o4.ptu_floor_tps),
        (5_400.0, 4.0, 90.0)
    );
    let figures = ptu("o4-mini");
    assert_eq!(
        (figures.regional_min, figures.regional_increment),
        (Some(25), Some(25))
    );
}

#[test]
fn names_match_whole_words_longest_first() {
    let name = |model| model_entry(model).map(|row| row.name.as_str());
    assert_eq!(name("gpt-4.1-nano"), Some("gpt-4.1-nano"));
    assert_eq!(name("gpt-4.1-mini-2025-04-14"), Some("gpt-4.1-mini"));
    assert_eq!(name("gpt-4.1"), Some("gpt-4.1"));
    assert_eq!(name("GPT-4o"), Some("gpt-4o"));
    assert_eq!(name("gpt-4o-mini"), Some("gpt-4o-mini"));
    assert_eq!(name("gpt-4-32k"), Some("gpt-4"));
    assert_eq!(name("o3-mini"), Some("o3-mini"));
    assert_eq!(name("gpt-5.2-codex"), Some("gpt-5.2"));
    // A prefix that is not a whole name part is no match.
    assert_eq!(name("gpt-4.1x"), None);
    assert_eq!(name("o30"), None);
    assert_eq!(name("gpt-4.5-preview"), None);
}

#[test]
fn the_table_is_well_formed() {
    let table: ModelTable = toml::from_str(MODEL_TABLE_TOML).unwrap();
    assert_eq!(table.problem(), None);
    for row in &table.models {
        assert!(
            row.ptu.input_tpm_per_ptu > 0.0 && row.ptu.output_weight > 0.0,
            "{}",
            row.name
        );
        let unconfirmed = ["assumed", "older-ptu-table"];
        if unconfirmed.contains(&row.ptu_source.as_str())
            || unconfirmed.contains(&row.quota_source.as_str())
        {
            assert!(row.note.is_some(), "{}: say what is unconfirmed", row.name);
        }
    }
}

#[test]
fn versions_and_families_are_concrete() {
    assert_eq!(profile("gpt-4o-mini").input_tpm_per_ptu, 37_000.0);
    assert_eq!(profile("gpt-4").context_window, 8192);
    assert_eq!(profile("o3-mini").rpm_per_1k_tpm, 0.1);
    assert_eq!(profile("o1").rpm_per_1k_tpm, 1.0 / 6.0);
    assert!(profile("text-embedding-3-small").embeddings);
    assert_eq!(profile("gpt-35-turbo").encoding, Encoding::Cl100kBase);
    let unknown = profile("my-model");
    assert_eq!(unknown.model_version, "my-model");
    assert_eq!(unknown.input_tpm_per_ptu, 2_500.0);
}

#[test]
fn overrides_apply() {
    let overrides = ModelOverrides {
        context_window: Some(4096),
        count_prompt: Some(true),
        ..Default::default()
    };
    let profile = ModelProfile::resolve("gpt-35-turbo", &overrides);
    assert_eq!(profile.context_window, 4096);
    assert!(profile.count_prompt);
}
