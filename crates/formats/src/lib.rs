//! Parsers for AWS's native log formats and common generic ones, producing
//! typed fields named the way CloudWatch Logs Insights and AWS's documentation
//! name them.
//!
//! ```
//! use watchtrail_formats::{FormatKind, LineParser, LineOutcome, FieldValue};
//!
//! let mut parser = LineParser::new(FormatKind::VpcFlow);
//! let line = "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK";
//! let LineOutcome::Record(record) = parser.parse_line(line) else { panic!() };
//! assert_eq!(record.get("dstPort"), Some(&FieldValue::Int(22)));
//! assert_eq!(record.timestamp_ms, Some(1_418_530_010_000));
//! ```
//!
//! The crate has no I/O beyond [`open_decoded`] and no async: an importer
//! reads lines and feeds one [`LineParser`] per file.

mod api_gateway;
mod cloudfront;
mod decode;
mod delivery;
mod detect;
pub mod formatting;
mod generic;
mod json_flatten;
mod json_logs;
mod kind;
mod lambda;
mod lexing;
mod load_balancer;
mod positional;
mod rds;
mod record;
mod redshift;
mod route53;
mod s3_access;
pub mod timestamp;
mod vpc_flow;

pub use decode::{open_decoded, sniff_compression, Compression};
pub use delivery::{default_log_group, default_stream_name, kind_from_object_key};
pub use detect::{detect, Detection};
pub use json_logs::{cloudtrail_file_records, cloudtrail_records, TrailFileError};
pub use kind::{FormatKind, LineParser, UnknownFormat};
pub use record::{FieldValue, LineOutcome, Record};

/// Field tables, for callers that list or document the fields of a format.
pub mod fields {
    pub use crate::cloudfront::KNOWN_FIELDS as CLOUDFRONT_FIELDS;
    pub use crate::vpc_flow::FLOW_FIELDS as VPC_FLOW_FIELDS;
}
