//! VPC Flow Logs, text format, default (v2) and custom field lists (v2–v8).
//!
//! Field names follow CloudWatch Logs Insights where it discovers them
//! (`srcAddr`, `startTime`, `logStatus`, …) and the camelCase of the documented
//! `kebab-case` name otherwise (`pkt-src-aws-service` → `pktSrcAwsService`).

use std::borrow::Cow;

use crate::lexing::{convert, ColumnType};
use crate::record::{FieldValue, LineOutcome, Record};

/// One documented field: its name in the `--log-format`/header, its record name, type, and version.
pub struct FlowField {
    pub header: &'static str,
    pub name: &'static str,
    pub ty: ColumnType,
    pub version: u8,
}

macro_rules! ff {
    ($h:literal, $n:literal, $t:ident, $v:literal) => {
        FlowField {
            header: $h,
            name: $n,
            ty: ColumnType::$t,
            version: $v,
        }
    };
}

/// Every field of the "Available fields" table, in its order.
pub const FLOW_FIELDS: &[FlowField] = &[
    ff!("version", "version", Int, 2),
    ff!("account-id", "accountId", Str, 2),
    ff!("interface-id", "interfaceId", Str, 2),
    ff!("srcaddr", "srcAddr", Ip, 2),
    ff!("dstaddr", "dstAddr", Ip, 2),
    ff!("srcport", "srcPort", Int, 2),
    ff!("dstport", "dstPort", Int, 2),
    ff!("protocol", "protocol", Int, 2),
    ff!("packets", "packets", Int, 2),
    ff!("bytes", "bytes", Int, 2),
    ff!("start", "startTime", EpochSeconds, 2),
    ff!("end", "endTime", EpochSeconds, 2),
    ff!("action", "action", Str, 2),
    ff!("log-status", "logStatus", Str, 2),
    ff!("vpc-id", "vpcId", Str, 3),
    ff!("subnet-id", "subnetId", Str, 3),
    ff!("instance-id", "instanceId", Str, 3),
    ff!("tcp-flags", "tcpFlags", Int, 3),
    ff!("type", "type", Str, 3),
    ff!("pkt-srcaddr", "pktSrcAddr", Ip, 3),
    ff!("pkt-dstaddr", "pktDstAddr", Ip, 3),
    ff!("region", "region", Str, 4),
    ff!("az-id", "azId", Str, 4),
    ff!("sublocation-type", "sublocationType", Str, 4),
    ff!("sublocation-id", "sublocationId", Str, 4),
    ff!("pkt-src-aws-service", "pktSrcAwsService", Str, 5),
    ff!("pkt-dst-aws-service", "pktDstAwsService", Str, 5),
    ff!("flow-direction", "flowDirection", Str, 5),
    ff!("traffic-path", "trafficPath", Int, 5),
    ff!("ecs-cluster-arn", "ecsClusterArn", Str, 7),
    ff!("ecs-cluster-name", "ecsClusterName", Str, 7),
    ff!(
        "ecs-container-instance-arn",
        "ecsContainerInstanceArn",
        Str,
        7
    ),
    ff!(
        "ecs-container-instance-id",
        "ecsContainerInstanceId",
        Str,
        7
    ),
    ff!("ecs-container-id", "ecsContainerId", Str, 7),
    ff!("ecs-second-container-id", "ecsSecondContainerId", Str, 7),
    ff!("ecs-service-name", "ecsServiceName", Str, 7),
    ff!("ecs-task-definition-arn", "ecsTaskDefinitionArn", Str, 7),
    ff!("ecs-task-arn", "ecsTaskArn", Str, 7),
    ff!("ecs-task-id", "ecsTaskId", Str, 7),
    ff!("reject-reason", "rejectReason", Str, 8),
];

// Positions in FLOW_FIELDS of the fields the parser checks.
const START: usize = 10;
const END: usize = 11;
const ACTION: usize = 12;
const LOG_STATUS: usize = 13;

/// The default format is the first 14 (version 2) fields.
pub const DEFAULT_FIELD_COUNT: usize = 14;

#[derive(Debug, Clone)]
enum Column {
    Known(usize),
    /// A header name this crate does not know (a field AWS added later): kept as a string.
    Unknown(String),
}

/// Parser state for one flow log file: the column list from its header line,
/// or the default format until a header says otherwise.
#[derive(Debug, Clone)]
pub struct VpcFlowParser {
    columns: Vec<Column>,
}

impl Default for VpcFlowParser {
    fn default() -> Self {
        VpcFlowParser {
            columns: (0..DEFAULT_FIELD_COUNT).map(Column::Known).collect(),
        }
    }
}

