//! Log-file integrity validation, the same checks as `aws cloudtrail validate-logs`: walk the
//! digest chain newest to oldest, verify each digest's RSA signature over AWS's string to sign and
//! its link to the previous digest, and compare every listed log file's SHA-256. Objects come from
//! S3 (object_store) or from a local copy of the bucket.

use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use futures::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{Attribute, ObjectStore};
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::signature::Verifier;
use serde_json::Value;
use sha2::Sha256;

use crate::delivery::{s3_client, S3Target};
use crate::digest::{digest_prefix, iso_seconds, sha256_hex, string_to_sign};

/// An object as the validator needs it: content and user metadata (without `x-amz-meta-`).
pub struct FetchedObject {
    pub body: Vec<u8>,
    pub metadata: HashMap<String, String>,
}

#[async_trait]
pub trait ObjectSource: Send + Sync {
    /// Every key under `prefix`, in key order.
    async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, String>;
    /// `Ok(None)` when the object does not exist.
    async fn get(&self, bucket: &str, key: &str) -> Result<Option<FetchedObject>, String>;
}

/// Buckets on an S3-compatible endpoint.
pub struct S3Source {
    target: S3Target,
    clients: std::sync::Mutex<HashMap<String, Arc<dyn ObjectStore>>>,
}

impl S3Source {
    pub fn new(target: S3Target) -> S3Source {
        S3Source {
            target,
            clients: Default::default(),
        }
    }

    fn client(&self, bucket: &str) -> Result<Arc<dyn ObjectStore>, String> {
        let mut clients = self.clients.lock().unwrap();
        if let Some(c) = clients.get(bucket) {
            return Ok(c.clone());
        }
        let c = s3_client(&self.target, bucket)?;
        clients.insert(bucket.to_string(), c.clone());
        Ok(c)
    }
}

#[async_trait]
impl ObjectSource for S3Source {
    async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, String> {
        let client = self.client(bucket)?;
        let prefix_path = ObjectPath::from(prefix.trim_end_matches('/'));
        let mut keys: Vec<String> = client
            .list(Some(&prefix_path))
            .map_ok(|meta| meta.location.to_string())
            .try_collect()
            .await
            .map_err(|e| format!("listing s3://{bucket}/{prefix}: {e}"))?;
        keys.sort();
        Ok(keys)
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<Option<FetchedObject>, String> {
        let client = self.client(bucket)?;
        let result = match client.get(&ObjectPath::from(key)).await {
            Ok(r) => r,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(format!("reading s3://{bucket}/{key}: {e}")),
        };
        let mut metadata = HashMap::new();
        for (attribute, value) in result.attributes.iter() {
            if let Attribute::Metadata(name) = attribute {
                metadata.insert(name.to_string(), value.to_string());
            }
        }
        let body = result
            .bytes()
            .await
            .map_err(|e| format!("reading s3://{bucket}/{key}: {e}"))?;
        Ok(Some(FetchedObject {
            body: body.to_vec(),
            metadata,
        }))
    }
}

/// A local copy of buckets: `ROOT/BUCKET/KEY`, or `ROOT/KEY` when the root is one bucket's copy.
/// Downloads lose S3 metadata, so a digest's signature is read from a `KEY.signature` file (hex)
/// beside it when present; without it the digest is reported as unverifiable.
pub struct LocalSource {
    pub root: PathBuf,
}

impl LocalSource {
    fn path(&self, bucket: &str, key: &str) -> PathBuf {
        let per_bucket = self.root.join(bucket);
        if per_bucket.is_dir() {
            per_bucket.join(key)
        } else {
            self.root.join(key)
        }
    }
}

#[async_trait]
impl ObjectSource for LocalSource {
    async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, String> {
        let base = self.path(bucket, "");
        let mut keys = Vec::new();
        let mut stack = vec![base.clone()];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if let Ok(rel) = path.strip_prefix(&base) {
                    let key = rel.to_string_lossy().replace('\\', "/");
                    if key.starts_with(prefix) && !key.ends_with(".signature") {
                        keys.push(key);
                    }
                }
            }
        }
        keys.sort();
        Ok(keys)
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<Option<FetchedObject>, String> {
        let path = self.path(bucket, key);
        let body = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("reading {}: {e}", path.display())),
        };
        let mut metadata = HashMap::new();
        let mut sig_path = path.into_os_string();
        sig_path.push(".signature");
        if let Ok(sig) = std::fs::read_to_string(PathBuf::from(sig_path)) {
            metadata.insert("signature".into(), sig.trim().to_string());
            metadata.insert("signature-algorithm".into(), "SHA256withRSA".into());
        }
        Ok(Some(FetchedObject { body, metadata }))
    }
}

