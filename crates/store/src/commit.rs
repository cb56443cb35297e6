//! The group-commit thread: drains every pending append, writes them as one WAL write, fdatasyncs
//! once, inserts them into the active memtable (in lsn order, which is what makes a frozen
//! memtable's `max_lsn` a valid checkpoint) and only then acknowledges each.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use tokio::sync::{mpsc, oneshot, Notify};

use crate::memtable::Memtable;
use crate::wal::{encode_record, RecordHeader, WalWriter};
use crate::{AppendReceipt, GroupId, InputEvent, StoreError, StreamId};

/// Largest WAL write per group commit; beyond it the rest waits for the next fsync.
const MAX_BATCH_BYTES: usize = 32 << 20;

pub(crate) struct AppendRequest {
    pub group: GroupId,
    pub stream: StreamId,
    pub ingestion_time: i64,
    pub events: Vec<InputEvent>,
    /// `wal::encode_events(&events)`, computed by the caller.
    pub body: Vec<u8>,
    pub reply: oneshot::Sender<Result<AppendReceipt, StoreError>>,
}

/// Memtables: the active one takes inserts; frozen ones are being flushed, oldest first.
#[derive(Default)]
pub(crate) struct MemState {
    pub active: Arc<RwLock<Memtable>>,
    pub frozen: Vec<Arc<RwLock<Memtable>>>,
}

/// State shared by the store and its writer thread (which must not keep the store alive).
pub(crate) struct Shared {
    pub mem: RwLock<MemState>,
    /// Memory of all memtables, active and frozen.
    pub mem_bytes: AtomicU64,
    pub mem_events: AtomicU64,
    pub wal_bytes: AtomicU64,
    /// Highest acknowledged seq (0: none yet).
    pub durable_seq: AtomicU64,
    /// Set when a WAL write failed and the file could not be restored: nothing more is accepted.
    pub wal_poisoned: AtomicBool,
    pub flush_wanted: Notify,
    pub flush_bytes: u64,
}

pub(crate) fn run_writer(
    mut wal: WalWriter,
    mut rx: mpsc::UnboundedReceiver<AppendRequest>,
    shared: Arc<Shared>,
    mut next_lsn: u64,
    mut next_seq: u64,
) {
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 20);
    let mut batch: Vec<AppendRequest> = Vec::new();
    let mut assigned: Vec<(u64, u64)> = Vec::new();
    while let Some(first) = rx.blocking_recv() {
        let mut bytes = first.body.len();
        batch.push(first);
        while bytes < MAX_BATCH_BYTES {
            match rx.try_recv() {
                Ok(r) => {
                    bytes += r.body.len();
                    batch.push(r);
                }
                Err(_) => break,
            }
        }
        if shared.wal_poisoned.load(Ordering::Acquire) {
            for r in batch.drain(..) {
                let _ = r.reply.send(Err(StoreError::Unavailable(
                    "write-ahead log failed earlier; restart required".into(),
                )));
            }
            continue;
        }
        buf.clear();
        assigned.clear();
        let (lsn0, seq0) = (next_lsn, next_seq);
        for r in &batch {
            let header = RecordHeader {
                lsn: next_lsn,
                first_seq: next_seq,
                group: r.group,
                stream: r.stream,
                ingestion_time: r.ingestion_time,
                count: r.events.len() as u32,
            };
            encode_record(&mut buf, &header, &r.body);
            assigned.push((next_lsn, next_seq));
            next_lsn += 1;
            next_seq += r.events.len() as u64;
        }
        match wal.write_batch(&buf) {
            Ok(()) => {
                shared
                    .wal_bytes
                    .fetch_add(buf.len() as u64, Ordering::Relaxed);
                let (active_bytes, added_bytes, added_events) = {
                    let state = shared.mem.read().unwrap();
                    let mut m = state.active.write().unwrap();
                    let (b0, e0) = (m.mem_bytes, m.events);
                    for (r, &(lsn, seq)) in batch.iter_mut().zip(&assigned) {
                        let events = std::mem::take(&mut r.events);
                        m.insert(lsn, r.group, r.stream, r.ingestion_time, seq, events);
                    }
                    (m.mem_bytes, m.mem_bytes - b0, m.events - e0)
                };
                shared.mem_bytes.fetch_add(added_bytes, Ordering::Relaxed);
                shared.mem_events.fetch_add(added_events, Ordering::Relaxed);
                shared.durable_seq.store(next_seq - 1, Ordering::Release);
                for (r, &(_, seq)) in batch.drain(..).zip(&assigned) {
                    let _ = r.reply.send(Ok(AppendReceipt { first_seq: seq }));
                }
                if active_bytes >= shared.flush_bytes {
                    // Freeze right here rather than when the flusher gets to it: if flushing lags,
                    // frozen memtables queue up at ~flush_bytes each instead of one active memtable
                    // growing (and re-allocating its vectors under the insert lock) without bound.
                    let mut state = shared.mem.write().unwrap();
                    let full = std::mem::take(&mut state.active);
                    state.frozen.push(full);
                    drop(state);
                    shared.flush_wanted.notify_one();
                }
                if let Err(e) = wal.maybe_rotate(next_lsn) {
                    // The old file stays usable; rotation is retried after the next batch.
                    tracing::warn!(error = %e, "could not start a new WAL file");
                }
            }
            Err((err, poison)) => {
                // Nothing of the batch is acknowledged; its lsns and seqs were never observed, and the
                // file was cut back (unless poisoned), so they can be handed out again.
                next_lsn = lsn0;
                next_seq = seq0;
                if poison {
                    tracing::error!(error = %err, "WAL write failed and the file could not be restored; refusing appends");
                    shared.wal_poisoned.store(true, Ordering::Release);
                } else {
                    tracing::warn!(error = %err, "WAL write failed; batch rejected");
                }
                let msg = err.to_string();
                for r in batch.drain(..) {
                    let _ = r.reply.send(Err(StoreError::Unavailable(msg.clone())));
                }
            }
        }
    }
    tracing::debug!(bytes = wal.file_bytes(), "WAL writer stopped");
}
