//! Writers that produce the text formats from records: the inverse of the
//! parsers. Used by the round-trip property tests and the benchmark
//! generators, and by anything that re-exports logs in AWS's own layout.

use std::fmt::Write;

use crate::record::{FieldValue, Record};
use crate::{load_balancer, positional, s3_access};

pub use crate::generic::format_logfmt;
pub use crate::vpc_flow::format_record as format_vpc_flow;

/// The default (version 2) VPC flow log field list, as in the S3 header row.
pub const VPC_DEFAULT_HEADERS: [&str; 14] = [
    "version",
    "account-id",
    "interface-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log-status",
];

const ALB_QUOTED: &[&str] = &[
    "user_agent",
    "trace_id",
    "domain_name",
    "chosen_cert_arn",
    "actions_executed",
    "redirect_url",
    "error_reason",
    "target_port_list",
    "target_status_code_list",
    "classification",
    "classification_reason",
    "transformed_host",
    "transformed_uri",
    "request_transform_status",
];

/// An ALB access log line with every current field.
pub fn format_alb(record: &Record<'_>, out: &mut String) {
    positional::format(&load_balancer::ALB, ALB_QUOTED, record, out);
}

/// An S3 server access log line with every current field.
pub fn format_s3_access(record: &Record<'_>, out: &mut String) {
    positional::format(&s3_access::LAYOUT, &["referer", "user_agent"], record, out);
}

/// An Apache/Nginx common (or, with `combined`, combined) log line.
pub fn format_clf(record: &Record<'_>, combined: bool, out: &mut String) {
    let word = |out: &mut String, name: &str| match record.get(name) {
        None | Some(FieldValue::Null) => out.push('-'),
        Some(v) => {
            let _ = write!(out, "{v}");
        }
    };
    word(out, "host");
    out.push(' ');
    word(out, "ident");
    out.push(' ');
    word(out, "authuser");
    out.push_str(" [");
    if let Some(FieldValue::Timestamp(t)) = record.get("timestamp") {
        crate::timestamp::format_clf(*t, out);
    }
    out.push_str("] \"");
    word(out, "request");
    out.push_str("\" ");
    word(out, "status");
    out.push(' ');
    word(out, "bytes");
    if combined {
        out.push_str(" \"");
        word(out, "referer");
        out.push_str("\" \"");
        word(out, "user_agent");
        out.push('"');
    }
}
