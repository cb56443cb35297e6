//! Formats that are not AWS's own: Apache/Nginx common and combined, syslog
//! (RFC 3164 and 5424), logfmt and space-delimited text.

use std::borrow::Cow;

use crate::lexing::{convert, is_null_token, parse_float, parse_int, ColumnType, Tokens};
use crate::record::{FieldValue, LineOutcome, Record};
use crate::timestamp::{parse_bsd_syslog, parse_iso8601};

/// Numbers become numbers and everything else stays text: for formats that
/// carry no types of their own (logfmt, space-delimited).
pub fn infer(s: &str) -> FieldValue<'_> {
    if let Some(i) = parse_int(s) {
        return FieldValue::Int(i);
    }
    if s.bytes().any(|c| c.is_ascii_digit())
        && s.contains('.')
        && s.bytes().filter(|c| *c == b'.').count() == 1
    {
        if let Some(f) = parse_float(s) {
            if f.is_finite() {
                return FieldValue::Float(f);
            }
        }
    }
    FieldValue::Str(Cow::Borrowed(s))
}

/// `host ident authuser [time] "request" status bytes` and, for combined,
/// `"referer" "user_agent"` after it.
pub fn parse_clf(line: &str, combined: bool) -> LineOutcome<'_> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() {
        return LineOutcome::Header;
    }
    let want = if combined { 9 } else { 7 };
    let mut raw = [""; 9];
    let mut tokens = Tokens::new(line);
    for slot in raw.iter_mut().take(want) {
        match tokens.next_token() {
            Some(Ok(t)) => *slot = t,
            Some(Err(reason)) => return LineOutcome::Malformed { reason },
            None => {
                return LineOutcome::Malformed {
                    reason: if combined {
                        "combined log lines have 9 fields"
                    } else {
                        "common log lines have 7 fields"
                    },
                }
            }
        }
    }
    if tokens.next_token().is_some() {
        return LineOutcome::Malformed {
            reason: if combined {
                "combined log lines have 9 fields"
            } else {
                "common log lines have 7 fields"
            },
        };
    }
    // The time must have been bracketed: CLF writes it as [dd/Mon/yyyy:…].
    let mut record = Record::with_capacity(12);
    let host = match crate::lexing::parse_ip(raw[0]) {
        Some(ip) => FieldValue::Ip(ip),
        None if is_null_token(raw[0]) => FieldValue::Null,
        None => FieldValue::str(raw[0]),
    };
    record.push("host", host);
    record.push("ident", null_or_str(raw[1]));
    record.push("authuser", null_or_str(raw[2]));
    match convert(raw[3], ColumnType::Clf) {
        Ok(v) => {
            record.timestamp_ms = v.as_i64();
            record.push("timestamp", v);
        }
        Err(reason) => return LineOutcome::Malformed { reason },
    }
    record.push("request", null_or_str(raw[4]));
    let mut request = raw[4].splitn(3, ' ');
    for name in ["method", "path", "protocol"] {
        record.push(
            name,
            request.next().map(null_or_str).unwrap_or(FieldValue::Null),
        );
    }
    for (name, text) in [("status", raw[5]), ("bytes", raw[6])] {
        match convert(text, ColumnType::Int) {
            Ok(v) => record.push(name, v),
            Err(reason) => return LineOutcome::Malformed { reason },
        }
    }
    if combined {
        record.push("referer", null_or_str(raw[7]));
        record.push("user_agent", null_or_str(raw[8]));
    }
    LineOutcome::Record(record)
}

fn null_or_str(s: &str) -> FieldValue<'_> {
    if is_null_token(s) {
        FieldValue::Null
    } else {
        FieldValue::str(s)
    }
}

fn priority(line: &str) -> Option<(i64, &str)> {
    let rest = line.strip_prefix('<')?;
    let close = rest.find('>')?;
    if close == 0 || close > 3 {
        return None;
    }
    let pri = parse_int(&rest[..close])?;
    if !(0..=191).contains(&pri) {
        return None;
    }
    Some((pri, &rest[close + 1..]))
}

fn push_priority(record: &mut Record<'_>, pri: Option<i64>) {
    if let Some(p) = pri {
        record.push("priority", FieldValue::Int(p));
        record.push("facility", FieldValue::Int(p / 8));
        record.push("severity", FieldValue::Int(p % 8));
    }
}

