//! A set of response outcomes (HTTP codes 100–599 plus transport errors) that a breaker counts
//! as failures or a retry loop retries on. Parsed from the forms people write: `429`, `"429"`,
//! `"500-599"`, `"5xx"`, `"connect-error"`, `"timeout"`. O(1) membership, no allocation.

use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::types::Status;

/// HTTP codes 100–599 as bits, plus the two transport outcomes.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct StatusSet {
    bits: [u64; 8],
    connect_error: bool,
    timeout: bool,
}

impl StatusSet {
    /// The empty set.
    pub const EMPTY: StatusSet = StatusSet {
        bits: [0; 8],
        connect_error: false,
        timeout: false,
    };

    /// The set of the inclusive HTTP range `min..=max` (clamped to 100–599).
    pub fn range(min: u16, max: u16) -> Self {
        let mut set = Self::EMPTY;
        set.add_range(min, max);
        set
    }

    /// The set of the listed HTTP codes.
    pub fn codes(codes: &[u16]) -> Self {
        let mut set = Self::EMPTY;
        for &code in codes {
            set.add_range(code, code);
        }
        set
    }

    /// Adds `min..=max`.
    pub fn add_range(&mut self, min: u16, max: u16) {
        for code in min.max(100)..=max.min(599) {
            let bit = usize::from(code - 100);
            self.bits[bit / 64] |= 1 << (bit % 64);
        }
    }

    /// This set plus connection errors and timeouts.
    pub fn with_transport_errors(mut self) -> Self {
        self.connect_error = true;
        self.timeout = true;
        self
    }

    /// This set plus connection errors.
    pub fn with_connect_error(mut self, on: bool) -> Self {
        self.connect_error = on;
        self
    }

    /// This set plus timeouts.
    pub fn with_timeout(mut self, on: bool) -> Self {
        self.timeout = on;
        self
    }

    /// Union.
    pub fn union(mut self, other: StatusSet) -> Self {
        for (mine, theirs) in self.bits.iter_mut().zip(other.bits) {
            *mine |= theirs;
        }
        self.connect_error |= other.connect_error;
        self.timeout |= other.timeout;
        self
    }

    /// The statuses of this set that are not in `other`.
    pub fn minus(mut self, other: StatusSet) -> Self {
        for (mine, theirs) in self.bits.iter_mut().zip(other.bits) {
            *mine &= !theirs;
        }
        self.connect_error &= !other.connect_error;
        self.timeout &= !other.timeout;
        self
    }

    /// Whether `status` is in the set.
    #[inline]
    pub fn contains(&self, status: Status) -> bool {
        match status {
            Status::Http(code @ 100..=599) => {
                let bit = usize::from(code - 100);
                self.bits[bit / 64] & (1 << (bit % 64)) != 0
            }
            Status::Http(_) => false,
            Status::ConnectError => self.connect_error,
            Status::Timeout => self.timeout,
        }
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.bits.iter().all(|word| *word == 0) && !self.connect_error && !self.timeout
    }

    /// Inclusive ranges of HTTP codes in the set, in order.
    pub fn ranges(&self) -> Vec<(u16, u16)> {
        let mut out = Vec::new();
        let mut start: Option<u16> = None;
        for code in 100..=600u16 {
            let inside = code < 600 && self.contains(Status::Http(code));
            match (inside, start) {
                (true, None) => start = Some(code),
                (false, Some(first)) => {
                    out.push((first, code - 1));
                    start = None;
                }
                _ => {}
            }
        }
        out
    }

    /// Parses one item as written in a config: `"429"`, `"500-599"`, `"5xx"`,
    /// `"connect-error"`, `"timeout"`.
    pub fn parse_item(text: &str) -> Result<StatusSet, String> {
        let item = text.trim();
        match item.to_ascii_lowercase().as_str() {
            "connect-error" | "connect_error" | "error" => {
                return Ok(Self::EMPTY.with_connect_error(true));
            }
            "timeout" => return Ok(Self::EMPTY.with_timeout(true)),
            _ => {}
        }
        let code = |s: &str| -> Result<u16, String> {
            match s.trim().parse::<u16>() {
                Ok(code @ 100..=599) => Ok(code),
                _ => Err(format!(
                    "invalid status {text:?}: write 429, \"500-599\", \"5xx\", \"connect-error\" or \"timeout\""
                )),
            }
        };
        if let Some(class) = item.strip_suffix("xx").or_else(|| item.strip_suffix("XX")) {
            let first = code(&format!("{class}00"))?;
            return Ok(Self::range(first, first + 99));
        }
        if let Some((low, high)) = item.split_once('-') {
            let (low, high) = (code(low)?, code(high)?);
            if low > high {
                return Err(format!("invalid status range {text:?}: min above max"));
            }
            return Ok(Self::range(low, high));
        }
        code(item).map(|single| Self::range(single, single))
    }
}

impl fmt::Debug for StatusSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        for (low, high) in self.ranges() {
            if low == high {
                list.entry(&low);
            } else {
                list.entry(&format_args!("{low}-{high}"));
            }
        }
        if self.connect_error {
            list.entry(&"connect-error");
        }
        if self.timeout {
            list.entry(&"timeout");
        }
        list.finish()
    }
}

impl Serialize for StatusSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut items: Vec<String> = self
            .ranges()
            .into_iter()
            .map(|(low, high)| {
                if low == high {
                    low.to_string()
                } else {
                    format!("{low}-{high}")
                }
            })
            .collect();
        if self.connect_error {
            items.push("connect-error".into());
        }
        if self.timeout {
            items.push("timeout".into());
        }
        items.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for StatusSet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor;
        impl<'de> Visitor<'de> for ListVisitor {
            type Value = StatusSet;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of statuses such as [429, \"500-599\", \"timeout\"]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StatusSet, A::Error> {
                let mut set = StatusSet::EMPTY;
                while let Some(item) = seq.next_element::<StatusItem>()? {
                    set = set.union(item.0);
                }
                Ok(set)
            }
        }
        deserializer.deserialize_seq(ListVisitor)
    }
}

/// One list item: an integer code or a string form.
struct StatusItem(StatusSet);

impl<'de> Deserialize<'de> for StatusItem {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ItemVisitor;
        impl Visitor<'_> for ItemVisitor {
            type Value = StatusItem;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a status code (429), a range (\"500-599\", \"5xx\") or \"timeout\"")
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<StatusItem, E> {
                self.visit_str(&value.to_string())
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<StatusItem, E> {
                self.visit_str(&value.to_string())
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<StatusItem, E> {
                StatusSet::parse_item(value)
                    .map(StatusItem)
                    .map_err(E::custom)
            }
        }
        deserializer.deserialize_any(ItemVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_people_write() {
        let set: StatusSet = serde_json::from_str(r#"[429, "500-503", "5xx", "timeout"]"#).unwrap();
        assert!(set.contains(Status::Http(429)));
        assert!(set.contains(Status::Http(599)));
        assert!(!set.contains(Status::Http(428)));
        assert!(set.contains(Status::Timeout));
        assert!(!set.contains(Status::ConnectError));
        assert_eq!(set.ranges(), vec![(429, 429), (500, 599)]);
    }

    #[test]
    fn refusals_name_the_value() {
        let err = serde_json::from_str::<StatusSet>(r#"["42"]"#).unwrap_err();
        assert!(err.to_string().contains("\"42\""), "{err}");
        assert!(StatusSet::parse_item("600").is_err());
        assert!(StatusSet::parse_item("503-500").is_err());
    }
}
