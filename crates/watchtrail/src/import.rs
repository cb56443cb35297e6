//! `watchtrail import`: bulk-loads AWS log files into log groups through the store's durable write
//! path (`Store::append`, the same WAL + fsync as PutLogEvents), bypassing only PutLogEvents'
//! 14-day age limit, because a bulk load of old logs is the point.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Instant, UNIX_EPOCH};

use indicatif::{ProgressBar, ProgressStyle};
use watchtrail_formats::{
    cloudtrail_records, default_log_group, default_stream_name, detect, kind_from_object_key,
    open_decoded, Detection, FormatKind, LineOutcome, LineParser,
};
use watchtrail_store::{GroupId, InputEvent, NewLogGroup, Scope, Store, StoreError, StreamId};

/// Appends are cut at this many events or bytes, whichever comes first, like a PutLogEvents batch.
const BATCH_EVENTS: usize = 10_000;
const BATCH_BYTES: usize = 1 << 20;
pub(crate) const DETECTION_SAMPLE_LINES: usize = 64;

pub struct ImportOptions {
    pub format: Option<FormatKind>,
    pub log_group: Option<String>,
    pub progress: bool,
}

#[derive(Default, Debug)]
pub struct ImportSummary {
    pub files_imported: u64,
    pub files_skipped: u64,
    pub files_failed: Vec<(PathBuf, String)>,
    pub events: u64,
    pub bytes: u64,
    pub malformed: BTreeMap<String, u64>,
}

impl ImportSummary {
    pub fn print(&self, elapsed: f64) {
        println!(
            "imported {} file(s), skipped {} already imported, {} failed; {} events, {:.1} MB in {:.1} s ({:.0} events/s)",
            self.files_imported,
            self.files_skipped,
            self.files_failed.len(),
            self.events,
            self.bytes as f64 / 1e6,
            elapsed,
            self.events as f64 / elapsed.max(1e-9)
        );
        for (reason, count) in &self.malformed {
            println!("  kept {count} malformed line(s) as raw messages: {reason}");
        }
        for (path, error) in &self.files_failed {
            println!("  failed: {}: {error}", path.display());
        }
    }
}

