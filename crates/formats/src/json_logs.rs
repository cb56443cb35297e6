//! AWS formats that are one JSON object per event: WAF, Route 53 Resolver,
//! CloudTrail, Lambda's JSON log format, API Gateway JSON access logs, EMF,
//! and plain JSON.
//!
//! Every one is flattened by [`crate::json_flatten`]; this module checks the
//! keys that identify the format and retypes the time and address fields.

use std::borrow::Cow;

use crate::json_flatten::{flatten_object, flatten_value};
use crate::lexing::{parse_int, parse_ip};
use crate::record::{FieldValue, LineOutcome, Record};
use crate::timestamp::{parse_clf, parse_iso8601};

fn has(record: &Record<'_>, name: &str) -> bool {
    record.get(name).is_some()
}

fn has_prefix(record: &Record<'_>, prefix: &str) -> bool {
    record
        .fields
        .iter()
        .any(|(n, _)| n.starts_with(prefix) && n.as_bytes().get(prefix.len()) == Some(&b'.'))
}

fn field_mut<'r, 'a>(record: &'r mut Record<'a>, name: &str) -> Option<&'r mut FieldValue<'a>> {
    record
        .fields
        .iter_mut()
        .find(|(n, _)| n.as_ref() == name)
        .map(|(_, v)| v)
}

/// Retypes a string field holding an ISO 8601 time; returns the time.
fn retype_iso(record: &mut Record<'_>, name: &str) -> Option<i64> {
    let v = field_mut(record, name)?;
    let t = parse_iso8601(v.as_str()?)?;
    *v = FieldValue::Timestamp(t);
    Some(t)
}

/// Retypes an epoch-milliseconds number; returns the time.
fn retype_epoch_ms(record: &mut Record<'_>, name: &str) -> Option<i64> {
    let v = field_mut(record, name)?;
    let t = match v {
        FieldValue::Int(i) => *i,
        FieldValue::Str(s) => parse_int(s)?,
        _ => return None,
    };
    *v = FieldValue::Timestamp(t);
    Some(t)
}

/// Retypes a string holding an IP address; other strings stay strings
/// (CloudTrail's `sourceIPAddress` is often a service name).
fn retype_ip(record: &mut Record<'_>, name: &str) {
    if let Some(v) = field_mut(record, name) {
        if let Some(ip) = v.as_str().and_then(parse_ip) {
            *v = FieldValue::Ip(ip);
        }
    }
}

fn retype_int(record: &mut Record<'_>, name: &str) {
    if let Some(v) = field_mut(record, name) {
        if let Some(i) = v.as_str().and_then(parse_int) {
            *v = FieldValue::Int(i);
        }
    }
}

macro_rules! flatten_or_malformed {
    ($line:expr) => {{
        let line = $line.trim();
        if line.is_empty() {
            return LineOutcome::Header;
        }
        match flatten_object(line) {
            Ok(r) => r,
            Err(reason) => return LineOutcome::Malformed { reason },
        }
    }};
}

/// AWS WAF web ACL traffic logs.
pub fn parse_waf(line: &str) -> LineOutcome<'_> {
    let mut record = flatten_or_malformed!(line);
    if !has(&record, "webaclId") || !has_prefix(&record, "httpRequest") {
        return LineOutcome::Malformed {
            reason: "WAF logs have webaclId and httpRequest",
        };
    }
    record.timestamp_ms = retype_epoch_ms(&mut record, "timestamp");
    retype_ip(&mut record, "httpRequest.clientIp");
    LineOutcome::Record(record)
}

/// Route 53 Resolver (VPC DNS) query logs.
pub fn parse_route53_resolver(line: &str) -> LineOutcome<'_> {
    let mut record = flatten_or_malformed!(line);
    if !has(&record, "query_name") || !has(&record, "query_timestamp") || !has(&record, "srcaddr") {
        return LineOutcome::Malformed {
            reason: "Resolver query logs have query_name, query_timestamp and srcaddr",
        };
    }
    record.timestamp_ms = retype_iso(&mut record, "query_timestamp");
    retype_ip(&mut record, "srcaddr");
    retype_int(&mut record, "srcport");
    LineOutcome::Record(record)
}

