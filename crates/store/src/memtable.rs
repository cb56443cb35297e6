//! In-memory events not yet in segments. Appends push to a per-group `Vec` in seq order (cheap);
//! the vector is sorted by `(timestamp, seq)` lazily, when a scan or a flush needs order.

use std::collections::HashMap;

use crate::{GroupId, InputEvent, StreamId};

/// Bytes CloudWatch counts per event on top of the UTF-8 message.
pub(crate) const EVENT_OVERHEAD_BYTES: u64 = 26;

/// Approximate memory per event besides its message: the struct plus allocator slack.
const MEM_EVENT_FOOTPRINT: u64 = std::mem::size_of::<MemEvent>() as u64 + 16;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct MemEvent {
    pub timestamp: i64,
    pub seq: u64,
    pub stream: StreamId,
    pub ingestion_time: i64,
    pub message: String,
}

/// Statistics of one stream's unflushed events (or, merged, of all its events).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamDelta {
    pub first_event_timestamp: Option<i64>,
    pub last_event_timestamp: Option<i64>,
    pub last_ingestion_time: Option<i64>,
    pub stored_bytes: u64,
}

impl StreamDelta {
    pub fn merge(&mut self, other: &StreamDelta) {
        self.first_event_timestamp =
            min_opt(self.first_event_timestamp, other.first_event_timestamp);
        self.last_event_timestamp = max_opt(self.last_event_timestamp, other.last_event_timestamp);
        self.last_ingestion_time = max_opt(self.last_ingestion_time, other.last_ingestion_time);
        self.stored_bytes += other.stored_bytes;
    }
}

pub(crate) fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

pub(crate) fn max_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

#[derive(Debug, Default)]
pub(crate) struct GroupEvents {
    pub events: Vec<MemEvent>,
    /// `events[..sorted_len]` is in `(timestamp, seq)` order.
    sorted_len: usize,
    pub stored_bytes: u64,
}

impl GroupEvents {
    pub(crate) fn ensure_sorted(&mut self) {
        let n = self.events.len();
        if self.sorted_len == n {
            return;
        }
        let key = |e: &MemEvent| (e.timestamp, e.seq);
        let tail_sorted = self.events[self.sorted_len..]
            .windows(2)
            .all(|w| key(&w[0]) <= key(&w[1]));
        let joins = self.sorted_len == 0
            || key(&self.events[self.sorted_len - 1]) <= key(&self.events[self.sorted_len]);
        if !(tail_sorted && joins) {
            // The stable sort detects existing sorted runs (each append batch usually is one), so
            // interleaved batches cost a merge of runs rather than a full sort.
            self.events.sort_by_key(key);
        }
        self.sorted_len = n;
    }

    pub(crate) fn is_sorted(&self) -> bool {
        self.sorted_len == self.events.len()
    }
}

#[derive(Debug, Default)]
pub(crate) struct Memtable {
    pub groups: HashMap<GroupId, GroupEvents>,
    pub streams: HashMap<StreamId, StreamDelta>,
    /// Approximate memory held (messages + per-event footprint).
    pub mem_bytes: u64,
    pub events: u64,
    /// Highest WAL lsn whose events are in this memtable.
    pub max_lsn: Option<u64>,
    /// Lowest seq held; memtables hold contiguous, ordered seq ranges because one thread inserts.
    pub min_seq: Option<u64>,
    pub max_seq: Option<u64>,
}

impl Memtable {
    /// Inserts one acknowledged WAL record's events.
    pub(crate) fn insert(
        &mut self,
        lsn: u64,
        group: GroupId,
        stream: StreamId,
        ingestion_time: i64,
        first_seq: u64,
        events: Vec<InputEvent>,
    ) {
        if events.is_empty() {
            self.max_lsn = Some(lsn);
            return;
        }
        let n = events.len() as u64;
        let g = self.groups.entry(group).or_default();
        g.events.reserve(events.len());
        let mut msg_bytes = 0u64;
        let mut first = i64::MAX;
        let mut last = i64::MIN;
        for (i, e) in events.into_iter().enumerate() {
            msg_bytes += e.message.len() as u64;
            first = first.min(e.timestamp);
            last = last.max(e.timestamp);
            g.events.push(MemEvent {
                timestamp: e.timestamp,
                seq: first_seq + i as u64,
                stream,
                ingestion_time,
                message: e.message,
            });
        }
        let stored = msg_bytes + n * EVENT_OVERHEAD_BYTES;
        g.stored_bytes += stored;
        self.streams.entry(stream).or_default().merge(&StreamDelta {
            first_event_timestamp: Some(first),
            last_event_timestamp: Some(last),
            last_ingestion_time: Some(ingestion_time),
            stored_bytes: stored,
        });
        self.mem_bytes += msg_bytes + n * MEM_EVENT_FOOTPRINT;
        self.events += n;
        self.max_lsn = Some(lsn);
        self.min_seq.get_or_insert(first_seq);
        self.max_seq = Some(first_seq + n - 1);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.events == 0
    }

