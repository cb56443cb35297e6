//! `watchtrail import cloudtrail`: real trail files into event history and the CloudTrail log group.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::Command;

use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use common::{cloudtrail_client, start_moto, ACCESS_KEY_ID, ACCOUNT_ID, REGION, SECRET_ACCESS_KEY};
use serde_json::Value;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../cloudtrail/tests/fixtures");

/// Lays the fixtures out as AWS delivers them: gzip under the AWSLogs key layout, plus one plain
/// `.json` and one malformed file.
fn trail_bucket(root: &Path) {
    let day = root.join(format!(
        "AWSLogs/{ACCOUNT_ID}/CloudTrail/{REGION}/2026/11/20"
    ));
    std::fs::create_dir_all(&day).unwrap();
    let gz = day.join(format!(
        "{ACCOUNT_ID}_CloudTrail_{REGION}_20261120T0215Z_a1B2c3D4e5F6g7H8.json.gz"
    ));
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(gz).unwrap(),
        flate2::Compression::default(),
    );
    encoder
        .write_all(&std::fs::read(format!("{FIXTURES}/p3-nightly-launch.json")).unwrap())
        .unwrap();
    encoder.finish().unwrap();
    let next_day = root.join(format!(
        "AWSLogs/{ACCOUNT_ID}/CloudTrail/{REGION}/2026/11/21"
    ));
    std::fs::create_dir_all(&next_day).unwrap();
    std::fs::copy(
        format!("{FIXTURES}/console-and-roles.json"),
        next_day.join(format!(
            "{ACCOUNT_ID}_CloudTrail_{REGION}_20261121T1105Z_Zz9Yy8Xx7Ww6Vv5U.json"
        )),
    )
    .unwrap();
    std::fs::copy(
        format!("{FIXTURES}/malformed.json"),
        next_day.join(format!(
            "{ACCOUNT_ID}_CloudTrail_{REGION}_20261121T1110Z_Malformed0000000.json"
        )),
    )
    .unwrap();
}

fn import(data: &Path, input: &Path) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_watchtrail"))
        .args(["import", "cloudtrail"])
        .arg(input)
        .arg("--data")
        .arg(data)
        .arg("--no-progress")
        .env("WATCHTRAIL_ROOT_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("WATCHTRAIL_ROOT_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
        .env("WATCHTRAIL_ACCOUNT_ID", ACCOUNT_ID)
        .env("WATCHTRAIL_LOG", "warn")
        .output()
        .expect("run watchtrail import cloudtrail");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[tokio::test]
async fn imported_trail_files_answer_the_p3_investigation_and_reimport_adds_nothing() {
    let temp = tempfile::tempdir().unwrap();
    let bucket = temp.path().join("bucket");
    let data = temp.path().join("data");
    trail_bucket(&bucket);

    let (ok, output) = import(&data, &bucket);
    assert!(
        !ok,
        "a malformed file makes the run fail after importing the rest: {output}"
    );
    assert!(output.contains("imported 2 trail file(s)"), "{output}");
    assert!(output.contains("1 failed"), "{output}");
    assert!(output.contains("Malformed0000000"), "{output}");
    // 3 + 4 records; the S3 GetObject data event stays out of event history.
    assert!(
        output.contains("7 records (6 new in event history"),
        "{output}"
    );

    let (_, again) = import(&data, &bucket);
    assert!(
        again.contains("imported 0 trail file(s), skipped 2"),
        "{again}"
    );

    let server = common::TestServer::start_in(&data);
    let trail = cloudtrail_client(&server.endpoint);
    let found = trail
        .lookup_events()
        .lookup_attributes(
            LookupAttribute::builder()
                .attribute_key(LookupAttributeKey::Username)
                .attribute_value("nightly-launcher")
                .build()
                .unwrap(),
        )
        .start_time(aws_sdk_cloudtrail::primitives::DateTime::from_secs(
            1_700_000_000,
        ))
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = found
        .events()
        .iter()
        .filter_map(|e| e.event_name())
        .collect();
    assert_eq!(
        names,
        ["TerminateInstances", "RunInstances"],
        "newest first"
    );
    let run: Value = serde_json::from_str(found.events()[1].cloud_trail_event().unwrap()).unwrap();
    assert_eq!(run["requestParameters"]["instanceType"], "p3.16xlarge");
    assert_eq!(
        run["requestParameters"]["instancesSet"]["items"][0]["minCount"],
        4
    );
    assert_eq!(
        run["userIdentity"]["arn"],
        format!("arn:aws:iam::{ACCOUNT_ID}:user/nightly-launcher")
    );
    assert_eq!(run["sourceIPAddress"], "198.51.100.23");
    let instances: Vec<&str> = found.events()[1]
        .resources()
        .iter()
        .filter(|r| r.resource_type() == Some("AWS::EC2::Instance"))
        .filter_map(|r| r.resource_name())
        .collect();
    assert_eq!(instances, ["i-0a1b2c3d4e5f60001", "i-0a1b2c3d4e5f60002"]);
    assert_eq!(
        found.events()[0].access_key_id(),
        Some("AKIAIOSFODNN7EXAMPLE")
    );

    // The other documented record shapes are searchable too.
    let by_name = |name: &'static str| {
        let trail = trail.clone();
        async move {
            trail
                .lookup_events()
                .lookup_attributes(
                    LookupAttribute::builder()
                        .attribute_key(LookupAttributeKey::EventName)
                        .attribute_value(name)
                        .build()
                        .unwrap(),
                )
                .send()
                .await
                .unwrap()
                .events
                .unwrap_or_default()
        }
    };
    let logins = by_name("ConsoleLogin").await;
    assert_eq!(logins.len(), 2);
    assert_eq!(logins[0].username(), Some("Mary_Major"));
    let stop = by_name("StopLogging").await;
    assert_eq!(stop.len(), 1);
    assert_eq!(
        stop[0].username(),
        Some("ops-session"),
        "assumed-role session name"
    );
    assert_eq!(
        stop[0].resources()[0].resource_type(),
        Some("AWS::CloudTrail::Trail")
    );
    assert_eq!(by_name("CloudTrailInsightsEnabled").await.len(), 1);
    assert!(
        by_name("GetObject").await.is_empty(),
        "data events are not in event history"
    );

    // Also in the log group, like the CloudTrail → CloudWatch Logs integration.
    let logs = server.logs_client();
    let filtered = logs
        .filter_log_events()
        .log_group_name("aws-cloudtrail-logs")
        .filter_pattern("{ $.requestParameters.instanceType = \"p3.16xlarge\" }")
        .start_time(0)
        .send()
        .await
        .unwrap();
    assert_eq!(filtered.events().len(), 1, "{filtered:?}");
    assert_eq!(
        filtered.events()[0].log_stream_name(),
        Some(format!("{ACCOUNT_ID}_CloudTrail_{REGION}").as_str())
    );
    let everything = logs
        .filter_log_events()
        .log_group_name("aws-cloudtrail-logs")
        .start_time(0)
        .send()
        .await
        .unwrap();
    assert_eq!(everything.events().len(), 7, "re-import added nothing");
}

