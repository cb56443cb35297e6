//! The durable log store: every acknowledged event survives `kill -9`.
//!
//! Write path: [`Store::append`] encodes a batch into the write-ahead log, waits for the group-commit
//! fsync, then inserts into the memtable and returns. A background flusher turns the memtable into
//! immutable, checksummed Parquet segments (written through `object_store`) and registers them in the
//! catalog together with the WAL checkpoint, in one catalog transaction.
//!
//! Read path: [`Store::scan`] merges segments (pruned by time bounds from the catalog) with the
//! memtable, so an event is readable as soon as `append` returns.
//!
//! This crate knows nothing about HTTP, AWS error shapes or filter-pattern syntax: the logs service
//! validates requests and passes a plain predicate to [`Store::scan`].

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Catalog-assigned identity of a log group. A group deleted and re-created under the same name
/// gets a new id, so WAL records of the old group are never replayed into the new one.
pub type GroupId = i64;
/// Catalog-assigned identity of a log stream; same re-creation rule as [`GroupId`].
pub type StreamId = i64;

/// Resources live per account and region.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope {
    pub account_id: String,
    pub region: String,
}

#[derive(Clone, Debug)]
pub struct StoreConfig {
    pub data_dir: PathBuf,
    /// `None`: segments under `data_dir/segments` on the local filesystem.
    /// `Some("s3://bucket/prefix")`: an S3-compatible bucket through object_store (endpoint and
    /// credentials from the usual `AWS_*` environment variables).
    pub segment_url: Option<String>,
    /// Memtable size that triggers a flush to segments.
    pub memtable_flush_bytes: usize,
    /// Memtable size beyond which appends are refused with [`StoreError::Throttled`].
    pub memtable_limit_bytes: usize,
    /// A non-empty memtable is flushed at least this often, bounding WAL replay time.
    pub flush_interval: Duration,
    /// Free space below which appends are refused with [`StoreError::Unavailable`], so a full disk
    /// never leaves a half-written WAL record or segment behind.
    pub min_free_disk_bytes: u64,
    /// How often the retention sweeper deletes expired segments.
    pub retention_interval: Duration,
}

