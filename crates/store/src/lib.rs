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

/// The store. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct Store {
    _private: (),
}

impl Store {
    /// Opens (or creates) the store: opens the catalog, replays the WAL after the catalog's
    /// checkpoint (dropping a torn tail), starts the WAL writer, flusher and retention tasks.
    pub async fn open(_config: StoreConfig) -> Result<Arc<Store>, StoreError> {
        todo!()
    }

    /// Flushes the memtable into segments, checkpoints, and stops background tasks. Appends after
    /// this fail with `Unavailable`.
    pub async fn shutdown(&self) -> Result<(), StoreError> {
        todo!()
    }

    pub async fn create_log_group(&self, _scope: &Scope, _group: NewLogGroup) -> Result<LogGroup, StoreError> {
        todo!()
    }

    /// Deletes the group, its streams, its memtable events and (in the background) its segments.
    pub async fn delete_log_group(&self, _scope: &Scope, _name: &str) -> Result<(), StoreError> {
        todo!()
    }

    pub async fn log_group(&self, _scope: &Scope, _name: &str) -> Result<Option<LogGroup>, StoreError> {
        todo!()
    }

    /// Groups of the scope in ascending (byte-wise) name order, names starting with `prefix`,
    /// strictly after `after_name`, at most `limit`.
    pub async fn list_log_groups(
        &self,
        _scope: &Scope,
        _prefix: Option<&str>,
        _after_name: Option<&str>,
        _limit: usize,
    ) -> Result<Vec<LogGroup>, StoreError> {
        todo!()
    }

    pub async fn update_log_group(
        &self,
        _scope: &Scope,
        _name: &str,
        _change: LogGroupChange,
    ) -> Result<LogGroup, StoreError> {
        todo!()
    }

    pub async fn create_log_stream(
        &self,
        _group: GroupId,
        _name: &str,
        _creation_time: i64,
    ) -> Result<LogStream, StoreError> {
        todo!()
    }

    pub async fn delete_log_stream(&self, _group: GroupId, _name: &str) -> Result<(), StoreError> {
        todo!()
    }

    pub async fn log_stream(&self, _group: GroupId, _name: &str) -> Result<Option<LogStream>, StoreError> {
        todo!()
    }

    /// Streams of the group with live statistics (including unflushed events), in `order`
    /// (`descending` reverses it), names starting with `prefix`, strictly after `after`, at most `limit`.
    pub async fn list_log_streams(
        &self,
        _group: GroupId,
        _order: StreamOrder,
        _prefix: Option<&str>,
        _descending: bool,
        _after: Option<StreamCursor>,
        _limit: usize,
    ) -> Result<Vec<LogStream>, StoreError> {
        todo!()
    }

    /// Durably appends a batch (already validated by the caller) and makes it readable.
    /// Returns only after the WAL record is fsynced; a crash after `Ok` never loses the batch and
    /// recovery never duplicates it.
    pub async fn append(
        &self,
        _group: GroupId,
        _stream: StreamId,
        _ingestion_time: i64,
        _events: Vec<InputEvent>,
    ) -> Result<AppendReceipt, StoreError> {
        todo!()
    }

    /// One page of events of a group in `(timestamp, seq)` order, merged from segments and memtable.
    pub async fn scan(
        &self,
        _request: ScanRequest,
        _predicate: Option<MessagePredicate<'_>>,
    ) -> Result<ScanPage, StoreError> {
        todo!()
    }

    /// Records that an import source (e.g. an object key plus ETag) has been fully appended;
    /// returns false if it was already recorded. Used by importers for idempotent re-runs.
    pub async fn record_import(&self, _scope: &Scope, _source_key: &str) -> Result<bool, StoreError> {
        todo!()
    }

    pub async fn is_imported(&self, _scope: &Scope, _source_key: &str) -> Result<bool, StoreError> {
        todo!()
    }

    pub fn stats(&self) -> StoreStats {
        todo!()
    }
}
