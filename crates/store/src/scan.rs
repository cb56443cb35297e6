//! k-way merge of sorted runs (memtable group vectors and decoded segment row groups) into one
//! page in `(timestamp, seq)` order, in either direction.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashSet};

use crate::memtable::{MemEvent, EVENT_OVERHEAD_BYTES};
use crate::segment::EventChunk;
use crate::{Direction, EventPosition, MessagePredicate, StoredEvent, StreamId};

/// Random access to events sorted ascending by `(timestamp, seq)`.
pub(crate) trait SortedRun {
    fn len(&self) -> usize;
    fn position(&self, i: usize) -> EventPosition;
    fn stream(&self, i: usize) -> StreamId;
    fn ingestion_time(&self, i: usize) -> i64;
    fn message(&self, i: usize) -> &str;
}

impl SortedRun for Vec<MemEvent> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn position(&self, i: usize) -> EventPosition {
        EventPosition {
            timestamp: self[i].timestamp,
            seq: self[i].seq,
        }
    }
    fn stream(&self, i: usize) -> StreamId {
        self[i].stream
    }
    fn ingestion_time(&self, i: usize) -> i64 {
        self[i].ingestion_time
    }
    fn message(&self, i: usize) -> &str {
        &self[i].message
    }
}

impl SortedRun for EventChunk {
    fn len(&self) -> usize {
        EventChunk::len(self)
    }
    fn position(&self, i: usize) -> EventPosition {
        EventPosition {
            timestamp: self.timestamps[i],
            seq: self.seqs[i],
        }
    }
    fn stream(&self, i: usize) -> StreamId {
        self.streams[i]
    }
    fn ingestion_time(&self, i: usize) -> i64 {
        self.ingestion_times[i]
    }
    fn message(&self, i: usize) -> &str {
        EventChunk::message(self, i)
    }
}

/// First index whose position satisfies `pred` (which must be false then true along the run).
fn partition(run: &dyn SortedRun, pred: impl Fn(EventPosition) -> bool) -> usize {
    let (mut lo, mut hi) = (0, run.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(run.position(mid)) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// What a scan asks for, independent of where events live.
pub(crate) struct ScanFilter<'a> {
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub direction: Direction,
    pub streams: Option<HashSet<StreamId>>,
    /// Deleted streams whose events may linger in segments or frozen memtables.
    pub hidden: &'a HashSet<StreamId>,
    pub predicate: Option<MessagePredicate<'a>>,
    pub limit: usize,
    pub max_scanned: Option<u64>,
}

/// Progress of a page across passes.
#[derive(Default)]
pub(crate) struct PageState {
    pub after: Option<EventPosition>,
    pub events: Vec<StoredEvent>,
    pub scanned_events: u64,
    pub scanned_bytes: u64,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PassEnd {
    /// `limit` or `max_scanned` reached; `more` tells whether loaded runs still had candidates.
    Full { more: bool },
    /// The next candidate is at or beyond the horizon: runs not loaded yet may hold earlier events.
    Horizon,
    /// Every loaded run is exhausted.
    Drained,
}

struct Head {
    pos: EventPosition,
    run: usize,
    idx: usize,
    forward: bool,
}

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.pos == other.pos
    }
}
impl Eq for Head {}
impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Head {
    // BinaryHeap pops the greatest: the smallest position going forward, the largest going backward.
    fn cmp(&self, other: &Self) -> Ordering {
        if self.forward {
            other.pos.cmp(&self.pos)
        } else {
            self.pos.cmp(&other.pos)
        }
    }
}

