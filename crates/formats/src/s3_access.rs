//! Amazon S3 server access logs (space-delimited text delivered to a bucket).
//!
//! Names are the snake_case of the documented column headings ("Bucket owner"
//! → `bucket_owner`, "Turn-Around Time" → `turn_around_time`), the names of
//! AWS's Athena table for these logs.

use crate::lexing::ColumnType::*;
use crate::positional::{self, Column, Column::*, Layout};
use crate::record::LineOutcome;

pub const COLUMNS: &[Column] = &[
    Plain("bucket_owner", Str),
    Plain("bucket", Str),
    Plain("time", Clf),
    Plain("remote_ip", Ip),
    Plain("requester", Str),
    Plain("request_id", Str),
    Plain("operation", Str),
    Plain("key", Str),
    Request(
        "request_uri",
        ["request_verb", "request_url", "request_proto"],
    ),
    Plain("http_status", Int),
    Plain("error_code", Str),
    Plain("bytes_sent", Int),
    Plain("object_size", Int),
    Plain("total_time", Int),
    Plain("turn_around_time", Int),
    Plain("referer", Str),
    Plain("user_agent", Str),
    Plain("version_id", Str),
    Plain("host_id", Str),
    Plain("signature_version", Str),
    Plain("cipher_suite", Str),
    Plain("authentication_type", Str),
    Plain("host_header", Str),
    Plain("tls_version", Str),
    Plain("access_point_arn", Str),
    Plain("acl_required", Str),
    Plain("source_region", Str),
];

pub const LAYOUT: Layout = Layout {
    columns: COLUMNS,
    // Through user_agent: the fields of the oldest published format.
    required: 17,
    time_field: "time",
};

pub fn parse(line: &str) -> LineOutcome<'_> {
    let outcome = positional::parse(&LAYOUT, line);
    if let LineOutcome::Record(r) = &outcome {
        // The operation is SOAP.x, REST.x, WEBSITE.x or BATCH.DELETE.OBJECT;
        // checking it keeps other bracketed-time formats out.
        let op = r.get_str("operation").unwrap_or("");
        if !(op.starts_with("REST.")
            || op.starts_with("SOAP.")
            || op.starts_with("WEBSITE.")
            || op.starts_with("BATCH.")
            || op.starts_with("S3."))
        {
            return LineOutcome::Malformed {
                reason: "S3 operation is not REST.*, SOAP.*, WEBSITE.* or BATCH.*",
            };
        }
    }
    outcome
}