pub struct ValidationRequest {
    pub account: String,
    pub trail_name: String,
    pub home_region: String,
    /// The region whose files are validated (the CLI's `--region`).
    pub source_region: String,
    pub bucket: String,
    pub prefix: Option<String>,
    pub start_ms: i64,
    pub end_ms: i64,
    /// Fingerprint → DER PKCS#1 public key.
    pub public_keys: HashMap<String, Vec<u8>>,
}

#[derive(Debug, Default)]
pub struct ValidationReport {
    pub valid_digests: usize,
    pub invalid_digests: usize,
    pub valid_logs: usize,
    pub invalid_logs: usize,
    /// Lines as the AWS CLI prints them; `true` for problems.
    pub lines: Vec<(bool, String)>,
    pub found_start_ms: Option<i64>,
    pub found_end_ms: Option<i64>,
}

impl ValidationReport {
    pub fn is_valid(&self) -> bool {
        self.invalid_digests == 0 && self.invalid_logs == 0
    }

    fn problem(&mut self, line: String) {
        self.lines.push((true, line));
    }

    fn ok(&mut self, line: String) {
        self.lines.push((false, line));
    }
}

fn key_date(key: &str) -> &str {
    if key.len() < 24 {
        return "";
    }
    &key[key.len() - 24..key.len() - 8]
}

fn format_key_date(ms: i64) -> String {
    crate::digest::utc(ms).format("%Y%m%dT%H%M%SZ").to_string()
}

fn parse_time(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.timestamp_millis())
}

struct LoadedDigest {
    document: Value,
    bytes: Vec<u8>,
}

enum DigestProblem {
    Missing,
    Invalid(String),
}

