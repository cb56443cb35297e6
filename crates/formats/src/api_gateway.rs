//! API Gateway logs: access logs in the console's CLF template, and execution
//! log lines (`(request-id) message`). JSON access logs are in `json_logs`.
//!
//! CLF fields carry the key names of the console's JSON template (`ip`,
//! `requestTime`, `httpMethod`, …) so both templates query alike.

use crate::lexing::{convert, ColumnType, Tokens};
use crate::record::{FieldValue, LineOutcome, Record};

/// `$context.identity.sourceIp $context.identity.caller $context.identity.user
/// [$context.requestTime] "$context.httpMethod $context.resourcePath $context.protocol"
/// $context.status $context.responseLength $context.requestId`
pub fn parse_clf(line: &str) -> LineOutcome<'_> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() {
        return LineOutcome::Header;
    }
    let mut tokens = Tokens::new(line);
    let mut raw = [""; 8];
    for slot in raw.iter_mut() {
        match tokens.next_token() {
            Some(Ok(t)) => *slot = t,
            Some(Err(reason)) => return LineOutcome::Malformed { reason },
            None => {
                return LineOutcome::Malformed {
                    reason: "API Gateway CLF lines have 8 fields",
                }
            }
        }
    }
    if tokens.next_token().is_some() {
        return LineOutcome::Malformed {
            reason: "API Gateway CLF lines have 8 fields",
        };
    }
    let mut record = Record::with_capacity(10);
    let typed: [(&'static str, ColumnType, &str); 5] = [
        ("ip", ColumnType::Ip, raw[0]),
        ("caller", ColumnType::Str, raw[1]),
        ("user", ColumnType::Str, raw[2]),
        ("requestTime", ColumnType::Clf, raw[3]),
        ("status", ColumnType::Int, raw[5]),
    ];
    for (name, ty, text) in typed.iter().take(4) {
        match convert(text, *ty) {
            Ok(v) => record.push(name, v),
            Err(reason) => return LineOutcome::Malformed { reason },
        }
    }
    let mut request = raw[4].splitn(3, ' ');
    for name in ["httpMethod", "resourcePath", "protocol"] {
        match request.next() {
            Some(p) if p != "-" => record.push(name, FieldValue::str(p)),
            _ => record.push(name, FieldValue::Null),
        }
    }
    match convert(raw[5], ColumnType::Int) {
        Ok(v) => record.push(typed[4].0, v),
        Err(reason) => return LineOutcome::Malformed { reason },
    }
    match convert(raw[6], ColumnType::Int) {
        Ok(v) => record.push("responseLength", v),
        Err(reason) => return LineOutcome::Malformed { reason },
    }
    if !crate::lambda::looks_like_request_id(raw[7]) {
        return LineOutcome::Malformed {
            reason: "API Gateway CLF lines end with the request id",
        };
    }
    record.push("requestId", FieldValue::str(raw[7]));
    record.timestamp_ms = record.get("requestTime").and_then(FieldValue::as_i64);
    LineOutcome::Record(record)
}

/// Execution log lines as API Gateway writes them to
/// `API-Gateway-Execution-Logs_{api-id}/{stage}`: `(request-id) message`.
pub fn parse_execution(line: &str) -> LineOutcome<'_> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() {
        return LineOutcome::Header;
    }
    let Some(rest) = line.strip_prefix('(') else {
        return LineOutcome::Malformed {
            reason: "execution log lines start with (request-id)",
        };
    };
    let Some(close) = rest.find(')') else {
        return LineOutcome::Malformed {
            reason: "execution log lines start with (request-id)",
        };
    };
    let id = &rest[..close];
    if !crate::lambda::looks_like_request_id(id) {
        return LineOutcome::Malformed {
            reason: "execution log lines start with (request-id)",
        };
    }
    let message = rest[close + 1..].trim_start();
    let mut record = Record::with_capacity(2);
    record.push("requestId", FieldValue::str(id));
    record.push("message", FieldValue::str(message));
    LineOutcome::Record(record)
}