impl StoreConfig {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        StoreConfig {
            data_dir: data_dir.into(),
            segment_url: None,
            memtable_flush_bytes: 64 << 20,
            memtable_limit_bytes: 512 << 20,
            flush_interval: Duration::from_secs(30),
            min_free_disk_bytes: 256 << 20,
            retention_interval: Duration::from_secs(300),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct LogGroup {
    pub id: GroupId,
    pub scope: Scope,
    pub name: String,
    /// Epoch milliseconds.
    pub creation_time: i64,
    pub retention_in_days: Option<i32>,
    /// STANDARD, INFREQUENT_ACCESS, DELIVERY or ESSENTIALS.
    pub log_group_class: String,
    pub kms_key_id: Option<String>,
    pub deletion_protection_enabled: bool,
    pub tags: BTreeMap<String, String>,
    /// Sum of the stored size of its events (UTF-8 message bytes + 26 per event, as PutLogEvents
    /// counts them), including events still in the memtable; shrinks when retention deletes segments.
    pub stored_bytes: u64,
}

#[derive(Clone, Debug, Default)]
pub struct NewLogGroup {
    pub name: String,
    pub creation_time: i64,
    pub log_group_class: String,
    pub kms_key_id: Option<String>,
    pub deletion_protection_enabled: bool,
    pub tags: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum LogGroupChange {
    SetRetention(Option<i32>),
    /// Adds or overwrites.
    AddTags(BTreeMap<String, String>),
    RemoveTags(Vec<String>),
    SetDeletionProtection(bool),
}

#[derive(Clone, Debug, PartialEq)]
pub struct LogStream {
    pub id: StreamId,
    pub group_id: GroupId,
    pub name: String,
    pub creation_time: i64,
    pub first_event_timestamp: Option<i64>,
    pub last_event_timestamp: Option<i64>,
    pub last_ingestion_time: Option<i64>,
    pub stored_bytes: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamOrder {
    LogStreamName,
    LastEventTime,
}

/// Position in a stream listing; listing resumes strictly after it in the requested order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamCursor {
    Name(String),
    /// `last_event_timestamp` (None sorts first ascending) then name, to break ties.
    LastEventTime(Option<i64>, String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputEvent {
    /// Epoch milliseconds.
    pub timestamp: i64,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEvent {
    pub stream_id: StreamId,
    pub timestamp: i64,
    pub ingestion_time: i64,
    /// Store-wide, strictly increasing in acknowledgement order, unique per event, never reused
    /// (also across restarts). `(timestamp, seq)` is the total order of events.
    pub seq: u64,
    pub message: String,
}

/// A position in the total order `(timestamp, seq)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventPosition {
    pub timestamp: i64,
    pub seq: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Ascending `(timestamp, seq)`.
    Forward,
    /// Descending `(timestamp, seq)`.
    Backward,
}

#[derive(Clone, Debug)]
pub struct ScanRequest {
    pub group_id: GroupId,
    /// `None`: every stream of the group.
    pub streams: Option<Vec<StreamId>>,
    /// Inclusive, epoch ms.
    pub start_time: Option<i64>,
    /// Exclusive, epoch ms.
    pub end_time: Option<i64>,
    /// Resume strictly after this position in `direction`.
    pub after: Option<EventPosition>,
    pub direction: Direction,
    /// Maximum events returned.
    pub limit: usize,
    /// Stop after examining this many events even if fewer than `limit` matched, so one page of a
    /// very selective filter cannot run unbounded; the page then has `exhausted == false`.
    pub max_scanned: Option<u64>,
}

#[derive(Clone, Debug, Default)]
pub struct ScanPage {
    pub events: Vec<StoredEvent>,
    /// True when nothing after `resume_after` can match the request.
    pub exhausted: bool,
    /// Where the next page should resume (the last examined position, which may be past the last
    /// returned event when `max_scanned` cut the page).
    pub resume_after: Option<EventPosition>,
    pub scanned_events: u64,
    pub scanned_bytes: u64,
}

/// Evaluated on each candidate message; keeps filter-pattern syntax out of the store.
pub type MessagePredicate<'a> = &'a (dyn Fn(&str) -> bool + Sync);

/// A named query text kept durably per scope (Logs Insights query definitions). The store keeps
/// `body` opaque; only the fields it lists and filters by are columns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedQuery {
    pub id: String,
    pub name: String,
    pub language: String,
    /// The idempotency token of the request that created it.
    pub client_token: Option<String>,
    /// Epoch milliseconds.
    pub last_modified: i64,
    pub body: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AppendReceipt {
    /// seq of the first event; the batch occupies `first_seq .. first_seq + n`.
    pub first_seq: u64,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct StoreStats {
    pub memtable_bytes: u64,
    pub memtable_events: u64,
    pub wal_bytes: u64,
    pub segments: u64,
    pub segment_bytes: u64,
    pub durable_seq: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("log group already exists")]
    LogGroupAlreadyExists,
    #[error("log group does not exist")]
    LogGroupNotFound,
    #[error("log stream already exists")]
    LogStreamAlreadyExists,
    #[error("log stream does not exist")]
    LogStreamNotFound,
    /// Memory limits reached: the client should retry later (maps to ThrottlingException).
    #[error("throttled: {0}")]
    Throttled(String),
    /// Disk full, shutting down, or the segment store is unreachable (maps to ServiceUnavailableException).
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A checksum mismatch or undecodable file; the data is never served.
    #[error("corrupt data: {0}")]
    Corrupt(String),
    #[error("internal: {0}")]
    Internal(String),
}

mod catalog;
mod commit;
mod memtable;
mod scan;
mod segment;
mod unordered;
mod wal;

pub use catalog::{Catalog, Checkpoint, SegmentMeta, SqliteCatalog};
pub use memtable::StreamDelta;
pub use unordered::UnorderedScan;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{RwLock, Weak};

use commit::{AppendRequest, MemState, Shared};
use memtable::Memtable;
use scan::{merge_pass, PageState, PassEnd, ScanFilter, SortedRun};
use segment::{EventChunk, SegmentFiles};

/// Decoded row groups kept in memory for repeated reads.
const SEGMENT_CACHE_BYTES: usize = 128 << 20;
/// How often free disk space is sampled (appends read the cached figure).
const DISK_CHECK_INTERVAL: Duration = Duration::from_millis(500);

type SharedMemtable = Arc<RwLock<Memtable>>;

/// The store. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct Store {
    config: StoreConfig,
    catalog: Arc<dyn Catalog>,
    segments: SegmentFiles,
    shared: Arc<Shared>,
    /// Held (shared) while a reader pairs a catalog read with a memtable snapshot, and
    /// (exclusive) while a flush registers segments and drops their memtable, so a reader sees
    /// each event exactly once: in a registered segment or in a memtable.
    flush_commit: tokio::sync::RwLock<()>,
    /// One flush at a time.
    flush_running: tokio::sync::Mutex<()>,
    wal_tx: RwLock<Option<tokio::sync::mpsc::UnboundedSender<AppendRequest>>>,
    writer_thread: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
    /// Existing streams and their group: appends are checked against it without a catalog call.
    live_streams: RwLock<HashMap<StreamId, GroupId>>,
    /// Deleted streams (and streams of deleted groups) whose events may linger in segments or
    /// frozen memtables. Copy-on-write: scans take a cheap snapshot.
    hidden_streams: RwLock<Arc<HashSet<StreamId>>>,
    free_disk_bytes: AtomicU64,
    segment_count: AtomicU64,
    segment_bytes: AtomicU64,
    shutting_down: AtomicBool,
    sweep_wanted: Arc<tokio::sync::Notify>,
    tasks: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

fn lock_err<T>(r: std::sync::LockResult<T>) -> T {
    // A panic while holding one of these locks is a bug; the data behind them stays consistent
    // (every mutation is completed before unlocking), so keep serving.
    r.unwrap_or_else(|p| p.into_inner())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A source of events a scan has not fetched yet, keyed by the first timestamp the merge would
/// meet in it (min going forward, max going backward).
struct PendingRun {
    key: i64,
    unit: PendingUnit,
}

enum PendingUnit {
    Segment(SegmentMeta),
    RowGroup(Arc<segment::OpenedSegment>, usize),
}

/// Keeps `pending` ordered so that its last element is the one the merge reaches first.
fn push_pending(pending: &mut Vec<PendingRun>, forward: bool, run: PendingRun) {
    let at = if forward {
        pending.partition_point(|p| p.key > run.key)
    } else {
        pending.partition_point(|p| p.key < run.key)
    };
    pending.insert(at, run);
}

/// A memtable lock for reading one group in order: shared if the group is already sorted,
/// exclusive (after sorting) otherwise.
enum MemGuard<'a> {
    Read(std::sync::RwLockReadGuard<'a, Memtable>),
    Write(std::sync::RwLockWriteGuard<'a, Memtable>),
}

impl std::ops::Deref for MemGuard<'_> {
    type Target = Memtable;
    fn deref(&self) -> &Memtable {
        match self {
            MemGuard::Read(g) => g,
            MemGuard::Write(g) => g,
        }
    }
}

fn lock_sorted(m: &RwLock<Memtable>, group: GroupId) -> MemGuard<'_> {
    let r = lock_err(m.read());
    if r.groups.get(&group).is_none_or(|g| g.is_sorted()) {
        return MemGuard::Read(r);
    }
    drop(r);
    let mut w = lock_err(m.write());
    if let Some(g) = w.groups.get_mut(&group) {
        g.ensure_sorted();
    }
    MemGuard::Write(w)
}

impl Store {
    /// Opens (or creates) the store: opens the catalog, replays the WAL after the catalog's
    /// checkpoint (dropping a torn tail), starts the WAL writer, flusher and retention tasks.
    pub async fn open(config: StoreConfig) -> Result<Arc<Store>, StoreError> {
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|e| wal::io_err("creating data directory", e))?;
        let catalog = SqliteCatalog::open(&config.data_dir.join("catalog.db"))?;
        Store::open_with_catalog(config, Arc::new(catalog)).await
    }

    /// Like [`Store::open`] with a caller-provided catalog (e.g. a shared PostgreSQL one).
    pub async fn open_with_catalog(
        config: StoreConfig,
        catalog: Arc<dyn Catalog>,
    ) -> Result<Arc<Store>, StoreError> {
        let wal_dir = config.data_dir.join("wal");
        std::fs::create_dir_all(&wal_dir).map_err(|e| wal::io_err("creating WAL directory", e))?;
        let checkpoint = catalog.checkpoint().await?;
        let live: HashMap<StreamId, GroupId> = catalog.live_streams().await?.into_iter().collect();
        let hidden: HashSet<StreamId> = catalog.deleted_streams().await?.into_iter().collect();
        let (recovered, memtable, live, replayed, skipped) = {
            let dir = wal_dir.clone();
            tokio::task::spawn_blocking(move || {
                let mut memtable = Memtable::default();
                let (mut replayed, mut skipped) = (0u64, 0u64);
                let recovered = wal::recover(&dir, checkpoint.lsn, |record| {
                    let h = record.header;
                    // Records of deleted streams (or groups) are never resurrected.
                    if live.get(&h.stream) != Some(&h.group) {
                        skipped += 1;
                        return;
                    }
                    replayed += 1;
                    memtable.insert(
                        h.lsn,
                        h.group,
                        h.stream,
                        h.ingestion_time,
                        h.first_seq,
                        record.events,
                    );
                })?;
                Ok::<_, StoreError>((recovered, memtable, live, replayed, skipped))
            })
            .await
            .map_err(|e| StoreError::Internal(format!("WAL recovery task: {e}")))??
        };
        let next_lsn = checkpoint.lsn.max(recovered.max_lsn) + 1;
        // seq 0 is never handed out, so durable_seq 0 means "nothing yet".
        let next_seq = checkpoint.next_seq.max(recovered.next_seq).max(1);
        tracing::info!(
            checkpoint_lsn = checkpoint.lsn,
            replayed,
            skipped,
            truncated_bytes = recovered.truncated_bytes,
            next_lsn,
            next_seq,
            "WAL recovered"
        );
        let wal_writer = wal::WalWriter::create(&wal_dir, next_lsn)?;
        let segments = SegmentFiles::open(
            &config.data_dir,
            config.segment_url.as_deref(),
            SEGMENT_CACHE_BYTES,
        )?;
        let (seg_count, seg_bytes) = catalog.segment_totals().await?;
        let free = fs2::available_space(&config.data_dir)
            .map_err(|e| wal::io_err("checking free disk space", e))?;

        let shared = Arc::new(Shared {
            mem_bytes: AtomicU64::new(memtable.mem_bytes),
            mem_events: AtomicU64::new(memtable.events),
            mem: RwLock::new(MemState {
                active: Arc::new(RwLock::new(memtable)),
                frozen: Vec::new(),
            }),
            wal_bytes: AtomicU64::new(recovered.total_bytes),
            durable_seq: AtomicU64::new(next_seq - 1),
            wal_poisoned: AtomicBool::new(false),
            flush_wanted: tokio::sync::Notify::new(),
            flush_bytes: config.memtable_flush_bytes as u64,
        });
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let writer_shared = shared.clone();
        let writer = std::thread::Builder::new()
            .name("wal-writer".into())
            .spawn(move || commit::run_writer(wal_writer, rx, writer_shared, next_lsn, next_seq))
            .map_err(|e| StoreError::Internal(format!("starting WAL writer: {e}")))?;

        let store = Arc::new(Store {
            config,
            catalog,
            segments,
            shared,
            flush_commit: tokio::sync::RwLock::new(()),
            flush_running: tokio::sync::Mutex::new(()),
            wal_tx: RwLock::new(Some(tx)),
            writer_thread: std::sync::Mutex::new(Some(writer)),
            live_streams: RwLock::new(live),
            hidden_streams: RwLock::new(Arc::new(hidden)),
            free_disk_bytes: AtomicU64::new(free),
            segment_count: AtomicU64::new(seg_count),
            segment_bytes: AtomicU64::new(seg_bytes),
            shutting_down: AtomicBool::new(false),
            sweep_wanted: Arc::new(tokio::sync::Notify::new()),
            tasks: std::sync::Mutex::new(Vec::new()),
        });
        store.start_background_tasks();
        if store.shared.mem_bytes.load(Ordering::Relaxed) >= store.shared.flush_bytes {
            store.shared.flush_wanted.notify_one();
        }
        Ok(store)
    }

    /// Background tasks hold only a `Weak`: dropping the last `Arc<Store>` (a simulated crash in
    /// tests) stops them instead of leaking a second writer of the same directory.
    fn start_background_tasks(self: &Arc<Store>) {
        let mut tasks = lock_err(self.tasks.lock());
        let weak = Arc::downgrade(self);
        let interval = self.config.flush_interval;
        tasks.push(tokio::spawn(flusher_loop(weak, interval)));
        let weak = Arc::downgrade(self);
        let interval = self.config.retention_interval;
        tasks.push(tokio::spawn(sweeper_loop(weak, interval)));
        let weak = Arc::downgrade(self);
        tasks.push(tokio::spawn(async move {
            loop {
                tokio::time::sleep(DISK_CHECK_INTERVAL).await;
                let Some(store) = weak.upgrade() else { return };
                let dir = store.config.data_dir.clone();
                if let Ok(Ok(free)) =
                    tokio::task::spawn_blocking(move || fs2::available_space(dir)).await
                {
                    store.free_disk_bytes.store(free, Ordering::Relaxed);
                }
            }
        }));
    }

    /// Flushes the memtable into segments, checkpoints, and stops background tasks. Appends after
    /// this fail with `Unavailable`.
    pub async fn shutdown(&self) -> Result<(), StoreError> {
        self.shutting_down.store(true, Ordering::SeqCst);
        // Closing the channel lets the writer finish every append already queued, then exit.
        lock_err(self.wal_tx.write()).take();
        let writer = lock_err(self.writer_thread.lock()).take();
        if let Some(w) = writer {
            tokio::task::spawn_blocking(move || w.join())
                .await
                .map_err(|e| StoreError::Internal(format!("joining WAL writer: {e}")))?
                .map_err(|_| StoreError::Internal("WAL writer panicked".into()))?;
        }
        let flushed = self.flush().await;
        for t in lock_err(self.tasks.lock()).drain(..) {
            t.abort();
        }
        flushed
    }

    pub async fn create_log_group(
        &self,
        scope: &Scope,
        group: NewLogGroup,
    ) -> Result<LogGroup, StoreError> {
        self.catalog.create_group(scope, group).await
    }

    /// Deletes the group, its streams, its memtable events and (in the background) its segments.
    pub async fn delete_log_group(&self, scope: &Scope, name: &str) -> Result<(), StoreError> {
        let id = self.catalog.delete_group(scope, name).await?;
        let streams: Vec<StreamId> = {
            let mut live = lock_err(self.live_streams.write());
            let ids: Vec<StreamId> = live
                .iter()
                .filter(|(_, g)| **g == id)
                .map(|(s, _)| *s)
                .collect();
            for s in &ids {
                live.remove(s);
            }
            ids
        };
        self.hide_streams(&streams);
        let freed = {
            let state = lock_err(self.shared.mem.read());
            let mut m = lock_err(state.active.write());
            let events_before = m.events;
            let freed = m.remove_group(id);
            self.shared
                .mem_events
                .fetch_sub(events_before - m.events, Ordering::Relaxed);
            freed
        };
        self.shared.mem_bytes.fetch_sub(freed, Ordering::Relaxed);
        self.sweep_wanted.notify_one();
        Ok(())
    }

    fn hide_streams(&self, streams: &[StreamId]) {
        if streams.is_empty() {
            return;
        }
        let mut hidden = lock_err(self.hidden_streams.write());
        let mut next = HashSet::clone(&hidden);
        next.extend(streams.iter().copied());
        *hidden = Arc::new(next);
    }

    /// Adds the live statistics of unflushed events to a group read from the catalog.
    fn with_live_group_stats(&self, mut group: LogGroup, memtables: &[SharedMemtable]) -> LogGroup {
        for m in memtables {
            if let Some(g) = lock_err(m.read()).groups.get(&group.id) {
                group.stored_bytes += g.stored_bytes;
            }
        }
        group
    }

    fn with_live_stream_stats(
        &self,
        mut stream: LogStream,
        memtables: &[SharedMemtable],
    ) -> LogStream {
        let mut delta = StreamDelta {
            first_event_timestamp: stream.first_event_timestamp,
            last_event_timestamp: stream.last_event_timestamp,
            last_ingestion_time: stream.last_ingestion_time,
            stored_bytes: stream.stored_bytes,
        };
        for m in memtables {
            if let Some(d) = lock_err(m.read()).streams.get(&stream.id) {
                delta.merge(d);
            }
        }
        stream.first_event_timestamp = delta.first_event_timestamp;
        stream.last_event_timestamp = delta.last_event_timestamp;
        stream.last_ingestion_time = delta.last_ingestion_time;
        stream.stored_bytes = delta.stored_bytes;
        stream
    }

    /// Memtables in age order (frozen ones first).
    fn memtable_snapshot(&self) -> Vec<SharedMemtable> {
        let state = lock_err(self.shared.mem.read());
        let mut all = state.frozen.clone();
        all.push(state.active.clone());
        all
    }

    pub async fn log_group(
        &self,
        scope: &Scope,
        name: &str,
    ) -> Result<Option<LogGroup>, StoreError> {
        let _consistent = self.flush_commit.read().await;
        let group = self.catalog.group(scope, name).await?;
        let memtables = self.memtable_snapshot();
        Ok(group.map(|g| self.with_live_group_stats(g, &memtables)))
    }

    /// Groups of the scope in ascending (byte-wise) name order, names starting with `prefix`,
    /// strictly after `after_name`, at most `limit`.
    pub async fn list_log_groups(
        &self,
        scope: &Scope,
        prefix: Option<&str>,
        after_name: Option<&str>,
        limit: usize,
    ) -> Result<Vec<LogGroup>, StoreError> {
        let _consistent = self.flush_commit.read().await;
        let groups = self
            .catalog
            .list_groups(scope, prefix, after_name, limit)
            .await?;
        let memtables = self.memtable_snapshot();
        Ok(groups
            .into_iter()
            .map(|g| self.with_live_group_stats(g, &memtables))
            .collect())
    }

    pub async fn update_log_group(
        &self,
        scope: &Scope,
        name: &str,
        change: LogGroupChange,
    ) -> Result<LogGroup, StoreError> {
        let retention_changed = matches!(change, LogGroupChange::SetRetention(_));
        let _consistent = self.flush_commit.read().await;
        let group = self.catalog.update_group(scope, name, change).await?;
        if retention_changed {
            self.sweep_wanted.notify_one();
        }
        let memtables = self.memtable_snapshot();
        Ok(self.with_live_group_stats(group, &memtables))
    }

    pub async fn create_log_stream(
        &self,
        group: GroupId,
        name: &str,
        creation_time: i64,
    ) -> Result<LogStream, StoreError> {
        let stream = self
            .catalog
            .create_stream(group, name, creation_time)
            .await?;
        lock_err(self.live_streams.write()).insert(stream.id, group);
        Ok(stream)
    }

    pub async fn delete_log_stream(&self, group: GroupId, name: &str) -> Result<(), StoreError> {
        let id = self.catalog.delete_stream(group, name).await?;
        lock_err(self.live_streams.write()).remove(&id);
        self.hide_streams(&[id]);
        let freed = {
            let state = lock_err(self.shared.mem.read());
            let mut m = lock_err(state.active.write());
            let events_before = m.events;
            let freed = m.remove_stream(group, id);
            self.shared
                .mem_events
                .fetch_sub(events_before - m.events, Ordering::Relaxed);
            freed
        };
        self.shared.mem_bytes.fetch_sub(freed, Ordering::Relaxed);
        Ok(())
    }

    pub async fn log_stream(
        &self,
        group: GroupId,
        name: &str,
    ) -> Result<Option<LogStream>, StoreError> {
        let _consistent = self.flush_commit.read().await;
        let stream = self.catalog.stream(group, name).await?;
        let memtables = self.memtable_snapshot();
        Ok(stream.map(|s| self.with_live_stream_stats(s, &memtables)))
    }

    /// Streams of the group with live statistics (including unflushed events), in `order`
    /// (`descending` reverses it), names starting with `prefix`, strictly after `after`, at most `limit`.
    pub async fn list_log_streams(
        &self,
        group: GroupId,
        order: StreamOrder,
        prefix: Option<&str>,
        descending: bool,
        after: Option<StreamCursor>,
        limit: usize,
    ) -> Result<Vec<LogStream>, StoreError> {
        let _consistent = self.flush_commit.read().await;
        match order {
            StreamOrder::LogStreamName => {
                let after_name = match &after {
                    Some(StreamCursor::Name(n)) | Some(StreamCursor::LastEventTime(_, n)) => {
                        Some(n.as_str())
                    }
                    None => None,
                };
                let streams = self
                    .catalog
                    .streams_by_name(group, prefix, descending, after_name, limit)
                    .await?;
                let memtables = self.memtable_snapshot();
                Ok(streams
                    .into_iter()
                    .map(|s| self.with_live_stream_stats(s, &memtables))
                    .collect())
            }
            StreamOrder::LastEventTime => {
                let cursor = match after {
                    None => None,
                    Some(StreamCursor::LastEventTime(t, n)) => Some((t, n)),
                    Some(StreamCursor::Name(_)) => {
                        return Err(StoreError::Internal(
                            "a name cursor cannot resume a LastEventTime listing".into(),
                        ))
                    }
                };
                let streams = self.catalog.streams(group).await?;
                let memtables = self.memtable_snapshot();
                let mut streams: Vec<LogStream> = streams
                    .into_iter()
                    .filter(|s| prefix.is_none_or(|p| s.name.starts_with(p)))
                    .map(|s| self.with_live_stream_stats(s, &memtables))
                    .collect();
                // Option orders None first, as the cursor contract says.
                streams.sort_by(|a, b| {
                    (a.last_event_timestamp, &a.name).cmp(&(b.last_event_timestamp, &b.name))
                });
                if descending {
                    streams.reverse();
                }
                let out = streams
                    .into_iter()
                    .filter(|s| match &cursor {
                        None => true,
                        Some((t, n)) => {
                            let key = (s.last_event_timestamp, &s.name);
                            if descending {
                                key < (*t, n)
                            } else {
                                key > (*t, n)
                            }
                        }
                    })
                    .take(limit)
                    .collect();
                Ok(out)
            }
        }
    }

    /// Durably appends a batch (already validated by the caller) and makes it readable.
    /// Returns only after the WAL record is fsynced; a crash after `Ok` never loses the batch and
    /// recovery never duplicates it.
    pub async fn append(
        &self,
        group: GroupId,
        stream: StreamId,
        ingestion_time: i64,
        events: Vec<InputEvent>,
    ) -> Result<AppendReceipt, StoreError> {
        if self.shutting_down.load(Ordering::Relaxed) {
            return Err(StoreError::Unavailable("store is shutting down".into()));
        }
        if self.shared.wal_poisoned.load(Ordering::Relaxed) {
            return Err(StoreError::Unavailable(
                "write-ahead log failed; restart required".into(),
            ));
        }
        if lock_err(self.live_streams.read()).get(&stream) != Some(&group) {
            return Err(StoreError::LogStreamNotFound);
        }
        let free = self.free_disk_bytes.load(Ordering::Relaxed);
        if free < self.config.min_free_disk_bytes {
            return Err(StoreError::Unavailable(format!(
                "only {free} bytes of disk free"
            )));
        }
        let mem = self.shared.mem_bytes.load(Ordering::Relaxed);
        if mem > self.config.memtable_limit_bytes as u64 {
            self.shared.flush_wanted.notify_one();
            return Err(StoreError::Throttled(format!(
                "{mem} bytes of unflushed events"
            )));
        }
        let body = wal::encode_events(&events);
        let (reply, done) = tokio::sync::oneshot::channel();
        let request = AppendRequest {
            group,
            stream,
            ingestion_time,
            events,
            body,
            reply,
        };
        {
            let tx = lock_err(self.wal_tx.read());
            let Some(tx) = tx.as_ref() else {
                return Err(StoreError::Unavailable("store is shutting down".into()));
            };
            tx.send(request)
                .map_err(|_| StoreError::Unavailable("WAL writer stopped".into()))?;
        }
        done.await
            .map_err(|_| StoreError::Unavailable("WAL writer stopped".into()))?
    }

    /// One page of events of a group in `(timestamp, seq)` order, merged from segments and memtable.
    pub async fn scan(
        &self,
        request: ScanRequest,
        predicate: Option<MessagePredicate<'_>>,
    ) -> Result<ScanPage, StoreError> {
        let forward = request.direction == Direction::Forward;
        let hidden = lock_err(self.hidden_streams.read()).clone();
        let filter = ScanFilter {
            start_time: request.start_time,
            end_time: request.end_time,
            direction: request.direction,
            streams: request
                .streams
                .as_ref()
                .map(|s| s.iter().copied().collect()),
            hidden: &hidden,
            predicate,
            limit: request.limit,
            max_scanned: request.max_scanned,
        };
        let mut page = PageState {
            after: request.after,
            ..Default::default()
        };
        if request
            .start_time
            .zip(request.end_time)
            .is_some_and(|(s, e)| s >= e)
        {
            return Ok(ScanPage {
                exhausted: true,
                resume_after: request.after,
                ..Default::default()
            });
        }
        let (mut candidates, memtables) = {
            let _consistent = self.flush_commit.read().await;
            let segs = self
                .catalog
                .segments(
                    request.group_id,
                    request.start_time,
                    request.end_time,
                    request.streams.as_deref(),
                )
                .await?;
            (segs, self.memtable_snapshot())
        };
        if let Some(after) = request.after {
            candidates.retain(|s| {
                if forward {
                    s.max_timestamp >= after.timestamp
                } else {
                    s.min_timestamp <= after.timestamp
                }
            });
        }
        // Segments, then (once a segment is opened) its row groups, in the order the merge reaches
        // them: the last element is the next one. Nothing is fetched or decoded before the merge
        // gets to its first timestamp.
        let mut pending: Vec<PendingRun> = Vec::with_capacity(candidates.len());
        for seg in candidates {
            let key = if forward {
                seg.min_timestamp
            } else {
                seg.max_timestamp
            };
            push_pending(
                &mut pending,
                forward,
                PendingRun {
                    key,
                    unit: PendingUnit::Segment(seg),
                },
            );
        }
        let mut loaded: Vec<Arc<EventChunk>> = Vec::new();
        let exhausted = loop {
            let horizon = pending.last().map(|p| p.key);
            let end = {
                let guards: Vec<MemGuard> = memtables
                    .iter()
                    .map(|m| lock_sorted(m, request.group_id))
                    .collect();
                let mut runs: Vec<&dyn SortedRun> = Vec::with_capacity(loaded.len() + guards.len());
                for c in &loaded {
                    runs.push(c.as_ref());
                }
                for g in &guards {
                    if let Some(ge) = g.groups.get(&request.group_id) {
                        runs.push(&ge.events);
                    }
                }
                merge_pass(&runs, &filter, &mut page, horizon)
            };
            match end {
                PassEnd::Full { more } => break !more && pending.is_empty(),
                PassEnd::Horizon | PassEnd::Drained if !pending.is_empty() => {
                    let next = pending.pop().unwrap();
                    // Only the part of the segment the page can still reach.
                    let (mut start, mut end) = (request.start_time, request.end_time);
                    if let Some(after) = page.after {
                        if forward {
                            start = Some(start.map_or(after.timestamp, |s| s.max(after.timestamp)));
                        } else {
                            let e = after.timestamp.saturating_add(1);
                            end = Some(end.map_or(e, |x| x.min(e)));
                        }
                    }
                    match next.unit {
                        PendingUnit::Segment(seg) => match self.segments.open_segment(&seg).await {
                            Ok(opened) => {
                                for (rg, min, max) in opened.row_groups(start, end) {
                                    let key = if forward { min } else { max };
                                    let unit = PendingUnit::RowGroup(opened.clone(), rg);
                                    push_pending(&mut pending, forward, PendingRun { key, unit });
                                }
                            }
                            Err(StoreError::Corrupt(msg)) => {
                                // Retention or a group deletion may have removed it since it was listed.
                                let still = self
                                    .catalog
                                    .segments(request.group_id, Some(seg.max_timestamp), None, None)
                                    .await?;
                                if still.iter().any(|s| s.id == seg.id) {
                                    return Err(StoreError::Corrupt(msg));
                                }
                            }
                            Err(e) => return Err(e),
                        },
                        PendingUnit::RowGroup(opened, rg) => {
                            loaded.push(self.segments.row_group(&opened, rg).await?)
                        }
                    }
                    // Runs wholly behind the page position can no longer contribute.
                    if let Some(after) = page.after {
                        loaded.retain(|c| {
                            let n = c.len();
                            n > 0
                                && if forward {
                                    c.position(n - 1) > after
                                } else {
                                    c.position(0) < after
                                }
                        });
                    }
                }
                PassEnd::Horizon | PassEnd::Drained => break true,
            }
        };
        Ok(ScanPage {
            events: page.events,
            exhausted,
            resume_after: page.after,
            scanned_events: page.scanned_events,
            scanned_bytes: page.scanned_bytes,
        })
    }

    /// Records that an import source (e.g. an object key plus ETag) has been fully appended;
    /// returns false if it was already recorded. Used by importers for idempotent re-runs.
    pub async fn record_import(&self, scope: &Scope, source_key: &str) -> Result<bool, StoreError> {
        self.catalog.record_import(scope, source_key).await
    }

    pub async fn is_imported(&self, scope: &Scope, source_key: &str) -> Result<bool, StoreError> {
        self.catalog.is_imported(scope, source_key).await
    }

    /// The group with this catalog id, if it still exists (ids are never reused).
    pub async fn log_group_by_id(&self, id: GroupId) -> Result<Option<LogGroup>, StoreError> {
        let _consistent = self.flush_commit.read().await;
        let group = self.catalog.group_by_id(id).await?;
        let memtables = self.memtable_snapshot();
        Ok(group.map(|g| self.with_live_group_stats(g, &memtables)))
    }

    pub async fn put_saved_query(
        &self,
        scope: &Scope,
        query: SavedQuery,
    ) -> Result<(), StoreError> {
        self.catalog.put_saved_query(scope, query).await
    }

    pub async fn saved_query(
        &self,
        scope: &Scope,
        id: &str,
    ) -> Result<Option<SavedQuery>, StoreError> {
        self.catalog.saved_query(scope, id).await
    }

    pub async fn saved_query_by_client_token(
        &self,
        scope: &Scope,
        client_token: &str,
    ) -> Result<Option<SavedQuery>, StoreError> {
        self.catalog
            .saved_query_by_client_token(scope, client_token)
            .await
    }

    /// See [`Catalog::list_saved_queries`].
    pub async fn list_saved_queries(
        &self,
        scope: &Scope,
        prefix: Option<&str>,
        language: Option<&str>,
        after: Option<(String, String)>,
        limit: usize,
    ) -> Result<Vec<SavedQuery>, StoreError> {
        self.catalog
            .list_saved_queries(scope, prefix, language, after, limit)
            .await
    }

    pub async fn delete_saved_query(&self, scope: &Scope, id: &str) -> Result<bool, StoreError> {
        self.catalog.delete_saved_query(scope, id).await
    }

    pub async fn count_saved_queries(&self, scope: &Scope) -> Result<u64, StoreError> {
        self.catalog.count_saved_queries(scope).await
    }

    pub fn stats(&self) -> StoreStats {
        StoreStats {
            memtable_bytes: self.shared.mem_bytes.load(Ordering::Relaxed),
            memtable_events: self.shared.mem_events.load(Ordering::Relaxed),
            wal_bytes: self.shared.wal_bytes.load(Ordering::Relaxed),
            segments: self.segment_count.load(Ordering::Relaxed),
            segment_bytes: self.segment_bytes.load(Ordering::Relaxed),
            durable_seq: self.shared.durable_seq.load(Ordering::Acquire),
        }
    }

    /// Freezes the active memtable and turns every frozen memtable into segments, oldest first.
    /// Runs by itself on size, on `flush_interval` and at shutdown; public for tests and tools.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let _one_at_a_time = self.flush_running.lock().await;
        {
            let mut state = lock_err(self.shared.mem.write());
            if !lock_err(state.active.read()).is_empty() {
                let old = std::mem::take(&mut state.active);
                state.frozen.push(old);
            }
        }
        loop {
            let Some(frozen) = lock_err(self.shared.mem.read()).frozen.first().cloned() else {
                break;
            };
            self.flush_memtable(&frozen).await?;
            // Freeing a flushed memtable (hundreds of thousands of Strings) takes milliseconds:
            // not on an async worker that appenders need. Scans may still hold it; then they free it.
            tokio::task::spawn_blocking(move || drop(frozen));
        }
        Ok(())
    }

