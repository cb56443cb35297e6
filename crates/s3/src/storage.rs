//! Buckets and objects on local disk.
//!
//! Layout under the S3 root (`DATA/s3`):
//!
//! ```text
//! <account>/<bucket>/bucket.json          owner region and creation time
//! <account>/<bucket>/objects/<sha256(key)> one file per object (format below)
//! <account>/<bucket>/uploads/<upload id>/  multipart uploads in progress: upload.json, part-<n>
//! <account>/<bucket>/tmp/                  files being written, renamed into place when complete
//! ```
//!
//! An object file is `WTS3OBJ1`, the length of the metadata JSON (u32 LE), the metadata JSON, the
//! content, then the SHA-256 of everything before it. Files are written to `tmp/`, fsynced and
//! renamed, so a reader sees the old object or the new one, never a torn one; the digest is checked
//! on every read, so a flipped bit is an error rather than data. File names are hashes of the key
//! because keys may be 1024 bytes of anything, `..` included.
//!
//! Bucket names are global, as on AWS: a name belongs to one account, and another account gets
//! `BucketAlreadyExists` (creating) or `AccessDenied` (using it).

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use md5::Md5;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::S3Error;

const MAGIC: &[u8; 8] = b"WTS3OBJ1";
const DIGEST_LEN: usize = 32;

/// What is known about an object without reading its content.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ObjectMeta {
    pub key: String,
    pub size: u64,
    /// Hex MD5 of the content, or `<hex md5 of part md5s>-<parts>` after a multipart upload; no quotes.
    pub etag: String,
    pub last_modified: DateTime<Utc>,
    /// Content-Type, Content-Encoding, Content-Disposition, Content-Language, Cache-Control, Expires,
    /// as given on upload (lower-case names).
    pub headers: BTreeMap<String, String>,
    /// `x-amz-meta-*` without the prefix, names lower-cased as S3 does.
    pub user_metadata: BTreeMap<String, String>,
    /// Verified `x-amz-checksum-*` values sent with a single-request upload (algorithm → base64),
    /// returned on GET/HEAD with `x-amz-checksum-mode: ENABLED`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub checksums: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BucketInfo {
    pub name: String,
    pub owner: String,
    /// The LocationConstraint it was created with; `us-east-1` when none.
    pub region: String,
    pub created: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct UploadInfo {
    key: String,
    headers: BTreeMap<String, String>,
    user_metadata: BTreeMap<String, String>,
    initiated: DateTime<Utc>,
}

struct Bucket {
    info: BucketInfo,
    objects: BTreeMap<String, ObjectMeta>,
}

/// All buckets of all accounts, with an in-memory index of object metadata (loaded at open).
pub struct BucketStore {
    root: PathBuf,
    buckets: Mutex<BTreeMap<String, Bucket>>,
}

fn io_error(context: &str, e: std::io::Error) -> S3Error {
    tracing::error!(error = %e, context, "s3 storage I/O failed");
    S3Error::internal()
}

