//! Scans racing appends and flushes: every event acknowledged before a scan starts is in it,
//! exactly once, in order — whether it sits in the active memtable, a frozen one being flushed,
//! or a freshly registered segment.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use common::*;
use watchtrail_store::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scans_during_appends_and_flushes_see_every_acknowledged_event_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.memtable_flush_bytes = 20_000; // the writer freezes often, on its own
    let store = Store::open(cfg).await.unwrap();
    let g = group(&store, "g").await.id;
    let streams = [
        store.create_log_stream(g, "a", 1).await.unwrap().id,
        store.create_log_stream(g, "b", 1).await.unwrap().id,
    ];
    let acked = Arc::new(AtomicU64::new(0)); // events acknowledged so far (all appends are sequential per writer)
    let done = Arc::new(AtomicBool::new(false));
    let total_batches = 150u64;

    let writer = {
        let (store, acked) = (store.clone(), acked.clone());
        tokio::spawn(async move {
            for b in 0..total_batches {
                // Timestamps go back and forth so events land both before and after earlier ones.
                let ts: Vec<i64> = (0..20).map(|i| ((b * 37 + i * 11) % 500) as i64).collect();
                store
                    .append(
                        g,
                        streams[(b % 2) as usize],
                        0,
                        events(&ts, &format!("b{b}")),
                    )
                    .await
                    .unwrap();
                acked.fetch_add(20, Ordering::SeqCst);
            }
        })
    };
    let flusher = {
        let (store, done) = (store.clone(), done.clone());
        tokio::spawn(async move {
            while !done.load(Ordering::SeqCst) {
                store.flush().await.unwrap();
                tokio::task::yield_now().await;
            }
        })
    };
    let mut scans = 0;
    loop {
        let before = acked.load(Ordering::SeqCst);
        let all = scan_all(&store, g, 97).await;
        assert_total_order(&all);
        assert!(
            all.len() as u64 >= before,
            "scan lost events: {} < {before}",
            all.len()
        );
        scans += 1;
        if before == total_batches * 20 {
            assert_eq!(all.len() as u64, before);
            break;
        }
    }
    done.store(true, Ordering::SeqCst);
    writer.await.unwrap();
    flusher.await.unwrap();
    assert!(scans > 1);
    assert!(
        store.stats().segments > 1,
        "flushes did not interleave with the scans"
    );
}
