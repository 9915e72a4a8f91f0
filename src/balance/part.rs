//! A configurable part of a strategy — a selector's, a breaker's or the gateway retry loop's
//! parameters — and how a `[[strategies]]` override table lands on it.
//!
//! Each part owns its settings: they are the serde fields of its parameter struct, named as
//! scenarios write them, and its range checks live beside it ([`Part::check`]). An override
//! table is written onto the part's own serialized table and the result is parsed again with
//! the part's schema, so a key the part does not have is refused by name, a value goes through
//! exactly the parsing it gets everywhere else, and a new part needs no mirror of its fields
//! anywhere. Fields a scenario cannot write are `#[serde(skip)]` and carried over by
//! [`Part::settle`]. Nothing here knows any particular part.

use serde::Serialize;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use toml::{Table, Value};

/// The parameters of one selector, breaker or retry loop, as a scenario writes them.
pub trait Part: Serialize + DeserializeOwned + Clone {
    /// Range checks the schema cannot express (serde has already checked the types).
    fn check(&self) -> Result<(), Problem> {
        Ok(())
    }

    /// After `written` (an override table) was written onto `before` and parsed into `self`:
    /// carry over from `before` what a scenario cannot write (the `#[serde(skip)]` fields), and
    /// apply what writing some keys implies.
    fn settle(&mut self, _before: &Self, _written: &Table) {}
}

/// A value a part refuses: the setting and why (the message quotes the value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The setting's name within the part (`count`, `d`, ...).
    pub setting: &'static str,
    /// What is wrong with its value.
    pub message: String,
}

impl Problem {
    /// A refusal of `setting`'s value.
    pub fn new(setting: &'static str, message: impl Into<String>) -> Self {
        Problem {
            setting,
            message: message.into(),
        }
    }
}

/// Why an override table could not be written onto a part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OverrideError {
    /// The part has no setting of this name.
    Unknown {
        /// The key as written.
        key: String,
        /// The part in words (`breaker is envoy`).
        part: String,
        /// The settings the part does have.
        settings: &'static [&'static str],
    },
    /// The value does not parse as that setting.
    Invalid {
        /// The key as written.
        key: String,
        /// The value as TOML.
        value: String,
        /// The parser's reason.
        reason: String,
    },
}

/// `part` with the keys of `given` written onto it, parsed again with the part's own schema;
/// `described` is the part in words for a refusal (`breaker is apim`).
pub fn with_overrides<P: Part>(
    part: &P,
    given: &Table,
    described: &str,
) -> Result<P, OverrideError> {
    let settings = settings_of::<P>();
    let mut table = match Value::try_from(part) {
        Ok(Value::Table(table)) => table,
        Ok(other) => {
            return Err(invalid("", &other, "the part is not a table of settings"));
        }
        Err(error) => {
            return Err(invalid("", &Value::Table(Table::new()), &error.to_string()));
        }
    };
    let mut merged = None;
    for (key, value) in given {
        if !settings.contains(&key.as_str()) {
            return Err(OverrideError::Unknown {
                key: key.clone(),
                part: described.to_string(),
                settings,
            });
        }
        table.insert(key.clone(), value.clone());
        // Parsed after each key, so a refusal names the key that caused it.
        merged = Some(
            P::deserialize(Value::Table(table.clone()))
                .map_err(|error| invalid(key, value, error.message()))?,
        );
    }
    let Some(mut merged) = merged else {
        return Ok(part.clone());
    };
    merged.settle(part, given);
    Ok(merged)
}