/// Merges `runs` into `page` from `page.after` on, stopping at `horizon` (a timestamp that
/// not-yet-loaded runs may start at: forward, events at or after it wait; backward, at or before).
pub(crate) fn merge_pass(
    runs: &[&dyn SortedRun],
    filter: &ScanFilter,
    page: &mut PageState,
    horizon: Option<i64>,
) -> PassEnd {
    let forward = filter.direction == Direction::Forward;
    let mut heap = BinaryHeap::with_capacity(runs.len());
    // Per run: the index range of candidates, [lo, hi).
    let mut bounds = Vec::with_capacity(runs.len());
    for (r, run) in runs.iter().enumerate() {
        let mut lo = match filter.start_time {
            Some(s) => partition(*run, |p| p.timestamp >= s),
            None => 0,
        };
        let mut hi = match filter.end_time {
            Some(e) => partition(*run, |p| p.timestamp >= e),
            None => run.len(),
        };
        if let Some(after) = page.after {
            if forward {
                lo = lo.max(partition(*run, |p| p > after));
            } else {
                hi = hi.min(partition(*run, |p| p >= after));
            }
        }
        bounds.push((lo, hi));
        if lo < hi {
            let idx = if forward { lo } else { hi - 1 };
            heap.push(Head {
                pos: run.position(idx),
                run: r,
                idx,
                forward,
            });
        }
    }
    let max_scanned = filter.max_scanned.unwrap_or(u64::MAX);
    while let Some(top) = heap.peek() {
        if let Some(h) = horizon {
            if (forward && top.pos.timestamp >= h) || (!forward && top.pos.timestamp <= h) {
                return PassEnd::Horizon;
            }
        }
        if page.events.len() >= filter.limit || page.scanned_events >= max_scanned {
            return PassEnd::Full { more: true };
        }
        let Head { pos, run, idx, .. } = heap.pop().unwrap();
        let (lo, hi) = bounds[run];
        let r = runs[run];
        let next = if forward {
            (idx + 1 < hi).then_some(idx + 1)
        } else {
            (idx > lo).then(|| idx - 1)
        };
        if let Some(n) = next {
            heap.push(Head {
                pos: r.position(n),
                run,
                idx: n,
                forward,
            });
        }
        page.after = Some(pos);
        // Every event of the group in the window counts as examined, including other streams':
        // that is the work done, and what `max_scanned` has to bound for a page over a large group
        // whose requested streams are sparse.
        let message = r.message(idx);
        page.scanned_events += 1;
        page.scanned_bytes += message.len() as u64 + EVENT_OVERHEAD_BYTES;
        let stream = r.stream(idx);
        if filter.hidden.contains(&stream)
            || filter
                .streams
                .as_ref()
                .is_some_and(|s| !s.contains(&stream))
        {
            continue;
        }
        if filter.predicate.is_none_or(|p| p(message)) {
            page.events.push(StoredEvent {
                stream_id: stream,
                timestamp: pos.timestamp,
                ingestion_time: r.ingestion_time(idx),
                seq: pos.seq,
                message: message.to_owned(),
            });
        }
    }
    if page.events.len() >= filter.limit || page.scanned_events >= max_scanned {
        return PassEnd::Full { more: false };
    }
    PassEnd::Drained
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(items: &[(i64, u64, StreamId)]) -> Vec<MemEvent> {
        items
            .iter()
            .map(|&(timestamp, seq, stream)| MemEvent {
                timestamp,
                seq,
                stream,
                ingestion_time: 0,
                message: format!("m{seq}"),
            })
            .collect()
    }

    fn filter<'a>(
        hidden: &'a HashSet<StreamId>,
        direction: Direction,
        limit: usize,
    ) -> ScanFilter<'a> {
        ScanFilter {
            start_time: None,
            end_time: None,
            direction,
            streams: None,
            hidden,
            predicate: None,
            limit,
            max_scanned: None,
        }
    }

    #[test]
    fn merges_runs_in_both_directions_with_pagination() {
        let a = run(&[(1, 1, 1), (3, 3, 1), (5, 5, 1)]);
        let b = run(&[(1, 2, 2), (4, 4, 2), (6, 6, 2)]);
        let runs: Vec<&dyn SortedRun> = vec![&a, &b];
        let hidden = HashSet::new();
        let f = filter(&hidden, Direction::Forward, 4);
        let mut page = PageState::default();
        assert_eq!(
            merge_pass(&runs, &f, &mut page, None),
            PassEnd::Full { more: true }
        );
        assert_eq!(
            page.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
            vec![1, 2, 3, 4]
        );
        let mut next = PageState {
            after: page.after,
            ..Default::default()
        };
        assert_eq!(merge_pass(&runs, &f, &mut next, None), PassEnd::Drained);
        assert_eq!(
            next.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
            vec![5, 6]
        );

        let f = filter(&hidden, Direction::Backward, 10);
        let mut page = PageState {
            after: Some(EventPosition {
                timestamp: 5,
                seq: 5,
            }),
            ..Default::default()
        };
        merge_pass(&runs, &f, &mut page, None);
        assert_eq!(
            page.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
            vec![4, 3, 2, 1]
        );
    }

    #[test]
    fn horizon_stops_before_events_unloaded_runs_could_precede() {
        let a = run(&[(1, 1, 1), (5, 2, 1)]);
        let runs: Vec<&dyn SortedRun> = vec![&a];
        let hidden = HashSet::new();
        let f = filter(&hidden, Direction::Forward, 10);
        let mut page = PageState::default();
        assert_eq!(merge_pass(&runs, &f, &mut page, Some(5)), PassEnd::Horizon);
        assert_eq!(page.events.len(), 1);
    }

    #[test]
    fn filters_streams_hidden_time_predicate_and_counts_scanned() {
        let a = run(&[(1, 1, 1), (2, 2, 2), (3, 3, 3), (4, 4, 1), (5, 5, 1)]);
        let runs: Vec<&dyn SortedRun> = vec![&a];
        let hidden: HashSet<StreamId> = [3].into();
        let odd = |m: &str| m.ends_with('1') || m.ends_with('5');
        let mut f = filter(&hidden, Direction::Forward, 10);
        f.start_time = Some(1);
        f.end_time = Some(5);
        f.predicate = Some(&odd);
        let mut page = PageState::default();
        assert_eq!(merge_pass(&runs, &f, &mut page, None), PassEnd::Drained);
        assert_eq!(
            page.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
            vec![1]
        );
        assert_eq!(page.scanned_events, 4); // seq 1..=4; 5 is out of range
        assert_eq!(page.scanned_bytes, 4 * (2 + EVENT_OVERHEAD_BYTES));

        let mut f = filter(&hidden, Direction::Forward, 10);
        f.max_scanned = Some(4);
        f.streams = Some([1].into());
        let mut page = PageState::default();
        assert_eq!(
            merge_pass(&runs, &f, &mut page, None),
            PassEnd::Full { more: true }
        );
        assert_eq!(
            page.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
            vec![1, 4]
        );
        assert_eq!(
            page.after,
            Some(EventPosition {
                timestamp: 4,
                seq: 4
            })
        );

        // Other streams' events use up the budget too: a sparse stream cannot make a page walk the
        // whole group.
        f.max_scanned = Some(2);
        let mut page = PageState::default();
        assert_eq!(
            merge_pass(&runs, &f, &mut page, None),
            PassEnd::Full { more: true }
        );
        assert_eq!(
            page.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
            vec![1]
        );
        assert_eq!(
            page.after,
            Some(EventPosition {
                timestamp: 2,
                seq: 2
            })
        );
    }
}