    async fn flush_memtable(&self, frozen: &SharedMemtable) -> Result<(), StoreError> {
        let hidden = lock_err(self.hidden_streams.read()).clone();
        let encoded = {
            let frozen = frozen.clone();
            run_in_background_thread(move || -> Result<_, StoreError> {
                lock_err(frozen.write()).sort_all();
                let m = lock_err(frozen.read());
                let mut out = Vec::new();
                for (&group, ge) in &m.groups {
                    let events: Vec<&memtable::MemEvent> = ge
                        .events
                        .iter()
                        .filter(|e| !hidden.contains(&e.stream))
                        .collect();
                    if !events.is_empty() {
                        out.push(segment::encode_segment(group, &events)?);
                    }
                }
                let stats: Vec<(StreamId, StreamDelta)> =
                    m.streams.iter().map(|(s, d)| (*s, *d)).collect();
                let checkpoint = Checkpoint {
                    lsn: m.max_lsn.unwrap_or(0),
                    next_seq: m.max_seq.map_or(0, |s| s + 1),
                };
                Ok((out, stats, checkpoint, m.mem_bytes, m.events))
            })
            .await
            .map_err(|_| StoreError::Internal("segment encode thread died".into()))??
        };
        let (files, stats, checkpoint, mem_bytes, mem_events) = encoded;
        let mut metas = Vec::with_capacity(files.len());
        for (bytes, meta) in files {
            self.segments.put(&meta, bytes).await?;
            metas.push(meta);
        }
        let skipped = {
            let _exclusive = self.flush_commit.write().await;
            let skipped = self.catalog.commit_flush(metas, stats, checkpoint).await?;
            let mut state = lock_err(self.shared.mem.write());
            state.frozen.retain(|m| !Arc::ptr_eq(m, frozen));
            skipped
        };
        self.shared
            .mem_bytes
            .fetch_sub(mem_bytes, Ordering::Relaxed);
        self.shared
            .mem_events
            .fetch_sub(mem_events, Ordering::Relaxed);
        for path in skipped {
            if let Err(e) = self.segments.delete(&path).await {
                tracing::warn!(path, error = %e, "could not delete segment of a deleted group");
            }
        }
        self.refresh_segment_totals().await;
        let dir = self.config.data_dir.join("wal");
        match tokio::task::spawn_blocking(move || wal::delete_obsolete(&dir, checkpoint.lsn)).await
        {
            Ok(Ok(freed)) => {
                self.shared.wal_bytes.fetch_sub(
                    freed.min(self.shared.wal_bytes.load(Ordering::Relaxed)),
                    Ordering::Relaxed,
                );
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "could not delete obsolete WAL files"),
            Err(e) => tracing::warn!(error = %e, "WAL cleanup task failed"),
        }
        tracing::debug!(
            lsn = checkpoint.lsn,
            events = mem_events,
            "memtable flushed"
        );
        Ok(())
    }

