//! Immutable Parquet segments: one per group per flush, sorted by `(timestamp, seq)`, zstd, with
//! row-group statistics on the timestamp so reads decode only the row groups they need.
//!
//! Every read fetches the whole file and checks its crc32c against the catalog before decoding; a
//! mismatch is [`StoreError::Corrupt`] and nothing from the file is served. Decoded row groups are
//! kept in a bounded LRU cache so paging through a segment does not re-read and re-verify it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use arrow_array::builder::StringBuilder;
use arrow_array::{Array, Int64Array, RecordBatch, StringArray, UInt64Array};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use bytes::Bytes;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::statistics::Statistics;
use parquet::schema::types::ColumnPath;

use crate::catalog::SegmentMeta;
use crate::memtable::{MemEvent, EVENT_OVERHEAD_BYTES};
use crate::{GroupId, StoreError, StreamId};

/// Rows per row group: small enough that one page of a large segment decodes a fraction of it.
pub(crate) const ROW_GROUP_ROWS: usize = 32 * 1024;
const TIMESTAMP_COLUMN: usize = 1;

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("stream_id", DataType::Int64, false),
        Field::new("timestamp", DataType::Int64, false),
        Field::new("ingestion_time", DataType::Int64, false),
        Field::new("seq", DataType::UInt64, false),
        Field::new("message", DataType::Utf8, false),
    ]))
}

fn parquet_err(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(format!("{what}: {e}"))
}

fn messages(events: &[&MemEvent]) -> StringArray {
    let bytes = events.iter().map(|e| e.message.len()).sum();
    let mut b = StringBuilder::with_capacity(events.len(), bytes);
    for e in events {
        b.append_value(&e.message);
    }
    b.finish()
}

/// Encodes sorted events of one group into a Parquet file; returns the bytes and the catalog entry
/// (id 0, path set). CPU-bound: run it off the async workers.
pub(crate) fn encode_segment(
    group: GroupId,
    events: &[&MemEvent],
) -> Result<(Bytes, SegmentMeta), StoreError> {
    assert!(!events.is_empty(), "empty segments are never written");
    debug_assert!(events
        .windows(2)
        .all(|w| (w[0].timestamp, w[0].seq) < (w[1].timestamp, w[1].seq)));
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(1).map_err(|e| parquet_err("zstd level", e))?,
        ))
        .set_max_row_group_size(ROW_GROUP_ROWS)
        .set_statistics_enabled(EnabledStatistics::Chunk)
        .set_column_statistics_enabled(ColumnPath::from("message"), EnabledStatistics::None)
        // Dictionaries pay off only for the low-cardinality columns; for unique values (seq,
        // timestamps, messages) they cost a hash per value before falling back anyway.
        .set_dictionary_enabled(false)
        .set_column_dictionary_enabled(ColumnPath::from("stream_id"), true)
        .set_column_dictionary_enabled(ColumnPath::from("ingestion_time"), true)
        .set_column_encoding(ColumnPath::from("timestamp"), Encoding::DELTA_BINARY_PACKED)
        .set_column_encoding(ColumnPath::from("seq"), Encoding::DELTA_BINARY_PACKED)
        .build();
    let mut out = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut out, schema(), Some(props))
        .map_err(|e| parquet_err("parquet writer", e))?;
    let mut per_stream: HashMap<StreamId, u64> = HashMap::new();
    let mut event_bytes = 0u64;
    let mut min_seq = u64::MAX;
    let mut max_seq = 0u64;
    for chunk in events.chunks(ROW_GROUP_ROWS) {
        let batch = RecordBatch::try_new(
            schema(),
            vec![
                Arc::new(Int64Array::from_iter_values(chunk.iter().map(|e| e.stream))),
                Arc::new(Int64Array::from_iter_values(
                    chunk.iter().map(|e| e.timestamp),
                )),
                Arc::new(Int64Array::from_iter_values(
                    chunk.iter().map(|e| e.ingestion_time),
                )),
                Arc::new(UInt64Array::from_iter_values(chunk.iter().map(|e| e.seq))),
                Arc::new(messages(chunk)),
            ],
        )
        .map_err(|e| parquet_err("record batch", e))?;
        writer
            .write(&batch)
            .map_err(|e| parquet_err("parquet write", e))?;
        for e in chunk {
            let b = e.message.len() as u64 + EVENT_OVERHEAD_BYTES;
            *per_stream.entry(e.stream).or_default() += b;
            event_bytes += b;
            min_seq = min_seq.min(e.seq);
            max_seq = max_seq.max(e.seq);
        }
    }
    writer
        .close()
        .map_err(|e| parquet_err("parquet close", e))?;
    let checksum = crc32c::crc32c(&out);
    let mut streams: Vec<(StreamId, u64)> = per_stream.into_iter().collect();
    streams.sort_unstable();
    let meta = SegmentMeta {
        id: 0,
        group_id: group,
        path: format!("{group}/{min_seq:020}.parquet"),
        min_timestamp: events[0].timestamp,
        max_timestamp: events[events.len() - 1].timestamp,
        min_seq,
        max_seq,
        rows: events.len() as u64,
        event_bytes,
        file_size: out.len() as u64,
        checksum,
        streams,
    };
    Ok((Bytes::from(out), meta))
}

