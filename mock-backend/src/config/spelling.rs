//! Old spellings of the fleet file that are still read, each with a deprecation note naming
//! the file and the key. `completion_tokens` once spelled its distribution apart from the
//! workload's token distributions (`{ distribution = "fixed", tokens = N }`, `"log_normal"`);
//! the one spelling now is the workload's: `{ dist = "constant", value = N }`, `"lognormal"`,
//! `"uniform"`, `"exponential"`. The TOML tree is rewritten before it is parsed, so the schema
//! ([`super::CompletionTokens`]) knows only the current spelling.

use toml::{Table, Value};

/// Rewrites the deprecated spellings in `fleet` (a fleet file, or a scenario's `[fleet]` table
/// whose keys are reported under `prefix`, e.g. `fleet.`) to the current ones; one note per
/// rewritten key, naming `origin` (the file), the key path, what was written and what to write.
pub fn modernize(fleet: &mut Table, origin: &str, prefix: &str) -> Vec<String> {
    let mut notes = Vec::new();
    let Some(Value::Array(resources)) = fleet.get_mut("resources") else {
        return notes;
    };
    for (r, resource) in resources.iter_mut().enumerate() {
        let Some(Value::Array(deployments)) = resource.get_mut("deployments") else {
            continue;
        };
        for (d, deployment) in deployments.iter_mut().enumerate() {
            let Some(Value::Table(tokens)) = deployment.get_mut("completion_tokens") else {
                continue;
            };
            let written = Value::Table(tokens.clone());
            if modernize_completion_tokens(tokens) {
                notes.push(format!(
                    "{origin}: {prefix}resources[{r}].deployments[{d}].completion_tokens = {written}: a deprecated spelling; write {} (the workload's spelling of a token distribution)",
                    Value::Table(tokens.clone())
                ));
            }
        }
    }
    notes
}

/// `distribution` → `dist`, `"fixed"` → `"constant"` with `tokens` → `value`, `"log_normal"` →
/// `"lognormal"`; whether anything was rewritten. A table that mixes both spellings is left as
/// it is, for the schema to refuse by name.
fn modernize_completion_tokens(tokens: &mut Table) -> bool {
    if tokens.contains_key("dist") {
        return false;
    }
    let Some(Value::String(kind)) = tokens.remove("distribution") else {
        return false;
    };
    let kind = match kind.as_str() {
        "fixed" => {
            if let Some(count) = tokens.remove("tokens") {
                tokens.insert("value".into(), count);
            }
            "constant".to_string()
        }
        "log_normal" => "lognormal".to_string(),
        _ => kind,
    };
    // The tag first, as people write it.
    let rest = std::mem::take(tokens);
    tokens.insert("dist".into(), Value::String(kind));
    tokens.extend(rest);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fleet(tokens: &str) -> Table {
        toml::from_str(&format!(
            "[[resources]]\nname = \"a\"\n[[resources.deployments]]\nname = \"d\"\ncompletion_tokens = {tokens}\n"
        ))
        .expect("test TOML")
    }

    fn tokens_of(fleet: &Table) -> &Value {
        &fleet["resources"][0]["deployments"][0]["completion_tokens"]
    }

    #[test]
    fn old_spellings_become_the_workloads_with_a_note_naming_file_and_key() {
        for (old, new) in [
            (
                "{ distribution = \"fixed\", tokens = 40 }",
                "{ dist = \"constant\", value = 40 }",
            ),
            (
                "{ distribution = \"log_normal\", median = 200.0, sigma = 0.6 }",
                "{ dist = \"lognormal\", median = 200.0, sigma = 0.6 }",
            ),
            (
                "{ distribution = \"uniform\", min = 5, max = 40 }",
                "{ dist = \"uniform\", min = 5, max = 40 }",
            ),
        ] {
            let mut tree = fleet(old);
            let notes = modernize(&mut tree, "s.toml", "fleet.");
            assert_eq!(tokens_of(&tree), tokens_of(&fleet(new)), "{old}");
            assert_eq!(notes.len(), 1);
            assert!(
                notes[0].starts_with(
                    "s.toml: fleet.resources[0].deployments[0].completion_tokens = { distribution"
                ) && notes[0].contains("deprecated"),
                "{}",
                notes[0]
            );
        }
    }

    #[test]
    fn the_current_spelling_and_mixed_tables_are_left_alone() {
        for text in [
            "{ dist = \"constant\", value = 40 }",
            "{ dist = \"constant\", distribution = \"fixed\", value = 40 }",
        ] {
            let mut tree = fleet(text);
            assert!(modernize(&mut tree, "s.toml", "").is_empty());
            assert_eq!(tree, fleet(text));
        }
    }
}