    /// Drops a group's events (the group was deleted); returns the memory freed.
    pub(crate) fn remove_group(&mut self, group: GroupId) -> u64 {
        let Some(g) = self.groups.remove(&group) else {
            return 0;
        };
        let mut freed = 0;
        for e in &g.events {
            freed += e.message.len() as u64 + MEM_EVENT_FOOTPRINT;
            self.streams.remove(&e.stream);
        }
        self.mem_bytes -= freed;
        self.events -= g.events.len() as u64;
        freed
    }

    /// Drops a stream's events (the stream was deleted); returns the memory freed.
    pub(crate) fn remove_stream(&mut self, group: GroupId, stream: StreamId) -> u64 {
        self.streams.remove(&stream);
        let Some(g) = self.groups.get_mut(&group) else {
            return 0;
        };
        let before = g.events.len();
        let mut freed = 0;
        let mut stored = 0;
        g.events.retain(|e| {
            if e.stream == stream {
                freed += e.message.len() as u64 + MEM_EVENT_FOOTPRINT;
                stored += e.message.len() as u64 + EVENT_OVERHEAD_BYTES;
                false
            } else {
                true
            }
        });
        // Removing elements keeps relative order, so a sorted prefix stays sorted but may shrink.
        g.sorted_len = 0;
        g.stored_bytes -= stored;
        self.events -= (before - g.events.len()) as u64;
        self.mem_bytes -= freed;
        freed
    }

    pub(crate) fn sort_all(&mut self) {
        for g in self.groups.values_mut() {
            g.ensure_sorted();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(ts: i64, msg: &str) -> InputEvent {
        InputEvent {
            timestamp: ts,
            message: msg.into(),
        }
    }

    #[test]
    fn sorted_by_timestamp_then_seq_after_out_of_order_inserts() {
        let mut m = Memtable::default();
        m.insert(1, 1, 10, 100, 0, vec![ev(5, "a"), ev(3, "b"), ev(5, "c")]);
        m.insert(2, 1, 11, 101, 3, vec![ev(4, "d"), ev(3, "e")]);
        let g = m.groups.get_mut(&1).unwrap();
        assert!(!g.is_sorted());
        g.ensure_sorted();
        let order: Vec<(i64, u64)> = g.events.iter().map(|e| (e.timestamp, e.seq)).collect();
        assert_eq!(order, vec![(3, 1), (3, 4), (4, 3), (5, 0), (5, 2)]);
        // Appending in order afterwards keeps it sorted without a re-sort.
        m.insert(3, 1, 10, 102, 5, vec![ev(6, "f")]);
        let g = m.groups.get_mut(&1).unwrap();
        g.ensure_sorted();
        assert_eq!(g.events.last().unwrap().seq, 5);
    }

    #[test]
    fn tracks_bytes_stats_and_seq_range() {
        let mut m = Memtable::default();
        m.insert(7, 1, 10, 100, 40, vec![ev(5, "abc"), ev(2, "de")]);
        m.insert(8, 2, 20, 200, 42, vec![ev(9, "x")]);
        assert_eq!(m.events, 3);
        assert_eq!(
            (m.min_seq, m.max_seq, m.max_lsn),
            (Some(40), Some(42), Some(8))
        );
        let s = m.streams[&10];
        assert_eq!(s.first_event_timestamp, Some(2));
        assert_eq!(s.last_event_timestamp, Some(5));
        assert_eq!(s.last_ingestion_time, Some(100));
        assert_eq!(s.stored_bytes, 5 + 2 * EVENT_OVERHEAD_BYTES);
        assert_eq!(m.groups[&1].stored_bytes, 5 + 2 * EVENT_OVERHEAD_BYTES);
        let mem = m.mem_bytes;
        assert!(mem > 6);
        let freed = m.remove_group(1);
        assert_eq!(m.mem_bytes, mem - freed);
        assert_eq!(m.events, 1);
        assert!(!m.streams.contains_key(&10));
    }

    #[test]
    fn remove_stream_keeps_other_streams_in_order() {
        let mut m = Memtable::default();
        m.insert(1, 1, 10, 0, 0, vec![ev(1, "a"), ev(3, "b")]);
        m.insert(2, 1, 11, 0, 2, vec![ev(2, "c")]);
        m.remove_stream(1, 10);
        let g = m.groups.get_mut(&1).unwrap();
        g.ensure_sorted();
        assert_eq!(
            g.events
                .iter()
                .map(|e| e.message.as_str())
                .collect::<Vec<_>>(),
            vec!["c"]
        );
        assert_eq!(g.stored_bytes, 1 + EVENT_OVERHEAD_BYTES);
        assert_eq!(m.events, 1);
    }
}
