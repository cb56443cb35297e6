//! Field discovery: the system fields every event has, plus the fields Logs
//! Insights finds on its own in JSON messages, Lambda REPORT lines and VPC
//! flow log records.

use serde_json::Value as Json;
use watchtrail_formats::{FieldValue, FormatKind, LineOutcome, LineParser};

use crate::json_walk::{self, WalkOutcome};
use crate::value::Value;
use crate::Event;

/// Logs Insights stops discovering JSON fields after this many per event;
/// the rest can still be reached with `parse`.
pub const MAX_JSON_FIELDS: usize = 200;

/// Fields every event has, whatever its message.
pub const SYSTEM_FIELDS: [&str; 5] = [
    "@timestamp",
    "@message",
    "@logStream",
    "@log",
    "@ingestionTime",
];

pub struct FieldExtractor;

impl FieldExtractor {
    /// All fields of one event, system fields first, in a stable order.
    /// `wanted`: `None` discovers every field; `Some(names)` only those
    /// names (an empty list means system fields only). Restricting changes
    /// nothing but the cost: the 200-field JSON budget still counts every
    /// field in document order.
    pub fn extract(event: &Event<'_>, wanted: Option<&[String]>) -> Vec<(String, Value)> {
        let mut fields = Vec::with_capacity(8);
        fields.push(("@timestamp".to_string(), Value::Time(event.timestamp_ms)));
        fields.push((
            "@message".to_string(),
            Value::Str(event.message.to_string()),
        ));
        fields.push((
            "@logStream".to_string(),
            Value::Str(event.log_stream.to_string()),
        ));
        fields.push(("@log".to_string(), Value::Str(event.log_group.to_string())));
        fields.push((
            "@ingestionTime".to_string(),
            Value::Time(event.ingestion_time_ms),
        ));
        if wanted.is_some_and(|w| w.is_empty()) {
            return fields;
        }
        let message = event.message.trim();
        if message.starts_with('{') {
            let fast = match wanted {
                Some(names) => json_walk::flatten_wanted(message, names, &mut fields),
                None => WalkOutcome::NeedsValuePath,
            };
            match fast {
                WalkOutcome::Done => return fields,
                WalkOutcome::Invalid => {}
                WalkOutcome::NeedsValuePath => {
                    if let Ok(json) = serde_json::from_str::<Json>(message) {
                        flatten_json(&json, &mut fields, wanted);
                        return fields;
                    }
                }
            }
        }
        if ["REPORT RequestId:", "START RequestId:", "END RequestId:"]
            .iter()
            .any(|p| message.starts_with(p))
        {
            discover_lambda_platform(message, &mut fields);
        } else if message.starts_with("2 ") {
            discover_vpc_flow(message, &mut fields);
        } else if message.starts_with("1.0 ") {
            discover_route53(message, &mut fields);
        } else if event.log_group.contains("/aws/lambda/") {
            // Lambda application lines put JSON after a text prefix
            // (`<time> <request id> INFO {...}`); only the first JSON
            // fragment of the event is discovered.
            if let Some(brace) = message.find('{') {
                let mut stream =
                    serde_json::Deserializer::from_str(&message[brace..]).into_iter::<Json>();
                if let Some(Ok(json @ Json::Object(_))) = stream.next() {
                    flatten_json(&json, &mut fields, wanted);
                }
            }
        }
        fields
    }
}

#[cfg(test)]
pub(crate) fn flatten_json_for_tests(
    json: &Json,
    out: &mut Vec<(String, Value)>,
    wanted: Option<&[String]>,
) {
    flatten_json(json, out, wanted)
}

fn flatten_json(json: &Json, out: &mut Vec<(String, Value)>, wanted: Option<&[String]>) {
    let Json::Object(map) = json else { return };
    let mut budget = MAX_JSON_FIELDS;
    for (key, value) in map {
        // A discovered name that already starts with `@` would shadow a
        // system field, so Logs Insights shows it as `@@name`.
        let name = if key.starts_with('@') {
            format!("@{key}")
        } else {
            key.clone()
        };
        flatten_value(&name, value, out, &mut budget, wanted);
    }
}

/// Fields a subtree would produce, for the budget of skipped subtrees.
fn count_leaves(value: &Json) -> usize {
    match value {
        Json::Object(map) => map.values().map(count_leaves).sum(),
        Json::Array(items) => items.iter().map(count_leaves).sum(),
        Json::Null => 0,
        _ => 1,
    }
}