/// Decoded events of one row group, in `(timestamp, seq)` order.
#[derive(Debug, Default)]
pub(crate) struct EventChunk {
    pub timestamps: Vec<i64>,
    pub seqs: Vec<u64>,
    pub streams: Vec<StreamId>,
    pub ingestion_times: Vec<i64>,
    offsets: Vec<usize>,
    data: String,
}

impl EventChunk {
    pub(crate) fn len(&self) -> usize {
        self.timestamps.len()
    }
    pub(crate) fn message(&self, i: usize) -> &str {
        &self.data[self.offsets[i]..self.offsets[i + 1]]
    }
    fn memory_bytes(&self) -> usize {
        self.data.len() + self.len() * (8 * 5)
    }

    fn from_batches(batches: &[RecordBatch]) -> Result<EventChunk, StoreError> {
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        let mut chunk = EventChunk {
            timestamps: Vec::with_capacity(rows),
            seqs: Vec::with_capacity(rows),
            streams: Vec::with_capacity(rows),
            ingestion_times: Vec::with_capacity(rows),
            offsets: Vec::with_capacity(rows + 1),
            data: String::new(),
        };
        chunk.offsets.push(0);
        let bad = || StoreError::Corrupt("segment has unexpected column types".into());
        for b in batches {
            if b.num_columns() != 5 {
                return Err(bad());
            }
            let i64s = |c: usize| {
                b.column(c)
                    .as_any()
                    .downcast_ref::<Int64Array>()
                    .ok_or_else(bad)
            };
            chunk.streams.extend_from_slice(i64s(0)?.values());
            chunk.timestamps.extend_from_slice(i64s(1)?.values());
            chunk.ingestion_times.extend_from_slice(i64s(2)?.values());
            let seq = b
                .column(3)
                .as_any()
                .downcast_ref::<UInt64Array>()
                .ok_or_else(bad)?;
            chunk.seqs.extend_from_slice(seq.values());
            let msg = b
                .column(4)
                .as_any()
                .downcast_ref::<StringArray>()
                .ok_or_else(bad)?;
            if msg.null_count() > 0 {
                return Err(bad());
            }
            let base = chunk.data.len();
            let first = msg.value_offsets()[0] as usize;
            let last = msg.value_offsets()[msg.len()] as usize;
            // StringArray values are valid UTF-8 by construction, so the concatenation is too.
            chunk
                .data
                .push_str(std::str::from_utf8(&msg.value_data()[first..last]).map_err(|_| bad())?);
            chunk.offsets.extend(
                msg.value_offsets()[1..]
                    .iter()
                    .map(|&o| base + (o as usize - first)),
            );
        }
        Ok(chunk)
    }
}

/// A fetched, checksum-verified segment file with its parsed footer; row groups are decoded from
/// it on demand.
pub(crate) struct OpenedSegment {
    pub meta: SegmentMeta,
    bytes: Bytes,
    metadata: ArrowReaderMetadata,
}

impl OpenedSegment {
    /// `(row group, min timestamp, max timestamp)` of the row groups that may hold events in
    /// `[start, end)`, from their statistics (the segment's bounds when statistics are missing).
    pub(crate) fn row_groups(
        &self,
        start: Option<i64>,
        end: Option<i64>,
    ) -> Vec<(usize, i64, i64)> {
        let md = self.metadata.metadata();
        (0..md.num_row_groups())
            .filter_map(|i| {
                let (min, max) = match md.row_group(i).column(TIMESTAMP_COLUMN).statistics() {
                    Some(Statistics::Int64(s)) => (
                        s.min_opt().copied().unwrap_or(self.meta.min_timestamp),
                        s.max_opt().copied().unwrap_or(self.meta.max_timestamp),
                    ),
                    _ => (self.meta.min_timestamp, self.meta.max_timestamp),
                };
                let hit = start.is_none_or(|st| max >= st) && end.is_none_or(|en| min < en);
                hit.then_some((i, min, max))
            })
            .collect()
    }