/// moto accepts unsigned S3 calls: enough to create the bucket and upload trail files.
fn s3_put(port: u16, path: &str, body: &[u8]) -> String {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "PUT {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(body).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[tokio::test]
async fn imports_trail_files_from_an_s3_prefix() {
    let Some(moto) = start_moto() else {
        assert!(
            std::env::var("WATCHTRAIL_REQUIRE_S3").is_err(),
            "moto's S3 server is required (pip install 'moto[server]')"
        );
        eprintln!("SKIPPED: moto is not installed; scripts/test.sh installs it");
        return;
    };
    assert!(s3_put(moto.port, "/trail-bucket", b"").starts_with("HTTP/1.1 200"));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&std::fs::read(format!("{FIXTURES}/p3-nightly-launch.json")).unwrap())
        .unwrap();
    let key = format!(
        "/trail-bucket/AWSLogs/{ACCOUNT_ID}/CloudTrail/{REGION}/2026/11/20/{ACCOUNT_ID}_CloudTrail_{REGION}_20261120T0215Z_a1B2c3D4e5F6g7H8.json.gz"
    );
    assert!(s3_put(moto.port, &key, &gz.finish().unwrap()).starts_with("HTTP/1.1 200"));

    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    let endpoint = format!("http://127.0.0.1:{}", moto.port);
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_watchtrail"))
            .args([
                "import",
                "cloudtrail",
                "s3://trail-bucket/AWSLogs/",
                "--no-progress",
                "--data",
            ])
            .arg(&data)
            .env("WATCHTRAIL_ROOT_ACCESS_KEY_ID", ACCESS_KEY_ID)
            .env("WATCHTRAIL_ROOT_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
            .env("WATCHTRAIL_ACCOUNT_ID", ACCOUNT_ID)
            .env("WATCHTRAIL_LOG", "warn")
            .env("AWS_ENDPOINT", &endpoint)
            .env("AWS_ALLOW_HTTP", "true")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", REGION)
            .output()
            .unwrap()
    };
    let output = run();
    let text = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("imported 1 trail file(s)"), "{text}");
    assert!(text.contains("2 new in event history"), "{text}");
    let again = run();
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("skipped 1"),
        "{again:?}"
    );

    let server = common::TestServer::start_in(&data);
    let found = cloudtrail_client(&server.endpoint)
        .lookup_events()
        .lookup_attributes(
            LookupAttribute::builder()
                .attribute_key(LookupAttributeKey::Username)
                .attribute_value("nightly-launcher")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = found
        .events()
        .iter()
        .filter_map(|e| e.event_name())
        .collect();
    assert_eq!(names, ["TerminateInstances", "RunInstances"]);
}