fn finish_cloudtrail(record: &mut Record<'_>) -> bool {
    if !has(record, "eventVersion") || !has(record, "eventTime") {
        return false;
    }
    record.timestamp_ms = retype_iso(record, "eventTime");
    retype_ip(record, "sourceIPAddress");
    true
}

/// One CloudTrail record, as CloudTrail delivers it to CloudWatch Logs.
pub fn parse_cloudtrail_record(line: &str) -> LineOutcome<'_> {
    let trimmed = line.trim_start();
    if trimmed.starts_with("{\"Records\"") {
        return LineOutcome::Malformed {
            reason: "a CloudTrail trail file is a whole document: read it with cloudtrail_records",
        };
    }
    let mut record = flatten_or_malformed!(line);
    if !finish_cloudtrail(&mut record) {
        return LineOutcome::Malformed {
            reason: "CloudTrail records have eventVersion and eventTime",
        };
    }
    LineOutcome::Record(record)
}

/// Error reading a CloudTrail trail file.
#[derive(Debug)]
pub struct TrailFileError(pub String);

impl std::fmt::Display for TrailFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not a CloudTrail trail file: {}", self.0)
    }
}

impl std::error::Error for TrailFileError {}

/// The `Records` array of a trail file (`{"Records":[…]}`), one value per event.
pub fn cloudtrail_records(doc: &[u8]) -> Result<Vec<serde_json::Value>, TrailFileError> {
    let file: serde_json::Value =
        serde_json::from_slice(doc).map_err(|e| TrailFileError(e.to_string()))?;
    match file {
        serde_json::Value::Object(mut map) => match map.remove("Records") {
            Some(serde_json::Value::Array(records)) => Ok(records),
            _ => Err(TrailFileError("no Records array".to_string())),
        },
        _ => Err(TrailFileError("not a JSON object".to_string())),
    }
}

/// A trail file's records, typed like [`parse_cloudtrail_record`] output.
/// Records lacking `eventVersion`/`eventTime` are still returned, untimed.
pub fn cloudtrail_file_records(doc: &[u8]) -> Result<Vec<Record<'static>>, TrailFileError> {
    Ok(cloudtrail_records(doc)?
        .iter()
        .map(|v| {
            let mut r = flatten_value(v);
            finish_cloudtrail(&mut r);
            r
        })
        .collect())
}

/// Lambda's JSON log format: platform events (`{"time","type":"platform.report","record"}`)
/// and application lines (`{"timestamp","level","requestId","message"}`).
/// REPORT events also get the `@`-fields Logs Insights discovers for text REPORT lines.
pub fn parse_lambda_json(line: &str) -> LineOutcome<'_> {
    let mut record = flatten_or_malformed!(line);
    let platform = record.get_str("type").is_some_and(|t| {
        t.starts_with("platform.") || t.starts_with("extension") || t == "function"
    });
    if platform && has(&record, "time") {
        record.timestamp_ms = retype_iso(&mut record, "time");
        if record.get_str("type") == Some("platform.report") {
            add_report_fields(&mut record);
        }
        return LineOutcome::Record(record);
    }
    if has(&record, "timestamp") && has(&record, "level") && has(&record, "requestId") {
        record.timestamp_ms = retype_iso(&mut record, "timestamp");
        return LineOutcome::Record(record);
    }
    LineOutcome::Malformed {
        reason: "Lambda JSON logs have time+type (platform) or timestamp+level+requestId",
    }
}

