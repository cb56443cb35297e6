//! Reads only the parts of a JSON event that a pattern's selectors reach.
//!
//! Building a full `serde_json::Value` for every event costs an allocation per
//! string, array and object; a JSON pattern usually looks at two or three
//! fields. The selectors are merged into a trie at parse time, and each event is
//! streamed through serde_json once: values on a selector path are captured
//! (strings borrowed from the event when they have no escapes), everything else
//! is skipped with `IgnoredAny`, which still validates it, so an event that is
//! not valid JSON never matches.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Number;

#[derive(Debug, Clone)]
pub(crate) enum Step {
    Key(String),
    Index(usize),
    /// `$.*`: every member of an object (or element of an array).
    AnyMember,
    /// `[*]`: every element of an array.
    AnyElement,
}

/// A value a selector reached in one event.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Captured<'a> {
    Text(Cow<'a, str>),
    Number(Number),
    Bool(bool),
    Null,
    /// An object or array: it exists, but compares equal to nothing.
    Compound,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Capture<'a> {
    pub(crate) selector: usize,
    pub(crate) value: Captured<'a>,
}

#[derive(Debug, Clone, Default)]
struct TrieNode {
    keys: Vec<(String, usize)>,
    indexes: Vec<(usize, usize)>,
    any_member: Option<usize>,
    any_element: Option<usize>,
    /// Selectors whose last step leads here.
    selectors: Vec<usize>,
}

#[derive(Debug, Clone)]
pub(crate) struct PathTrie {
    /// `nodes[0]` is the document root.
    nodes: Vec<TrieNode>,
}

impl PathTrie {
    pub(crate) fn new<'s>(selectors: impl IntoIterator<Item = &'s [Step]>) -> PathTrie {
        let mut trie = PathTrie {
            nodes: vec![TrieNode::default()],
        };
        for (selector, steps) in selectors.into_iter().enumerate() {
            let mut node = 0;
            for step in steps {
                node = trie.child(node, step);
            }
            trie.nodes[node].selectors.push(selector);
        }
        trie
    }

    fn child(&mut self, parent: usize, step: &Step) -> usize {
        let existing = match step {
            Step::Key(key) => self.nodes[parent]
                .keys
                .iter()
                .find(|(k, _)| k == key)
                .map(|&(_, child)| child),
            Step::Index(index) => self.nodes[parent]
                .indexes
                .iter()
                .find(|(i, _)| i == index)
                .map(|&(_, child)| child),
            Step::AnyMember => self.nodes[parent].any_member,
            Step::AnyElement => self.nodes[parent].any_element,
        };
        if let Some(child) = existing {
            return child;
        }
        let child = self.nodes.len();
        self.nodes.push(TrieNode::default());
        let node = &mut self.nodes[parent];
        match step {
            Step::Key(key) => node.keys.push((key.clone(), child)),
            Step::Index(index) => node.indexes.push((*index, child)),
            Step::AnyMember => node.any_member = Some(child),
            Step::AnyElement => node.any_element = Some(child),
        }
        child
    }

    /// Every value the selectors reach in `message`, in document order; `None`
    /// when the message is not JSON.
    pub(crate) fn capture<'a>(&self, message: &'a str) -> Option<Vec<Capture<'a>>> {
        // Most events in a mixed log group are not JSON: refuse them before
        // paying for a parse attempt.
        let first = message.bytes().find(|byte| !byte.is_ascii_whitespace())?;
        if first != b'{' && first != b'[' {
            return None;
        }
        let mut captures = Vec::new();
        let mut deserializer = serde_json::Deserializer::from_str(message);
        Walk {
            trie: self,
            nodes: vec![0],
            captures: &mut captures,
        }
        .deserialize(&mut deserializer)
        .ok()?;
        deserializer.end().ok()?;
        Some(captures)
    }
}

/// Visits one JSON value while standing on `nodes` of the trie.
struct Walk<'t, 'c, 'de> {
    trie: &'t PathTrie,
    nodes: Vec<usize>,
    captures: &'c mut Vec<Capture<'de>>,
}

impl<'de> Walk<'_, '_, 'de> {
    fn record(&mut self, value: Captured<'de>) {
        for &node in &self.nodes {
            for &selector in &self.trie.nodes[node].selectors {
                self.captures.push(Capture {
                    selector,
                    value: value.clone(),
                });
            }
        }
    }

    fn member_nodes(&self, key: &str) -> Vec<usize> {
        let mut next = Vec::new();
        for &node in &self.nodes {
            let node = &self.trie.nodes[node];
            next.extend(
                node.keys
                    .iter()
                    .filter(|(k, _)| k == key)
                    .map(|&(_, child)| child),
            );
            next.extend(node.any_member);
        }
        next
    }

    fn element_nodes(&self, index: usize) -> Vec<usize> {
        let mut next = Vec::new();
        for &node in &self.nodes {
            let node = &self.trie.nodes[node];
            next.extend(
                node.indexes
                    .iter()
                    .filter(|(i, _)| *i == index)
                    .map(|&(_, child)| child),
            );
            next.extend(node.any_element);
            next.extend(node.any_member);
        }
        next
    }
}