/// Where an override of an enum of parts (the selectors, the breakers) starts: with a `kind`
/// key, that kind's defaults from `kinds` (each kind once, with the parameters it starts from),
/// else `current`; returned with the rest of `given`. `part` names the enum (`breaker`).
pub fn start_from<T: Clone>(
    current: &T,
    given: &Table,
    kinds: &[T],
    kind_name: fn(&T) -> &'static str,
    part: &str,
) -> Result<(T, Table), OverrideError> {
    let mut rest = given.clone();
    let Some(kind) = rest.remove("kind") else {
        return Ok((current.clone(), rest));
    };
    let start = kinds
        .iter()
        .find(|candidate| kind.as_str() == Some(kind_name(candidate)))
        .ok_or_else(|| {
            let names: Vec<&str> = kinds.iter().map(kind_name).collect();
            invalid(
                "kind",
                &kind,
                &format!("not a {part} kind (kinds: {})", names.join(", ")),
            )
        })?;
    Ok((start.clone(), rest))
}

/// Refuses every key of `given`: the part (`selector is random`) has no settings.
pub fn no_settings(given: &Table, described: &str) -> Result<(), OverrideError> {
    match given.keys().next() {
        None => Ok(()),
        Some(key) => Err(OverrideError::Unknown {
            key: key.clone(),
            part: described.to_string(),
            settings: &[],
        }),
    }
}

fn invalid(key: &str, value: &Value, reason: &str) -> OverrideError {
    OverrideError::Invalid {
        key: key.to_string(),
        value: value.to_string(),
        reason: reason.trim().to_string(),
    }
}

/// The setting names `T`'s schema accepts: the field names its derived `Deserialize` passes to
/// `deserialize_struct` (renames applied, skipped fields left out), read without any data.
pub fn settings_of<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut fields = None;
    // The reader always answers with an error once it has the names; only they matter.
    let _ = T::deserialize(FieldNames(&mut fields));
    fields.unwrap_or(&[])
}

/// A deserializer that only records the field names a struct asks for.
struct FieldNames<'a>(&'a mut Option<&'static [&'static str]>);

impl<'de> Deserializer<'de> for FieldNames<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct of settings"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = Some(fields);
        Err(de::Error::custom("field names read"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Sample {
        count: u32,
        #[serde(rename = "status_codes")]
        statuses: Vec<u16>,
        limit: Option<u32>,
        #[serde(skip)]
        hidden: bool,
    }

    impl Part for Sample {
        fn settle(&mut self, before: &Self, written: &Table) {
            self.hidden = before.hidden || written.contains_key("limit");
        }
    }

    fn sample() -> Sample {
        Sample {
            count: 1,
            statuses: vec![429],
            limit: None,
            hidden: false,
        }
    }

    fn table(text: &str) -> Table {
        toml::from_str(text).expect("test TOML")
    }

    #[test]
    fn settings_are_the_serde_names() {
        assert_eq!(settings_of::<Sample>(), ["count", "status_codes", "limit"]);
    }

    #[test]
    fn an_override_replaces_only_what_it_names() {
        let done = with_overrides(&sample(), &table("count = 3\nlimit = 9"), "x").unwrap();
        assert_eq!(
            done,
            Sample {
                count: 3,
                statuses: vec![429],
                limit: Some(9),
                hidden: true,
            }
        );
        assert_eq!(
            with_overrides(&sample(), &Table::new(), "x").unwrap(),
            sample()
        );
    }

    #[test]
    fn refusals_name_the_key_and_the_value() {
        let unknown = with_overrides(&sample(), &table("hidden = true"), "part is s").unwrap_err();
        assert_eq!(
            unknown,
            OverrideError::Unknown {
                key: "hidden".into(),
                part: "part is s".into(),
                settings: &["count", "status_codes", "limit"],
            }
        );
        let OverrideError::Invalid { key, value, reason } =
            with_overrides(&sample(), &table("count = \"many\""), "x").unwrap_err()
        else {
            panic!("expected a value refusal");
        };
        assert_eq!((key.as_str(), value.as_str()), ("count", "\"many\""));
        assert!(
            reason.contains("many") || reason.contains("string"),
            "{reason}"
        );
        assert!(no_settings(&table("d = 2"), "selector is random").is_err());
        assert!(no_settings(&Table::new(), "selector is random").is_ok());
    }
}