pub fn kebab_to_camel(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut upper = false;
    for c in s.chars() {
        if c == '-' || c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

impl VpcFlowParser {
    /// A parser for a custom format given as the `--log-format` string
    /// (`${version} ${vpc-id} …`) or as the header row (`version vpc-id …`).
    pub fn with_format(format: &str) -> Option<Self> {
        let columns = parse_header(format)?;
        Some(VpcFlowParser { columns })
    }

    pub fn parse_line<'a>(&mut self, line: &'a str) -> LineOutcome<'a> {
        let line = line.trim_end_matches(['\r', '\n']);
        if line.trim().is_empty() {
            return LineOutcome::Header;
        }
        // S3 delivery starts each file with the field list (and a concatenation
        // of files repeats it); it never starts with a digit or `-`, so it
        // cannot be a record.
        if looks_like_header(line) {
            if let Some(columns) = parse_header(line) {
                self.columns = columns;
                return LineOutcome::Header;
            }
        }
        let mut record = Record::with_capacity(self.columns.len());
        // A byte loop rather than `split`: flow log tokens average six bytes,
        // too short for a memchr call per token to pay off.
        let bytes = line.as_bytes();
        let mut pos = 0;
        let mut next_token = || -> Option<&'a str> {
            while pos < bytes.len() && bytes[pos] == b' ' {
                pos += 1;
            }
            if pos == bytes.len() {
                return None;
            }
            let start = pos;
            pos = space_or_end(bytes, pos);
            Some(&line[start..pos])
        };
        let (mut start, mut end) = (None, None);
        for column in &self.columns {
            let Some(tok) = next_token() else {
                return LineOutcome::Malformed {
                    reason: "fewer fields than the flow log format",
                };
            };
            match column {
                Column::Known(i) => {
                    let f = &FLOW_FIELDS[*i];
                    let v = match convert(tok, f.ty) {
                        Ok(v) => v,
                        Err(reason) => return LineOutcome::Malformed { reason },
                    };
                    // Checked here rather than looked up afterwards: this is
                    // the hot loop of the most voluminous AWS log.
                    match (*i, &v) {
                        (START, FieldValue::Timestamp(t)) => start = Some(*t),
                        (END, FieldValue::Timestamp(t)) => end = Some(*t),
                        (ACTION, FieldValue::Str(s))
                            if !matches!(s.as_ref(), "ACCEPT" | "REJECT") =>
                        {
                            return LineOutcome::Malformed {
                                reason: "action is not ACCEPT or REJECT",
                            }
                        }
                        (LOG_STATUS, FieldValue::Str(s))
                            if !matches!(s.as_ref(), "OK" | "NODATA" | "SKIPDATA") =>
                        {
                            return LineOutcome::Malformed {
                                reason: "log-status is not OK, NODATA or SKIPDATA",
                            }
                        }
                        _ => {}
                    }
                    record.push(f.name, v);
                }
                Column::Unknown(name) => {
                    let v = if tok == "-" {
                        FieldValue::Null
                    } else {
                        FieldValue::Str(Cow::Borrowed(tok))
                    };
                    record.push_owned_name(kebab_to_camel(name), v);
                }
            }
        }
        if next_token().is_some() {
            return LineOutcome::Malformed {
                reason: "more fields than the flow log format",
            };
        }
        record.timestamp_ms = start.or(end);
        LineOutcome::Record(record)
    }
}

/// Index of the first space at or after `from`, or `bytes.len()`. Eight
/// bytes at a time (the SWAR zero-byte test on `word ^ 0x2020…`), since the
/// per-byte loop was a fifth of the flow log parse time.
#[inline]
fn space_or_end(bytes: &[u8], mut from: usize) -> usize {
    const SPACES: u64 = 0x2020_2020_2020_2020;
    const LOW: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    while from + 8 <= bytes.len() {
        let mut chunk = [0u8; 8];
        chunk.copy_from_slice(&bytes[from..from + 8]);
        let x = u64::from_le_bytes(chunk) ^ SPACES;
        let found = x.wrapping_sub(LOW) & !x & HIGH;
        if found != 0 {
            return from + (found.trailing_zeros() / 8) as usize;
        }
        from += 8;
    }
    while from < bytes.len() && bytes[from] != b' ' {
        from += 1;
    }
    from
}

fn looks_like_header(line: &str) -> bool {
    let starts_lower = line
        .bytes()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == b'$');
    starts_lower
        && (line.contains("version")
            || line.contains("srcaddr")
            || line.contains("interface-id")
            || line.contains("log-status")
            || line.contains("action"))
}

fn parse_header(line: &str) -> Option<Vec<Column>> {
    let mut columns = Vec::new();
    let mut known = 0;
    for name in line.split_whitespace() {
        let name = name
            .strip_prefix("${")
            .and_then(|n| n.strip_suffix('}'))
            .unwrap_or(name);
        if !name
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c == b'-' || c.is_ascii_digit())
        {
            return None;
        }
        match FLOW_FIELDS.iter().position(|f| f.header == name) {
            Some(i) => {
                known += 1;
                columns.push(Column::Known(i));
            }
            None => columns.push(Column::Unknown(name.to_string())),
        }
    }
    // At least half the names must be documented ones, so that ordinary
    // lowercase text is not mistaken for a header.
    if columns.is_empty() || known * 2 < columns.len() {
        return None;
    }
    Some(columns)
}

/// Writes a record back in the given column order (the inverse of parsing),
/// used by the round-trip tests and the benchmark generator.
pub fn format_record(headers: &[&str], record: &Record<'_>, out: &mut String) {
    use std::fmt::Write;
    for (i, h) in headers.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let name = FLOW_FIELDS
            .iter()
            .find(|f| f.header == *h)
            .map(|f| Cow::Borrowed(f.name))
            .unwrap_or_else(|| Cow::Owned(kebab_to_camel(h)));
        match record.get(&name) {
            None | Some(FieldValue::Null) => out.push('-'),
            Some(FieldValue::Timestamp(t)) => {
                let _ = write!(out, "{}", t / 1000);
            }
            Some(v) => {
                let _ = write!(out, "{v}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::space_or_end;

    #[test]
    fn space_scan_matches_a_byte_loop() {
        let text = b"ab cdefghijklm nopq  r stuvwxyz0123456789 ";
        for from in 0..text.len() {
            for end in from..=text.len() {
                let slice = &text[..end];
                let want = (from..slice.len())
                    .find(|&i| slice[i] == b' ')
                    .unwrap_or(slice.len());
                assert_eq!(space_or_end(slice, from), want, "{from} {end}");
            }
        }
    }
}