impl BucketStore {
    /// Opens (creating if needed) the store at `root`, indexing every object header. Objects whose
    /// header cannot be read are left out of the index and logged: they are never listed or served.
    pub fn open(root: &Path) -> std::io::Result<BucketStore> {
        fs::create_dir_all(root)?;
        let mut buckets = BTreeMap::new();
        for account in fs::read_dir(root)? {
            let account = account?;
            if !account.file_type()?.is_dir() {
                continue;
            }
            for entry in fs::read_dir(account.path())? {
                let entry = entry?;
                let info_path = entry.path().join("bucket.json");
                let Ok(text) = fs::read(&info_path) else {
                    continue;
                };
                let info: BucketInfo = match serde_json::from_slice(&text) {
                    Ok(info) => info,
                    Err(e) => {
                        tracing::error!(path = %info_path.display(), error = %e, "unreadable bucket record; bucket not served");
                        continue;
                    }
                };
                let mut objects = BTreeMap::new();
                let objects_dir = entry.path().join("objects");
                if let Ok(files) = fs::read_dir(&objects_dir) {
                    for file in files {
                        let path = file?.path();
                        match read_meta(&path) {
                            Ok(meta) => {
                                objects.insert(meta.key.clone(), meta);
                            }
                            Err(e) => {
                                tracing::error!(path = %path.display(), error = %e, "unreadable object header; object not served")
                            }
                        }
                    }
                }
                let _ = fs::remove_dir_all(entry.path().join("tmp"));
                buckets.insert(info.name.clone(), Bucket { info, objects });
            }
        }
        Ok(BucketStore {
            root: root.to_path_buf(),
            buckets: Mutex::new(buckets),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Bucket>> {
        // A panic while holding the lock leaves the index as consistent as the files.
        self.buckets.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn bucket_dir(&self, info: &BucketInfo) -> PathBuf {
        self.root.join(&info.owner).join(&info.name)
    }

    /// The bucket if it exists and `account` owns it.
    pub fn bucket(&self, account: &str, name: &str) -> Result<BucketInfo, S3Error> {
        let buckets = self.lock();
        let bucket = buckets
            .get(name)
            .ok_or_else(|| S3Error::no_such_bucket(name))?;
        if bucket.info.owner != account {
            return Err(S3Error::access_denied());
        }
        Ok(bucket.info.clone())
    }

    pub fn list_buckets(&self, account: &str) -> Vec<BucketInfo> {
        self.lock()
            .values()
            .filter(|b| b.info.owner == account)
            .map(|b| b.info.clone())
            .collect()
    }

    pub fn create_bucket(&self, account: &str, name: &str, region: &str) -> Result<(), S3Error> {
        let mut buckets = self.lock();
        if let Some(existing) = buckets.get(name) {
            return Err(if existing.info.owner == account {
                S3Error::new(409, "BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.").with("BucketName", name)
            } else {
                S3Error::new(409, "BucketAlreadyExists", "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.").with("BucketName", name)
            });
        }
        let info = BucketInfo {
            name: name.to_string(),
            owner: account.to_string(),
            region: region.to_string(),
            created: Utc::now(),
        };
        let dir = self.bucket_dir(&info);
        let write = || -> std::io::Result<()> {
            fs::create_dir_all(dir.join("objects"))?;
            fs::create_dir_all(dir.join("tmp"))?;
            let json = serde_json::to_vec_pretty(&info).map_err(std::io::Error::other)?;
            write_atomically(&dir.join("tmp"), &dir.join("bucket.json"), &[&json])?;
            sync_dir(dir.parent().unwrap_or(&self.root))
        };
        write().map_err(|e| io_error("create bucket", e))?;
        buckets.insert(
            name.to_string(),
            Bucket {
                info,
                objects: BTreeMap::new(),
            },
        );
        Ok(())
    }

    pub fn delete_bucket(&self, account: &str, name: &str) -> Result<(), S3Error> {
        let mut buckets = self.lock();
        let bucket = buckets
            .get(name)
            .ok_or_else(|| S3Error::no_such_bucket(name))?;
        if bucket.info.owner != account {
            return Err(S3Error::access_denied());
        }
        if !bucket.objects.is_empty() {
            return Err(S3Error::new(
                409,
                "BucketNotEmpty",
                "The bucket you tried to delete is not empty",
            )
            .with("BucketName", name));
        }
        let dir = self.bucket_dir(&bucket.info);
        // bucket.json goes first: a crash half-way leaves a directory that is no longer a bucket.
        fs::remove_file(dir.join("bucket.json")).map_err(|e| io_error("delete bucket", e))?;
        fs::remove_dir_all(&dir).map_err(|e| io_error("delete bucket", e))?;
        buckets.remove(name);
        Ok(())
    }

    /// Runs `f` over the bucket's object index (for listing).
    pub fn with_objects<T>(
        &self,
        account: &str,
        name: &str,
        f: impl FnOnce(&BTreeMap<String, ObjectMeta>) -> T,
    ) -> Result<T, S3Error> {
        let buckets = self.lock();
        let bucket = buckets
            .get(name)
            .ok_or_else(|| S3Error::no_such_bucket(name))?;
        if bucket.info.owner != account {
            return Err(S3Error::access_denied());
        }
        Ok(f(&bucket.objects))
    }

    pub fn head_object(
        &self,
        account: &str,
        bucket: &str,
        key: &str,
    ) -> Result<ObjectMeta, S3Error> {
        self.with_objects(account, bucket, |objects| objects.get(key).cloned())?
            .ok_or_else(|| S3Error::no_such_key(key))
    }

    /// Reads and verifies the whole object file; a checksum mismatch is an error, never content.
    pub fn get_object(
        &self,
        account: &str,
        bucket: &str,
        key: &str,
    ) -> Result<(ObjectMeta, Vec<u8>), S3Error> {
        let info = self.bucket(account, bucket)?;
        let path = self
            .bucket_dir(&info)
            .join("objects")
            .join(key_file_name(key));
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(S3Error::no_such_key(key))
            }
            Err(e) => return Err(io_error("read object", e)),
        };
        let (meta, range) = decode_object(&bytes).map_err(|reason| {
            tracing::error!(bucket, key, path = %path.display(), reason, "object failed verification; not served");
            S3Error::corrupt()
        })?;
        if meta.key != key {
            tracing::error!(bucket, key, stored = %meta.key, "object file holds another key; not served");
            return Err(S3Error::corrupt());
        }
        let mut bytes = bytes;
        bytes.truncate(range.end);
        bytes.drain(..range.start);
        Ok((meta, bytes))
    }

    /// Writes the object atomically and durably, then makes it visible.
    pub fn put_object(
        &self,
        account: &str,
        bucket: &str,
        meta: ObjectMeta,
        content: &[u8],
    ) -> Result<(), S3Error> {
        let info = self.bucket(account, bucket)?;
        let dir = self.bucket_dir(&info);
        let header = encode_header(&meta);
        let target = dir.join("objects").join(key_file_name(&meta.key));
        // The content is written and fsynced outside the index lock (it may be large); only the
        // rename and the index update happen under it, so they stay in the same order of writes.
        let tmp = write_tmp_object(&dir.join("tmp"), &header, content)
            .map_err(|e| io_error("write object", e))?;
        let mut buckets = self.lock();
        let Some(bucket_entry) = buckets.get_mut(bucket) else {
            let _ = fs::remove_file(&tmp);
            return Err(S3Error::no_such_bucket(bucket));
        };
        let installed = fs::rename(&tmp, &target).and_then(|()| sync_dir(&dir.join("objects")));
        if let Err(e) = installed {
            let _ = fs::remove_file(&tmp);
            return Err(io_error("install object", e));
        }
        bucket_entry.objects.insert(meta.key.clone(), meta);
        Ok(())
    }

    /// Deleting a missing key succeeds, as on S3.
    pub fn delete_object(&self, account: &str, bucket: &str, key: &str) -> Result<(), S3Error> {
        let info = self.bucket(account, bucket)?;
        let dir = self.bucket_dir(&info);
        let mut buckets = self.lock();
        let bucket_entry = buckets
            .get_mut(bucket)
            .ok_or_else(|| S3Error::no_such_bucket(bucket))?;
        match fs::remove_file(dir.join("objects").join(key_file_name(key))) {
            Ok(()) => sync_dir(&dir.join("objects")).map_err(|e| io_error("delete object", e))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error("delete object", e)),
        }
        bucket_entry.objects.remove(key);
        Ok(())
    }

    pub fn create_upload(
        &self,
        account: &str,
        bucket: &str,
        key: &str,
        headers: BTreeMap<String, String>,
        user_metadata: BTreeMap<String, String>,
    ) -> Result<String, S3Error> {
        let info = self.bucket(account, bucket)?;
        let dir = self.bucket_dir(&info);
        let upload_id = uuid::Uuid::new_v4().simple().to_string();
        let upload = UploadInfo {
            key: key.to_string(),
            headers,
            user_metadata,
            initiated: Utc::now(),
        };
        let upload_dir = dir.join("uploads").join(&upload_id);
        let write = || -> std::io::Result<()> {
            fs::create_dir_all(&upload_dir)?;
            let json = serde_json::to_vec(&upload).map_err(std::io::Error::other)?;
            write_atomically(&dir.join("tmp"), &upload_dir.join("upload.json"), &[&json])
        };
        write().map_err(|e| io_error("create upload", e))?;
        Ok(upload_id)
    }

    fn upload_dir(
        &self,
        account: &str,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<(PathBuf, PathBuf, UploadInfo), S3Error> {
        let info = self.bucket(account, bucket)?;
        let dir = self.bucket_dir(&info);
        let no_such_upload = || {
            S3Error::new(404, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.").with("UploadId", upload_id)
        };
        if upload_id.is_empty() || !upload_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(no_such_upload());
        }
        let upload_dir = dir.join("uploads").join(upload_id);
        let text = fs::read(upload_dir.join("upload.json")).map_err(|_| no_such_upload())?;
        let upload: UploadInfo = serde_json::from_slice(&text).map_err(|_| S3Error::corrupt())?;
        if upload.key != key {
            return Err(no_such_upload());
        }
        Ok((dir, upload_dir, upload))
    }

    /// Stores one part (checksummed like an object); returns its ETag (hex MD5).
    pub fn put_part(
        &self,
        account: &str,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part_number: u32,
        content: &[u8],
    ) -> Result<String, S3Error> {
        let (dir, upload_dir, _) = self.upload_dir(account, bucket, key, upload_id)?;
        let etag = hex::encode(Md5::digest(content));
        let meta = ObjectMeta {
            key: format!("part-{part_number}"),
            size: content.len() as u64,
            etag: etag.clone(),
            last_modified: Utc::now(),
            headers: BTreeMap::new(),
            user_metadata: BTreeMap::new(),
            checksums: BTreeMap::new(),
        };
        write_object_file(
            &dir.join("tmp"),
            &upload_dir.join(format!("part-{part_number}")),
            &encode_header(&meta),
            content,
        )
        .map_err(|e| io_error("write part", e))?;
        Ok(etag)
    }

    /// Assembles the listed parts into the object. `parts` are (number, etag without quotes),
    /// ascending; every part but the last must be at least 5 MiB, as on S3.
    pub fn complete_upload(
        &self,
        account: &str,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: &[(u32, String)],
    ) -> Result<ObjectMeta, S3Error> {
        const MIN_PART: usize = 5 << 20;
        let (_, upload_dir, upload) = self.upload_dir(account, bucket, key, upload_id)?;
        let mut content = Vec::new();
        let mut md5s = Vec::new();
        for (index, (number, etag)) in parts.iter().enumerate() {
            let invalid_part = || {
                S3Error::new(400, "InvalidPart", "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.")
                    .with("UploadId", upload_id)
                    .with("PartNumber", &number.to_string())
                    .with("ETag", etag)
            };
            let bytes =
                fs::read(upload_dir.join(format!("part-{number}"))).map_err(|_| invalid_part())?;
            let (meta, range) = decode_object(&bytes).map_err(|reason| {
                tracing::error!(
                    bucket,
                    key,
                    upload_id,
                    number,
                    reason,
                    "part failed verification"
                );
                S3Error::corrupt()
            })?;
            if !meta.etag.eq_ignore_ascii_case(etag) {
                return Err(invalid_part());
            }
            if index + 1 < parts.len() && range.len() < MIN_PART {
                return Err(S3Error::new(
                    400,
                    "EntityTooSmall",
                    "Your proposed upload is smaller than the minimum allowed object size.",
                )
                .with("ProposedSize", &range.len().to_string())
                .with("MinSizeAllowed", &MIN_PART.to_string())
                .with("PartNumber", &number.to_string())
                .with("ETag", etag));
            }
            md5s.extend_from_slice(&hex::decode(&meta.etag).map_err(|_| S3Error::corrupt())?);
            content.extend_from_slice(&bytes[range]);
        }
        let meta = ObjectMeta {
            key: key.to_string(),
            size: content.len() as u64,
            etag: format!("{}-{}", hex::encode(Md5::digest(&md5s)), parts.len()),
            last_modified: Utc::now(),
            headers: upload.headers,
            user_metadata: upload.user_metadata,
            checksums: BTreeMap::new(),
        };
        self.put_object(account, bucket, meta.clone(), &content)?;
        let _ = fs::remove_dir_all(&upload_dir);
        Ok(meta)
    }

    pub fn abort_upload(
        &self,
        account: &str,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<(), S3Error> {
        let (_, upload_dir, _) = self.upload_dir(account, bucket, key, upload_id)?;
        fs::remove_dir_all(&upload_dir).map_err(|e| io_error("abort upload", e))
    }
}

/// The object file name for `key`.
pub fn key_file_name(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

fn encode_header(meta: &ObjectMeta) -> Vec<u8> {
    let json = serde_json::to_vec(meta).expect("object metadata always serializes");
    let mut header = Vec::with_capacity(12 + json.len());
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&(json.len() as u32).to_le_bytes());
    header.extend_from_slice(&json);
    header
}

fn write_object_file(
    tmp_dir: &Path,
    target: &Path,
    header: &[u8],
    content: &[u8],
) -> std::io::Result<()> {
    let mut digest = Sha256::new();
    digest.update(header);
    digest.update(content);
    let digest = digest.finalize();
    write_atomically(tmp_dir, target, &[header, content, &digest])
}

/// Writes and fsyncs a complete object file under `tmp_dir`; returns its path.
fn write_tmp_object(tmp_dir: &Path, header: &[u8], content: &[u8]) -> std::io::Result<PathBuf> {
    let mut digest = Sha256::new();
    digest.update(header);
    digest.update(content);
    let digest = digest.finalize();
    fs::create_dir_all(tmp_dir)?;
    let tmp = tmp_dir.join(uuid::Uuid::new_v4().simple().to_string());
    let written = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(header)?;
        file.write_all(content)?;
        file.write_all(&digest)?;
        file.sync_all()
    })();
    match written {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn write_atomically(tmp_dir: &Path, target: &Path, pieces: &[&[u8]]) -> std::io::Result<()> {
    fs::create_dir_all(tmp_dir)?;
    let tmp = tmp_dir.join(uuid::Uuid::new_v4().simple().to_string());
    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        for piece in pieces {
            file.write_all(piece)?;
        }
        file.sync_all()?;
        fs::rename(&tmp, target)?;
        sync_dir(target.parent().unwrap_or(tmp_dir))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// Checks magic and digest; returns the metadata and where the content lies in `bytes`.
fn decode_object(bytes: &[u8]) -> Result<(ObjectMeta, std::ops::Range<usize>), &'static str> {
    if bytes.len() < MAGIC.len() + 4 + DIGEST_LEN || &bytes[..8] != MAGIC {
        return Err("bad magic or truncated");
    }
    let body_end = bytes.len() - DIGEST_LEN;
    if Sha256::digest(&bytes[..body_end]).as_slice() != &bytes[body_end..] {
        return Err("SHA-256 mismatch");
    }
    let meta_len = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes")) as usize;
    let content_start = 12usize
        .checked_add(meta_len)
        .filter(|end| *end <= body_end)
        .ok_or("metadata length out of range")?;
    let meta: ObjectMeta =
        serde_json::from_slice(&bytes[12..content_start]).map_err(|_| "metadata is not JSON")?;
    if meta.size != (body_end - content_start) as u64 {
        return Err("size mismatch");
    }
    Ok((meta, content_start..body_end))
}

/// Reads just the header of an object file (for the index at open).
fn read_meta(path: &Path) -> Result<ObjectMeta, String> {
    use std::io::Read;
    let mut file = fs::File::open(path).map_err(|e| e.to_string())?;
    let mut head = [0u8; 12];
    file.read_exact(&mut head).map_err(|e| e.to_string())?;
    if &head[..8] != MAGIC {
        return Err("bad magic".into());
    }
    let meta_len = u32::from_le_bytes(head[8..12].try_into().expect("4 bytes")) as usize;
    if meta_len > 1 << 20 {
        return Err("metadata length out of range".into());
    }
    let mut json = vec![0u8; meta_len];
    file.read_exact(&mut json).map_err(|e| e.to_string())?;
    serde_json::from_slice(&json).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(key: &str, content: &[u8]) -> ObjectMeta {
        ObjectMeta {
            key: key.into(),
            size: content.len() as u64,
            etag: hex::encode(Md5::digest(content)),
            last_modified: Utc::now(),
            headers: BTreeMap::new(),
            user_metadata: BTreeMap::from([("signature".to_string(), "abc".to_string())]),
            checksums: BTreeMap::new(),
        }
    }

    #[test]
    fn objects_survive_reopen_and_corruption_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = BucketStore::open(dir.path()).unwrap();
        store
            .create_bucket("111122223333", "logs", "us-east-1")
            .unwrap();
        store
            .put_object("111122223333", "logs", meta("a/../b", b"hello"), b"hello")
            .unwrap();
        drop(store);

        let store = BucketStore::open(dir.path()).unwrap();
        let (got, content) = store.get_object("111122223333", "logs", "a/../b").unwrap();
        assert_eq!(content, b"hello");
        assert_eq!(got.user_metadata["signature"], "abc");
        assert_eq!(
            store
                .get_object("444455556666", "logs", "a/../b")
                .unwrap_err()
                .code,
            "AccessDenied"
        );

        let path = dir
            .path()
            .join("111122223333/logs/objects")
            .join(key_file_name("a/../b"));
        let mut bytes = fs::read(&path).unwrap();
        let at = bytes.len() - DIGEST_LEN - 2;
        bytes[at] ^= 0x01;
        fs::write(&path, bytes).unwrap();
        let err = store
            .get_object("111122223333", "logs", "a/../b")
            .unwrap_err();
        assert_eq!(err.code, "InternalError");
        assert_eq!(err.status, 500);
    }

    #[test]
    fn bucket_names_are_global_and_non_empty_buckets_stay() {
        let dir = tempfile::tempdir().unwrap();
        let store = BucketStore::open(dir.path()).unwrap();
        store
            .create_bucket("111122223333", "b1", "us-east-1")
            .unwrap();
        assert_eq!(
            store
                .create_bucket("111122223333", "b1", "us-east-1")
                .unwrap_err()
                .code,
            "BucketAlreadyOwnedByYou"
        );
        assert_eq!(
            store
                .create_bucket("444455556666", "b1", "us-east-1")
                .unwrap_err()
                .code,
            "BucketAlreadyExists"
        );
        store
            .put_object("111122223333", "b1", meta("k", b"x"), b"x")
            .unwrap();
        assert_eq!(
            store.delete_bucket("111122223333", "b1").unwrap_err().code,
            "BucketNotEmpty"
        );
        store.delete_object("111122223333", "b1", "k").unwrap();
        store.delete_bucket("111122223333", "b1").unwrap();
        assert!(store.list_buckets("111122223333").is_empty());
        drop(store);
        assert!(BucketStore::open(dir.path())
            .unwrap()
            .list_buckets("111122223333")
            .is_empty());
    }
}
