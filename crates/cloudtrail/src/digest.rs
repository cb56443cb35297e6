//! CloudTrail's file formats for delivery: log-file and digest-file keys, the digest document and
//! the string a digest signature covers. Shared by delivery (which writes them) and validation
//! (which checks them), so both sides agree byte for byte.

use std::io::Write;

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

pub const SIGNATURE_ALGORITHM: &str = "SHA256withRSA";
pub const HASH_ALGORITHM: &str = "SHA-256";

pub fn utc(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// `2015-08-17T15:12:05Z`, the form of every time inside a digest.
pub fn iso_seconds(ms: i64) -> String {
    utc(ms).format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn with_prefix(prefix: Option<&str>, key: String) -> String {
    match prefix.filter(|p| !p.is_empty()) {
        Some(p) => format!("{p}/{key}"),
        None => key,
    }
}

/// `[prefix/]AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHmmZ_UNIQUE.json.gz`
pub fn log_file_key(
    prefix: Option<&str>,
    account: &str,
    region: &str,
    delivered_ms: i64,
    unique: &str,
) -> String {
    let t = utc(delivered_ms);
    with_prefix(
        prefix,
        format!(
            "AWSLogs/{account}/CloudTrail/{region}/{}/{account}_CloudTrail_{region}_{}_{unique}.json.gz",
            t.format("%Y/%m/%d"),
            t.format("%Y%m%dT%H%MZ")
        ),
    )
}

/// `[prefix/]AWSLogs/ACCOUNT/CloudTrail-Digest/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail-Digest_REGION_TRAIL_HOMEREGION_YYYYMMDDTHHMMSSZ.json.gz`
pub fn digest_key(
    prefix: Option<&str>,
    account: &str,
    region: &str,
    trail: &str,
    home_region: &str,
    end_ms: i64,
) -> String {
    let t = utc(end_ms);
    with_prefix(
        prefix,
        format!(
            "AWSLogs/{account}/CloudTrail-Digest/{region}/{}/{account}_CloudTrail-Digest_{region}_{trail}_{home_region}_{}.json.gz",
            t.format("%Y/%m/%d"),
            t.format("%Y%m%dT%H%M%SZ")
        ),
    )
}

/// The listing prefix under which a trail's digests for one region live.
pub fn digest_prefix(prefix: Option<&str>, account: &str, region: &str) -> String {
    with_prefix(
        prefix,
        format!("AWSLogs/{account}/CloudTrail-Digest/{region}/"),
    )
}

/// A delivered log file as a digest lists it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DeliveredLogFile {
    pub bucket: String,
    pub key: String,
    /// Hex SHA-256 of the uncompressed file.
    pub sha256: String,
    pub oldest_event_ms: i64,
    pub newest_event_ms: i64,
}

/// Where the previous digest of a chain is, and what it hashed and signed to.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PreviousDigest {
    pub bucket: String,
    pub key: String,
    pub sha256: String,
    pub signature_hex: String,
}

pub struct DigestInput<'a> {
    pub account: &'a str,
    pub bucket: &'a str,
    pub key: &'a str,
    pub start_ms: i64,
    pub end_ms: i64,
    pub fingerprint: &'a str,
    pub previous: Option<&'a PreviousDigest>,
    pub log_files: &'a [DeliveredLogFile],
}

