//! Elastic Load Balancing access logs: Classic, Application and Network (TLS).
//!
//! AWS names no query fields for these, so records use the documented column
//! names, with `client:port`-style columns split into `client_ip`/`client_port`
//! and the request line into `request_verb`/`request_url`/`request_proto`
//! (the column names of AWS's Athena tables for the same logs).

use crate::lexing::ColumnType::*;
use crate::positional::{self, Column, Column::*, Layout};
use std::borrow::Cow;

use crate::record::{FieldValue, LineOutcome};

const REQUEST_PARTS: [&str; 3] = ["request_verb", "request_url", "request_proto"];

pub const CLASSIC_COLUMNS: &[Column] = &[
    Plain("timestamp", Iso8601),
    Plain("elb", Str),
    HostPort("client_ip", "client_port"),
    HostPort("backend_ip", "backend_port"),
    Plain("request_processing_time", Float),
    Plain("backend_processing_time", Float),
    Plain("response_processing_time", Float),
    Plain("elb_status_code", Int),
    Plain("backend_status_code", Int),
    Plain("received_bytes", Int),
    Plain("sent_bytes", Int),
    Request("request", REQUEST_PARTS),
    Plain("user_agent", Str),
    Plain("ssl_cipher", Str),
    Plain("ssl_protocol", Str),
];

pub const CLASSIC: Layout = Layout {
    columns: CLASSIC_COLUMNS,
    required: 15,
    time_field: "timestamp",
};

pub const ALB_COLUMNS: &[Column] = &[
    Plain("type", Str),
    Plain("time", Iso8601),
    Plain("elb", Str),
    HostPort("client_ip", "client_port"),
    HostPort("target_ip", "target_port"),
    Plain("request_processing_time", Float),
    Plain("target_processing_time", Float),
    Plain("response_processing_time", Float),
    Plain("elb_status_code", Int),
    Plain("target_status_code", Int),
    Plain("received_bytes", Int),
    Plain("sent_bytes", Int),
    Request("request", REQUEST_PARTS),
    Plain("user_agent", Str),
    Plain("ssl_cipher", Str),
    Plain("ssl_protocol", Str),
    Plain("target_group_arn", Str),
    Plain("trace_id", Str),
    Plain("domain_name", Str),
    Plain("chosen_cert_arn", Str),
    Plain("matched_rule_priority", Int),
    Plain("request_creation_time", Iso8601),
    Plain("actions_executed", Str),
    Plain("redirect_url", Str),
    Plain("error_reason", Str),
    Plain("target_port_list", Str),
    Plain("target_status_code_list", Str),
    Plain("classification", Str),
    Plain("classification_reason", Str),
    Plain("conn_trace_id", Str),
    Plain("transformed_host", Str),
    Plain("transformed_uri", Str),
    Plain("request_transform_status", Str),
];

pub const ALB: Layout = Layout {
    columns: ALB_COLUMNS,
    // Up to target_group_arn: the fields every ALB log has had since launch.
    required: 17,
    time_field: "time",
};

pub const NLB_COLUMNS: &[Column] = &[
    Plain("type", Str),
    Plain("version", Str),
    Plain("time", Iso8601),
    Plain("elb", Str),
    Plain("listener", Str),
    HostPort("client_ip", "client_port"),
    HostPort("destination_ip", "destination_port"),
    Plain("connection_time", Int),
    Plain("tls_handshake_time", Int),
    Plain("received_bytes", Int),
    Plain("sent_bytes", Int),
    Plain("incoming_tls_alert", Str),
    Plain("chosen_cert_arn", Str),
    Plain("chosen_cert_serial", Str),
    Plain("tls_cipher", Str),
    Plain("tls_protocol_version", Str),
    Plain("tls_named_group", Str),
    Plain("domain_name", Str),
    Plain("alpn_fe_protocol", Str),
    Plain("alpn_be_protocol", Str),
    Plain("alpn_client_preference_list", Str),
    Plain("tls_connection_creation_time", Iso8601),
];

pub const NLB: Layout = Layout {
    columns: NLB_COLUMNS,
    required: 18,
    time_field: "time",
};

pub fn parse_classic(line: &str) -> LineOutcome<'_> {
    positional::parse(&CLASSIC, line)
}

pub fn parse_alb(line: &str) -> LineOutcome<'_> {
    let first = line.split(' ').next().unwrap_or("");
    if !matches!(first, "http" | "https" | "h2" | "grpcs" | "ws" | "wss") {
        if line.trim().is_empty() {
            return LineOutcome::Header;
        }
        return LineOutcome::Malformed {
            reason: "ALB type is not http, https, h2, grpcs, ws or wss",
        };
    }
    positional::parse(&ALB, line)
}

pub fn parse_nlb(line: &str) -> LineOutcome<'_> {
    if !line.starts_with("tls ") {
        if line.trim().is_empty() {
            return LineOutcome::Header;
        }
        return LineOutcome::Malformed {
            reason: "NLB access log lines start with tls",
        };
    }
    let mut outcome = positional::parse(&NLB, line);
    // The ALPN list is written as `"h2","http/1.1"`; the tokenizer took its
    // outer quotes for field quoting, so they are put back.
    if let LineOutcome::Record(r) = &mut outcome {
        for (name, value) in r.fields.iter_mut() {
            if name == "alpn_client_preference_list" {
                if let FieldValue::Str(s) = value {
                    *value = FieldValue::Str(Cow::Owned(format!("\"{s}\"")));
                }
            }
        }
    }
    outcome
}
