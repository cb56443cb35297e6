//! `watchtrail import cloudtrail PATH|DIR|GLOB|s3://bucket/prefix`: loads real trail files into
//! the event history (LookupEvents) and into the CloudTrail log group, as the CloudTrail →
//! CloudWatch Logs integration would.
//!
//! Files are streamed record by record (a parser thread feeds a bounded channel), so memory does
//! not grow with file size. Idempotent twice over: a file whose key was imported is skipped, and
//! the history ignores eventIDs it already holds.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use object_store::path::Path as ObjectPath;
use object_store::ObjectStore;
use serde_json::Value;
use watchtrail_cloudtrail::import::{read_trail_records, Flow};
use watchtrail_cloudtrail::{AuditRecord, EventCategory, History};
use watchtrail_formats::{default_log_group, open_decoded, FormatKind};
use watchtrail_store::{InputEvent, Scope, Store};

use crate::import::{BatchBuffer, CountingReader};

const HISTORY_BATCH: usize = 1000;
/// Records in flight between the parser thread and the writers.
const CHANNEL_RECORDS: usize = 1024;

#[derive(Default, Debug)]
pub struct TrailImportSummary {
    pub files_imported: u64,
    pub files_skipped: u64,
    pub files_failed: Vec<(String, String)>,
    pub records: u64,
    pub history_added: u64,
    pub malformed_records: u64,
}

impl TrailImportSummary {
    pub fn print(&self, elapsed: f64) {
        println!(
            "imported {} trail file(s), skipped {} already imported, {} failed; {} records ({} new in event history, {} malformed) in {:.1} s",
            self.files_imported,
            self.files_skipped,
            self.files_failed.len(),
            self.records,
            self.history_added,
            self.malformed_records,
            elapsed
        );
        for (file, error) in &self.files_failed {
            println!("  failed: {file}: {error}");
        }
    }
}

/// A trail file to import: a local path, or an object fetched to a temporary file first.
pub struct TrailFile {
    /// Shown to the user.
    pub display: String,
    pub path: PathBuf,
    /// For `s3://` inputs: where to fetch the object from, into `path`, just before importing it.
    pub remote: Option<(Arc<dyn ObjectStore>, ObjectPath)>,
    /// Idempotency key: the object's file name (AWS makes it unique: account, region, time,
    /// random suffix) and its size, so the same file imported from another directory or from
    /// the bucket is still recognised.
    pub key: String,
    pub size: u64,
}

impl TrailFile {
    pub fn local(path: &Path) -> anyhow::Result<TrailFile> {
        let size = std::fs::metadata(path)?.len();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(TrailFile {
            display: path.display().to_string(),
            path: path.to_path_buf(),
            remote: None,
            key: format!("{name}:{size}"),
            size,
        })
    }
}

/// Trail files only: `.json`, `.json.gz` (and digest files are not trail files).
pub fn is_trail_file_name(name: &str) -> bool {
    (name.ends_with(".json.gz") || name.ends_with(".json")) && !name.contains("CloudTrail-Digest")
}

