mod common;

use std::time::Duration;

use common::*;
use watchtrail_store::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reopen_after_drop_without_shutdown_replays_wal_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let (g, s, last_seq) = {
        let store = open(dir.path()).await;
        let g = group(&store, "g").await;
        let s = store.create_log_stream(g.id, "s", 1).await.unwrap();
        store
            .append(g.id, s.id, 7, events(&[1, 2, 3], "x"))
            .await
            .unwrap();
        store.flush().await.unwrap();
        let r = store
            .append(g.id, s.id, 8, events(&[4, 5], "y"))
            .await
            .unwrap();
        assert_eq!(store.stats().durable_seq, r.first_seq + 1);
        (g.id, s.id, r.first_seq + 1)
        // Dropped without shutdown: the last two events live only in the WAL.
    };
    for round in 0..2 {
        let store = open(dir.path()).await;
        let all = scan_all(&store, g, 100).await;
        assert_eq!(all.len(), 5 + round, "round {round}: {all:?}");
        assert_total_order(&all);
        assert_eq!(all.iter().filter(|e| e.message == "y-4").count(), 1);
        let stream = store.log_stream(g, "s").await.unwrap().unwrap();
        assert_eq!(stream.last_event_timestamp, Some(5 + round as i64));
        assert_eq!(stream.first_event_timestamp, Some(1));
        assert_eq!(
            stream.last_ingestion_time,
            Some(if round == 0 { 8 } else { 9 })
        );
        if round == 0 {
            // seqs continue after the highest one ever handed out.
            let r = store.append(g, s, 9, events(&[6], "z")).await.unwrap();
            assert!(r.first_seq > last_seq, "{} <= {last_seq}", r.first_seq);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_flushes_and_refuses_appends() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let g = group(&store, "g").await;
    let s = store.create_log_stream(g.id, "s", 1).await.unwrap();
    store
        .append(g.id, s.id, 0, events(&[1, 2], "x"))
        .await
        .unwrap();
    store.shutdown().await.unwrap();
    assert!(matches!(
        store.append(g.id, s.id, 0, events(&[3], "x")).await,
        Err(StoreError::Unavailable(_))
    ));
    let stats = store.stats();
    assert_eq!((stats.memtable_events, stats.segments), (0, 1));
    drop(store);
    let store = open(dir.path()).await;
    assert_eq!(
        store.stats().memtable_events,
        0,
        "nothing left to replay after a clean shutdown"
    );
    assert_eq!(scan_all(&store, g.id, 10).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_group_is_not_resurrected_by_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (old_id, new_id) = {
        let store = open(dir.path()).await;
        let g = group(&store, "g").await;
        let s = store.create_log_stream(g.id, "s", 1).await.unwrap();
        store
            .append(g.id, s.id, 0, events(&[1, 2], "flushed"))
            .await
            .unwrap();
        store.flush().await.unwrap();
        store
            .append(g.id, s.id, 0, events(&[3], "wal-only"))
            .await
            .unwrap();
        store.delete_log_group(&scope(), "g").await.unwrap();
        assert!(store.log_group(&scope(), "g").await.unwrap().is_none());
        assert_eq!(
            store.stats().memtable_events,
            0,
            "memtable events removed at once"
        );
        let g2 = group(&store, "g").await;
        assert_ne!(g2.id, g.id);
        let s2 = store.create_log_stream(g2.id, "s", 1).await.unwrap();
        store
            .append(g2.id, s2.id, 0, events(&[10], "new"))
            .await
            .unwrap();
        (g.id, g2.id)
    };
    let store = open(dir.path()).await;
    assert!(scan_all(&store, old_id, 10).await.is_empty());
    let msgs: Vec<String> = scan_all(&store, new_id, 10)
        .await
        .into_iter()
        .map(|e| e.message)
        .collect();
    assert_eq!(msgs, vec!["new-10"]);
    // The old group's segment is swept in the background (here: on demand).
    store.sweep().await.unwrap();
    assert_eq!(store.stats().segments, 0);
    assert_eq!(
        std::fs::read_dir(dir.path().join("segments").join(old_id.to_string()))
            .map(|d| d.count())
            .unwrap_or(0),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_deletes_old_segments_and_updates_stored_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let g = group(&store, "g").await;
    let s = store.create_log_stream(g.id, "s", 1).await.unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let day = 86_400_000;
    let old = vec![InputEvent {
        timestamp: now - 3 * day,
        message: "old".into(),
    }];
    let recent = vec![InputEvent {
        timestamp: now - 1000,
        message: "recent!".into(),
    }];
    store.append(g.id, s.id, now, old).await.unwrap();
    store.flush().await.unwrap();
    store.append(g.id, s.id, now, recent).await.unwrap();
    store.flush().await.unwrap();
    assert_eq!(
        store
            .log_group(&scope(), "g")
            .await
            .unwrap()
            .unwrap()
            .stored_bytes,
        3 + 26 + 7 + 26
    );
    assert_eq!(
        store
            .log_stream(g.id, "s")
            .await
            .unwrap()
            .unwrap()
            .stored_bytes,
        3 + 26 + 7 + 26
    );
    assert_eq!(store.stats().segments, 2);

    store.sweep().await.unwrap();
    assert_eq!(
        store.stats().segments,
        2,
        "no retention set: nothing expires"
    );

    store
        .update_log_group(&scope(), "g", LogGroupChange::SetRetention(Some(1)))
        .await
        .unwrap();
    store.sweep().await.unwrap();
    assert_eq!(store.stats().segments, 1);
    assert_eq!(
        store
            .log_group(&scope(), "g")
            .await
            .unwrap()
            .unwrap()
            .stored_bytes,
        7 + 26
    );
    assert_eq!(
        store
            .log_stream(g.id, "s")
            .await
            .unwrap()
            .unwrap()
            .stored_bytes,
        7 + 26
    );
    let msgs: Vec<String> = scan_all(&store, g.id, 10)
        .await
        .into_iter()
        .map(|e| e.message)
        .collect();
    assert_eq!(msgs, vec!["recent!"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_runs_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.retention_interval = Duration::from_millis(50);
    let store = Store::open(cfg).await.unwrap();
    let g = group(&store, "g").await;
    let s = store.create_log_stream(g.id, "s", 1).await.unwrap();
    store
        .append(g.id, s.id, 0, events(&[1000], "ancient"))
        .await
        .unwrap();
    store.flush().await.unwrap();
    store
        .update_log_group(&scope(), "g", LogGroupChange::SetRetention(Some(1)))
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while store.stats().segments > 0 {
        assert!(std::time::Instant::now() < deadline, "retention never ran");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(scan_all(&store, g.id, 10).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_flush_by_size_and_interval() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.memtable_flush_bytes = 10_000;
    let store = Store::open(cfg).await.unwrap();
    let g = group(&store, "g").await;
    let s = store.create_log_stream(g.id, "s", 1).await.unwrap();
    let big: Vec<InputEvent> = (0..200)
        .map(|i| InputEvent {
            timestamp: i,
            message: "x".repeat(100),
        })
        .collect();
    store.append(g.id, s.id, 0, big).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while store.stats().segments == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "size-triggered flush never ran"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(store);

    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.flush_interval = Duration::from_millis(100);
    let store = Store::open(cfg).await.unwrap();
    let g = group(&store, "g").await;
    let s = store.create_log_stream(g.id, "s", 1).await.unwrap();
    store
        .append(g.id, s.id, 0, events(&[1], "x"))
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while store.stats().segments == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "interval flush never ran"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(store.stats().memtable_events, 0);
    assert_eq!(scan_all(&store, g.id, 10).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backpressure_throttles_and_low_disk_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.memtable_limit_bytes = 1000;
    let store = Store::open(cfg).await.unwrap();
    let g = group(&store, "g").await;
    let s = store.create_log_stream(g.id, "s", 1).await.unwrap();
    let big: Vec<InputEvent> = (0..20)
        .map(|i| InputEvent {
            timestamp: i,
            message: "y".repeat(100),
        })
        .collect();
    store.append(g.id, s.id, 0, big).await.unwrap();
    assert!(matches!(
        store.append(g.id, s.id, 0, events(&[1], "z")).await,
        Err(StoreError::Throttled(_))
    ));
    store.flush().await.unwrap();
    store
        .append(g.id, s.id, 0, events(&[1], "z"))
        .await
        .unwrap();
    drop(store);

    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.min_free_disk_bytes = u64::MAX;
    let store = Store::open(cfg).await.unwrap();
    let g = group(&store, "g").await;
    let s = store.create_log_stream(g.id, "s", 1).await.unwrap();
    assert!(matches!(
        store.append(g.id, s.id, 0, events(&[1], "z")).await,
        Err(StoreError::Unavailable(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_listing_and_imports() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    for n in ["b", "a", "ab", "c"] {
        group(&store, n).await;
    }
    assert!(matches!(
        store
            .create_log_group(
                &scope(),
                NewLogGroup {
                    name: "a".into(),
                    ..Default::default()
                }
            )
            .await,
        Err(StoreError::LogGroupAlreadyExists)
    ));
    let names = |gs: Vec<LogGroup>| gs.into_iter().map(|g| g.name).collect::<Vec<_>>();
    assert_eq!(
        names(
            store
                .list_log_groups(&scope(), None, None, 10)
                .await
                .unwrap()
        ),
        vec!["a", "ab", "b", "c"]
    );
    assert_eq!(
        names(
            store
                .list_log_groups(&scope(), Some("a"), None, 10)
                .await
                .unwrap()
        ),
        vec!["a", "ab"]
    );
    assert_eq!(
        names(
            store
                .list_log_groups(&scope(), None, Some("ab"), 2)
                .await
                .unwrap()
        ),
        vec!["b", "c"]
    );
    assert!(matches!(
        store.delete_log_group(&scope(), "zz").await,
        Err(StoreError::LogGroupNotFound)
    ));

    assert!(!store.is_imported(&scope(), "k").await.unwrap());
    assert!(store.record_import(&scope(), "k").await.unwrap());
    assert!(!store.record_import(&scope(), "k").await.unwrap());
    drop(store);
    let store = open(dir.path()).await;
    assert!(store.is_imported(&scope(), "k").await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_listing_orders_and_cursors() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let g = group(&store, "g").await;
    let mut ids = std::collections::HashMap::new();
    for n in ["s1", "s2", "s3", "t1"] {
        ids.insert(n, store.create_log_stream(g.id, n, 1).await.unwrap().id);
    }
    // Last event times: s2=100 (flushed), s1=300 (memtable), t1=200, s3 none.
    store
        .append(g.id, ids["s2"], 0, events(&[100], "x"))
        .await
        .unwrap();
    store.flush().await.unwrap();
    store
        .append(g.id, ids["s1"], 0, events(&[300], "x"))
        .await
        .unwrap();
    store
        .append(g.id, ids["t1"], 0, events(&[50, 200], "x"))
        .await
        .unwrap();

    let names = |ss: Vec<LogStream>| ss.into_iter().map(|s| s.name).collect::<Vec<_>>();
    let list = |order, prefix, desc, after, limit| {
        store.list_log_streams(g.id, order, prefix, desc, after, limit)
    };
    use StreamOrder::*;
    assert_eq!(
        names(list(LogStreamName, None, false, None, 10).await.unwrap()),
        vec!["s1", "s2", "s3", "t1"]
    );
    assert_eq!(
        names(list(LogStreamName, None, true, None, 10).await.unwrap()),
        vec!["t1", "s3", "s2", "s1"]
    );
    assert_eq!(
        names(
            list(
                LogStreamName,
                Some("s"),
                false,
                Some(StreamCursor::Name("s1".into())),
                1
            )
            .await
            .unwrap()
        ),
        vec!["s2"]
    );
    assert_eq!(
        names(
            list(
                LogStreamName,
                None,
                true,
                Some(StreamCursor::Name("s3".into())),
                10
            )
            .await
            .unwrap()
        ),
        vec!["s2", "s1"]
    );

    assert_eq!(
        names(list(LastEventTime, None, false, None, 10).await.unwrap()),
        vec!["s3", "s2", "t1", "s1"]
    );
    assert_eq!(
        names(list(LastEventTime, None, true, None, 10).await.unwrap()),
        vec!["s1", "t1", "s2", "s3"]
    );
    let page1 = list(LastEventTime, None, true, None, 2).await.unwrap();
    let last = page1.last().unwrap();
    let cursor = StreamCursor::LastEventTime(last.last_event_timestamp, last.name.clone());
    assert_eq!(
        names(
            list(LastEventTime, None, true, Some(cursor), 10)
                .await
                .unwrap()
        ),
        vec!["s2", "s3"]
    );
    let cursor = StreamCursor::LastEventTime(None, "s3".into());
    assert_eq!(
        names(
            list(LastEventTime, None, false, Some(cursor), 10)
                .await
                .unwrap()
        ),
        vec!["s2", "t1", "s1"]
    );

    let t1 = list(LogStreamName, Some("t"), false, None, 10)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(
        (t1.first_event_timestamp, t1.last_event_timestamp),
        (Some(50), Some(200))
    );
    assert_eq!(t1.stored_bytes, (4 + 26) + (5 + 26)); // "x-50", "x-200"
    let s2 = store.log_stream(g.id, "s2").await.unwrap().unwrap();
    assert_eq!(
        (s2.last_event_timestamp, s2.stored_bytes),
        (Some(100), 5 + 26)
    );
    let grp = store.log_group(&scope(), "g").await.unwrap().unwrap();
    assert_eq!(
        grp.stored_bytes,
        31 + 31 + 61,
        "flushed and unflushed events both count"
    );
}