/// RFC 3164: `<34>Oct 11 22:14:15 mymachine su[123]: message`. The line has
/// no year; `year` supplies it.
pub fn parse_syslog_3164(line: &str, year: i64) -> LineOutcome<'_> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() {
        return LineOutcome::Header;
    }
    let (pri, rest) = match priority(line) {
        Some((p, r)) => (Some(p), r),
        None => (None, line),
    };
    let bad = LineOutcome::Malformed {
        reason: "RFC 3164 lines are '[<pri>]Mmm dd hh:mm:ss host tag: message'",
    };
    let Some(stamp) = rest.get(..15) else {
        return bad;
    };
    let Some(t) = parse_bsd_syslog(stamp, year) else {
        return bad;
    };
    let rest = &rest[15..];
    let Some(rest) = rest.strip_prefix(' ') else {
        return bad;
    };
    let (host, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    let mut record = Record::with_capacity(9);
    push_priority(&mut record, pri);
    record.push("timestamp", FieldValue::Timestamp(t));
    record.timestamp_ms = Some(t);
    record.push("hostname", FieldValue::str(host));
    // The tag is `app[pid]:` or `app:`; without one the rest is all message.
    let tag_end = rest.find(": ").filter(|&i| !rest[..i].contains(' '));
    match tag_end {
        Some(i) => {
            let tag = &rest[..i];
            let (app, pid) = match tag.split_once('[') {
                Some((a, p)) => (a, p.strip_suffix(']')),
                None => (tag, None),
            };
            record.push("appName", FieldValue::str(app));
            if let Some(pid) = pid {
                record.push("procId", infer(pid));
            }
            record.push("message", FieldValue::str(&rest[i + 2..]));
        }
        None => record.push("message", FieldValue::str(rest)),
    }
    LineOutcome::Record(record)
}

/// RFC 5424: `<34>1 2003-10-11T22:14:15.003Z host app procid msgid [sd] message`.
pub fn parse_syslog_5424(line: &str) -> LineOutcome<'_> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() {
        return LineOutcome::Header;
    }
    let bad = LineOutcome::Malformed {
        reason: "RFC 5424 lines are '<pri>version time host app procid msgid sd message'",
    };
    let Some((pri, rest)) = priority(line) else {
        return bad;
    };
    let mut parts = rest.splitn(7, ' ');
    let (Some(version), Some(time), Some(host), Some(app), Some(procid), Some(msgid)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return bad;
    };
    let Some(version) = parse_int(version).filter(|v| (1..=99).contains(v)) else {
        return bad;
    };
    let t = if time == "-" {
        None
    } else {
        match parse_iso8601(time) {
            Some(t) => Some(t),
            None => return bad,
        }
    };
    let rest = parts.next().unwrap_or("");
    // Structured data is `-` or one or more `[id k="v" …]` elements.
    let (sd, message) = if let Some(after) = rest.strip_prefix("- ") {
        ("-", after)
    } else if rest == "-" {
        ("-", "")
    } else if rest.starts_with('[') {
        let mut end = None;
        let b = rest.as_bytes();
        let mut in_quotes = false;
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'\\' if in_quotes => i += 1,
                b'"' => in_quotes = !in_quotes,
                b']' if !in_quotes && b.get(i + 1) != Some(&b'[') => {
                    end = Some(i + 1);
                    break;
                }
                _ => {}
            }
            i += 1;
        }
        let Some(end) = end else { return bad };
        (&rest[..end], rest[end..].trim_start())
    } else {
        return bad;
    };
    let message = message.strip_prefix('\u{feff}').unwrap_or(message);
    let mut record = Record::with_capacity(11);
    push_priority(&mut record, Some(pri));
    record.push("version", FieldValue::Int(version));
    record.push(
        "timestamp",
        t.map(FieldValue::Timestamp).unwrap_or(FieldValue::Null),
    );
    record.timestamp_ms = t;
    record.push("hostname", null_or_str(host));
    record.push("appName", null_or_str(app));
    record.push(
        "procId",
        if procid == "-" {
            FieldValue::Null
        } else {
            infer(procid)
        },
    );
    record.push("msgId", null_or_str(msgid));
    record.push("structuredData", null_or_str(sd));
    record.push("message", FieldValue::str(message));
    LineOutcome::Record(record)
}

