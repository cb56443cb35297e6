mod common;

use common::*;
use watchtrail_store::*;

async fn fixture() -> (
    tempfile::TempDir,
    std::sync::Arc<Store>,
    GroupId,
    StreamId,
    StreamId,
) {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let g = group(&store, "g").await;
    let a = store.create_log_stream(g.id, "a", 1).await.unwrap();
    let b = store.create_log_stream(g.id, "b", 1).await.unwrap();
    (dir, store, g.id, a.id, b.id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn append_then_scan_forward_backward_and_paginate() {
    let (_d, store, g, a, b) = fixture().await;
    let r1 = store
        .append(g, a, 500, events(&[10, 30, 20], "a"))
        .await
        .unwrap();
    let r2 = store
        .append(g, b, 501, events(&[20, 5], "b"))
        .await
        .unwrap();
    assert_eq!(
        r2.first_seq,
        r1.first_seq + 3,
        "seqs are contiguous per batch and increasing"
    );

    let fwd = store
        .scan(request(g, Direction::Forward, 100), None)
        .await
        .unwrap();
    assert!(fwd.exhausted);
    let got: Vec<(i64, &str)> = fwd
        .events
        .iter()
        .map(|e| (e.timestamp, e.message.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (5, "b-5"),
            (10, "a-10"),
            (20, "a-20"),
            (20, "b-20"),
            (30, "a-30")
        ]
    );
    assert_total_order(&fwd.events);
    assert_eq!(fwd.scanned_events, 5);
    assert_eq!(fwd.events[1].ingestion_time, 500);
    assert_eq!(fwd.events[1].stream_id, a);

    let bwd = store
        .scan(request(g, Direction::Backward, 100), None)
        .await
        .unwrap();
    let mut rev = fwd.events.clone();
    rev.reverse();
    assert_eq!(bwd.events, rev);

    // Pagination: two at a time, forward and backward, reproduces the full listing.
    for dir in [Direction::Forward, Direction::Backward] {
        let mut req = request(g, dir, 2);
        let mut all = Vec::new();
        let mut pages = 0;
        loop {
            let p = store.scan(req.clone(), None).await.unwrap();
            assert!(p.events.len() <= 2);
            all.extend(p.events);
            pages += 1;
            if p.exhausted {
                break;
            }
            req.after = p.resume_after;
        }
        assert_eq!(pages, 3);
        assert_eq!(
            all,
            if dir == Direction::Forward {
                fwd.events.clone()
            } else {
                rev.clone()
            }
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_bounds_streams_predicate_and_max_scanned() {
    let (_d, store, g, a, b) = fixture().await;
    store
        .append(g, a, 0, events(&[1, 2, 3, 4, 5, 6], "a"))
        .await
        .unwrap();
    store
        .append(g, b, 0, events(&[1, 2, 3, 4, 5, 6], "b"))
        .await
        .unwrap();

    let mut req = request(g, Direction::Forward, 100);
    req.start_time = Some(2);
    req.end_time = Some(4);
    let p = store.scan(req.clone(), None).await.unwrap();
    assert_eq!(
        p.events.iter().map(|e| e.timestamp).collect::<Vec<_>>(),
        vec![2, 2, 3, 3],
        "start inclusive, end exclusive"
    );

    req.streams = Some(vec![b]);
    let p = store.scan(req.clone(), None).await.unwrap();
    assert_eq!(
        p.events
            .iter()
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>(),
        vec!["b-2", "b-3"]
    );

    let only_5 = |m: &str| m.ends_with('5');
    let mut req = request(g, Direction::Forward, 100);
    let p = store.scan(req.clone(), Some(&only_5)).await.unwrap();
    assert_eq!(
        p.events
            .iter()
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>(),
        vec!["a-5", "b-5"]
    );
    assert_eq!(p.scanned_events, 12);
    assert!(p.scanned_bytes >= 12 * 26);

    // A selective predicate with max_scanned: a short page that is not exhausted and resumes
    // after the last examined event, not the last returned one.
    req.max_scanned = Some(4);
    let p = store.scan(req.clone(), Some(&only_5)).await.unwrap();
    assert!(p.events.is_empty());
    assert!(!p.exhausted);
    assert_eq!(p.scanned_events, 4);
    let resume = p.resume_after.unwrap();
    assert_eq!(resume.timestamp, 2);
    let mut found = Vec::new();
    req.after = Some(resume);
    loop {
        let p = store.scan(req.clone(), Some(&only_5)).await.unwrap();
        assert!(p.scanned_events <= 4);
        found.extend(p.events.into_iter().map(|e| e.message));
        if p.exhausted {
            break;
        }
        req.after = p.resume_after;
    }
    assert_eq!(found, vec!["a-5", "b-5"]);

    // An empty or inverted window is exhausted at once.
    let mut req = request(g, Direction::Forward, 100);
    req.start_time = Some(4);
    req.end_time = Some(4);
    let p = store.scan(req, None).await.unwrap();
    assert!(p.events.is_empty() && p.exhausted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flush_then_scan_merges_segments_and_memtable_without_duplicates() {
    let (_d, store, g, a, b) = fixture().await;
    store
        .append(g, a, 0, events(&[10, 20, 30], "a"))
        .await
        .unwrap();
    store.flush().await.unwrap();
    store
        .append(g, b, 0, events(&[15, 25, 35], "b"))
        .await
        .unwrap();
    store.flush().await.unwrap();
    store
        .append(g, a, 0, events(&[5, 20, 40], "c"))
        .await
        .unwrap();
    let stats = store.stats();
    assert_eq!(stats.segments, 2);
    assert!(stats.segment_bytes > 0);
    assert_eq!(stats.memtable_events, 3);

    let all = scan_all(&store, g, 1000).await;
    assert_eq!(all.len(), 9);
    assert_total_order(&all);
    let ts: Vec<i64> = all.iter().map(|e| e.timestamp).collect();
    assert_eq!(ts, vec![5, 10, 15, 20, 20, 25, 30, 35, 40]);
    // Paging one event at a time across segment and memtable boundaries gives the same result.
    assert_eq!(scan_all(&store, g, 1).await, all);
    let mut bwd = Vec::new();
    let mut req = request(g, Direction::Backward, 2);
    loop {
        let p = store.scan(req.clone(), None).await.unwrap();
        bwd.extend(p.events);
        if p.exhausted {
            break;
        }
        req.after = p.resume_after;
    }
    bwd.reverse();
    assert_eq!(bwd, all);

    // Time-bounded scans prune segments yet return the same events.
    let mut req = request(g, Direction::Forward, 100);
    req.start_time = Some(20);
    req.end_time = Some(31);
    let p = store.scan(req, None).await.unwrap();
    assert_eq!(
        p.events.iter().map(|e| e.timestamp).collect::<Vec<_>>(),
        vec![20, 20, 25, 30]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_segment_is_an_error_not_data() {
    let (d, store, g, a, _) = fixture().await;
    store
        .append(g, a, 0, events(&[1, 2, 3], "a"))
        .await
        .unwrap();
    store.flush().await.unwrap();
    drop(store);
    let seg_dir = d.path().join("segments").join(g.to_string());
    let file = std::fs::read_dir(&seg_dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut bytes = std::fs::read(&file).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x10;
    std::fs::write(&file, &bytes).unwrap();
    let store = open(d.path()).await;
    match store.scan(request(g, Direction::Forward, 10), None).await {
        Err(StoreError::Corrupt(_)) => {}
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_stream_events_disappear_from_memtable_and_segments() {
    let (d, store, g, a, b) = fixture().await;
    store.append(g, a, 0, events(&[1, 2], "a")).await.unwrap();
    store.append(g, b, 0, events(&[1, 2], "b")).await.unwrap();
    store.flush().await.unwrap();
    store.append(g, a, 0, events(&[3], "a")).await.unwrap();
    store.append(g, b, 0, events(&[3], "b")).await.unwrap();
    store.delete_log_stream(g, "a").await.unwrap();
    assert!(matches!(
        store.append(g, a, 0, events(&[4], "a")).await,
        Err(StoreError::LogStreamNotFound)
    ));
    let msgs = |evs: Vec<StoredEvent>| evs.into_iter().map(|e| e.message).collect::<Vec<_>>();
    assert_eq!(
        msgs(scan_all(&store, g, 100).await),
        vec!["b-1", "b-2", "b-3"]
    );
    // Re-creating the name gives a new, empty stream.
    let a2 = store.create_log_stream(g, "a", 2).await.unwrap();
    assert_ne!(a2.id, a);
    assert_eq!(
        store
            .log_stream(g, "a")
            .await
            .unwrap()
            .unwrap()
            .stored_bytes,
        0
    );
    drop(store);
    let store = open(d.path()).await;
    assert_eq!(
        msgs(scan_all(&store, g, 100).await),
        vec!["b-1", "b-2", "b-3"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn append_to_unknown_stream_or_wrong_group_is_rejected() {
    let (_d, store, g, a, _) = fixture().await;
    let other = group(&store, "other").await;
    assert!(matches!(
        store.append(other.id, a, 0, events(&[1], "x")).await,
        Err(StoreError::LogStreamNotFound)
    ));
    assert!(matches!(
        store.append(g, 9999, 0, events(&[1], "x")).await,
        Err(StoreError::LogStreamNotFound)
    ));
}

/// A page touches only the segments the merge reaches: every other segment file is damaged here,
/// and reading any of them would fail the page with `Corrupt`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_reads_only_the_segments_it_reaches() {
    let (d, store, g, a, _) = fixture().await;
    for k in 0..5i64 {
        let ts: Vec<i64> = (0..10).map(|i| k * 100 + i).collect();
        store
            .append(g, a, 0, events(&ts, &format!("seg{k}")))
            .await
            .unwrap();
        store.flush().await.unwrap();
    }
    assert_eq!(store.stats().segments, 5);
    let seg_dir = d.path().join("segments").join(g.to_string());
    let mut files: Vec<_> = std::fs::read_dir(&seg_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort(); // named by min seq: flush order, which is time order here
    for f in &files[1..4] {
        let mut bytes = std::fs::read(f).unwrap();
        bytes[10] ^= 0xFF;
        std::fs::write(f, &bytes).unwrap();
    }
    // First page forward: only segment 0.
    let p = store
        .scan(request(g, Direction::Forward, 5), None)
        .await
        .unwrap();
    assert_eq!(p.events.len(), 5);
    assert!(!p.exhausted);
    // First page backward: only segment 4.
    let p = store
        .scan(request(g, Direction::Backward, 5), None)
        .await
        .unwrap();
    assert_eq!(
        p.events.iter().map(|e| e.timestamp).collect::<Vec<_>>(),
        vec![409, 408, 407, 406, 405]
    );
    // Time-bounded to segment 4 only.
    let mut req = request(g, Direction::Forward, 100);
    req.start_time = Some(400);
    let p = store.scan(req, None).await.unwrap();
    assert_eq!(p.events.len(), 10);
    assert!(p.exhausted);
    // Going on into a damaged segment fails loudly instead of skipping it.
    let mut req = request(g, Direction::Forward, 100);
    req.start_time = Some(0);
    assert!(matches!(
        store.scan(req, None).await,
        Err(StoreError::Corrupt(_))
    ));
}

/// A scan for some streams skips segments that hold none of their events (the catalog keeps each
/// segment's stream list); damaged segments of other streams are never touched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_filtered_scans_skip_segments_without_those_streams() {
    let (d, store, g, a, b) = fixture().await;
    store
        .append(g, a, 0, events(&[1, 2, 3], "a"))
        .await
        .unwrap();
    store.flush().await.unwrap();
    store.append(g, b, 0, events(&[2, 4], "b")).await.unwrap();
    store.flush().await.unwrap();
    store.append(g, a, 0, events(&[5], "a")).await.unwrap();
    store.flush().await.unwrap();
    let seg_dir = d.path().join("segments").join(g.to_string());
    let mut files: Vec<_> = std::fs::read_dir(&seg_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in [&files[0], &files[2]] {
        let mut bytes = std::fs::read(f).unwrap();
        bytes[10] ^= 0xFF;
        std::fs::write(f, &bytes).unwrap();
    }
    let mut req = request(g, Direction::Forward, 100);
    req.streams = Some(vec![b]);
    let p = store.scan(req, None).await.unwrap();
    assert_eq!(
        p.events
            .iter()
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>(),
        vec!["b-2", "b-4"]
    );
    assert!(p.exhausted);
    let mut req = request(g, Direction::Forward, 100);
    req.streams = Some(vec![a]);
    assert!(matches!(
        store.scan(req, None).await,
        Err(StoreError::Corrupt(_))
    ));
}

async fn unordered(
    store: &Store,
    g: GroupId,
    start: Option<i64>,
    end: Option<i64>,
) -> Vec<(i64, String)> {
    let mut scan = store.scan_unordered(g, start, end).await.unwrap();
    let mut got = Vec::new();
    while let Some(chunk) = scan.next_chunk().await.unwrap() {
        got.extend(chunk.into_iter().map(|e| (e.timestamp, e.message)));
    }
    got.sort();
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unordered_scan_yields_segments_and_memtable_once_within_the_range() {
    let (_d, store, g, a, b) = fixture().await;
    // Overlapping time ranges across flushes: the case the ordered merge pages through slowly.
    store
        .append(g, a, 1, events(&[10, 40, 70], "a"))
        .await
        .unwrap();
    store.append(g, b, 1, events(&[20, 50], "b")).await.unwrap();
    store.flush().await.unwrap();
    store
        .append(g, a, 2, events(&[15, 45, 90], "a2"))
        .await
        .unwrap();
    store.flush().await.unwrap();
    store.append(g, b, 3, events(&[5, 60], "b3")).await.unwrap();

    let ordered: Vec<(i64, String)> = {
        let mut v: Vec<(i64, String)> = scan_all(&store, g, 2)
            .await
            .into_iter()
            .map(|e| (e.timestamp, e.message))
            .collect();
        v.sort();
        v
    };
    assert_eq!(ordered.len(), 10);
    assert_eq!(unordered(&store, g, None, None).await, ordered);

    let in_range: Vec<(i64, String)> = ordered
        .iter()
        .filter(|(t, _)| (15..60).contains(t))
        .cloned()
        .collect();
    assert_eq!(unordered(&store, g, Some(15), Some(60)).await, in_range);

    // A deleted stream's events linger in segments but are never yielded.
    store.delete_log_stream(g, "b").await.unwrap();
    let without_b: Vec<(i64, String)> = ordered
        .iter()
        .filter(|(_, m)| m.starts_with('a'))
        .cloned()
        .collect();
    assert_eq!(unordered(&store, g, None, None).await, without_b);
}