pub async fn validate(source: &dyn ObjectSource, request: &ValidationRequest) -> ValidationReport {
    let mut report = ValidationReport::default();
    let prefix = request.prefix.as_deref();
    let listing_prefix = digest_prefix(prefix, &request.account, &request.source_region);
    let name_part = format!(
        "{}_CloudTrail-Digest_{}_{}_{}_",
        request.account, request.source_region, request.trail_name, request.home_region
    );
    let lower = format_key_date(request.start_ms - 60_000);
    let upper = format_key_date(request.end_ms + 3_600_000);
    let mut digests: Vec<String> = match source.list(&request.bucket, &listing_prefix).await {
        Ok(keys) => keys
            .into_iter()
            .filter(|k| {
                k.rsplit('/')
                    .next()
                    .is_some_and(|f| f.starts_with(&name_part))
                    && k.ends_with(".json.gz")
                    && !k.ends_with("_backfill.json.gz")
            })
            .filter(|k| {
                let d = key_date(k);
                d >= lower.as_str() && d <= upper.as_str()
            })
            .collect(),
        Err(e) => {
            report.problem(format!("Unable to list digests: {e}"));
            report.invalid_digests += 1;
            return report;
        }
    };

    let bucket = request.bucket.clone();
    let mut next = digests.pop();
    // Hash of the newer digest's claim about its predecessor, checked when we reach it.
    let mut expected: Option<(String, String)> = None;
    let mut last_start_ms = next
        .as_deref()
        .and_then(|k| chrono::NaiveDateTime::parse_from_str(key_date(k), "%Y%m%dT%H%M%SZ").ok())
        .map(|t| t.and_utc().timestamp_millis())
        .unwrap_or(i64::MIN);
    let mut logs_to_check: Vec<Value> = Vec::new();
    while let Some(key) = next.take() {
        if request.start_ms > last_start_ms {
            break;
        }
        let uri = format!("s3://{bucket}/{key}");
        match load_and_verify(source, request, &bucket, &key).await {
            Ok(loaded) => {
                if let Some((expected_key, expected_hash)) = expected.take() {
                    if expected_key == key && expected_hash != sha256_hex(&loaded.bytes) {
                        report.invalid_digests += 1;
                        report.problem(format!(
                            "Digest file\t{uri}\tINVALID: hash value doesn't match"
                        ));
                        next = older_than(&mut digests, &key);
                        continue;
                    }
                }
                let doc = &loaded.document;
                let start = doc["digestStartTime"].as_str().and_then(parse_time);
                let end = doc["digestEndTime"].as_str().and_then(parse_time);
                if let Some(s) = start {
                    last_start_ms = s;
                    let s = s.max(request.start_ms);
                    report.found_start_ms = Some(report.found_start_ms.map_or(s, |f| f.min(s)));
                }
                if let Some(e) = end {
                    let e = e.min(request.end_ms);
                    report.found_end_ms = Some(report.found_end_ms.map_or(e, |f| f.max(e)));
                }
                report.valid_digests += 1;
                report.ok(format!("Digest file\t{uri}\tvalid"));
                logs_to_check.extend(doc["logFiles"].as_array().cloned().unwrap_or_default());
                match (
                    doc["previousDigestS3Bucket"].as_str(),
                    doc["previousDigestS3Object"].as_str(),
                ) {
                    (Some(prev_bucket), Some(prev_key)) if prev_bucket == bucket => {
                        expected = doc["previousDigestHashValue"]
                            .as_str()
                            .map(|h| (prev_key.to_string(), h.to_string()));
                        // Drop listed keys newer than the predecessor: the chain skips nothing.
                        while digests.last().is_some_and(|k| k.as_str() > prev_key) {
                            digests.pop();
                        }
                        if digests.last().is_some_and(|k| k == prev_key) {
                            digests.pop();
                        }
                        next = Some(prev_key.to_string());
                    }
                    (Some(prev_bucket), Some(_)) => {
                        report.invalid_digests += 1;
                        report.problem(format!(
                            "Digest file\t{uri}\tINVALID: previous digest is in another bucket ({prev_bucket}), which this validation does not follow"
                        ));
                    }
                    _ => {
                        next = older_than(&mut digests, &key);
                        if let Some(n) = &next {
                            let next_end = key_date(n).to_string();
                            report.problem(format!(
                                "No log files were delivered by CloudTrail between {} and {}",
                                display_key_date(&next_end),
                                start.map(iso_seconds).unwrap_or_default()
                            ));
                        }
                    }
                }
            }
            Err(DigestProblem::Missing) => {
                report.invalid_digests += 1;
                report.problem(format!("Digest file\t{uri}\tINVALID: not found"));
                expected = None;
                next = older_than(&mut digests, &key);
            }
            Err(DigestProblem::Invalid(message)) => {
                report.invalid_digests += 1;
                report.problem(message);
                expected = None;
                next = older_than(&mut digests, &key);
            }
        }
    }

    for log in logs_to_check {
        let log_bucket = log["s3Bucket"].as_str().unwrap_or("");
        let log_key = log["s3Object"].as_str().unwrap_or("");
        let uri = format!("s3://{log_bucket}/{log_key}");
        match source.get(log_bucket, log_key).await {
            Ok(None) => {
                report.invalid_logs += 1;
                report.problem(format!("Log file\t{uri}\tINVALID: not found"));
            }
            Ok(Some(object)) => match gunzip_single_member(&object.body) {
                Some(bytes) if Some(sha256_hex(&bytes).as_str()) == log["hashValue"].as_str() => {
                    report.valid_logs += 1;
                    report.ok(format!("Log file\t{uri}\tvalid"));
                }
                Some(_) => {
                    report.invalid_logs += 1;
                    report.problem(format!(
                        "Log file\t{uri}\tINVALID: hash value doesn't match"
                    ));
                }
                None => {
                    report.invalid_logs += 1;
                    report.problem(format!("Log file\t{uri}\tINVALID: invalid format"));
                }
            },
            Err(e) => {
                report.invalid_logs += 1;
                report.problem(format!("Log file\t{uri}\tINVALID: {e}"));
            }
        }
    }
    report
}

fn display_key_date(d: &str) -> String {
    chrono::NaiveDateTime::parse_from_str(d, "%Y%m%dT%H%M%SZ")
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|_| d.to_string())
}

/// The newest listed digest older than `key` (by the timestamp in its name).
fn older_than(digests: &mut Vec<String>, key: &str) -> Option<String> {
    let date = key_date(key).to_string();
    while let Some(candidate) = digests.pop() {
        if key_date(&candidate) < date.as_str() {
            return Some(candidate);
        }
    }
    None
}