    fn decode_row_group(&self, rg: usize) -> Result<EventChunk, StoreError> {
        let corrupt = |e: parquet::errors::ParquetError| {
            StoreError::Corrupt(format!("segment {}: {e}", self.meta.path))
        };
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(
            self.bytes.clone(),
            self.metadata.clone(),
        )
        .with_row_groups(vec![rg])
        .with_batch_size(ROW_GROUP_ROWS)
        .build()
        .map_err(corrupt)?;
        let batches = reader
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| StoreError::Corrupt(format!("segment {}: {e}", self.meta.path)))?;
        EventChunk::from_batches(&batches)
    }
}

/// Decoded events of the row groups a read needs (scans go row group by row group instead).
#[cfg(test)]
pub(crate) struct LoadedSegment {
    pub chunks: Vec<Arc<EventChunk>>,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum CacheKey {
    File(i64),
    RowGroup(i64, usize),
}

#[derive(Clone)]
enum Cached {
    File(Arc<OpenedSegment>),
    RowGroup(Arc<EventChunk>),
}

struct CacheEntry {
    value: Cached,
    bytes: usize,
    last_used: u64,
}

/// LRU by bytes over verified files and decoded row groups.
struct SegmentCache {
    entries: HashMap<CacheKey, CacheEntry>,
    bytes: usize,
    capacity: usize,
    clock: u64,
}

impl SegmentCache {
    fn get(&mut self, key: CacheKey) -> Option<Cached> {
        self.clock += 1;
        let clock = self.clock;
        let e = self.entries.get_mut(&key)?;
        e.last_used = clock;
        Some(e.value.clone())
    }

    fn insert(&mut self, key: CacheKey, value: Cached, bytes: usize) {
        self.clock += 1;
        let entry = CacheEntry {
            value,
            bytes,
            last_used: self.clock,
        };
        if let Some(old) = self.entries.insert(key, entry) {
            self.bytes -= old.bytes;
        }
        self.bytes += bytes;
        while self.bytes > self.capacity && !self.entries.is_empty() {
            let (&oldest, _) = self
                .entries
                .iter()
                .min_by_key(|(_, c)| c.last_used)
                .unwrap();
            let gone = self.entries.remove(&oldest).unwrap();
            self.bytes -= gone.bytes;
        }
    }

    fn remove_segment(&mut self, id: i64) {
        let keys: Vec<CacheKey> = self
            .entries
            .keys()
            .filter(|k| matches!(k, CacheKey::File(i) | CacheKey::RowGroup(i, _) if *i == id))
            .copied()
            .collect();
        for k in keys {
            let gone = self.entries.remove(&k).unwrap();
            self.bytes -= gone.bytes;
        }
    }
}

/// Segment files on an object store, plus the cache of verified files and decoded row groups.
pub(crate) struct SegmentFiles {
    store: Arc<dyn ObjectStore>,
    /// Root directory for the local filesystem backend, where the store fsyncs written files
    /// itself (object_store's local backend does not).
    local_root: Option<PathBuf>,
    cache: Mutex<SegmentCache>,
}

fn object_err(what: &str, e: object_store::Error) -> StoreError {
    StoreError::Unavailable(format!("segment store: {what}: {e}"))
}

impl SegmentFiles {
    pub(crate) fn open(
        data_dir: &std::path::Path,
        url: Option<&str>,
        cache_bytes: usize,
    ) -> Result<SegmentFiles, StoreError> {
        let (store, local_root): (Arc<dyn ObjectStore>, Option<PathBuf>) = match url {
            None => {
                let root = data_dir.join("segments");
                std::fs::create_dir_all(&root)
                    .map_err(|e| crate::wal::io_err("creating segment directory", e))?;
                let fs = object_store::local::LocalFileSystem::new_with_prefix(&root)
                    .map_err(|e| object_err("opening local segment directory", e))?;
                (Arc::new(fs), Some(root))
            }
            Some(url) => (open_remote(url)?, None),
        };
        Ok(SegmentFiles::with_store(store, local_root, cache_bytes))
    }