pub async fn run(
    store: &Store,
    scope: &Scope,
    history: &Arc<History>,
    files: &[TrailFile],
    log_group: Option<&str>,
    progress: bool,
) -> anyhow::Result<TrailImportSummary> {
    let total: u64 = files.iter().map(|f| f.size).sum();
    let bar = if progress {
        ProgressBar::new(total)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta} {msg}",
        )
        .expect("valid template"),
    );
    let group = log_group
        .unwrap_or(default_log_group(FormatKind::CloudTrail))
        .to_string();
    let counter = Arc::new(AtomicU64::new(0));
    let mut summary = TrailImportSummary::default();
    let mut buffer = BatchBuffer::new(store, scope);
    for file in files {
        if history.is_file_imported(&file.key)? {
            summary.files_skipped += 1;
            counter.fetch_add(file.size, Ordering::Relaxed);
            bar.set_position(counter.load(Ordering::Relaxed));
            continue;
        }
        let fetched = match &file.remote {
            Some((bucket, location)) => fetch(bucket.as_ref(), location, &file.path).await,
            None => Ok(()),
        };
        let imported = match fetched {
            Ok(()) => {
                import_file(
                    file,
                    &group,
                    history,
                    &mut buffer,
                    &counter,
                    &bar,
                    &mut summary,
                )
                .await
            }
            Err(e) => Err(e),
        };
        if file.remote.is_some() {
            let _ = std::fs::remove_file(&file.path);
        }
        match imported {
            Ok(()) => {
                // The file counts as imported only once its events are durable in both places.
                buffer.flush().await.map_err(|e| anyhow::anyhow!("{e}"))?;
                history.mark_file_imported(&file.key).await?;
                summary.files_imported += 1;
            }
            Err(e) => {
                buffer.flush().await.map_err(|e| anyhow::anyhow!("{e}"))?;
                summary
                    .files_failed
                    .push((file.display.clone(), e.to_string()));
            }
        }
        bar.set_position(counter.load(Ordering::Relaxed));
        bar.set_message(format!("{} records", summary.records));
    }
    bar.finish_and_clear();
    Ok(summary)
}

async fn import_file(
    file: &TrailFile,
    group: &str,
    history: &Arc<History>,
    buffer: &mut BatchBuffer<'_>,
    counter: &Arc<AtomicU64>,
    bar: &ProgressBar,
    summary: &mut TrailImportSummary,
) -> anyhow::Result<()> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Value>(CHANNEL_RECORDS);
    let path = file.path.clone();
    let counter_for_reader = counter.clone();
    let parser = tokio::task::spawn_blocking(move || -> anyhow::Result<u64> {
        let reader = open_decoded(CountingReader {
            inner: std::fs::File::open(&path)?,
            counter: counter_for_reader,
        })?;
        Ok(read_trail_records(reader, |record| {
            match tx.blocking_send(record) {
                Ok(()) => Flow::Continue,
                Err(_) => Flow::Stop,
            }
        })?)
    });
    let mut pending: Vec<AuditRecord> = Vec::with_capacity(HISTORY_BATCH);
    while let Some(record) = rx.recv().await {
        summary.records += 1;
        let message = serde_json::to_string(&record)?;
        let parsed = AuditRecord::from_trail_json(record);
        let timestamp = match &parsed {
            Some(r) => r.event_time_ms,
            None => {
                summary.malformed_records += 1;
                // Kept in the log group as the existing importer keeps malformed lines, timed
                // at the file's import.
                chrono::Utc::now().timestamp_millis()
            }
        };
        let stream = match &parsed {
            Some(r) => format!("{}_CloudTrail_{}", r.account_id, r.region),
            None => "malformed".to_string(),
        };
        buffer
            .push(group, &stream, InputEvent { timestamp, message })
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if let Some(parsed) = parsed {
            // Event history holds management events only, as AWS's does.
            if parsed.category == EventCategory::Management {
                pending.push(parsed);
                if pending.len() >= HISTORY_BATCH {
                    summary.history_added +=
                        history.insert(std::mem::take(&mut pending)).await? as u64;
                }
            }
        }
        if summary.records.is_multiple_of(4096) {
            bar.set_position(counter.load(Ordering::Relaxed));
        }
    }
    if !pending.is_empty() {
        summary.history_added += history.insert(pending).await? as u64;
    }
    parser
        .await
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display))??;
    Ok(())
}

/// Expands local inputs (files, directories recursively, globs) into trail files.
pub fn expand_local(inputs: &[String]) -> anyhow::Result<Vec<TrailFile>> {
    let paths = crate::import::expand_inputs(inputs)?;
    paths
        .iter()
        .filter(|p| {
            p.file_name()
                .map(|n| is_trail_file_name(&n.to_string_lossy()))
                .unwrap_or(false)
        })
        .map(|p| TrailFile::local(p))
        .collect()
}

