//! Reading real trail files (`{"Records":[…]}`) one record at a time, so a many-GB file never has
//! to fit in memory.

use std::fmt;
use std::io::Read;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// Why a trail file could not be read (records already passed to the callback stay passed).
#[derive(Debug)]
pub struct TrailFileError(pub String);

impl fmt::Display for TrailFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TrailFileError {}

/// What the callback says after each record.
pub enum Flow {
    Continue,
    Stop,
}

/// Streams the elements of the top-level `Records` array to `each`. Returns the number of
/// elements seen. Other top-level members are skipped; a document without `Records` is an error.
pub fn read_trail_records<R: Read>(
    reader: R,
    mut each: impl FnMut(Value) -> Flow,
) -> Result<u64, TrailFileError> {
    let mut deserializer =
        serde_json::Deserializer::from_reader(std::io::BufReader::with_capacity(1 << 16, reader));
    let visitor = DocumentVisitor {
        each: &mut each,
        count: 0,
    };
    let count = deserializer
        .deserialize_map(visitor)
        .map_err(|e| TrailFileError(format!("not a CloudTrail log file: {e}")))?;
    match count {
        Some(count) => Ok(count),
        None => Err(TrailFileError(
            "not a CloudTrail log file: no \"Records\" array".to_string(),
        )),
    }
}

struct DocumentVisitor<'a, F> {
    each: &'a mut F,
    count: u64,
}

impl<'de, F: FnMut(Value) -> Flow> Visitor<'de> for DocumentVisitor<'_, F> {
    type Value = Option<u64>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object with a \"Records\" array")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Option<u64>, A::Error> {
        let mut found = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "Records" && !found {
                found = true;
                let seed = RecordsSeed {
                    each: &mut *self.each,
                    count: &mut self.count,
                };
                map.next_value_seed(seed)?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found.then_some(self.count))
    }
}

struct RecordsSeed<'a, F> {
    each: &'a mut F,
    count: &'a mut u64,
}

impl<'de, F: FnMut(Value) -> Flow> DeserializeSeed<'de> for RecordsSeed<'_, F> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, F: FnMut(Value) -> Flow> Visitor<'de> for RecordsSeed<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of CloudTrail records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut stopped = false;
        while let Some(record) = seq.next_element::<Value>()? {
            if stopped {
                continue;
            }
            *self.count += 1;
            if let Flow::Stop = (self.each)(record) {
                stopped = true;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn collect(text: &[u8]) -> Result<Vec<Value>, TrailFileError> {
        let mut out = Vec::new();
        read_trail_records(text, |v| {
            out.push(v);
            Flow::Continue
        })?;
        Ok(out)
    }

    #[test]
    fn reads_records_and_skips_other_members() {
        let records =
            collect(br#"{"Other": {"x": [1,2]}, "Records": [{"eventID": "a"}, {"eventID": "b"}]}"#)
                .unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[1]["eventID"], "b");
    }

    #[test]
    fn refuses_documents_without_records() {
        assert!(collect(br#"{"records": []}"#).is_err());
        assert!(collect(br#"[1, 2]"#).is_err());
        assert!(collect(b"").is_err());
        assert!(collect(br#"{"Records": [{"a": 1}, "#).is_err());
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = collect(&bytes);
        }

        #[test]
        fn never_panics_on_json_like_text(text in r#"\{("Records"|"x")?:? ?\[?(\{"eventID":"[a-z]*"\},?)*\]?\}?"#) {
            if let Ok(records) = collect(text.as_bytes()) {
                for record in records {
                    let _ = crate::record::AuditRecord::from_trail_json(record);
                }
            }
        }
    }
}
