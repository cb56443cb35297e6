//! CloudFront standard (access) logs: W3C extended format, tab-separated,
//! with `#Version` and `#Fields` header lines that drive the columns.
//!
//! Names are the W3C field names from the `#Fields` line (`cs-uri-stem`,
//! `sc-status`, `cs(User-Agent)`). Values are percent-decoded.

use std::borrow::Cow;

use crate::lexing::{convert, percent_decode, ColumnType};
use crate::record::{FieldValue, LineOutcome, Record};
use crate::timestamp::parse_iso8601;

/// The documented fields, in the order CloudFront writes them, with types.
pub const KNOWN_FIELDS: &[(&str, ColumnType)] = &[
    ("date", ColumnType::Str),
    ("time", ColumnType::Str),
    ("x-edge-location", ColumnType::Str),
    ("sc-bytes", ColumnType::Int),
    ("c-ip", ColumnType::Ip),
    ("cs-method", ColumnType::Str),
    ("cs(Host)", ColumnType::Str),
    ("cs-uri-stem", ColumnType::Str),
    ("sc-status", ColumnType::Int),
    ("cs(Referer)", ColumnType::Str),
    ("cs(User-Agent)", ColumnType::Str),
    ("cs-uri-query", ColumnType::Str),
    ("cs(Cookie)", ColumnType::Str),
    ("x-edge-result-type", ColumnType::Str),
    ("x-edge-request-id", ColumnType::Str),
    ("x-host-header", ColumnType::Str),
    ("cs-protocol", ColumnType::Str),
    ("cs-bytes", ColumnType::Int),
    ("time-taken", ColumnType::Float),
    ("x-forwarded-for", ColumnType::Str),
    ("ssl-protocol", ColumnType::Str),
    ("ssl-cipher", ColumnType::Str),
    ("x-edge-response-result-type", ColumnType::Str),
    ("cs-protocol-version", ColumnType::Str),
    ("fle-status", ColumnType::Str),
    ("fle-encrypted-fields", ColumnType::Int),
    ("c-port", ColumnType::Int),
    ("time-to-first-byte", ColumnType::Float),
    ("x-edge-detailed-result-type", ColumnType::Str),
    ("sc-content-type", ColumnType::Str),
    ("sc-content-len", ColumnType::Int),
    ("sc-range-start", ColumnType::Int),
    ("sc-range-end", ColumnType::Int),
];

#[derive(Debug, Clone)]
enum Column {
    Known(usize),
    Unknown(String),
}

/// Parser state for one CloudFront log file.
#[derive(Debug, Clone)]
pub struct CloudFrontParser {
    columns: Vec<Column>,
}

impl Default for CloudFrontParser {
    /// Until a `#Fields` line arrives, the columns are the documented 33.
    fn default() -> Self {
        CloudFrontParser {
            columns: (0..KNOWN_FIELDS.len()).map(Column::Known).collect(),
        }
    }
}

impl CloudFrontParser {
    pub fn parse_line<'a>(&mut self, line: &'a str) -> LineOutcome<'a> {
        let line = line.trim_end_matches(['\r', '\n']);
        if line.trim().is_empty() {
            return LineOutcome::Header;
        }
        if let Some(rest) = line.strip_prefix("#Fields:") {
            self.columns = rest
                .split_whitespace()
                .map(
                    |name| match KNOWN_FIELDS.iter().position(|(n, _)| *n == name) {
                        Some(i) => Column::Known(i),
                        None => Column::Unknown(name.to_string()),
                    },
                )
                .collect();
            return LineOutcome::Header;
        }
        if line.starts_with('#') {
            return LineOutcome::Header;
        }
        let mut record = Record::with_capacity(self.columns.len());
        let mut values = line.split('\t');
        let (mut date, mut time) = (None, None);
        for column in &self.columns {
            let Some(raw) = values.next() else {
                return LineOutcome::Malformed {
                    reason: "fewer tab-separated fields than #Fields lists",
                };
            };
            match column {
                Column::Known(i) => {
                    let (name, ty) = KNOWN_FIELDS[*i];
                    let value = if ty == ColumnType::Str {
                        if raw == "-" || raw.is_empty() {
                            FieldValue::Null
                        } else {
                            FieldValue::Str(percent_decode(raw))
                        }
                    } else {
                        match convert(raw, ty) {
                            Ok(v) => v,
                            Err(reason) => return LineOutcome::Malformed { reason },
                        }
                    };
                    match *i {
                        0 => date = Some(raw),
                        1 => time = Some(raw),
                        _ => {}
                    }
                    record.push(name, value);
                }
                Column::Unknown(name) => {
                    let value = if raw == "-" {
                        FieldValue::Null
                    } else {
                        FieldValue::Str(percent_decode(raw))
                    };
                    record.fields.push((Cow::Owned(name.clone()), value));
                }
            }
        }
        if values.next().is_some() {
            return LineOutcome::Malformed {
                reason: "more tab-separated fields than #Fields lists",
            };
        }
        if let (Some(d), Some(t)) = (date, time) {
            if d.len() != 10 || t.len() != 8 {
                return LineOutcome::Malformed {
                    reason: "date and time are not YYYY-MM-DD and HH:MM:SS",
                };
            }
            let mut stamp = [0u8; 19];
            stamp[..10].copy_from_slice(d.as_bytes());
            stamp[10] = b'T';
            stamp[11..].copy_from_slice(t.as_bytes());
            match std::str::from_utf8(&stamp).ok().and_then(parse_iso8601) {
                Some(ms) => record.timestamp_ms = Some(ms),
                None => {
                    return LineOutcome::Malformed {
                        reason: "date and time are not YYYY-MM-DD and HH:MM:SS",
                    }
                }
            }
        }
        LineOutcome::Record(record)
    }
}
