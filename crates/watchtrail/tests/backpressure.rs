//! When memory or disk limits are reached the server refuses writes with AWS's errors instead of
//! growing without bound, and keeps serving reads.

mod common;

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use common::{error_code, logs_client_without_retries, now_ms, TestServer};

fn start_with_config(toml: &str) -> (TestServer, tempfile::TempDir) {
    let temp = tempfile::tempdir().unwrap();
    let config = temp.path().join("watchtrail.toml");
    std::fs::write(&config, toml).unwrap();
    let server = TestServer::start_with(
        &temp.path().join("data"),
        &[("WATCHTRAIL_CONFIG", config.to_str().unwrap())],
    );
    (server, temp)
}

fn batch(n: usize, size: usize) -> Vec<InputLogEvent> {
    let now = now_ms();
    (0..n)
        .map(|i| {
            InputLogEvent::builder()
                .timestamp(now)
                .message(format!("{i:08}{}", "x".repeat(size)))
                .build()
                .unwrap()
        })
        .collect()
}

#[tokio::test]
async fn memtable_limit_throttles_writes() {
    // Only a throttled append wakes the flusher here, so the second batch finds the memtable over
    // its 1 MiB limit. Retries are off: the SDK would otherwise retry until the flush caught up.
    let (server, _temp) = start_with_config(
        "[storage]\nmemtable_limit_mib = 1\nmemtable_flush_mib = 4096\nflush_interval_seconds = 3600\n",
    );
    let logs = logs_client_without_retries(&server.endpoint);
    common::create_group_and_stream(&logs, "g", "s").await;
    let mut throttled = None;
    for _ in 0..20 {
        match logs
            .put_log_events()
            .log_group_name("g")
            .log_stream_name("s")
            .set_log_events(Some(batch(1000, 500)))
            .send()
            .await
        {
            Ok(_) => continue,
            Err(err) => {
                throttled = Some(error_code(&err));
                break;
            }
        }
    }
    assert_eq!(throttled.as_deref(), Some("ThrottlingException"));
    // The throttled append started a flush; once it lands, writes are accepted again.
    let mut accepted = false;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if logs
            .put_log_events()
            .log_group_name("g")
            .log_stream_name("s")
            .set_log_events(Some(batch(10, 10)))
            .send()
            .await
            .is_ok()
        {
            accepted = true;
            break;
        }
    }
    assert!(accepted, "writes resume after the flush");
    // Reads still work while writes are refused.
    let out = logs
        .get_log_events()
        .log_group_name("g")
        .log_stream_name("s")
        .limit(5)
        .send()
        .await
        .unwrap();
    assert_eq!(out.events().len(), 5);
}

#[tokio::test]
async fn low_disk_space_makes_writes_unavailable() {
    let (server, _temp) = start_with_config("[storage]\nmin_free_disk_mib = 1000000000\n");
    let logs = logs_client_without_retries(&server.endpoint);
    common::create_group_and_stream(&logs, "g", "s").await;
    let err = logs
        .put_log_events()
        .log_group_name("g")
        .log_stream_name("s")
        .set_log_events(Some(batch(1, 10)))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "ServiceUnavailableException");
}
