//! `--set key=value` overrides, applied to the scenario's TOML tree before it is parsed, so an
//! override goes through exactly the same schema and validation as the file itself.
//!
//! A key is a dotted path with optional `[index]` or `[name]` selectors
//! (`fleet.resources[openai-3].deployments[0].ptu`, `workload.apps[chat].arrivals.rate`,
//! `strategies[apim-pool].breaker.trip_duration`). A key that does not start with a top-level
//! table of the scenario (`breaker.trip_duration`) is relative to the strategies: it applies to
//! every `[[strategies]]` entry that has that part, and is an error if none has.
//! Values are TOML literals (`30`, `0.5`, `true`); anything else is a string (`10s`, `PT1M`).

use toml::{Table, Value};

use super::error::ScenarioError;

/// Top-level keys of a scenario file; other first segments are strategy-relative.
const TOP_LEVEL: &[&str] = &[
    "name",
    "description",
    "seed",
    "fleet",
    "backends",
    "workload",
    "client",
    "gateway",
    "strategies",
    "slo",
    "costs",
];

/// One `key=value` override.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    /// The key as written.
    pub key: String,
    /// Parsed path.
    path: Vec<Segment>,
    /// The value.
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Key(String),
    Index(usize),
    Named(String),
}

impl Override {
    /// Parse `key=value` (as given to `--set`, one value).
    pub fn parse(text: &str) -> Result<Override, ScenarioError> {
        let (key, value) = text
            .split_once('=')
            .ok_or_else(|| ScenarioError::invalid("--set", "", text, "expected key=value"))?;
        Override::new(key.trim(), value.trim())
    }

    /// An override of `key` with the literal `value`.
    pub fn new(key: &str, value: &str) -> Result<Override, ScenarioError> {
        Ok(Override {
            key: key.to_string(),
            path: parse_path(key)?,
            value: parse_value(value),
        })
    }

    /// The value as a short label (for sweep tables and folder names).
    pub fn value_label(&self) -> String {
        match &self.value {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        }
    }

    fn is_strategy_relative(&self) -> bool {
        matches!(self.path.first(), Some(Segment::Key(first)) if !TOP_LEVEL.contains(&first.as_str()))
    }
}

fn parse_path(key: &str) -> Result<Vec<Segment>, ScenarioError> {
    let bad = |reason: &str| ScenarioError::invalid("--set", key, "(key)", reason.to_string());
    let mut path = Vec::new();
    for part in key.split('.') {
        let (name, mut rest) = match part.find('[') {
            Some(open) => (&part[..open], &part[open..]),
            None => (part, ""),
        };
        if name.is_empty() {
            return Err(bad("empty key segment"));
        }
        path.push(Segment::Key(name.to_string()));
        while let Some(inner) = rest.strip_prefix('[') {
            let close = inner.find(']').ok_or_else(|| bad("unclosed ["))?;
            let selector = &inner[..close];
            path.push(match selector.parse::<usize>() {
                Ok(index) => Segment::Index(index),
                Err(_) if !selector.is_empty() => Segment::Named(selector.to_string()),
                Err(_) => return Err(bad("empty [] selector")),
            });
            rest = &inner[close + 1..];
        }
        if !rest.is_empty() {
            return Err(bad("unexpected text after ]"));
        }
    }
    if path.is_empty() {
        return Err(bad("empty key"));
    }
    Ok(path)
}

fn parse_value(text: &str) -> Value {
    toml::from_str::<Table>(&format!("v = {text}"))
        .ok()
        .and_then(|mut table| table.remove("v"))
        .unwrap_or_else(|| Value::String(text.to_string()))
}

/// Check of a strategy entry after a strategy-relative override: Ok, or why it is refused.
pub type StrategyCheck<'a> = &'a dyn Fn(&Value) -> Result<(), String>;

/// Apply `overrides` in order to the scenario tree `root`. `accepts(strategy_table)` tells
/// whether a strategy entry is still valid after a strategy-relative override (so the override
/// lands only on strategies that have that part).
pub fn apply_overrides(
    root: &mut Table,
    overrides: &[Override],
    origin: &str,
    accepts: StrategyCheck<'_>,
) -> Result<(), ScenarioError> {
    for item in overrides {
        if item.is_strategy_relative() {
            apply_to_strategies(root, item, origin, accepts)?;
        } else {
            let mut target = Value::Table(std::mem::take(root));
            let result = set(
                &mut target,
                &item.path,
                item.value.clone(),
                origin,
                &item.key,
            );
            if let Value::Table(table) = target {
                *root = table;
            }
            result?;
        }
    }
    Ok(())
}

fn apply_to_strategies(
    root: &mut Table,
    item: &Override,
    origin: &str,
    accepts: StrategyCheck<'_>,
) -> Result<(), ScenarioError> {
    let Some(Value::Array(strategies)) = root.get_mut("strategies") else {
        return Err(ScenarioError::invalid(
            origin,
            &item.key,
            item.value_label(),
            "the scenario has no [[strategies]]",
        ));
    };
    let mut applied = 0;
    let mut refusals = Vec::new();
    for strategy in strategies.iter_mut() {
        let mut candidate = strategy.clone();
        let outcome = set(
            &mut candidate,
            &item.path,
            item.value.clone(),
            origin,
            &item.key,
        )
        .map_err(|error| error.to_string())
        .and_then(|()| accepts(&candidate));
        match outcome {
            Ok(()) => {
                *strategy = candidate;
                applied += 1;
            }
            Err(reason) => {
                let reason = reason.split_whitespace().collect::<Vec<_>>().join(" ");
                if !refusals.contains(&reason) {
                    refusals.push(reason);
                }
            }
        }
    }
    if applied == 0 {
        return Err(ScenarioError::invalid(
            origin,
            &item.key,
            item.value_label(),
            format!(
                "no strategy accepts this setting (write strategies[NAME].… to target one, or a top-level key): {}",
                refusals.join("; ")
            ),
        ));
    }
    Ok(())
}