    pub(crate) fn with_store(
        store: Arc<dyn ObjectStore>,
        local_root: Option<PathBuf>,
        cache_bytes: usize,
    ) -> SegmentFiles {
        SegmentFiles {
            store,
            local_root,
            cache: Mutex::new(SegmentCache {
                entries: HashMap::new(),
                bytes: 0,
                capacity: cache_bytes,
                clock: 0,
            }),
        }
    }

    /// Stores a segment durably and checks the stored size before anyone registers it, so a full
    /// disk or a truncating backend can never leave a registered but incomplete file.
    pub(crate) async fn put(&self, meta: &SegmentMeta, bytes: Bytes) -> Result<(), StoreError> {
        let path = ObjectPath::from(meta.path.as_str());
        self.store
            .put(&path, PutPayload::from(bytes))
            .await
            .map_err(|e| object_err("writing segment", e))?;
        if let Some(root) = &self.local_root {
            let file = root.join(&meta.path);
            let dir = file
                .parent()
                .map(|p| p.to_path_buf())
                .unwrap_or_else(|| root.clone());
            tokio::task::spawn_blocking(move || -> Result<(), StoreError> {
                std::fs::File::open(&file)
                    .and_then(|f| f.sync_all())
                    .map_err(|e| crate::wal::io_err("fsync segment", e))?;
                crate::wal::sync_dir(&dir)
            })
            .await
            .map_err(|e| StoreError::Internal(format!("fsync task: {e}")))??;
        }
        let head = self
            .store
            .head(&path)
            .await
            .map_err(|e| object_err("checking segment", e))?;
        if head.size != meta.file_size {
            return Err(StoreError::Unavailable(format!(
                "segment {} stored with {} bytes, expected {}",
                meta.path, head.size, meta.file_size
            )));
        }
        Ok(())
    }

    pub(crate) async fn delete(&self, path: &str) -> Result<(), StoreError> {
        match self.store.delete(&ObjectPath::from(path)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(object_err("deleting segment", e)),
        }
    }

    pub(crate) fn forget(&self, segment_id: i64) {
        self.cache.lock().unwrap().remove_segment(segment_id);
    }

    /// Fetches and verifies a segment file (or takes it from the cache).
    pub(crate) async fn open_segment(
        &self,
        meta: &SegmentMeta,
    ) -> Result<Arc<OpenedSegment>, StoreError> {
        if let Some(Cached::File(f)) = self.cache.lock().unwrap().get(CacheKey::File(meta.id)) {
            return Ok(f);
        }
        let path = ObjectPath::from(meta.path.as_str());
        let bytes = self
            .store
            .get(&path)
            .await
            .map_err(|e| match e {
                object_store::Error::NotFound { .. } => {
                    StoreError::Corrupt(format!("segment {} registered but missing", meta.path))
                }
                e => object_err("reading segment", e),
            })?
            .bytes()
            .await
            .map_err(|e| object_err("reading segment", e))?;
        let meta = meta.clone();
        let opened = tokio::task::spawn_blocking(move || verify(meta, bytes))
            .await
            .map_err(|e| StoreError::Internal(format!("segment verify task: {e}")))?
            .inspect_err(|e| {
                if matches!(e, StoreError::Corrupt(_)) {
                    tracing::error!(error = %e, "segment failed verification; it will not be served");
                }
            })?;
        let opened = Arc::new(opened);
        let size = opened.bytes.len();
        self.cache.lock().unwrap().insert(
            CacheKey::File(opened.meta.id),
            Cached::File(opened.clone()),
            size,
        );
        Ok(opened)
    }

    /// One decoded row group of an opened segment (or from the cache).
    pub(crate) async fn row_group(
        &self,
        seg: &Arc<OpenedSegment>,
        rg: usize,
    ) -> Result<Arc<EventChunk>, StoreError> {
        let key = CacheKey::RowGroup(seg.meta.id, rg);
        if let Some(Cached::RowGroup(c)) = self.cache.lock().unwrap().get(key) {
            return Ok(c);
        }
        let s = seg.clone();
        let chunk = tokio::task::spawn_blocking(move || s.decode_row_group(rg))
            .await
            .map_err(|e| StoreError::Internal(format!("segment decode task: {e}")))??;
        let chunk = Arc::new(chunk);
        self.cache.lock().unwrap().insert(
            key,
            Cached::RowGroup(chunk.clone()),
            chunk.memory_bytes(),
        );
        Ok(chunk)
    }

