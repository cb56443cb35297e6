//! Route 53 public DNS query logs (space-delimited, delivered to CloudWatch Logs).
//! Names are the ones Logs Insights discovers.

use crate::lexing::ColumnType::*;
use crate::positional::{self, Column, Column::*, Layout};
use crate::record::LineOutcome;

pub const COLUMNS: &[Column] = &[
    Plain("version", Str),
    Plain("queryTimestamp", Iso8601),
    Plain("hostZoneId", Str),
    Plain("queryName", Str),
    Plain("queryType", Str),
    Plain("responseCode", Str),
    Plain("protocol", Str),
    Plain("edgeLocation", Str),
    Plain("resolverIp", Ip),
    Plain("ednsClientSubnet", Str),
];

pub const LAYOUT: Layout = Layout {
    columns: COLUMNS,
    required: 10,
    time_field: "queryTimestamp",
};

pub fn parse(line: &str) -> LineOutcome<'_> {
    let outcome = positional::parse(&LAYOUT, line);
    if let LineOutcome::Record(r) = &outcome {
        let version_ok = r
            .get_str("version")
            .is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit()) && v.contains('.'));
        let protocol_ok = matches!(r.get_str("protocol"), Some("UDP" | "TCP"));
        if !version_ok || !protocol_ok {
            return LineOutcome::Malformed {
                reason: "Route 53 query logs start with a version and carry UDP or TCP",
            };
        }
    }
    outcome
}