    async fn refresh_segment_totals(&self) {
        if let Ok((count, bytes)) = self.catalog.segment_totals().await {
            self.segment_count.store(count, Ordering::Relaxed);
            self.segment_bytes.store(bytes, Ordering::Relaxed);
        }
    }

    /// Deletes segments past their group's retention and segments of deleted groups.
    /// Runs every `retention_interval`; public for tests and tools.
    pub async fn sweep(&self) -> Result<(), StoreError> {
        let expired = self.catalog.expired_segments(now_ms()).await?;
        if !expired.is_empty() {
            // Unregister first so the segments are never served again, then remove the files; a
            // crash in between leaves unreferenced files, never references to missing files.
            let ids: Vec<i64> = expired.iter().map(|s| s.id).collect();
            self.catalog.delete_segments(&ids).await?;
            for s in &expired {
                self.segments.forget(s.id);
                self.segments.delete(&s.path).await?;
            }
            tracing::info!(
                segments = expired.len(),
                "retention deleted expired segments"
            );
        }
        let orphans = self.catalog.orphan_segments().await?;
        for s in &orphans {
            // File first: the catalog row is what makes a retry find it again.
            self.segments.forget(s.id);
            self.segments.delete(&s.path).await?;
            self.catalog.delete_segments(&[s.id]).await?;
        }
        self.refresh_segment_totals().await;
        Ok(())
    }
}

/// Runs CPU-heavy background work (sorting and encoding segments) on its own thread at a lower
/// scheduling priority, so on a small machine it takes the CPU the WAL writer and request
/// handlers leave over instead of competing with them; if it falls behind, memtable limits
/// throttle ingest.
fn run_in_background_thread<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> tokio::sync::oneshot::Receiver<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("segment-encode".into())
        .spawn(move || {
            // SAFETY: plain syscalls on the calling thread; on Linux the nice value is per thread.
            #[cfg(target_os = "linux")]
            unsafe {
                let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
                libc::setpriority(libc::PRIO_PROCESS, tid, 10);
            }
            let _ = tx.send(work());
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "could not start a segment encode thread");
    }
    rx
}

async fn flusher_loop(store: Weak<Store>, interval: Duration) {
    let Some(wanted) = store.upgrade().map(|s| s.shared.clone()) else {
        return;
    };
    let mut backoff = Duration::from_millis(100);
    loop {
        let _ = tokio::time::timeout(interval, wanted.flush_wanted.notified()).await;
        let Some(s) = store.upgrade() else { return };
        if s.shutting_down.load(Ordering::Relaxed) {
            return;
        }
        match s.flush().await {
            Ok(()) => backoff = Duration::from_millis(100),
            Err(e) => {
                tracing::error!(error = %e, "flush failed; will retry");
                drop(s);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(10));
                wanted.flush_wanted.notify_one();
            }
        }
    }
}

async fn sweeper_loop(store: Weak<Store>, interval: Duration) {
    let Some(wanted) = store.upgrade().map(|s| s.sweep_wanted.clone()) else {
        return;
    };
    loop {
        let _ = tokio::time::timeout(interval, wanted.notified()).await;
        let Some(s) = store.upgrade() else { return };
        if s.shutting_down.load(Ordering::Relaxed) {
            return;
        }
        if let Err(e) = s.sweep().await {
            tracing::error!(error = %e, "segment sweep failed; will retry");
        }
    }
}
