//! YAML as a JSON value tree (yaml-rust2: a maintained YAML 1.2 parser), and the key-path
//! helpers the config import reports with (`model_list[2].litellm_params.tpm`).

use serde_json::{Map, Number, Value};
use yaml_rust2::{Yaml, YamlLoader};

use crate::balance::BalanceError;

/// Parses `text` (one document) into a JSON value; errors name `source` and the position.
pub fn parse(text: &str, source: &str) -> Result<Value, BalanceError> {
    let documents = YamlLoader::load_from_str(text).map_err(|error| BalanceError::Json {
        source_name: source.to_string(),
        message: format!("invalid YAML: {error}"),
    })?;
    match documents.as_slice() {
        [one] => to_json(one, source, ""),
        [] => Ok(Value::Null),
        _ => Err(BalanceError::field(
            source,
            "several YAML documents: a LiteLLM config is one",
        )),
    }
}

fn to_json(node: &Yaml, source: &str, path: &str) -> Result<Value, BalanceError> {
    Ok(match node {
        Yaml::Null => Value::Null,
        Yaml::Boolean(flag) => Value::Bool(*flag),
        Yaml::Integer(number) => Value::Number(Number::from(*number)),
        Yaml::Real(text) => text
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map_or_else(|| Value::String(text.clone()), Value::Number),
        Yaml::String(text) => Value::String(text.clone()),
        Yaml::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(index, item)| to_json(item, source, &format!("{path}[{index}]")))
                .collect::<Result<_, _>>()?,
        ),
        Yaml::Hash(entries) => {
            let mut map = Map::new();
            for (key, value) in entries {
                let key = match key {
                    Yaml::String(text) => text.clone(),
                    Yaml::Integer(number) => number.to_string(),
                    Yaml::Boolean(flag) => flag.to_string(),
                    other => {
                        return Err(BalanceError::field(
                            format!("{source}: {path}"),
                            format!("{other:?}: a key must be a string"),
                        ));
                    }
                };
                let child = join(path, &key);
                map.insert(key, to_json(value, source, &child)?);
            }
            Value::Object(map)
        }
        Yaml::Alias(_) | Yaml::BadValue => {
            return Err(BalanceError::field(
                format!("{source}: {path}"),
                "an alias or value the parser could not resolve",
            ));
        }
    })
}

/// `path.key` (or `key` at the root).
pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// A place in the config, for messages: `source: path`.
#[derive(Debug, Clone)]
pub struct At<'a> {
    /// The file.
    pub source: &'a str,
    /// The key path.
    pub path: String,
}

impl<'a> At<'a> {
    /// The root of `source`.
    pub fn root(source: &'a str) -> Self {
        Self {
            source,
            path: String::new(),
        }
    }

    /// The child `key`.
    pub fn key(&self, key: &str) -> At<'a> {
        At {
            source: self.source,
            path: join(&self.path, key),
        }
    }

    /// The item `index` of a list.
    pub fn index(&self, index: usize) -> At<'a> {
        At {
            source: self.source,
            path: format!("{}[{index}]", self.path),
        }
    }

    /// An error here about `value`.
    pub fn error(&self, value: &Value, message: impl std::fmt::Display) -> BalanceError {
        BalanceError::field(
            format!("{}: {}", self.source, self.path),
            format!("{value}: {message}"),
        )
    }

    /// The value as an object.
    pub fn object<'v>(&self, value: &'v Value) -> Result<&'v Map<String, Value>, BalanceError> {
        value
            .as_object()
            .ok_or_else(|| self.error(value, "expected a mapping"))
    }

    /// The value as a non-negative number (numbers and numeric strings, as LiteLLM's
    /// pydantic models accept).
    pub fn number(&self, value: &Value) -> Result<f64, BalanceError> {
        let parsed = match value {
            Value::Number(number) => number.as_f64(),
            Value::String(text) => text.trim().parse::<f64>().ok(),
            _ => None,
        };
        parsed
            .filter(|number| number.is_finite() && *number >= 0.0)
            .ok_or_else(|| self.error(value, "expected a non-negative number"))
    }

    /// The value as a non-negative integer.
    pub fn integer(&self, value: &Value) -> Result<u32, BalanceError> {
        let number = self.number(value)?;
        if number.fract() != 0.0 || number > f64::from(u32::MAX) {
            return Err(self.error(value, "expected a whole number"));
        }
        Ok(number as u32)
    }

    /// The value as a string.
    pub fn string<'v>(&self, value: &'v Value) -> Result<&'v str, BalanceError> {
        value
            .as_str()
            .ok_or_else(|| self.error(value, "expected a string"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_becomes_the_json_tree_with_order_and_types_kept() {
        let value =
            parse("a: 1\nb: [x, 2.5, true, null]\nc: {d: \"e\"}\n", "t.yaml").expect("parses");
        assert_eq!(
            value,
            serde_json::json!({"a": 1, "b": ["x", 2.5, true, null], "c": {"d": "e"}})
        );
        assert!(parse("a: [1, 2", "bad.yaml").is_err());
    }
}
