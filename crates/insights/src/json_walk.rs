//! Discovery of a query's fields from a JSON message without building a `serde_json::Value`.
//!
//! Profiling `stats count(*) by eventName` over CloudTrail records showed most of the time in
//! building and freeing the message's `Value` tree (BTreeMap inserts, allocation), although the
//! query reads one field. This walks the document once with serde's visitor API, keeps only the
//! wanted leaves, and merely counts the others: the 200-field budget still counts every leaf.
//! Documents with more leaves than the budget go back to the `Value` path, whose key order
//! decides which fields the cap keeps, so results are identical either way.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::discovery::MAX_JSON_FIELDS;
use crate::value::Value;

pub enum WalkOutcome {
    /// The message was a JSON object; its wanted fields were appended.
    Done,
    /// Not valid JSON: the caller tries the other discoveries.
    Invalid,
    /// More leaves than the budget, or a wanted name reached twice (a repeated key, or keys with
    /// dots flattening to the same name): the caller must use the `Value` path, whose rules
    /// decide those cases.
    NeedsValuePath,
}

/// Appends the wanted fields of `message` (which starts with `{`) to `out`. On anything but
/// `Done`, `out` is left as it was.
pub fn flatten_wanted(
    message: &str,
    wanted: &[String],
    out: &mut Vec<(String, Value)>,
) -> WalkOutcome {
    let before = out.len();
    let mut state = WalkState {
        wanted,
        out,
        leaves: 0,
        ambiguous: false,
    };
    let mut de = serde_json::Deserializer::from_str(message);
    let walked = Node {
        state: &mut state,
        prefix: None,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end());
    let (leaves, ambiguous) = (state.leaves, state.ambiguous);
    match walked {
        Ok(()) if leaves <= MAX_JSON_FIELDS && !ambiguous => WalkOutcome::Done,
        Ok(()) => {
            out.truncate(before);
            WalkOutcome::NeedsValuePath
        }
        Err(_) => {
            out.truncate(before);
            WalkOutcome::Invalid
        }
    }
}

struct WalkState<'w, 'o> {
    wanted: &'w [String],
    out: &'o mut Vec<(String, Value)>,
    leaves: usize,
    ambiguous: bool,
}

impl WalkState<'_, '_> {
    /// Whether anything wanted lies at or below `name`.
    fn wants_below(&self, name: &str) -> bool {
        self.wanted.iter().any(|n| {
            n.len() > name.len() && n.starts_with(name) && n.as_bytes()[name.len()] == b'.'
        })
    }

    fn wants_exactly(&self, name: &str) -> bool {
        self.wanted.iter().any(|n| n == name)
    }

    fn leaf(&mut self, name: Option<&str>, value: impl FnOnce() -> Value) {
        self.leaves += 1;
        if let Some(name) = name.filter(|n| self.wants_exactly(n)) {
            if self.out.iter().any(|(n, _)| n == name) {
                self.ambiguous = true;
            } else {
                self.out.push((name.to_string(), value()));
            }
        }
    }
}

/// One value at `prefix` (`None` for the document itself).
struct Node<'s, 'w, 'o> {
    state: &'s mut WalkState<'w, 'o>,
    prefix: Option<&'s str>,
}

impl<'de> DeserializeSeed<'de> for Node<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.state.leaf(self.prefix, || {
            Value::Str(if v { "true" } else { "false" }.into())
        });
        Ok(())
    }

    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.state.leaf(self.prefix, || Value::Int(v));
        Ok(())
    }

    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.state.leaf(self.prefix, || match i64::try_from(v) {
            Ok(i) => Value::Int(i),
            Err(_) => Value::Float(v as f64),
        });
        Ok(())
    }

    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.state.leaf(self.prefix, || Value::Float(v));
        Ok(())
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.state.leaf(self.prefix, || Value::Str(v.to_string()));
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        // JSON null: absent, and not counted against the budget.
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut name = String::new();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            name.clear();
            match self.prefix {
                Some(prefix) => {
                    name.push_str(prefix);
                    name.push('.');
                }
                // A top-level key starting with `@` would shadow a system field.
                None if key.starts_with('@') => name.push('@'),
                None => {}
            }
            name.push_str(&key);
            map.next_value_seed(Child {
                state: &mut *self.state,
                name: &name,
            })?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Some(prefix) = self.prefix else {
            // A top-level array is valid JSON but has no fields.
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(());
        };
        let mut name = String::new();
        let mut index = 0usize;
        loop {
            name.clear();
            name.push_str(prefix);
            name.push('.');
            name.push_str(&index.to_string());
            if seq
                .next_element_seed(Child {
                    state: &mut *self.state,
                    name: &name,
                })?
                .is_none()
            {
                return Ok(());
            }
            index += 1;
        }
    }
}

/// A member or element: walked when something wanted lies at or below it, otherwise only its
/// leaves are counted.
struct Child<'s, 'w, 'o> {
    state: &'s mut WalkState<'w, 'o>,
    name: &'s str,
}

impl<'de> DeserializeSeed<'de> for Child<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        if self.state.wants_exactly(self.name) || self.state.wants_below(self.name) {
            deserializer.deserialize_any(Node {
                state: self.state,
                prefix: Some(self.name),
            })
        } else {
            self.state.leaves += deserializer.deserialize_any(LeafCounter)?;
            Ok(())
        }
    }
}