fn set(
    node: &mut Value,
    path: &[Segment],
    value: Value,
    origin: &str,
    key: &str,
) -> Result<(), ScenarioError> {
    let fail = |reason: String| ScenarioError::invalid(origin, key, "(override)", reason);
    let Some((head, rest)) = path.split_first() else {
        *node = value;
        return Ok(());
    };
    let child = match (head, node) {
        (Segment::Key(name), Value::Table(table)) => {
            if rest.is_empty() {
                table.insert(name.clone(), value);
                return Ok(());
            }
            table
                .entry(name.clone())
                .or_insert_with(|| Value::Table(Table::new()))
        }
        (Segment::Index(index), Value::Array(items)) => {
            let len = items.len();
            items
                .get_mut(*index)
                .ok_or_else(|| fail(format!("index {index} is out of range (length {len})")))?
        }
        (Segment::Named(name), Value::Array(items)) => items
            .iter_mut()
            .find(|item| {
                ["name", "resource"]
                    .iter()
                    .any(|field| item.get(field).and_then(Value::as_str) == Some(name.as_str()))
            })
            .ok_or_else(|| fail(format!("no entry named {name:?}")))?,
        (segment, other) => {
            return Err(fail(format!(
                "cannot select {segment:?} inside a {}",
                other.type_str()
            )));
        }
    };
    set(child, rest, value, origin, key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(text: &str) -> Table {
        toml::from_str(text).expect("test TOML")
    }

    #[test]
    fn values_are_toml_literals_or_strings() {
        assert_eq!(Override::parse("seed=7").unwrap().value, Value::Integer(7));
        assert_eq!(Override::parse("a.b=0.5").unwrap().value, Value::Float(0.5));
        assert_eq!(
            Override::parse("a=true").unwrap().value,
            Value::Boolean(true)
        );
        assert_eq!(
            Override::parse("a=10s").unwrap().value,
            Value::String("10s".into())
        );
        assert_eq!(
            Override::parse("a=PT1M").unwrap().value,
            Value::String("PT1M".into())
        );
    }

    #[test]
    fn absolute_paths_with_selectors() {
        let mut root = tree(
            "seed = 1\n[[fleet.resources]]\nname = \"a\"\nport = 0\n[[fleet.resources]]\nname = \"b\"\nport = 0\n",
        );
        let sets = [
            Override::parse("seed=9").unwrap(),
            Override::parse("fleet.resources[b].port=8080").unwrap(),
            Override::parse("fleet.resources[0].region=West").unwrap(),
        ];
        apply_overrides(&mut root, &sets, "t.toml", &|_| Ok(())).unwrap();
        assert_eq!(root["seed"].as_integer(), Some(9));
        let resources = root["fleet"]["resources"].as_array().unwrap();
        assert_eq!(resources[1]["port"].as_integer(), Some(8080));
        assert_eq!(resources[0]["region"].as_str(), Some("West"));
    }

    #[test]
    fn strategy_relative_keys_land_only_where_accepted() {
        let mut root = tree(
            "[[strategies]]\nname = \"pool\"\nbreaker = {}\n[[strategies]]\nname = \"random\"\n",
        );
        let accepts = |strategy: &Value| match strategy.get("name").and_then(Value::as_str) {
            Some("pool") => Ok(()),
            _ => Err("this strategy has no breaker".to_string()),
        };
        let sets = [Override::parse("breaker.trip_duration=30s").unwrap()];
        apply_overrides(&mut root, &sets, "t.toml", &accepts).unwrap();
        let strategies = root["strategies"].as_array().unwrap();
        assert_eq!(
            strategies[0]["breaker"]["trip_duration"].as_str(),
            Some("30s")
        );
        assert!(strategies[1].get("breaker").is_none());

        let nobody = |_: &Value| Err("refused".to_string());
        let error = apply_overrides(&mut root, &sets, "t.toml", &nobody).unwrap_err();
        assert!(
            error.to_string().contains("breaker.trip_duration")
                && error.to_string().contains("refused"),
            "{error}"
        );
    }

    #[test]
    fn bad_keys_and_selectors_are_named() {
        assert!(Override::parse("novalue").is_err());
        assert!(Override::parse("a[=1").is_err());
        let mut root = tree("[[backends]]\nresource = \"x\"\n");
        let error = apply_overrides(
            &mut root,
            &[Override::parse("backends[3].weight=2").unwrap()],
            "t.toml",
            &|_| Ok(()),
        )
        .unwrap_err();
        assert!(
            error.to_string().contains("backends[3].weight")
                && error.to_string().contains("out of range"),
            "{error}"
        );
    }
}
