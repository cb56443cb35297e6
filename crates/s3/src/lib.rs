//! An embedded S3-compatible endpoint on the gateway's listener: buckets and objects in the data
//! directory, every request SigV4-verified against the same credentials as the awsJson services,
//! answers in S3's REST-XML shapes with AWS's error codes.
//!
//! The gateway hands over requests whose credential scope names service `s3` (see
//! `watchtrail_protocol::raw_service`), before reading the body, so object uploads have their own
//! size limit and `aws-chunked` bodies can be decoded here. See `README.md` for the operations.

mod chunked;
mod endpoint;
mod error;
mod listing;
mod storage;
mod xml;

pub use endpoint::{S3Endpoint, DEFAULT_MAX_OBJECT_BYTES};
pub use error::S3Error;
pub use storage::{key_file_name, BucketStore, ObjectMeta};