/// Streams an object to a local file (the parser then streams the file).
async fn fetch(bucket: &dyn ObjectStore, location: &ObjectPath, to: &Path) -> anyhow::Result<()> {
    use std::io::Write;
    let object = bucket.get(location).await?;
    let mut out = std::io::BufWriter::new(std::fs::File::create(to)?);
    let mut chunks = object.into_stream();
    while let Some(chunk) = chunks.next().await {
        out.write_all(&chunk?)?;
    }
    out.flush()?;
    Ok(())
}

/// Lists `s3://bucket/prefix` (credentials and endpoint from the usual `AWS_*` variables, as for
/// `--segment-url`).
async fn expand_s3(url: &str, scratch: &Path) -> anyhow::Result<Vec<TrailFile>> {
    let rest = url.strip_prefix("s3://").unwrap_or(url);
    let (bucket_name, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket_name.is_empty() {
        anyhow::bail!("{url}: no bucket name");
    }
    let bucket: Arc<dyn ObjectStore> = Arc::new(
        object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(bucket_name)
            .build()?,
    );
    let prefix = (!prefix.is_empty()).then(|| ObjectPath::from(prefix.trim_end_matches('/')));
    let mut listing = bucket.list(prefix.as_ref());
    let mut files = Vec::new();
    while let Some(meta) = listing.next().await {
        let meta = meta?;
        let name = meta.location.filename().unwrap_or_default().to_string();
        if !is_trail_file_name(&name) {
            continue;
        }
        let size = meta.size;
        files.push(TrailFile {
            display: format!("s3://{bucket_name}/{}", meta.location),
            path: scratch.join(format!("{}-{name}", files.len())),
            remote: Some((bucket.clone(), meta.location.clone())),
            key: format!("{name}:{size}"),
            size,
        });
    }
    if files.is_empty() {
        anyhow::bail!("{url}: no trail files (.json.gz/.json) under this prefix");
    }
    Ok(files)
}

/// The `watchtrail import cloudtrail` command.
pub fn main(
    inputs: &[String],
    log_group: Option<String>,
    data: &Path,
    region: &str,
    progress: bool,
) -> anyhow::Result<()> {
    let (remote, local): (Vec<String>, Vec<String>) =
        inputs.iter().cloned().partition(|i| i.starts_with("s3://"));
    let mut files = if local.is_empty() {
        Vec::new()
    } else {
        expand_local(&local)?
    };
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            let _lock = crate::data_dir::DataDirLock::acquire(data)?;
            let (root, _) = crate::data_dir::root_credentials(data, region)?;
            let scratch = data.join("import-scratch");
            if !remote.is_empty() {
                std::fs::create_dir_all(&scratch)?;
            }
            for url in &remote {
                files.extend(expand_s3(url, &scratch).await?);
            }
            let store = Store::open(watchtrail_store::StoreConfig::new(data))
                .await
                .map_err(|e| anyhow::anyhow!("opening store: {e}"))?;
            let history = History::open(data, std::time::Duration::from_secs(3600))
                .map_err(|e| anyhow::anyhow!("opening the CloudTrail event history: {e}"))?;
            let scope = Scope {
                account_id: root.account_id.clone(),
                region: region.to_string(),
            };
            let started = std::time::Instant::now();
            let result = run(
                &store,
                &scope,
                &history,
                &files,
                log_group.as_deref(),
                progress,
            )
            .await;
            history.shutdown();
            store
                .shutdown()
                .await
                .map_err(|e| anyhow::anyhow!("flushing: {e}"))?;
            let _ = std::fs::remove_dir(&scratch);
            let summary = result?;
            summary.print(started.elapsed().as_secs_f64());
            if !summary.files_failed.is_empty() {
                anyhow::bail!(
                    "{} file(s) could not be imported",
                    summary.files_failed.len()
                );
            }
            Ok(())
        })
}