/// Expands files, directories (recursively) and glob patterns into a sorted file list.
pub fn expand_inputs(inputs: &[String]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for input in inputs {
        if input.starts_with("s3://") {
            anyhow::bail!("importing from {input}: s3:// sources are not supported yet; copy the objects locally (aws s3 sync) and import the directory");
        }
        let path = Path::new(input);
        if path.is_dir() {
            walk(path, &mut files)?;
        } else if path.is_file() {
            files.push(path.to_path_buf());
        } else if input.contains(['*', '?', '[']) {
            let mut matched = 0;
            for entry in glob::glob(input)? {
                let entry = entry?;
                if entry.is_dir() {
                    walk(&entry, &mut files)?;
                } else {
                    files.push(entry);
                }
                matched += 1;
            }
            if matched == 0 {
                anyhow::bail!("no file matches {input}");
            }
        } else {
            anyhow::bail!("no such file or directory: {input}");
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

/// Counts compressed bytes as they are read, for the progress bar.
pub(crate) struct CountingReader<R> {
    pub(crate) inner: R,
    pub(crate) counter: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Pending events per (group, stream), flushed as batches through `Store::append`.
pub(crate) struct BatchBuffer<'a> {
    store: &'a Store,
    scope: &'a Scope,
    groups: HashMap<String, GroupId>,
    streams: HashMap<(GroupId, String), StreamId>,
    pending: HashMap<(GroupId, StreamId), (Vec<InputEvent>, usize)>,
    appended: u64,
}

impl<'a> BatchBuffer<'a> {
    pub(crate) fn new(store: &'a Store, scope: &'a Scope) -> BatchBuffer<'a> {
        BatchBuffer {
            store,
            scope,
            groups: HashMap::new(),
            streams: HashMap::new(),
            pending: HashMap::new(),
            appended: 0,
        }
    }

    async fn stream_id(
        &mut self,
        group: &str,
        stream: &str,
    ) -> Result<(GroupId, StreamId), StoreError> {
        let group_id = match self.groups.get(group) {
            Some(id) => *id,
            None => {
                let id = match self.store.log_group(self.scope, group).await? {
                    Some(g) => g.id,
                    None => {
                        let new = NewLogGroup {
                            name: group.to_string(),
                            creation_time: now_ms(),
                            log_group_class: "STANDARD".into(),
                            ..Default::default()
                        };
                        self.store.create_log_group(self.scope, new).await?.id
                    }
                };
                self.groups.insert(group.to_string(), id);
                id
            }
        };
        let key = (group_id, stream.to_string());
        if let Some(id) = self.streams.get(&key) {
            return Ok((group_id, *id));
        }
        let id = match self.store.log_stream(group_id, stream).await? {
            Some(s) => s.id,
            None => {
                self.store
                    .create_log_stream(group_id, stream, now_ms())
                    .await?
                    .id
            }
        };
        self.streams.insert(key, id);
        Ok((group_id, id))
    }

    pub(crate) async fn push(
        &mut self,
        group: &str,
        stream: &str,
        event: InputEvent,
    ) -> Result<(), StoreError> {
        let key = self.stream_id(group, stream).await?;
        let entry = self.pending.entry(key).or_default();
        entry.1 += event.message.len() + 26;
        entry.0.push(event);
        if entry.0.len() >= BATCH_EVENTS || entry.1 >= BATCH_BYTES {
            let (events, _) = std::mem::take(entry);
            self.appended += events.len() as u64;
            self.store.append(key.0, key.1, now_ms(), events).await?;
        }
        Ok(())
    }

    pub(crate) async fn flush(&mut self) -> Result<(), StoreError> {
        for (key, (events, _)) in self.pending.drain() {
            if !events.is_empty() {
                self.appended += events.len() as u64;
                self.store.append(key.0, key.1, now_ms(), events).await?;
            }
        }
        Ok(())
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn file_identity(path: &Path) -> anyhow::Result<(String, i64)> {
    let meta = std::fs::metadata(path)?;
    let absolute = std::fs::canonicalize(path)?;
    let mtime = meta
        .modified()?
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mtime_ms = (mtime / 1_000_000) as i64;
    Ok((
        format!("file:{}:{}:{mtime}", absolute.display(), meta.len()),
        mtime_ms,
    ))
}

pub async fn run(
    store: &Store,
    scope: &Scope,
    files: &[PathBuf],
    options: &ImportOptions,
) -> anyhow::Result<ImportSummary> {
    let total_bytes: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let counter = Arc::new(AtomicU64::new(0));
    let bar = if options.progress {
        ProgressBar::new(total_bytes)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta} {msg}",
        )
        .expect("valid template"),
    );
    let started = Instant::now();
    let mut summary = ImportSummary::default();
    let mut buffer = BatchBuffer {
        store,
        scope,
        groups: HashMap::new(),
        streams: HashMap::new(),
        pending: HashMap::new(),
        appended: 0,
    };
    for path in files {
        let (identity, mtime_ms) = file_identity(path)?;
        if store
            .is_imported(scope, &identity)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?
        {
            summary.files_skipped += 1;
            counter.fetch_add(
                std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
                Ordering::Relaxed,
            );
            continue;
        }
        let before = buffer.appended;
        match import_file(
            &mut buffer,
            path,
            mtime_ms,
            options,
            &counter,
            &bar,
            &mut summary,
        )
        .await
        {
            Ok(()) => {
                // Only after the file's events are durable is it recorded as imported; a crash in
                // between re-imports this one file on the next run.
                buffer.flush().await.map_err(|e| anyhow::anyhow!("{e}"))?;
                store
                    .record_import(scope, &identity)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                summary.files_imported += 1;
            }
            Err(e) => {
                buffer.flush().await.map_err(|e| anyhow::anyhow!("{e}"))?;
                summary.files_failed.push((path.clone(), e.to_string()));
            }
        }
        summary.events += buffer.appended - before;
        bar.set_position(counter.load(Ordering::Relaxed));
        let elapsed = started.elapsed().as_secs_f64().max(1e-9);
        bar.set_message(format!("{:.0} events/s", buffer.appended as f64 / elapsed));
    }
    summary.bytes = total_bytes;
    bar.finish_and_clear();
    Ok(summary)
}

async fn import_file(
    buffer: &mut BatchBuffer<'_>,
    path: &Path,
    mtime_ms: i64,
    options: &ImportOptions,
    counter: &Arc<AtomicU64>,
    bar: &ProgressBar,
    summary: &mut ImportSummary,
) -> anyhow::Result<()> {
    let file = std::fs::File::open(path)?;
    let mut reader = open_decoded(CountingReader {
        inner: file,
        counter: counter.clone(),
    })?;
    let key = path.to_string_lossy();
    let kind_hint = options.format.or_else(|| kind_from_object_key(&key));
    let stem = path
        .file_name()
        .map(|n| {
            n.to_string_lossy()
                .trim_end_matches(".gz")
                .trim_end_matches(".zst")
                .to_string()
        })
        .unwrap_or_else(|| "import".into());

    if kind_hint == Some(FormatKind::CloudTrail)
        || (kind_hint.is_none() && key.ends_with(".json.gz"))
    {
        let mut document = Vec::new();
        reader.read_to_end(&mut document)?;
        if let Ok(records) = cloudtrail_records(&document) {
            let group = options
                .log_group
                .clone()
                .unwrap_or_else(|| default_log_group(FormatKind::CloudTrail).to_string());
            for record in records {
                let message = serde_json::to_string(&record)?;
                let timestamp = record["eventTime"]
                    .as_str()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| t.timestamp_millis())
                    .unwrap_or(mtime_ms);
                let stream = format!(
                    "{}_CloudTrail_{}",
                    record["recipientAccountId"].as_str().unwrap_or("unknown"),
                    record["awsRegion"].as_str().unwrap_or("unknown")
                );
                buffer
                    .push(&group, &stream, InputEvent { timestamp, message })
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            return Ok(());
        }
        if kind_hint == Some(FormatKind::CloudTrail) {
            anyhow::bail!("not a CloudTrail log file ({{\"Records\": [...]}})");
        }
        // Not a trail file after all: treat the decoded bytes as lines.
        reader = Box::new(std::io::Cursor::new(document));
    }

    // Read a sample for detection without losing it for the import.
    let mut sample = Vec::new();
    let mut line = String::new();
    while sample.len() < DETECTION_SAMPLE_LINES {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        sample.push(line.trim_end_matches(['\n', '\r']).to_string());
    }
    let kind = match kind_hint {
        Some(kind) => kind,
        None => {
            let refs: Vec<&str> = sample.iter().map(String::as_str).collect();
            match detect(&refs) {
                Detection::Detected { kind, .. } => kind,
                Detection::Unsure { candidates } => {
                    let names: Vec<&str> = candidates.iter().map(|k| k.name()).collect();
                    anyhow::bail!(
                        "cannot tell the format (candidates: {}); pass --format",
                        if names.is_empty() {
                            "none".to_string()
                        } else {
                            names.join(", ")
                        }
                    );
                }
            }
        }
    };
    let group = options
        .log_group
        .clone()
        .unwrap_or_else(|| default_log_group(kind).to_string());
    let mut parser = LineParser::new(kind);
    let mut last_timestamp = mtime_ms;
    let mut handle = |raw: &str,
                      parser: &mut LineParser,
                      summary: &mut ImportSummary|
     -> Option<(String, InputEvent)> {
        if raw.is_empty() {
            return None;
        }
        let (stream, timestamp) = match parser.parse_line(raw) {
            LineOutcome::Header => return None,
            LineOutcome::Record(record) => {
                let ts = record.timestamp_ms.unwrap_or(last_timestamp);
                (
                    default_stream_name(kind, &record).unwrap_or_else(|| stem.clone()),
                    ts,
                )
            }
            LineOutcome::Malformed { reason } => {
                *summary
                    .malformed
                    .entry(format!("{}: {reason}", kind.name()))
                    .or_default() += 1;
                (stem.clone(), last_timestamp)
            }
        };
        last_timestamp = timestamp;
        Some((
            stream,
            InputEvent {
                timestamp,
                message: raw.to_string(),
            },
        ))
    };
    for raw in &sample {
        if let Some((stream, event)) = handle(raw, &mut parser, summary) {
            buffer
                .push(&group, &stream, event)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
    }
    let mut processed = 0u64;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        let raw = line.trim_end_matches(['\n', '\r']);
        if let Some((stream, event)) = handle(raw, &mut parser, summary) {
            buffer
                .push(&group, &stream, event)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        processed += 1;
        if processed.is_multiple_of(65_536) {
            bar.set_position(counter.load(Ordering::Relaxed));
        }
    }
    Ok(())
}