fn flatten_value(
    prefix: &str,
    value: &Json,
    out: &mut Vec<(String, Value)>,
    budget: &mut usize,
    wanted: Option<&[String]>,
) {
    if *budget == 0 {
        return;
    }
    if let Some(names) = wanted {
        let needed = match value {
            Json::Object(_) | Json::Array(_) => names.iter().any(|n| {
                n.len() > prefix.len()
                    && n.starts_with(prefix)
                    && n.as_bytes()[prefix.len()] == b'.'
            }),
            _ => names.iter().any(|n| n == prefix),
        };
        if !needed {
            *budget = budget.saturating_sub(count_leaves(value));
            return;
        }
    }
    match value {
        Json::Object(map) => {
            for (k, v) in map {
                flatten_value(&format!("{prefix}.{k}"), v, out, budget, wanted);
            }
        }
        Json::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                flatten_value(&format!("{prefix}.{i}"), v, out, budget, wanted);
            }
        }
        Json::Null => {}
        // Kept as the text the message shows, so `filter ok = "true"` works.
        Json::Bool(b) => push(out, budget, prefix, Value::Str(b.to_string())),
        Json::Number(n) => {
            let v = match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            };
            push(out, budget, prefix, v)
        }
        Json::String(s) => push(out, budget, prefix, Value::Str(s.clone())),
    }
}

fn push(out: &mut Vec<(String, Value)>, budget: &mut usize, name: &str, value: Value) {
    out.push((name.to_string(), value));
    *budget -= 1;
}

/// Lambda platform lines: REPORT carries the documented duration and memory
/// fields; START and END carry `@type` and `@requestId`.
fn discover_lambda_platform(message: &str, out: &mut Vec<(String, Value)>) {
    let mut parser = LineParser::new(FormatKind::Lambda);
    if let LineOutcome::Record(record) = parser.parse_line(message) {
        for (name, value) in &record.fields {
            if name.starts_with('@') {
                if let Some(v) = convert(value, false) {
                    out.push((name.to_string(), v));
                }
            }
        }
    }
}

/// The default (version 2) flow log format, the one Logs Insights
/// recognises without a `parse`.
fn discover_vpc_flow(message: &str, out: &mut Vec<(String, Value)>) {
    if message.split_ascii_whitespace().count() != 14 {
        return;
    }
    let mut parser = LineParser::new(FormatKind::VpcFlow);
    if let LineOutcome::Record(record) = parser.parse_line(message) {
        for (name, value) in &record.fields {
            if let Some(v) = convert(value, true) {
                out.push((name.to_string(), v));
            }
        }
    }
}

/// Route 53 public DNS query logs (version 1.0, ten fields).
fn discover_route53(message: &str, out: &mut Vec<(String, Value)>) {
    let tokens: Vec<&str> = message.split_ascii_whitespace().collect();
    if tokens.len() != 10 {
        return;
    }
    let mut parser = LineParser::new(FormatKind::Route53Public);
    if let LineOutcome::Record(record) = parser.parse_line(message) {
        for (name, value) in &record.fields {
            let v = match value {
                // Shown as written in the record, not reformatted.
                FieldValue::Timestamp(_) if name == "queryTimestamp" => {
                    Some(Value::Str(tokens[1].to_string()))
                }
                v => convert(v, false),
            };
            if let Some(v) = v {
                out.push((name.to_string(), v));
            }
        }
    }
}

/// `epoch_seconds`: flow log start/end are epoch seconds in the record and
/// Logs Insights shows them that way, not as dates.
fn convert(value: &FieldValue<'_>, epoch_seconds: bool) -> Option<Value> {
    Some(match value {
        FieldValue::Null => return None,
        FieldValue::Bool(b) => Value::Bool(*b),
        FieldValue::Int(i) => Value::Int(*i),
        FieldValue::Float(f) => Value::Float(*f),
        FieldValue::Timestamp(t) if epoch_seconds => Value::Int(t.div_euclid(1000)),
        FieldValue::Timestamp(t) => Value::Time(*t),
        FieldValue::Ip(ip) => Value::Str(ip.to_string()),
        FieldValue::Str(s) => Value::Str(s.to_string()),
    })
}