/// Counts the non-null scalars of a subtree without keeping anything.
struct LeafCounter;

impl<'de> DeserializeSeed<'de> for LeafCounter {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<usize, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for LeafCounter {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<usize, E> {
        Ok(1)
    }

    fn visit_i64<E>(self, _: i64) -> Result<usize, E> {
        Ok(1)
    }

    fn visit_u64<E>(self, _: u64) -> Result<usize, E> {
        Ok(1)
    }

    fn visit_f64<E>(self, _: f64) -> Result<usize, E> {
        Ok(1)
    }

    fn visit_str<E>(self, _: &str) -> Result<usize, E> {
        Ok(1)
    }

    fn visit_unit<E>(self) -> Result<usize, E> {
        Ok(0)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<usize, A::Error> {
        let mut n = 0;
        while map.next_key::<IgnoredAny>()?.is_some() {
            n += map.next_value_seed(LeafCounter)?;
        }
        Ok(n)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        let mut n = 0;
        while let Some(c) = seq.next_element_seed(LeafCounter)? {
            n += c;
        }
        Ok(n)
    }
}

/// An object key, borrowed from the message unless it has escapes (serde's own `Cow<str>`
/// always allocates).
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{json, Value as Json};

    /// The `Value` path, for comparison.
    fn slow(message: &str, wanted: &[String]) -> Vec<(String, Value)> {
        let event = crate::Event {
            timestamp_ms: 0,
            ingestion_time_ms: 0,
            message,
            log_stream: "s",
            log_group: "g",
            ptr: String::new(),
        };
        let mut fields = Vec::new();
        let json: Json = serde_json::from_str(message).unwrap();
        let _ = event;
        crate::discovery::flatten_json_for_tests(&json, &mut fields, Some(wanted));
        fields
    }

    fn sorted(mut v: Vec<(String, Value)>) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> =
            v.drain(..).map(|(n, v)| (n, format!("{v:?}"))).collect();
        out.sort();
        out
    }

    fn leaf_names(prefix: &str, v: &Json, out: &mut Vec<String>) {
        match v {
            Json::Object(m) => {
                for (k, c) in m {
                    let name = if prefix.is_empty() {
                        if k.starts_with('@') {
                            format!("@{k}")
                        } else {
                            k.clone()
                        }
                    } else {
                        format!("{prefix}.{k}")
                    };
                    out.push(name.clone());
                    leaf_names(&name, c, out);
                }
            }
            Json::Array(items) => {
                for (i, c) in items.iter().enumerate() {
                    let name = format!("{prefix}.{i}");
                    out.push(name.clone());
                    leaf_names(&name, c, out);
                }
            }
            _ => {}
        }
    }

    fn json_value() -> impl Strategy<Value = Json> {
        let leaf = prop_oneof![
            Just(Json::Null),
            any::<bool>().prop_map(Json::Bool),
            any::<i64>().prop_map(|i| json!(i)),
            any::<u64>().prop_map(|i| json!(i)),
            (-1e9f64..1e9).prop_map(|f| json!(f)),
            "[a-z@. \"\\\\é]{0,6}".prop_map(Json::String),
        ];
        leaf.prop_recursive(4, 300, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Json::Array),
                prop::collection::btree_map("[a-c@.]{1,3}", inner, 0..8)
                    .prop_map(|m| Json::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn same_fields_as_the_value_path(
            members in prop::collection::btree_map("[a-c@]{1,3}", json_value(), 0..12),
            picks in prop::collection::vec(any::<prop::sample::Index>(), 0..4),
        ) {
            let doc = Json::Object(members.into_iter().collect());
            let message = doc.to_string();
            let mut names = Vec::new();
            leaf_names("", &doc, &mut names);
            let mut wanted: Vec<String> = picks.iter().filter(|_| !names.is_empty()).map(|p| names[p.index(names.len())].clone()).collect();
            wanted.push("zz.missing".to_string());
            let mut fast = Vec::new();
            match flatten_wanted(&message, &wanted, &mut fast) {
                WalkOutcome::Done => prop_assert_eq!(sorted(fast), sorted(slow(&message, &wanted))),
                WalkOutcome::NeedsValuePath => prop_assert!(fast.is_empty()),
                WalkOutcome::Invalid => prop_assert!(false, "valid JSON refused: {}", message),
            }
        }
    }

    #[test]
    fn invalid_json_leaves_the_output_untouched() {
        let mut out = vec![("@message".to_string(), Value::Str("x".into()))];
        let wanted = vec!["a".to_string()];
        assert!(matches!(
            flatten_wanted(r#"{"a": 1, "b": }"#, &wanted, &mut out),
            WalkOutcome::Invalid
        ));
        assert!(matches!(
            flatten_wanted(r#"{"a": 1} trailing"#, &wanted, &mut out),
            WalkOutcome::Invalid
        ));
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn nested_and_escaped_keys_and_the_at_prefix() {
        let wanted: Vec<String> = ["user\"x.arn", "@@t", "list.1.k", "n"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut out = Vec::new();
        let message = r#"{"user\"x":{"arn":"a1"},"@t":5,"list":[{"k":1},{"k":true}],"n":null}"#;
        assert!(matches!(
            flatten_wanted(message, &wanted, &mut out),
            WalkOutcome::Done
        ));
        assert_eq!(sorted(out), sorted(slow(message, &wanted)));
    }
}
