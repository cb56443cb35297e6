//! Getting records out of watchtrail: the durable spool a logging trail appends to, the S3
//! buckets log and digest files go to (through object_store), and the CloudWatch Logs hand-off.

use std::collections::HashMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{Attribute, Attributes, ObjectStore, PutOptions, PutPayload};

/// The S3-compatible endpoint trails deliver to. By default the server's own listener (the
/// embedded S3 endpoint), signed with the root credentials.
#[derive(Clone)]
pub struct S3Target {
    /// e.g. `http://127.0.0.1:4588`.
    pub endpoint: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub region: String,
}

impl fmt::Debug for S3Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Target")
            .field("endpoint", &self.endpoint)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("region", &self.region)
            .finish()
    }
}

/// Whether a bucket can be delivered to.
pub enum BucketCheck {
    Exists,
    Missing,
    Unreachable(String),
}

/// One object_store client per bucket, created on first use.
pub struct Buckets {
    target: S3Target,
    clients: Mutex<HashMap<String, Arc<dyn ObjectStore>>>,
}

impl Buckets {
    pub fn new(target: S3Target) -> Buckets {
        Buckets {
            target,
            clients: Mutex::new(HashMap::new()),
        }
    }

    pub fn client(&self, bucket: &str) -> Result<Arc<dyn ObjectStore>, String> {
        if let Some(c) = self.clients.lock().unwrap().get(bucket) {
            return Ok(c.clone());
        }
        let store = s3_client(&self.target, bucket)?;
        self.clients
            .lock()
            .unwrap()
            .insert(bucket.to_string(), store.clone());
        Ok(store)
    }

    pub async fn check(&self, bucket: &str) -> BucketCheck {
        let client = match self.client(bucket) {
            Ok(c) => c,
            Err(e) => return BucketCheck::Unreachable(e),
        };
        // A listing touches the bucket itself: S3 answers NoSuchBucket for a missing one.
        match client
            .list_with_delimiter(Some(&ObjectPath::from("AWSLogs")))
            .await
        {
            Ok(_) => BucketCheck::Exists,
            Err(object_store::Error::NotFound { .. }) => BucketCheck::Missing,
            Err(e) if e.to_string().contains("NoSuchBucket") => BucketCheck::Missing,
            Err(e) => BucketCheck::Unreachable(e.to_string()),
        }
    }

    pub async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        metadata: &[(&str, &str)],
    ) -> Result<(), String> {
        let client = self.client(bucket)?;
        let mut attributes = Attributes::new();
        for (name, value) in metadata {
            attributes.insert(
                Attribute::Metadata(name.to_string().into()),
                value.to_string().into(),
            );
        }
        client
            .put_opts(
                &ObjectPath::from(key),
                PutPayload::from(body),
                PutOptions {
                    attributes,
                    ..Default::default()
                },
            )
            .await
            .map(|_| ())
            .map_err(|e| format!("writing s3://{bucket}/{key}: {e}"))
    }
}

pub fn s3_client(target: &S3Target, bucket: &str) -> Result<Arc<dyn ObjectStore>, String> {
    AmazonS3Builder::new()
        .with_endpoint(&target.endpoint)
        .with_allow_http(true)
        .with_virtual_hosted_style_request(false)
        .with_region(&target.region)
        .with_bucket_name(bucket)
        .with_access_key_id(&target.access_key_id)
        .with_secret_access_key(&target.secret_access_key)
        .build()
        .map(|s| Arc::new(s) as Arc<dyn ObjectStore>)
        .map_err(|e| format!("configuring the S3 client for bucket {bucket}: {e}"))
}

/// Appends CloudTrail records into a watchtrail log group, as a trail with
/// `CloudWatchLogsLogGroupArn` does. Implemented by the server over the store.
#[async_trait]
pub trait LogGroupDelivery: Send + Sync {
    async fn group_exists(&self, account: &str, region: &str, group: &str) -> Result<bool, String>;
    /// Appends `(timestamp ms, record JSON)` events to `stream`, creating the stream if needed.
    async fn deliver(
        &self,
        account: &str,
        region: &str,
        group: &str,
        stream: &str,
        events: Vec<(i64, String)>,
    ) -> Result<(), String>;
}