    /// Every row group of `meta` that may hold events in `[start, end)`, decoded.
    #[cfg(test)]
    pub(crate) async fn load(
        &self,
        meta: &SegmentMeta,
        start: Option<i64>,
        end: Option<i64>,
    ) -> Result<LoadedSegment, StoreError> {
        let seg = self.open_segment(meta).await?;
        let mut chunks = Vec::new();
        for (rg, _, _) in seg.row_groups(start, end) {
            chunks.push(self.row_group(&seg, rg).await?);
        }
        Ok(LoadedSegment { chunks })
    }
}

#[cfg(feature = "s3")]
fn open_remote(url: &str) -> Result<Arc<dyn ObjectStore>, StoreError> {
    let rest = url.strip_prefix("s3://").ok_or_else(|| {
        StoreError::Internal(format!(
            "unsupported segment_url {url:?}: expected s3://bucket/prefix"
        ))
    })?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let s3 = object_store::aws::AmazonS3Builder::from_env()
        .with_bucket_name(bucket)
        .build()
        .map_err(|e| object_err("configuring S3", e))?;
    let prefix = prefix.trim_matches('/');
    if prefix.is_empty() {
        Ok(Arc::new(s3))
    } else {
        Ok(Arc::new(object_store::prefix::PrefixStore::new(s3, prefix)))
    }
}

#[cfg(not(feature = "s3"))]
fn open_remote(url: &str) -> Result<Arc<dyn ObjectStore>, StoreError> {
    Err(StoreError::Internal(format!(
        "segment_url {url:?} needs watchtrail-store built with the `s3` feature"
    )))
}

fn verify(meta: SegmentMeta, bytes: Bytes) -> Result<OpenedSegment, StoreError> {
    if bytes.len() as u64 != meta.file_size {
        return Err(StoreError::Corrupt(format!(
            "segment {}: {} bytes, catalog says {}",
            meta.path,
            bytes.len(),
            meta.file_size
        )));
    }
    let crc = crc32c::crc32c(&bytes);
    if crc != meta.checksum {
        return Err(StoreError::Corrupt(format!(
            "segment {}: crc32c {crc:08x}, catalog says {:08x}",
            meta.path, meta.checksum
        )));
    }
    let metadata = ArrowReaderMetadata::load(&bytes, ArrowReaderOptions::new())
        .map_err(|e| StoreError::Corrupt(format!("segment {}: {e}", meta.path)))?;
    Ok(OpenedSegment {
        meta,
        bytes,
        metadata,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(n: usize) -> Vec<MemEvent> {
        (0..n)
            .map(|i| MemEvent {
                timestamp: 1000 + (i as i64 / 3),
                seq: i as u64 + 5,
                stream: (i % 4) as i64 + 1,
                ingestion_time: 77,
                message: format!("message number {i} ✓"),
            })
            .collect()
    }

    fn files(dir: &std::path::Path) -> SegmentFiles {
        SegmentFiles::open(dir, None, 64 << 20).unwrap()
    }

    #[tokio::test]
    async fn roundtrip_with_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let f = files(dir.path());
        let evs = events(ROW_GROUP_ROWS + 100);
        let refs: Vec<&MemEvent> = evs.iter().collect();
        let (bytes, mut meta) = encode_segment(9, &refs).unwrap();
        assert_eq!(meta.rows, evs.len() as u64);
        assert_eq!((meta.min_seq, meta.max_seq), (5, evs.len() as u64 + 4));
        assert_eq!(
            (meta.min_timestamp, meta.max_timestamp),
            (1000, evs.last().unwrap().timestamp)
        );
        assert_eq!(
            meta.streams.iter().map(|s| s.1).sum::<u64>(),
            meta.event_bytes
        );
        f.put(&meta, bytes).await.unwrap();
        meta.id = 1;
        let loaded = f.load(&meta, None, None).await.unwrap();
        assert_eq!(loaded.chunks.len(), 2, "two row groups");
        let mut i = 0;
        for c in &loaded.chunks {
            for j in 0..c.len() {
                let e = &evs[i];
                assert_eq!(
                    (
                        c.timestamps[j],
                        c.seqs[j],
                        c.streams[j],
                        c.ingestion_times[j]
                    ),
                    (e.timestamp, e.seq, e.stream, e.ingestion_time)
                );
                assert_eq!(c.message(j), e.message);
                i += 1;
            }
        }
        assert_eq!(i, evs.len());
        // A time range inside the first row group decodes only that one.
        let first_rg_max = evs[ROW_GROUP_ROWS - 1].timestamp;
        let part = f.load(&meta, None, Some(first_rg_max)).await.unwrap();
        assert_eq!(part.chunks.len(), 1);
        assert_eq!(part.chunks[0].len(), ROW_GROUP_ROWS);
    }

    /// The remote path (no local fsync, only `head`) against an in-memory object store.
    #[tokio::test]
    async fn roundtrip_through_a_non_local_object_store() {
        let mem: Arc<dyn ObjectStore> = Arc::new(object_store::memory::InMemory::new());
        let f = SegmentFiles::with_store(mem.clone(), None, 64 << 20);
        let evs = events(100);
        let refs: Vec<&MemEvent> = evs.iter().collect();
        let (bytes, mut meta) = encode_segment(4, &refs).unwrap();
        f.put(&meta, bytes.clone()).await.unwrap();
        meta.id = 8;
        let loaded = f.load(&meta, None, None).await.unwrap();
        assert_eq!(loaded.chunks.iter().map(|c| c.len()).sum::<usize>(), 100);
        // A different object under the same name is detected by the checksum.
        let mut tampered = bytes.to_vec();
        tampered[20] ^= 1;
        mem.put(
            &ObjectPath::from(meta.path.as_str()),
            PutPayload::from(tampered),
        )
        .await
        .unwrap();
        f.forget(meta.id);
        assert!(matches!(
            f.load(&meta, None, None).await,
            Err(StoreError::Corrupt(_))
        ));
        f.delete(&meta.path).await.unwrap();
        f.delete(&meta.path).await.unwrap(); // deleting twice is fine
    }

    #[tokio::test]
    async fn flipped_byte_is_corrupt_and_never_served() {
        let dir = tempfile::tempdir().unwrap();
        let evs = events(50);
        let refs: Vec<&MemEvent> = evs.iter().collect();
        let (bytes, mut meta) = encode_segment(1, &refs).unwrap();
        meta.id = 3;
        let file = dir.path().join("segments").join(&meta.path);
        // Flip bytes at a few places: the data pages, the middle, the footer.
        for at in [4usize, bytes.len() / 2, bytes.len() - 10] {
            let f = files(dir.path());
            f.put(&meta, bytes.clone()).await.unwrap();
            let mut raw = std::fs::read(&file).unwrap();
            raw[at] ^= 0x01;
            std::fs::write(&file, &raw).unwrap();
            match f.load(&meta, None, None).await {
                Err(StoreError::Corrupt(_)) => {}
                Err(e) => panic!("flip at {at}: wrong error {e:?}"),
                Ok(_) => panic!("flip at {at}: corrupt segment served"),
            }
        }
        // A truncated file is corrupt too.
        let f = files(dir.path());
        std::fs::write(&file, &bytes[..bytes.len() - 1]).unwrap();
        assert!(matches!(
            f.load(&meta, None, None).await,
            Err(StoreError::Corrupt(_))
        ));
        std::fs::remove_file(&file).unwrap();
        assert!(matches!(
            f.load(&meta, None, None).await,
            Err(StoreError::Corrupt(_))
        ));
    }

    #[tokio::test]
    async fn cache_serves_repeat_reads_and_stays_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let f = SegmentFiles::open(dir.path(), None, 1).unwrap(); // capacity below one segment
        let evs = events(10);
        let refs: Vec<&MemEvent> = evs.iter().collect();
        let (bytes, mut meta) = encode_segment(1, &refs).unwrap();
        meta.id = 1;
        f.put(&meta, bytes.clone()).await.unwrap();
        f.load(&meta, None, None).await.unwrap();
        assert_eq!(
            f.cache.lock().unwrap().entries.len(),
            0,
            "evicted at once with a tiny capacity"
        );

        let f = files(dir.path());
        f.load(&meta, None, None).await.unwrap();
        // Once cached, the file is not read again: deleting it does not affect the next read.
        std::fs::remove_file(dir.path().join("segments").join(&meta.path)).unwrap();
        assert_eq!(f.load(&meta, None, None).await.unwrap().chunks[0].len(), 10);
        f.forget(meta.id);
        assert!(f.load(&meta, None, None).await.is_err());
    }
}