async fn load_and_verify(
    source: &dyn ObjectSource,
    request: &ValidationRequest,
    bucket: &str,
    key: &str,
) -> Result<LoadedDigest, DigestProblem> {
    let uri = format!("s3://{bucket}/{key}");
    let object = match source.get(bucket, key).await {
        Ok(Some(o)) => o,
        Ok(None) => return Err(DigestProblem::Missing),
        Err(e) => {
            return Err(DigestProblem::Invalid(format!(
                "Digest file\t{uri}\tINVALID: {e}"
            )))
        }
    };
    let invalid_format =
        || DigestProblem::Invalid(format!("Digest file\t{uri}\tINVALID: invalid format"));
    let bytes = gunzip_single_member(&object.body).ok_or_else(invalid_format)?;
    let document: Value = serde_json::from_slice(&bytes).map_err(|_| invalid_format())?;
    let (Some(signature), Some(_)) = (
        object.metadata.get("signature"),
        object.metadata.get("signature-algorithm"),
    ) else {
        return Err(DigestProblem::Invalid(format!(
            "Digest file\t{uri}\tINVALID: signature verification failed"
        )));
    };
    for required in [
        "digestPublicKeyFingerprint",
        "digestS3Bucket",
        "digestS3Object",
        "previousDigestSignature",
        "digestEndTime",
        "digestStartTime",
    ] {
        if document.get(required).is_none() {
            return Err(invalid_format());
        }
    }
    if document["digestS3Bucket"].as_str() != Some(bucket)
        || document["digestS3Object"].as_str() != Some(key)
    {
        return Err(DigestProblem::Invalid(format!(
            "Digest file\t{uri}\tINVALID: has been moved from its original location"
        )));
    }
    let fingerprint = document["digestPublicKeyFingerprint"]
        .as_str()
        .unwrap_or("");
    let Some(der) = request.public_keys.get(fingerprint) else {
        return Err(DigestProblem::Invalid(format!(
            "Digest file\t{uri}\tINVALID: public key not found in region {} for fingerprint {fingerprint}",
            request.home_region
        )));
    };
    let public = rsa::RsaPublicKey::from_pkcs1_der(der).map_err(|_| {
        DigestProblem::Invalid(format!(
            "Digest file\t{uri}\tINVALID: Unable to load PKCS #1 key with fingerprint {fingerprint}"
        ))
    })?;
    let signature_failed = || {
        DigestProblem::Invalid(format!(
            "Digest file\t{uri}\tINVALID: signature verification failed"
        ))
    };
    let signature_bytes = hex::decode(signature).map_err(|_| signature_failed())?;
    let signature =
        Signature::try_from(signature_bytes.as_slice()).map_err(|_| signature_failed())?;
    let to_sign = string_to_sign(&document, &bytes);
    VerifyingKey::<Sha256>::new(public)
        .verify(to_sign.as_bytes(), &signature)
        .map_err(|_| signature_failed())?;
    Ok(LoadedDigest { document, bytes })
}

/// Inflates exactly one gzip member; trailing data (a second member) makes the file invalid, as
/// in the AWS CLI.
pub fn gunzip_single_member(body: &[u8]) -> Option<Vec<u8>> {
    let mut decoder = flate2::bufread::GzDecoder::new(body);
    let mut out = Vec::new();
    decoder.read_to_end(&mut out).ok()?;
    let rest = decoder.into_inner();
    if rest.is_empty() {
        Some(out)
    } else {
        None
    }
}

/// Renders a report as the AWS CLI does (problems go to stderr, `valid` lines only when verbose).
pub fn summary(report: &ValidationReport, start_ms: i64, end_ms: i64) -> String {
    let mut out = format!(
        "Results requested for {} to {}\n",
        iso_seconds(start_ms),
        iso_seconds(end_ms)
    );
    if report.valid_digests + report.invalid_digests == 0 {
        out.push_str("No digests found\n");
        return out;
    }
    match (report.found_start_ms, report.found_end_ms) {
        (Some(s), Some(e)) => out.push_str(&format!(
            "Results found for {} to {}:\n",
            iso_seconds(s),
            iso_seconds(e)
        )),
        _ => out.push_str("No valid digests found in range\n"),
    }
    for (valid, invalid, name) in [
        (report.valid_digests, report.invalid_digests, "digest"),
        (report.valid_logs, report.invalid_logs, "log"),
    ] {
        let total = valid + invalid;
        if total > 0 {
            out.push_str(&format!("\n{valid}/{total} {name} files valid"));
            if invalid > 0 {
                out.push_str(&format!(", {invalid}/{total} {name} files INVALID"));
            }
        }
    }
    out.push('\n');
    out
}