/// Records accepted by logging trails and not yet delivered, one append-only file per trail.
/// Delivery renames a trail's file aside before reading it, so records keep arriving into a
/// fresh file, and deletes it only after the log files are in the bucket: a crash in between
/// delivers the batch again at the next start rather than losing it.
pub struct Spool {
    dir: PathBuf,
    open: Mutex<HashMap<String, std::fs::File>>,
}

impl Spool {
    pub fn open(dir: &Path) -> std::io::Result<Spool> {
        std::fs::create_dir_all(dir)?;
        Ok(Spool {
            dir: dir.to_path_buf(),
            open: Mutex::new(HashMap::new()),
        })
    }

    fn live_file(&self, trail_id: &str) -> PathBuf {
        self.dir.join(format!("{trail_id}.jsonl"))
    }

    pub fn append(&self, trail_id: &str, line: &[u8]) -> std::io::Result<()> {
        let mut open = self.open.lock().unwrap();
        if !open.contains_key(trail_id) {
            let path = self.live_file(trail_id);
            let torn = std::fs::read(&path)
                .map(|b| b.last().is_some_and(|&c| c != b'\n'))
                .unwrap_or(false);
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)?;
            if torn {
                // End the torn line so the next record starts on its own.
                file.write_all(b"\n")?;
            }
            open.insert(trail_id.to_string(), file);
        }
        let file = open.get_mut(trail_id).expect("inserted above");
        // One write per record so a crash can only tear the last line, which delivery skips.
        let mut buf = Vec::with_capacity(line.len() + 1);
        buf.extend_from_slice(line);
        buf.push(b'\n');
        file.write_all(&buf)
    }

    /// Moves the live file aside and returns every batch awaiting delivery, oldest first
    /// (including batches a crash left behind).
    pub fn take(&self, trail_id: &str) -> std::io::Result<Vec<PathBuf>> {
        {
            let mut open = self.open.lock().unwrap();
            open.remove(trail_id);
            let live = self.live_file(trail_id);
            if live.exists() {
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_nanos();
                std::fs::rename(
                    &live,
                    self.dir.join(format!("{trail_id}.{nanos:020}.delivering")),
                )?;
            }
        }
        let prefix = format!("{trail_id}.");
        let mut batches: Vec<PathBuf> = std::fs::read_dir(&self.dir)?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                name.starts_with(&prefix) && name.ends_with(".delivering")
            })
            .collect();
        batches.sort();
        Ok(batches)
    }

    /// Forgets a deleted trail's undelivered records.
    pub fn discard(&self, trail_id: &str) {
        if let Ok(batches) = self.take(trail_id) {
            for batch in batches {
                let _ = std::fs::remove_file(batch);
            }
        }
    }
}

/// Reads a spooled batch; a torn last line (crash mid-append) is skipped.
pub fn read_batch(path: &Path) -> std::io::Result<Vec<serde_json::Value>> {
    let bytes = std::fs::read(path)?;
    Ok(bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .filter_map(|l| serde_json::from_slice(l).ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spool_survives_reopen_and_skips_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        spool.append("t1", br#"{"eventName":"A"}"#).unwrap();
        spool.append("t1", br#"{"eventName":"B"}"#).unwrap();
        drop(spool);
        // A crash mid-append leaves half a line.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(dir.path().join("t1.jsonl"))
            .unwrap();
        f.write_all(br#"{"eventNa"#).unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        let batches = spool.take("t1").unwrap();
        assert_eq!(batches.len(), 1);
        let records = read_batch(&batches[0]).unwrap();
        assert_eq!(records.len(), 2);
        spool.append("t1", br#"{"eventName":"C"}"#).unwrap();
        // The undelivered batch is still offered with the new one.
        assert_eq!(spool.take("t1").unwrap().len(), 2);
    }
}