impl<'de> DeserializeSeed<'de> for Walk<'_, '_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_, '_, 'de> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E>(mut self, value: bool) -> Result<(), E> {
        self.record(Captured::Bool(value));
        Ok(())
    }

    fn visit_i64<E>(mut self, value: i64) -> Result<(), E> {
        self.record(Captured::Number(value.into()));
        Ok(())
    }

    fn visit_u64<E>(mut self, value: u64) -> Result<(), E> {
        self.record(Captured::Number(value.into()));
        Ok(())
    }

    fn visit_f64<E>(mut self, value: f64) -> Result<(), E> {
        // JSON cannot spell NaN or infinity, so this never records Compound in practice.
        self.record(Number::from_f64(value).map_or(Captured::Compound, Captured::Number));
        Ok(())
    }

    fn visit_borrowed_str<E>(mut self, value: &'de str) -> Result<(), E> {
        self.record(Captured::Text(Cow::Borrowed(value)));
        Ok(())
    }

    fn visit_str<E>(mut self, value: &str) -> Result<(), E> {
        self.record(Captured::Text(Cow::Owned(value.to_owned())));
        Ok(())
    }

    fn visit_unit<E>(mut self) -> Result<(), E> {
        self.record(Captured::Null);
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        self.record(Captured::Compound);
        // Where each selected member's captures sit, so that a repeated key can
        // replace them: the last duplicate wins, as in serde_json's `Value`.
        let mut spans: Vec<(Cow<'de, str>, usize, usize)> = Vec::new();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let next = self.member_nodes(&key);
            if next.is_empty() {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            if let Some(duplicate) = spans.iter().position(|(seen, _, _)| *seen == key) {
                let (_, start, end) = spans.remove(duplicate);
                self.captures.drain(start..end);
                for (_, later_start, later_end) in &mut spans[duplicate..] {
                    *later_start -= end - start;
                    *later_end -= end - start;
                }
            }
            let start = self.captures.len();
            map.next_value_seed(Walk {
                trie: self.trie,
                nodes: next,
                captures: &mut *self.captures,
            })?;
            spans.push((key, start, self.captures.len()));
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut sequence: A) -> Result<(), A::Error> {
        self.record(Captured::Compound);
        let mut index = 0;
        loop {
            let next = self.element_nodes(index);
            let more = if next.is_empty() {
                sequence.next_element::<IgnoredAny>()?.is_some()
            } else {
                sequence
                    .next_element_seed(Walk {
                        trie: self.trie,
                        nodes: next,
                        captures: &mut *self.captures,
                    })?
                    .is_some()
            };
            if !more {
                return Ok(());
            }
            index += 1;
        }
    }
}

/// Object keys, borrowed from the event unless they contain escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an object key")
    }

    fn visit_borrowed_str<E>(self, key: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(key))
    }

    fn visit_str<E>(self, key: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(key.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn captures(selectors: &[&[Step]], message: &str) -> Option<Vec<(usize, Captured<'static>)>> {
        let trie = PathTrie::new(selectors.iter().copied());
        trie.capture(message).map(|captures| {
            captures
                .into_iter()
                .map(|capture| {
                    let value = match capture.value {
                        Captured::Text(text) => Captured::Text(Cow::Owned(text.into_owned())),
                        Captured::Number(n) => Captured::Number(n),
                        Captured::Bool(b) => Captured::Bool(b),
                        Captured::Null => Captured::Null,
                        Captured::Compound => Captured::Compound,
                    };
                    (capture.selector, value)
                })
                .collect()
        })
    }

    fn key(name: &str) -> Step {
        Step::Key(name.to_string())
    }

    #[test]
    fn captures_only_selected_values_in_document_order() {
        let a_b = [key("a"), key("b")];
        let any_c = [Step::AnyMember, key("c")];
        let list_all = [key("list"), Step::AnyElement];
        let list_1 = [key("list"), Step::Index(1)];
        let message = r#"{"z": {"c": "zc"}, "a": {"b": "x\"y", "c": 2}, "list": [true, null, [1]], "skip": {"deep": [1, {"c": 0}]}}"#;
        let found = captures(&[&a_b, &any_c, &list_all, &list_1], message).unwrap();
        assert_eq!(
            found,
            vec![
                (1, Captured::Text(Cow::Borrowed("zc"))),
                (0, Captured::Text(Cow::Borrowed("x\"y"))),
                (1, Captured::Number(2.into())),
                (2, Captured::Bool(true)),
                (3, Captured::Null),
                (2, Captured::Null),
                (2, Captured::Compound),
            ]
        );
    }

    #[test]
    fn the_last_duplicate_key_wins() {
        let a = [key("a")];
        let any = [Step::AnyMember];
        let found = captures(&[&a, &any], r#"{"a": 1, "b": 2, "a": 3}"#).unwrap();
        assert_eq!(
            found,
            vec![
                (1, Captured::Number(2.into())),
                (0, Captured::Number(3.into())),
                (1, Captured::Number(3.into()))
            ]
        );
    }

    #[test]
    fn invalid_json_captures_nothing() {
        let a = [key("a")];
        assert_eq!(captures(&[&a], r#"{"a": 1"#), None);
        assert_eq!(captures(&[&a], r#"{"a": 1} extra"#), None);
        assert_eq!(captures(&[&a], r#"{"a": 1, "b": [1,]}"#), None);
        assert_eq!(captures(&[&a], "a = 1"), None);
        assert_eq!(captures(&[&a], r#"{"b": 1}"#), Some(vec![]));
    }
}