/// logfmt: `key=value key="quoted value" bare`. Bare keys are `true`.
pub fn parse_logfmt(line: &str) -> LineOutcome<'_> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() {
        return LineOutcome::Header;
    }
    let mut record = Record::with_capacity(12);
    let mut pairs = 0;
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let key_start = i;
        while i < b.len() && b[i] != b'=' && b[i] != b' ' {
            if b[i] == b'"' || b[i] == b'{' || b[i] == b'}' || b[i] < 0x20 {
                return LineOutcome::Malformed {
                    reason: "logfmt keys have no quotes, braces or control characters",
                };
            }
            i += 1;
        }
        let key = &line[key_start..i];
        if i >= b.len() || b[i] == b' ' {
            record
                .fields
                .push((Cow::Borrowed(key), FieldValue::Bool(true)));
            continue;
        }
        i += 1; // '='
        if key.is_empty() {
            return LineOutcome::Malformed {
                reason: "logfmt pair without a key",
            };
        }
        let value = if b.get(i) == Some(&b'"') {
            let start = i + 1;
            let mut j = start;
            let mut escaped = false;
            while j < b.len() && b[j] != b'"' {
                if b[j] == b'\\' {
                    escaped = true;
                    j += 1;
                }
                j += 1;
            }
            if j >= b.len() {
                return LineOutcome::Malformed {
                    reason: "unterminated quoted logfmt value",
                };
            }
            let text = &line[start..j];
            i = j + 1;
            if escaped {
                FieldValue::Str(Cow::Owned(unescape(text)))
            } else {
                FieldValue::Str(Cow::Borrowed(text))
            }
        } else {
            let start = i;
            while i < b.len() && b[i] != b' ' {
                i += 1;
            }
            let text = &line[start..i];
            if text.is_empty() {
                FieldValue::Null
            } else {
                infer(text)
            }
        };
        pairs += 1;
        record.fields.push((Cow::Borrowed(key), value));
    }
    if pairs == 0 {
        return LineOutcome::Malformed {
            reason: "logfmt lines have at least one key=value pair",
        };
    }
    for name in ["ts", "time", "timestamp", "t"] {
        if let Some(t) = record.get_str(name).and_then(parse_iso8601) {
            record.timestamp_ms = Some(t);
            break;
        }
    }
    LineOutcome::Record(record)
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Writes a logfmt line; the inverse of [`parse_logfmt`] for text that is not a number.
pub fn format_logfmt(record: &Record<'_>, out: &mut String) {
    use std::fmt::Write;
    for (i, (k, v)) in record.fields.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        match v {
            FieldValue::Bool(true) => out.push_str(k),
            FieldValue::Null => {
                let _ = write!(out, "{k}=");
            }
            FieldValue::Str(s) => {
                let needs_quotes = s.is_empty() || s.contains([' ', '"', '=', '\\']);
                if needs_quotes {
                    let _ = write!(out, "{k}=\"");
                    for c in s.chars() {
                        match c {
                            '"' => out.push_str("\\\""),
                            '\\' => out.push_str("\\\\"),
                            '\n' => out.push_str("\\n"),
                            '\t' => out.push_str("\\t"),
                            c => out.push(c),
                        }
                    }
                    out.push('"');
                } else {
                    let _ = write!(out, "{k}={s}");
                }
            }
            other => {
                let _ = write!(out, "{k}={other}");
            }
        }
    }
}

const FIELD_NAMES: [&str; 64] = [
    "field1", "field2", "field3", "field4", "field5", "field6", "field7", "field8", "field9",
    "field10", "field11", "field12", "field13", "field14", "field15", "field16", "field17",
    "field18", "field19", "field20", "field21", "field22", "field23", "field24", "field25",
    "field26", "field27", "field28", "field29", "field30", "field31", "field32", "field33",
    "field34", "field35", "field36", "field37", "field38", "field39", "field40", "field41",
    "field42", "field43", "field44", "field45", "field46", "field47", "field48", "field49",
    "field50", "field51", "field52", "field53", "field54", "field55", "field56", "field57",
    "field58", "field59", "field60", "field61", "field62", "field63", "field64",
];

/// Space-separated values named `field1`, `field2`, … with quotes and
/// brackets grouping, the way CloudWatch space-delimited filter patterns read them.
pub fn parse_space_delimited(line: &str) -> LineOutcome<'_> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() {
        return LineOutcome::Header;
    }
    let mut record = Record::with_capacity(16);
    let mut tokens = Tokens::new(line);
    let mut n = 0;
    while let Some(tok) = tokens.next_token() {
        let tok = match tok {
            Ok(t) => t,
            Err(reason) => return LineOutcome::Malformed { reason },
        };
        let value = if tok == "-" {
            FieldValue::Null
        } else {
            infer(tok)
        };
        match FIELD_NAMES.get(n) {
            Some(name) => record.push(name, value),
            None => record.push_owned_name(format!("field{}", n + 1), value),
        }
        n += 1;
    }
    LineOutcome::Record(record)
}
