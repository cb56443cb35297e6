//! Segments in an S3-compatible bucket (`--segment-url s3://bucket/prefix`), with moto's S3 server
//! standing in for the bucket. `scripts/test.sh` installs moto and sets WATCHTRAIL_REQUIRE_S3=1,
//! so in CI this test cannot silently skip.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use common::{now_ms, start_moto, TestServer};

/// moto accepts unsigned S3 calls; enough to create the bucket and list what watchtrail wrote.
fn s3_call(port: u16, method: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(stream, "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[tokio::test]
async fn segments_live_in_an_s3_compatible_bucket() {
    let Some(moto) = start_moto() else {
        assert!(
            std::env::var("WATCHTRAIL_REQUIRE_S3").is_err(),
            "moto's S3 server is required (pip install 'moto[server]')"
        );
        eprintln!("SKIPPED: moto is not installed; scripts/test.sh installs it");
        return;
    };
    let created = s3_call(moto.port, "PUT", "/wt-segments");
    assert!(created.starts_with("HTTP/1.1 200"), "{created}");

    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    let endpoint = format!("http://127.0.0.1:{}", moto.port);
    let env = [
        ("WATCHTRAIL_SEGMENT_URL", "s3://wt-segments/prod"),
        ("AWS_ENDPOINT", endpoint.as_str()),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
    ];
    let mut server = TestServer::start_with(&data, &env);
    let logs = server.logs_client();
    common::create_group_and_stream(&logs, "g", "s").await;
    let now = now_ms();
    let events: Vec<InputLogEvent> = (0..500)
        .map(|i| {
            InputLogEvent::builder()
                .timestamp(now + i)
                .message(format!("event {i}"))
                .build()
                .unwrap()
        })
        .collect();
    logs.put_log_events()
        .log_group_name("g")
        .log_stream_name("s")
        .set_log_events(Some(events))
        .send()
        .await
        .unwrap();
    // Graceful shutdown flushes the memtable into a segment, which must land in the bucket.
    assert!(server.terminate().success());

    let listing = s3_call(moto.port, "GET", "/wt-segments?list-type=2&prefix=prod/");
    assert!(
        listing.contains(".parquet"),
        "no segment in the bucket: {listing}"
    );
    let local_parquet = walk(&data)
        .into_iter()
        .filter(|p| p.ends_with(".parquet"))
        .count();
    assert_eq!(
        local_parquet, 0,
        "segments must not be written to the data dir when a bucket is configured"
    );

    let server = TestServer::start_with(&data, &env);
    let logs = server.logs_client();
    let out = logs
        .get_log_events()
        .log_group_name("g")
        .log_stream_name("s")
        .start_from_head(true)
        .send()
        .await
        .unwrap();
    assert_eq!(out.events().len(), 500);
    assert_eq!(out.events()[499].message(), Some("event 499"));
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path.to_string_lossy().into_owned());
            }
        }
    }
    out
}
