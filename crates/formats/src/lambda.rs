//! Lambda text logs: platform lines (`START`, `END`, `REPORT`, `INIT_START`, …)
//! and runtime-formatted application lines.
//!
//! REPORT fields carry the names Logs Insights discovers (`@duration`,
//! `@billedDuration`, `@maxMemoryUsed`, …). Like Insights, `@memorySize` and
//! `@maxMemoryUsed` are bytes (the line's MB × 1,000,000), so queries written
//! for Insights (`@maxMemoryUsed / 1000 / 1000`) give the same numbers.

use std::borrow::Cow;

use crate::lexing::{parse_float, parse_int};
use crate::record::{FieldValue, LineOutcome, Record};
use crate::timestamp::parse_iso8601;

const PLATFORM_TYPES: &[&str] = &[
    "START",
    "END",
    "REPORT",
    "INIT_START",
    "INIT_REPORT",
    "RESTORE_START",
    "RESTORE_REPORT",
    "EXTENSION",
    "TELEMETRY",
];

enum Kind {
    Text,
    Float,
    Int,
    MegabytesAsBytes,
    Bool,
}

fn label_field(label: &str) -> Option<(&'static str, Kind)> {
    Some(match label {
        "RequestId" => ("@requestId", Kind::Text),
        "Version" => ("@version", Kind::Text),
        "Duration" => ("@duration", Kind::Float),
        "Billed Duration" => ("@billedDuration", Kind::Int),
        "Memory Size" => ("@memorySize", Kind::MegabytesAsBytes),
        "Max Memory Used" => ("@maxMemoryUsed", Kind::MegabytesAsBytes),
        "Init Duration" => ("@initDuration", Kind::Float),
        "Restore Duration" => ("@restoreDuration", Kind::Float),
        "Billed Restore Duration" => ("@billedRestoreDuration", Kind::Int),
        "XRAY TraceId" => ("@xrayTraceId", Kind::Text),
        "SegmentId" => ("@xraySegmentId", Kind::Text),
        "Sampled" => ("@xraySampled", Kind::Bool),
        "Status" => ("@status", Kind::Text),
        "Error Type" => ("@errorType", Kind::Text),
        "Phase" => ("@phase", Kind::Text),
        "Runtime Version" => ("@runtimeVersion", Kind::Text),
        "Runtime Version ARN" => ("@runtimeVersionArn", Kind::Text),
        _ => return None,
    })
}

pub fn parse(line: &str) -> LineOutcome<'_> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() {
        return LineOutcome::Header;
    }
    let first = line.split([' ', '\t']).next().unwrap_or("");
    if PLATFORM_TYPES.contains(&first) {
        return parse_platform(first, &line[first.len()..]);
    }
    parse_application(line)
}

fn parse_platform<'a>(kind: &'a str, rest: &'a str) -> LineOutcome<'a> {
    let mut record = Record::with_capacity(10);
    record.push("@type", FieldValue::str(kind));
    let mut rest = rest;
    loop {
        rest = rest.trim_start_matches([' ', '\t', '\n', '\r']);
        if rest.is_empty() {
            break;
        }
        let Some(colon) = rest.find(": ") else {
            return LineOutcome::Malformed {
                reason: "Lambda platform line field without `Label: value`",
            };
        };
        let label = rest[..colon].trim();
        rest = &rest[colon + 2..];
        let end = rest.find([' ', '\t', '\n']).unwrap_or(rest.len());
        let value = &rest[..end];
        rest = &rest[end..];
        // Units follow numbers after one space.
        let trimmed = rest.trim_start_matches(' ');
        if trimmed.starts_with("ms") || trimmed.starts_with("MB") {
            rest = &trimmed[2..];
        }
        let Some((name, kind)) = label_field(label) else {
            let mut owned = String::from("@");
            let mut upper = false;
            for (i, c) in label.chars().enumerate() {
                if c == ' ' {
                    upper = true;
                } else if upper {
                    owned.extend(c.to_uppercase());
                    upper = false;
                } else if i == 0 {
                    owned.extend(c.to_lowercase());
                } else {
                    owned.push(c);
                }
            }
            record.push_owned_name(owned, FieldValue::str(value));
            continue;
        };
        let v = match kind {
            Kind::Text => FieldValue::str(value),
            Kind::Float => match parse_float(value) {
                Some(f) => FieldValue::Float(f),
                None => {
                    return LineOutcome::Malformed {
                        reason: "expected a duration",
                    }
                }
            },
            Kind::Int => match parse_int(value) {
                Some(i) => FieldValue::Int(i),
                None => match parse_float(value) {
                    Some(f) => FieldValue::Float(f),
                    None => {
                        return LineOutcome::Malformed {
                            reason: "expected a duration",
                        }
                    }
                },
            },
            Kind::MegabytesAsBytes => match parse_int(value).and_then(|m| m.checked_mul(1_000_000))
            {
                Some(b) => FieldValue::Int(b),
                None => {
                    return LineOutcome::Malformed {
                        reason: "expected a memory size in MB",
                    }
                }
            },
            Kind::Bool => FieldValue::Bool(value == "true"),
        };
        record.push(name, v);
    }
    if record.get("@requestId").is_none() && matches!(kind, "START" | "END" | "REPORT") {
        return LineOutcome::Malformed {
            reason: "START, END and REPORT lines carry a RequestId",
        };
    }
    LineOutcome::Record(record)
}

/// `2019-06-07T19:11:20.562Z\t<request id>\tINFO\tmessage` (Node.js, Java, .NET)
/// or `[INFO]\t2019-06-07T19:11:20.562Z\t<request id>\tmessage` (Python).
fn parse_application(line: &str) -> LineOutcome<'_> {
    let mut parts = line.splitn(4, '\t');
    let (a, b, c) = match (parts.next(), parts.next(), parts.next()) {
        (Some(a), Some(b), Some(c)) => (a, b, c),
        _ => {
            return LineOutcome::Malformed {
                reason: "not a Lambda platform or runtime log line",
            }
        }
    };
    let rest = parts.next().unwrap_or("");
    let (time, request_id, level, message) = if a.starts_with('[') && a.ends_with(']') {
        (b, c, &a[1..a.len() - 1], rest)
    } else if rest.is_empty() && !c.is_empty() && !is_level(c) {
        // Runtimes without a level: time, request id, message.
        (a, b, "", c)
    } else {
        (a, b, c, rest)
    };
    let Some(t) = parse_iso8601(time) else {
        return LineOutcome::Malformed {
            reason: "not a Lambda platform or runtime log line",
        };
    };
    if !looks_like_request_id(request_id) {
        return LineOutcome::Malformed {
            reason: "Lambda runtime lines carry a request id",
        };
    }
    let mut record = Record::with_capacity(4);
    record.push("timestamp", FieldValue::Timestamp(t));
    record.push("@requestId", FieldValue::str(request_id));
    if !level.is_empty() {
        record.push("level", FieldValue::str(level));
    }
    record.push("message", FieldValue::Str(Cow::Borrowed(message)));
    record.timestamp_ms = Some(t);
    LineOutcome::Record(record)
}

fn is_level(s: &str) -> bool {
    matches!(
        s,
        "TRACE" | "DEBUG" | "INFO" | "WARN" | "WARNING" | "ERROR" | "FATAL" | "CRITICAL"
    )
}

pub fn looks_like_request_id(s: &str) -> bool {
    s.len() >= 32 && s.len() <= 40 && s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
}
