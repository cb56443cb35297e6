//! In-process crash simulations: the store is dropped without shutdown (its WAL writer stops, the
//! files stay as a killed process leaves them) and the WAL is damaged the way a crash can.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::*;
use proptest::prelude::*;
use watchtrail_store::*;

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn wal_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir.join("wal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

/// Writes `n` batches one group commit each; returns (group, per-batch (first_seq, messages)).
async fn write_batches(dir: &Path, n: usize) -> (GroupId, StreamId, Vec<(u64, Vec<String>)>) {
    let store = open(dir).await;
    let g = group(&store, "g").await;
    let s = store.create_log_stream(g.id, "s", 1).await.unwrap();
    let mut batches = Vec::new();
    for b in 0..n {
        let evs: Vec<InputEvent> = (0..(b % 5 + 1))
            .map(|i| InputEvent {
                timestamp: 1000 + b as i64,
                message: format!("batch {b} event {i}"),
            })
            .collect();
        let msgs = evs.iter().map(|e| e.message.clone()).collect();
        let r = store.append(g.id, s.id, 1, evs).await.unwrap();
        batches.push((r.first_seq, msgs));
    }
    (g.id, s.id, batches)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn torn_wal_tail_recovers_exactly_the_whole_records() {
    let original = tempfile::tempdir().unwrap();
    let (g, s, batches) = write_batches(original.path(), 12).await;
    let wal = wal_files(original.path());
    assert_eq!(wal.len(), 1);
    let full_len = fs::metadata(&wal[0]).unwrap().len();

    // Deterministic pseudo-random cut points, plus the edges.
    let mut cuts = vec![0, 1, 7, 8, full_len - 1, full_len];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..30 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        cuts.push(x % full_len);
    }
    cuts.sort();
    let mut prev_whole = 0;
    for cut in cuts {
        let work = tempfile::tempdir().unwrap();
        copy_dir(original.path(), work.path());
        let wal = wal_files(work.path());
        fs::OpenOptions::new()
            .write(true)
            .open(&wal[0])
            .unwrap()
            .set_len(cut)
            .unwrap();

        let store = open(work.path()).await;
        let got = scan_all(&store, g, 7).await;
        // Exactly a prefix of whole batches, each with its original seqs and messages.
        let mut expected = Vec::new();
        let mut whole = 0;
        for (first_seq, msgs) in &batches {
            if expected.len() == got.len() {
                break;
            }
            for (i, m) in msgs.iter().enumerate() {
                expected.push((first_seq + i as u64, m.clone()));
            }
            whole += 1;
        }
        let got_pairs: Vec<(u64, String)> =
            got.iter().map(|e| (e.seq, e.message.clone())).collect();
        assert_eq!(
            got_pairs, expected,
            "cut at {cut} of {full_len}: not a prefix of whole batches"
        );
        assert!(
            whole >= prev_whole,
            "cut at {cut}: fewer batches than a shorter cut"
        );
        prev_whole = whole;
        if cut == full_len {
            assert_eq!(whole, batches.len());
        }
        // The recovered store takes new writes, and they survive another crash.
        let r = store
            .append(g, s, 2, events(&[5000], "after"))
            .await
            .unwrap();
        let max_seen = got.iter().map(|e| e.seq).max().unwrap_or(0);
        assert!(r.first_seq > max_seen);
        drop(store);
        let store = open(work.path()).await;
        let again = scan_all(&store, g, 100).await;
        assert_eq!(again.len(), got.len() + 1, "cut at {cut}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damage_before_the_wal_tail_stops_startup() {
    let dir = tempfile::tempdir().unwrap();
    write_batches(dir.path(), 6).await;
    let wal = wal_files(dir.path());
    let mut bytes = fs::read(&wal[0]).unwrap();
    bytes[20] ^= 0xFF; // inside the first record; five valid records follow
    fs::write(&wal[0], &bytes).unwrap();
    match Store::open(config(dir.path())).await {
        Err(StoreError::Corrupt(_)) => {}
        Err(e) => panic!("wrong error: {e:?}"),
        Ok(_) => panic!("started over a damaged WAL"),
    }
    assert_eq!(
        fs::read(&wal[0]).unwrap(),
        bytes,
        "the damaged WAL is left for inspection"
    );
}

#[derive(Clone, Debug)]
enum Op {
    Append {
        stream: usize,
        timestamps: Vec<i64>,
    },
    Flush,
    /// Drop without shutdown, reopen.
    Crash,
    /// Clean shutdown, reopen.
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0usize..2, prop::collection::vec(0i64..50, 1..20)).prop_map(|(stream, timestamps)| Op::Append { stream, timestamps }),
        1 => Just(Op::Flush),
        1 => Just(Op::Crash),
        1 => Just(Op::Restart),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn random_append_flush_reopen_preserves_exactly_acknowledged_events(ops in prop::collection::vec(op(), 1..14)) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async move {
            let dir = tempfile::tempdir().unwrap();
            let mut store = open(dir.path()).await;
            let g = group(&store, "g").await.id;
            let streams = [
                store.create_log_stream(g, "s0", 1).await.unwrap().id,
                store.create_log_stream(g, "s1", 1).await.unwrap().id,
            ];
            let mut expected: Vec<StoredEvent> = Vec::new();
            let mut n = 0;
            for op in ops {
                match op {
                    Op::Append { stream, timestamps } => {
                        let evs: Vec<InputEvent> = timestamps
                            .iter()
                            .map(|&t| { n += 1; InputEvent { timestamp: t, message: format!("e{n}") } })
                            .collect();
                        let r = store.append(g, streams[stream], 7, evs.clone()).await.unwrap();
                        for (i, e) in evs.into_iter().enumerate() {
                            expected.push(StoredEvent {
                                stream_id: streams[stream],
                                timestamp: e.timestamp,
                                ingestion_time: 7,
                                seq: r.first_seq + i as u64,
                                message: e.message,
                            });
                        }
                    }
                    Op::Flush => store.flush().await.unwrap(),
                    Op::Crash => {
                        drop(store);
                        store = open(dir.path()).await;
                    }
                    Op::Restart => {
                        store.shutdown().await.unwrap();
                        drop(store);
                        store = open(dir.path()).await;
                    }
                }
                expected.sort_by_key(|e| (e.timestamp, e.seq));
                let got = scan_all(&store, g, 16).await;
                assert_eq!(got, expected);
            }
            let seqs: std::collections::HashSet<u64> = expected.iter().map(|e| e.seq).collect();
            assert_eq!(seqs.len(), expected.len(), "seq reused");
        });
    }
}
