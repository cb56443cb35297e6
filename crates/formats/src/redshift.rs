//! Amazon Redshift audit logs: connection log, user log, user activity log.
//!
//! The connection and user logs are `|`-separated, space-padded rows of
//! STL_CONNECTION_LOG and STL_USERLOG; fields carry those tables' column names.

use crate::lexing::{parse_int, parse_ip};
use crate::record::{FieldValue, LineOutcome, Record};
use crate::timestamp::{parse_iso8601, parse_redshift};

#[derive(Clone, Copy)]
enum Ty {
    Str,
    Int,
    Time,
    Host,
}

const CONNECTION_COLUMNS: &[(&str, Ty)] = &[
    ("event", Ty::Str),
    ("recordtime", Ty::Time),
    ("remotehost", Ty::Host),
    ("remoteport", Ty::Int),
    ("pid", Ty::Int),
    ("dbname", Ty::Str),
    ("username", Ty::Str),
    ("authmethod", Ty::Str),
    ("duration", Ty::Int),
    ("sslversion", Ty::Str),
    ("sslcipher", Ty::Str),
    ("mtu", Ty::Int),
    ("sslcompression", Ty::Str),
    ("sslexpansion", Ty::Str),
    ("iamauthguid", Ty::Str),
    ("application_name", Ty::Str),
    ("os_version", Ty::Str),
    ("driver_version", Ty::Str),
    ("plugin_name", Ty::Str),
    ("protocol_version", Ty::Str),
    ("sessionid", Ty::Str),
    ("compression", Ty::Str),
];

const USER_COLUMNS: &[(&str, Ty)] = &[
    ("userid", Ty::Int),
    ("username", Ty::Str),
    ("oldusername", Ty::Str),
    ("action", Ty::Str),
    ("usecreatedb", Ty::Int),
    ("usesuper", Ty::Int),
    ("usecatupd", Ty::Int),
    ("valuntil", Ty::Str),
    ("pid", Ty::Int),
    ("xid", Ty::Int),
    ("recordtime", Ty::Time),
];

fn parse_piped<'a>(
    line: &'a str,
    columns: &[(&'static str, Ty)],
    required: usize,
) -> Result<Record<'a>, &'static str> {
    let mut record = Record::with_capacity(columns.len());
    let mut parts = line.split('|');
    for (i, (name, ty)) in columns.iter().enumerate() {
        let Some(raw) = parts.next() else {
            if i >= required {
                break;
            }
            return Err("fewer |-separated fields than the log has");
        };
        let text = raw.trim();
        let value = if text.is_empty() {
            FieldValue::Null
        } else {
            match ty {
                Ty::Str => FieldValue::str(text),
                Ty::Int => FieldValue::Int(parse_int(text).ok_or("expected an integer")?),
                Ty::Time => {
                    let t = parse_redshift(text).ok_or("expected a Redshift record time")?;
                    record.timestamp_ms = Some(t);
                    FieldValue::Timestamp(t)
                }
                Ty::Host => parse_ip(text)
                    .map(FieldValue::Ip)
                    .unwrap_or(FieldValue::str(text)),
            }
        };
        record.push(name, value);
    }
    Ok(record)
}

pub fn parse_connection(line: &str) -> LineOutcome<'_> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() {
        return LineOutcome::Header;
    }
    match parse_piped(line, CONNECTION_COLUMNS, 8) {
        Ok(r) if r.timestamp_ms.is_some() => LineOutcome::Record(r),
        Ok(_) => LineOutcome::Malformed {
            reason: "connection log rows carry a recordtime",
        },
        Err(reason) => LineOutcome::Malformed { reason },
    }
}

pub fn parse_user(line: &str) -> LineOutcome<'_> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() {
        return LineOutcome::Header;
    }
    match parse_piped(line, USER_COLUMNS, USER_COLUMNS.len()) {
        Ok(r) if r.timestamp_ms.is_some() => LineOutcome::Record(r),
        Ok(_) => LineOutcome::Malformed {
            reason: "user log rows carry a recordtime",
        },
        Err(reason) => LineOutcome::Malformed { reason },
    }
}

/// `'2018-07-09T23:23:13Z UTC [ db=dev user=rdsdb pid=16750 userid=1 xid=5301 ]' LOG: select 1;`
pub fn parse_user_activity(line: &str) -> LineOutcome<'_> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() {
        return LineOutcome::Header;
    }
    let bad = LineOutcome::Malformed {
        reason: "user activity lines start with '<time> UTC [ db=… user=… pid=… userid=… xid=… ]'",
    };
    let Some(rest) = line.strip_prefix('\'') else {
        return bad;
    };
    let Some(close) = rest.find(" ]'") else {
        return bad;
    };
    let head = &rest[..close];
    let query = rest[close + 3..].trim_start();
    let query = query.strip_prefix("LOG:").unwrap_or(query).trim_start();
    let Some((time, context)) = head.split_once(" [ ") else {
        return bad;
    };
    let time = time.trim_end_matches(" UTC");
    let Some(t) = parse_iso8601(time) else {
        return bad;
    };
    let mut record = Record::with_capacity(8);
    record.push("recordtime", FieldValue::Timestamp(t));
    record.timestamp_ms = Some(t);
    for pair in context.split_whitespace() {
        let Some((k, v)) = pair.split_once('=') else {
            return bad;
        };
        let (name, value) = match k {
            "db" => ("db", FieldValue::str(v)),
            "user" => ("user", FieldValue::str(v)),
            "pid" | "userid" | "xid" => {
                let name = match k {
                    "pid" => "pid",
                    "userid" => "userid",
                    _ => "xid",
                };
                match parse_int(v) {
                    Some(i) => (name, FieldValue::Int(i)),
                    None => return bad,
                }
            }
            _ => {
                record.push_owned_name(k.to_string(), FieldValue::str(v));
                continue;
            }
        };
        record.push(name, value);
    }
    record.push("query", FieldValue::str(query));
    LineOutcome::Record(record)
}
