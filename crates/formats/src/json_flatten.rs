//! JSON objects flattened into dotted field names the way CloudWatch Logs
//! Insights discovers them (`httpRequest.clientIp`, arrays as `labels.0.name`).
//!
//! The flattening happens while serde_json reads the text, without building a
//! `serde_json::Value` tree, and string values without escapes borrow from the
//! line: the JSON formats are the slowest ones, and a tree plus a copy per
//! value doubled the cost.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::record::{FieldValue, Record};

type Fields<'a> = Vec<(Cow<'a, str>, FieldValue<'a>)>;

/// Parses one JSON object into flattened fields. `Err` when the text is not a
/// single JSON object.
pub fn flatten_object(text: &str) -> Result<Record<'_>, &'static str> {
    let trimmed = text.trim();
    if !trimmed.starts_with('{') {
        return Err("not a JSON object");
    }
    let mut fields = Vec::with_capacity(24);
    let mut de = serde_json::Deserializer::from_str(trimmed);
    let seed = Flatten {
        prefix: None,
        out: &mut fields,
    };
    seed.deserialize(&mut de).map_err(|_| "invalid JSON")?;
    de.end()
        .map_err(|_| "trailing characters after the JSON object")?;
    Ok(Record {
        fields,
        timestamp_ms: None,
    })
}

/// Flattens an already-parsed value (CloudTrail records from a trail file).
pub fn flatten_value(value: &serde_json::Value) -> Record<'static> {
    let mut record = Record::with_capacity(32);
    flatten_value_into(None, value, &mut record.fields);
    record
}

fn flatten_value_into(prefix: Option<&str>, value: &serde_json::Value, out: &mut Fields<'static>) {
    use serde_json::Value;
    let name = || Cow::Owned(prefix.unwrap_or("").to_string());
    match value {
        Value::Null => out.push((name(), FieldValue::Null)),
        Value::Bool(b) => out.push((name(), FieldValue::Bool(*b))),
        Value::Number(n) => out.push((name(), number_value(n))),
        Value::String(s) => out.push((name(), FieldValue::Str(Cow::Owned(s.clone())))),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let key = join(prefix, &i.to_string());
                flatten_value_into(Some(&key), item, out);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                let key = join(prefix, k);
                flatten_value_into(Some(&key), v, out);
            }
        }
    }
}

fn number_value(n: &serde_json::Number) -> FieldValue<'static> {
    if let Some(i) = n.as_i64() {
        FieldValue::Int(i)
    } else {
        FieldValue::Float(n.as_f64().unwrap_or(f64::NAN))
    }
}

fn join(prefix: Option<&str>, key: &str) -> String {
    match prefix {
        None => key.to_string(),
        Some(p) => {
            let mut s = String::with_capacity(p.len() + 1 + key.len());
            s.push_str(p);
            s.push('.');
            s.push_str(key);
            s
        }
    }
}

struct Flatten<'r, 'a> {
    /// Dotted path of the value being read; `None` at the top level.
    prefix: Option<Cow<'a, str>>,
    out: &'r mut Fields<'a>,
}

impl<'r, 'a> Flatten<'r, 'a> {
    /// Stores a leaf value under the path, moving the path rather than copying it.
    fn emit(self, value: FieldValue<'a>) {
        let name = self.prefix.unwrap_or(Cow::Borrowed(""));
        self.out.push((name, value));
    }
}

impl<'de, 'r> DeserializeSeed<'de> for Flatten<'r, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// A key as serde_json hands it over: borrowed unless it had escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

impl<'de, 'r> Visitor<'de> for Flatten<'r, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.emit(FieldValue::Bool(v));
        Ok(())
    }

    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.emit(FieldValue::Int(v));
        Ok(())
    }

    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        let value = i64::try_from(v)
            .map(FieldValue::Int)
            .unwrap_or(FieldValue::Float(v as f64));
        self.emit(value);
        Ok(())
    }

    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.emit(FieldValue::Float(v));
        Ok(())
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<(), E> {
        self.emit(FieldValue::Str(Cow::Borrowed(v)));
        Ok(())
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.emit(FieldValue::Str(Cow::Owned(v.to_string())));
        Ok(())
    }

    fn visit_string<E>(self, v: String) -> Result<(), E> {
        self.emit(FieldValue::Str(Cow::Owned(v)));
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        self.emit(FieldValue::Null);
        Ok(())
    }

    fn visit_none<E>(self) -> Result<(), E> {
        self.emit(FieldValue::Null);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0usize;
        loop {
            let key = join(self.prefix.as_deref(), &i.to_string());
            let seed = Flatten {
                prefix: Some(Cow::Owned(key)),
                out: &mut *self.out,
            };
            if seq.next_element_seed(seed)?.is_none() {
                break;
            }
            i += 1;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            let path = match &self.prefix {
                None => key,
                Some(p) => Cow::Owned(join(Some(p), &key)),
            };
            let seed = Flatten {
                prefix: Some(path),
                out: &mut *self.out,
            };
            map.next_value_seed(seed)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattens_nested_objects_and_arrays() {
        let r = flatten_object(r#"{"a":1,"b":{"c":"x","d":[true,null,{"e":2.5}]},"s":"q\"uote"}"#)
            .unwrap();
        assert_eq!(r.get("a"), Some(&FieldValue::Int(1)));
        assert_eq!(r.get_str("b.c"), Some("x"));
        assert_eq!(r.get("b.d.0"), Some(&FieldValue::Bool(true)));
        assert_eq!(r.get("b.d.1"), Some(&FieldValue::Null));
        assert_eq!(r.get("b.d.2.e"), Some(&FieldValue::Float(2.5)));
        assert_eq!(r.get_str("s"), Some("q\"uote"));
        assert!(matches!(
            r.get("b.c"),
            Some(FieldValue::Str(Cow::Borrowed(_)))
        ));
    }

    #[test]
    fn rejects_non_objects_and_trailing_text() {
        assert!(flatten_object("[1]").is_err());
        assert!(flatten_object("{\"a\":1} x").is_err());
        assert!(flatten_object("{\"a\":").is_err());
    }

    #[test]
    fn value_flattening_matches_streaming() {
        let text = r#"{"a":{"b":[1,"x"]},"c":false}"#;
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(
            flatten_value(&v),
            flatten_object(text).unwrap().into_owned()
        );
    }
}
