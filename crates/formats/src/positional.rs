//! A driver for space-delimited formats whose columns are fixed by position
//! (S3 access, ELB classic, ALB, NLB, Route 53 public query logs).

use crate::lexing::{
    convert, is_null_token, parse_int, parse_ip, split_host_port, ColumnType, Tokens,
};
use crate::record::{FieldValue, LineOutcome, Record};

#[derive(Debug, Clone, Copy)]
pub enum Column {
    /// One token into one typed field.
    Plain(&'static str, ColumnType),
    /// `ip:port` into two fields (`-` makes both null).
    HostPort(&'static str, &'static str),
    /// `"METHOD url PROTO"` kept whole under the name and also split into
    /// `<name>_verb`, `<name>_url`, `<name>_proto` names given here.
    Request(&'static str, [&'static str; 3]),
}

pub struct Layout {
    pub columns: &'static [Column],
    /// Columns up to this count must be present; later ones were added by AWS
    /// over time and are absent from older files.
    pub required: usize,
    /// The column whose timestamp becomes the record time.
    pub time_field: &'static str,
}

pub fn parse<'a>(layout: &Layout, line: &'a str) -> LineOutcome<'a> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.is_empty() {
        return LineOutcome::Header;
    }
    let mut tokens = Tokens::new(line);
    let mut record = Record::with_capacity(layout.columns.len() + 6);
    for (i, column) in layout.columns.iter().enumerate() {
        let tok = match tokens.next_token() {
            Some(Ok(t)) => t,
            Some(Err(reason)) => return LineOutcome::Malformed { reason },
            None if i >= layout.required => break,
            None => {
                return LineOutcome::Malformed {
                    reason: "fewer fields than the format has",
                }
            }
        };
        match *column {
            Column::Plain(name, ty) => match convert(tok, ty) {
                Ok(v) => record.push(name, v),
                Err(reason) => return LineOutcome::Malformed { reason },
            },
            Column::HostPort(ip_name, port_name) => {
                if is_null_token(tok) {
                    record.push(ip_name, FieldValue::Null);
                    record.push(port_name, FieldValue::Null);
                    continue;
                }
                let Some((host, port)) = split_host_port(tok) else {
                    return LineOutcome::Malformed {
                        reason: "expected ip:port",
                    };
                };
                let (Some(ip), Some(port)) = (parse_ip(host), parse_int(port)) else {
                    return LineOutcome::Malformed {
                        reason: "expected ip:port",
                    };
                };
                record.push(ip_name, FieldValue::Ip(ip));
                record.push(port_name, FieldValue::Int(port));
            }
            Column::Request(name, parts) => {
                record.push(name, FieldValue::str(tok));
                let mut pieces = tok.splitn(3, ' ');
                for part_name in parts {
                    let v = match pieces.next().map(str::trim) {
                        Some(p) if !is_null_token(p) => FieldValue::str(p),
                        _ => FieldValue::Null,
                    };
                    record.push(part_name, v);
                }
            }
        }
    }
    // Later fields AWS may append are ignored, as its documentation asks.
    record.timestamp_ms = match record.get(layout.time_field) {
        Some(FieldValue::Timestamp(t)) => Some(*t),
        _ => None,
    };
    LineOutcome::Record(record)
}

/// Writes a record in a layout's column order: the inverse of [`parse`] for
/// records it produced. `quoted` lists the columns AWS wraps in double quotes.
pub fn format(layout: &Layout, quoted: &[&str], record: &Record<'_>, out: &mut String) {
    use std::fmt::Write;
    let text = |out: &mut String, name: &str, is_quoted: bool, ty: ColumnType| {
        let value = record.get(name);
        if is_quoted {
            out.push('"');
        }
        match value {
            None | Some(FieldValue::Null) => out.push('-'),
            Some(FieldValue::Timestamp(t)) => match ty {
                ColumnType::Clf => {
                    out.push('[');
                    crate::timestamp::format_clf(*t, out);
                    out.push(']');
                }
                ColumnType::EpochSeconds => {
                    let _ = write!(out, "{}", t / 1000);
                }
                _ => crate::timestamp::format_iso8601(*t, true, out),
            },
            Some(FieldValue::Float(f)) => {
                let _ = write!(out, "{f:?}");
            }
            Some(v) => {
                let _ = write!(out, "{v}");
            }
        }
        if is_quoted {
            out.push('"');
        }
    };
    for (i, column) in layout.columns.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        match *column {
            Column::Plain(name, ty) => text(out, name, quoted.contains(&name), ty),
            Column::Request(name, _) => text(out, name, true, ColumnType::Str),
            Column::HostPort(ip_name, port_name) => {
                match (record.get(ip_name), record.get(port_name)) {
                    (Some(FieldValue::Ip(ip)), Some(FieldValue::Int(port))) => {
                        if ip.is_ipv6() {
                            let _ = write!(out, "[{ip}]:{port}");
                        } else {
                            let _ = write!(out, "{ip}:{port}");
                        }
                    }
                    _ => out.push('-'),
                }
            }
        }
    }
}