fn add_report_fields(record: &mut Record<'_>) {
    let num = |r: &Record<'_>, n: &str| match r.get(n) {
        Some(FieldValue::Int(i)) => Some(*i as f64),
        Some(FieldValue::Float(f)) => Some(*f),
        _ => None,
    };
    let mut extra: Vec<(&'static str, FieldValue<'static>)> =
        vec![("@type", FieldValue::Str(Cow::Borrowed("REPORT")))];
    if let Some(id) = record.get_str("record.requestId") {
        extra.push(("@requestId", FieldValue::Str(Cow::Owned(id.to_string()))));
    }
    if let Some(d) = num(record, "record.metrics.durationMs") {
        extra.push(("@duration", FieldValue::Float(d)));
    }
    if let Some(d) = num(record, "record.metrics.billedDurationMs") {
        extra.push(("@billedDuration", FieldValue::Int(d as i64)));
    }
    // Megabytes to bytes; a number too large for that is left out rather
    // than wrapped (the fuzzer found one).
    let bytes = |mb: f64| (mb as i64).checked_mul(1_000_000).map(FieldValue::Int);
    if let Some(m) = num(record, "record.metrics.memorySizeMB").and_then(bytes) {
        extra.push(("@memorySize", m));
    }
    if let Some(m) = num(record, "record.metrics.maxMemoryUsedMB").and_then(bytes) {
        extra.push(("@maxMemoryUsed", m));
    }
    if let Some(d) = num(record, "record.metrics.initDurationMs") {
        extra.push(("@initDuration", FieldValue::Float(d)));
    }
    if let Some(t) = record.get_str("record.tracing.value") {
        let trace = t.split(';').next().unwrap_or(t);
        let trace = trace.strip_prefix("Root=").unwrap_or(trace);
        extra.push((
            "@xrayTraceId",
            FieldValue::Str(Cow::Owned(trace.to_string())),
        ));
    }
    for (n, v) in extra {
        record.push(n, v);
    }
}

/// API Gateway access logs written with a JSON `$context` template.
pub fn parse_api_gateway_json(line: &str) -> LineOutcome<'_> {
    let mut record = flatten_or_malformed!(line);
    let method = has(&record, "httpMethod") || has(&record, "routeKey");
    if !has(&record, "requestId") || !method {
        return LineOutcome::Malformed {
            reason: "API Gateway JSON access logs have requestId and httpMethod or routeKey",
        };
    }
    retype_ip(&mut record, "ip");
    retype_ip(&mut record, "sourceIp");
    retype_int(&mut record, "status");
    retype_int(&mut record, "responseLength");
    if let Some(v) = field_mut(&mut record, "requestTime") {
        if let Some(t) = v.as_str().and_then(parse_clf) {
            *v = FieldValue::Timestamp(t);
            record.timestamp_ms = Some(t);
        }
    }
    if record.timestamp_ms.is_none() {
        record.timestamp_ms = retype_epoch_ms(&mut record, "requestTimeEpoch");
    }
    LineOutcome::Record(record)
}

/// CloudWatch Embedded Metric Format: recognised by its `_aws.CloudWatchMetrics`
/// directive and stored as flattened JSON.
pub fn parse_emf(line: &str) -> LineOutcome<'_> {
    let mut record = flatten_or_malformed!(line);
    if !has_prefix(&record, "_aws.CloudWatchMetrics") {
        return LineOutcome::Malformed {
            reason: "EMF events have _aws.CloudWatchMetrics",
        };
    }
    record.timestamp_ms = retype_epoch_ms(&mut record, "_aws.Timestamp");
    LineOutcome::Record(record)
}

/// Any JSON object; a top-level `timestamp`/`time`/`@timestamp`/`ts` that is an
/// ISO 8601 string or epoch milliseconds becomes the record time.
pub fn parse_json(line: &str) -> LineOutcome<'_> {
    let mut record = flatten_or_malformed!(line);
    for name in ["@timestamp", "timestamp", "time", "ts", "eventTime"] {
        let Some(v) = field_mut(&mut record, name) else {
            continue;
        };
        let t = match v {
            FieldValue::Str(s) => parse_iso8601(s),
            // Numbers this large are milliseconds; smaller ones are seconds.
            FieldValue::Int(i) if *i > 100_000_000_000 => Some(*i),
            FieldValue::Int(i) if *i > 0 => i.checked_mul(1000),
            _ => None,
        };
        if let Some(t) = t {
            *v = FieldValue::Timestamp(t);
            record.timestamp_ms = Some(t);
            break;
        }
    }
    LineOutcome::Record(record)
}
