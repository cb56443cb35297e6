//! A WAL write that fails part-way (here: the file size limit, as a full disk would) must fail the
//! whole group-commit batch, acknowledge nothing of it, and leave a log that later appends and
//! recovery handle as if the batch had never been attempted. Alone in its test binary because the
//! file size limit applies to the whole process.

mod common;

use common::*;
use watchtrail_store::*;

fn set_file_size_limit(bytes: u64) {
    let lim = libc::rlimit {
        rlim_cur: bytes as libc::rlim_t,
        rlim_max: libc::RLIM_INFINITY,
    };
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_FSIZE, &lim) }, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_wal_write_fails_the_batch_and_leaves_the_log_clean() {
    // Exceeding RLIMIT_FSIZE raises SIGXFSZ, which kills the process unless ignored; ignored, the
    // write returns EFBIG like a full disk returns ENOSPC.
    unsafe { libc::signal(libc::SIGXFSZ, libc::SIG_IGN) };
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let g = group(&store, "g").await.id;
    let s = store.create_log_stream(g, "s", 1).await.unwrap().id;
    store.append(g, s, 0, events(&[1], "before")).await.unwrap();
    let wal = std::fs::read_dir(dir.path().join("wal"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let size = std::fs::metadata(&wal).unwrap().len();

    set_file_size_limit(size + 200);
    let big: Vec<InputEvent> = (0..100)
        .map(|i| InputEvent {
            timestamp: 2,
            message: format!("{i:0>100}"),
        })
        .collect();
    let failed = store.append(g, s, 0, big).await;
    let after_failure = std::fs::metadata(&wal).unwrap().len();
    // A record that fits still goes in after the failed one: the file was cut back, not poisoned.
    let small = store.append(g, s, 0, events(&[3], "after")).await;
    set_file_size_limit(libc::RLIM_INFINITY);

    assert!(
        matches!(failed, Err(StoreError::Unavailable(_))),
        "{failed:?}"
    );
    assert_eq!(after_failure, size, "partial batch left in the WAL");
    small.unwrap();
    let msgs = |evs: Vec<StoredEvent>| evs.into_iter().map(|e| e.message).collect::<Vec<_>>();
    assert_eq!(
        msgs(scan_all(&store, g, 10).await),
        vec!["before-1", "after-3"]
    );
    drop(store);
    let store = open(dir.path()).await;
    assert_eq!(
        msgs(scan_all(&store, g, 10).await),
        vec!["before-1", "after-3"]
    );
}
