//! A single pass over a group's events in no particular order, for whole-range analytics (Logs
//! Insights). The ordered, paged `Store::scan` merges every overlapping segment by
//! `(timestamp, seq)`; when many segments overlap (concurrent streams, imports of old logs) a page
//! needs more decoded row groups than the cache holds, so each page decoded them again. Here
//! every row group is decoded once and every memtable event read once.

use std::collections::HashSet;
use std::sync::Arc;

use crate::segment::OpenedSegment;
use crate::{
    lock_err, GroupId, SegmentMeta, SharedMemtable, Store, StoreError, StoredEvent, StreamId,
};

/// Yields a group's events in `[start, end)` chunk by chunk (a row group, then the memtables).
/// The segment list and memtable snapshot are taken together, so every event acknowledged before
/// the scan began is yielded exactly once.
pub struct UnorderedScan<'s> {
    store: &'s Store,
    group: GroupId,
    start: Option<i64>,
    end: Option<i64>,
    hidden: Arc<HashSet<StreamId>>,
    segments: Vec<SegmentMeta>,
    row_groups: Vec<(Arc<OpenedSegment>, usize)>,
    memtables: Option<Vec<SharedMemtable>>,
    /// Memtable events not yet yielded, handed out in bounded chunks so a caller can stop early.
    unflushed: Vec<StoredEvent>,
}

const MEMTABLE_CHUNK_EVENTS: usize = 8192;

impl Store {
    /// Every event of `group` with `start <= timestamp < end`, unordered. See [`UnorderedScan`].
    pub async fn scan_unordered(
        &self,
        group: GroupId,
        start: Option<i64>,
        end: Option<i64>,
    ) -> Result<UnorderedScan<'_>, StoreError> {
        let hidden = lock_err(self.hidden_streams.read()).clone();
        let (mut segments, memtables) = {
            let _consistent = self.flush_commit.read().await;
            let segs = self.catalog.segments(group, start, end, None).await?;
            (segs, self.memtable_snapshot())
        };
        segments.reverse();
        Ok(UnorderedScan {
            store: self,
            group,
            start,
            end,
            hidden,
            segments,
            row_groups: Vec::new(),
            memtables: Some(memtables),
            unflushed: Vec::new(),
        })
    }
}

impl UnorderedScan<'_> {
    fn wanted(&self, timestamp: i64, stream: StreamId) -> bool {
        self.start.is_none_or(|s| timestamp >= s)
            && self.end.is_none_or(|e| timestamp < e)
            && !self.hidden.contains(&stream)
    }

    /// The next chunk of events, or `None` when the group is exhausted. Chunks may be empty.
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<StoredEvent>>, StoreError> {
        loop {
            if !self.unflushed.is_empty() {
                let keep = self.unflushed.len().saturating_sub(MEMTABLE_CHUNK_EVENTS);
                return Ok(Some(self.unflushed.split_off(keep)));
            }
            if let Some((opened, rg)) = self.row_groups.pop() {
                let chunk = self.store.segments.row_group(&opened, rg).await?;
                let events = (0..chunk.len())
                    .filter(|&i| self.wanted(chunk.timestamps[i], chunk.streams[i]))
                    .map(|i| StoredEvent {
                        stream_id: chunk.streams[i],
                        timestamp: chunk.timestamps[i],
                        ingestion_time: chunk.ingestion_times[i],
                        seq: chunk.seqs[i],
                        message: chunk.message(i).to_string(),
                    })
                    .collect();
                return Ok(Some(events));
            }
            if let Some(seg) = self.segments.pop() {
                match self.store.segments.open_segment(&seg).await {
                    Ok(opened) => {
                        for (rg, _, _) in opened.row_groups(self.start, self.end).into_iter().rev()
                        {
                            self.row_groups.push((opened.clone(), rg));
                        }
                    }
                    Err(StoreError::Corrupt(msg)) => {
                        // Retention or a group deletion may have removed it since it was listed.
                        let still = self
                            .store
                            .catalog
                            .segments(self.group, Some(seg.max_timestamp), None, None)
                            .await?;
                        if still.iter().any(|s| s.id == seg.id) {
                            return Err(StoreError::Corrupt(msg));
                        }
                    }
                    Err(e) => return Err(e),
                }
                continue;
            }
            if let Some(memtables) = self.memtables.take() {
                let mut events = Vec::new();
                for m in &memtables {
                    let table = lock_err(m.read());
                    if let Some(ge) = table.groups.get(&self.group) {
                        events.extend(
                            ge.events
                                .iter()
                                .filter(|e| self.wanted(e.timestamp, e.stream))
                                .map(|e| StoredEvent {
                                    stream_id: e.stream,
                                    timestamp: e.timestamp,
                                    ingestion_time: e.ingestion_time,
                                    seq: e.seq,
                                    message: e.message.clone(),
                                }),
                        );
                    }
                }
                self.unflushed = events;
                continue;
            }
            return Ok(None);
        }
    }
}