/// The digest document, serialized once: its bytes are what gets hashed, signed and stored.
pub fn digest_document(input: &DigestInput<'_>) -> Vec<u8> {
    let newest = input.log_files.iter().map(|f| f.newest_event_ms).max();
    let oldest = input.log_files.iter().map(|f| f.oldest_event_ms).min();
    let previous = input.previous;
    let doc = json!({
        "awsAccountId": input.account,
        "digestStartTime": iso_seconds(input.start_ms),
        "digestEndTime": iso_seconds(input.end_ms),
        "digestS3Bucket": input.bucket,
        "digestS3Object": input.key,
        "digestPublicKeyFingerprint": input.fingerprint,
        "digestSignatureAlgorithm": SIGNATURE_ALGORITHM,
        "newestEventTime": newest.map(iso_seconds),
        "oldestEventTime": oldest.map(iso_seconds),
        "previousDigestS3Bucket": previous.map(|p| p.bucket.clone()),
        "previousDigestS3Object": previous.map(|p| p.key.clone()),
        "previousDigestHashValue": previous.map(|p| p.sha256.clone()),
        "previousDigestHashAlgorithm": previous.map(|_| HASH_ALGORITHM),
        "previousDigestSignature": previous.map(|p| p.signature_hex.clone()),
        "logFiles": input.log_files.iter().map(|f| json!({
            "s3Bucket": f.bucket,
            "s3Object": f.key,
            "hashValue": f.sha256,
            "hashAlgorithm": HASH_ALGORITHM,
            "newestEventTime": iso_seconds(f.newest_event_ms),
            "oldestEventTime": iso_seconds(f.oldest_event_ms),
        })).collect::<Vec<_>>(),
    });
    serde_json::to_vec(&doc).expect("a JSON value serializes")
}

/// AWS's string to sign: `digestEndTime \n bucket/key \n hex(sha256(digest)) \n previousSignature|null`.
pub fn string_to_sign(document: &Value, uncompressed_digest: &[u8]) -> String {
    let previous = document["previousDigestSignature"]
        .as_str()
        .unwrap_or("null");
    format!(
        "{}\n{}/{}\n{}\n{}",
        document["digestEndTime"].as_str().unwrap_or(""),
        document["digestS3Bucket"].as_str().unwrap_or(""),
        document["digestS3Object"].as_str().unwrap_or(""),
        hex::encode(Sha256::digest(uncompressed_digest)),
        previous
    )
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A single gzip member, as CloudTrail writes both log and digest files.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("writing to a Vec");
    encoder.finish().expect("writing to a Vec")
}

/// A log file body: `{"Records":[…]}`.
pub fn log_file_document(records: &[Value]) -> Vec<u8> {
    let mut out = Vec::with_capacity(records.len() * 512 + 16);
    out.extend_from_slice(b"{\"Records\":[");
    for (i, record) in records.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut out, record).expect("writing to a Vec");
    }
    out.extend_from_slice(b"]}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_aws_layout() {
        let ms = Utc
            .with_ymd_and_hms(2026, 3, 4, 5, 6, 7)
            .unwrap()
            .timestamp_millis();
        assert_eq!(
            log_file_key(Some("p"), "123456789012", "us-east-1", ms, "AbCdEfGhIjKlMnOp"),
            "p/AWSLogs/123456789012/CloudTrail/us-east-1/2026/03/04/123456789012_CloudTrail_us-east-1_20260304T0506Z_AbCdEfGhIjKlMnOp.json.gz"
        );
        let key = digest_key(None, "123456789012", "eu-west-1", "t1", "us-east-1", ms);
        assert_eq!(
            key,
            "AWSLogs/123456789012/CloudTrail-Digest/eu-west-1/2026/03/04/123456789012_CloudTrail-Digest_eu-west-1_t1_us-east-1_20260304T050607Z.json.gz"
        );
        // The AWS CLI reads the timestamp at key[-24:-8].
        assert_eq!(&key[key.len() - 24..key.len() - 8], "20260304T050607Z");
    }

    #[test]
    fn first_digest_has_null_chain_and_signs_null() {
        let doc = digest_document(&DigestInput {
            account: "123456789012",
            bucket: "b",
            key: "k",
            start_ms: 0,
            end_ms: 3_600_000,
            fingerprint: "f",
            previous: None,
            log_files: &[],
        });
        let value: Value = serde_json::from_slice(&doc).unwrap();
        assert!(value["previousDigestSignature"].is_null());
        assert!(value["newestEventTime"].is_null());
        assert_eq!(value["logFiles"], json!([]));
        let to_sign = string_to_sign(&value, &doc);
        assert_eq!(
            to_sign,
            format!("1970-01-01T01:00:00Z\nb/k\n{}\nnull", sha256_hex(&doc))
        );
    }
}
