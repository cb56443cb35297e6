#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use watchtrail_store::*;

pub fn scope() -> Scope {
    Scope {
        account_id: "123456789012".into(),
        region: "us-east-1".into(),
    }
}

/// A config whose background flush and retention never fire during a test, so the test decides.
pub fn config(dir: &Path) -> StoreConfig {
    let mut c = StoreConfig::new(dir);
    c.flush_interval = Duration::from_secs(3600);
    c.retention_interval = Duration::from_secs(3600);
    c.min_free_disk_bytes = 0;
    c
}

pub async fn open(dir: &Path) -> Arc<Store> {
    Store::open(config(dir)).await.unwrap()
}

pub async fn group(store: &Store, name: &str) -> LogGroup {
    store
        .create_log_group(
            &scope(),
            NewLogGroup {
                name: name.into(),
                creation_time: 1,
                log_group_class: "STANDARD".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
}

pub fn events(ts: &[i64], tag: &str) -> Vec<InputEvent> {
    ts.iter()
        .map(|&t| InputEvent {
            timestamp: t,
            message: format!("{tag}-{t}"),
        })
        .collect()
}

pub fn request(group: GroupId, direction: Direction, limit: usize) -> ScanRequest {
    ScanRequest {
        group_id: group,
        streams: None,
        start_time: None,
        end_time: None,
        after: None,
        direction,
        limit,
        max_scanned: None,
    }
}

/// Every event of the group, forward, paging with `page` events per call.
pub async fn scan_all(store: &Store, group: GroupId, page: usize) -> Vec<StoredEvent> {
    let mut out = Vec::new();
    let mut req = request(group, Direction::Forward, page);
    loop {
        let p = store.scan(req.clone(), None).await.unwrap();
        out.extend(p.events);
        if p.exhausted {
            return out;
        }
        req.after = p.resume_after;
    }
}

pub fn assert_total_order(events: &[StoredEvent]) {
    for w in events.windows(2) {
        assert!(
            (w[0].timestamp, w[0].seq) < (w[1].timestamp, w[1].seq),
            "out of order or duplicate: {w:?}"
        );
    }
}
