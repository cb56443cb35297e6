//! `watchtrail import` loads AWS log files through the durable write path; the server then serves
//! them through the CloudWatch Logs API with their original timestamps.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::Command;

use common::TestServer;

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../formats/tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn import(data: &Path, args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_watchtrail"))
        .arg("import")
        .arg("--data")
        .arg(data)
        .arg("--no-progress")
        .args(args)
        .env("WATCHTRAIL_ROOT_ACCESS_KEY_ID", common::ACCESS_KEY_ID)
        .env(
            "WATCHTRAIL_ROOT_SECRET_ACCESS_KEY",
            common::SECRET_ACCESS_KEY,
        )
        .env("WATCHTRAIL_ACCOUNT_ID", common::ACCOUNT_ID)
        .env("WATCHTRAIL_LOG", "warn")
        .output()
        .expect("run import");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[tokio::test]
async fn import_detects_formats_keeps_timestamps_and_is_idempotent() {
    let temp = tempfile::tempdir().unwrap();
    let input = temp.path().join("input");
    let data = temp.path().join("data");
    // AWS's S3 delivery layout names the format for flow logs; the ALB file is detected from its lines.
    let flow_dir = input.join("AWSLogs/123456789010/vpcflowlogs/us-east-1/2014/12/14");
    std::fs::create_dir_all(&flow_dir).unwrap();
    let mut flow = fixture("vpc_flow_s3_default.log");
    flow.push_str("this line is not a flow log record\n");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(
            flow_dir.join("123456789010_vpcflowlogs_us-east-1_fl-1_20141214T0000Z_abcd.log.gz"),
        )
        .unwrap(),
        flate2::Compression::default(),
    );
    gz.write_all(flow.as_bytes()).unwrap();
    gz.finish().unwrap();
    std::fs::write(input.join("alb.log"), fixture("alb.log")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(input.join("trail.json.gz")).unwrap(),
        flate2::Compression::default(),
    );
    gz.write_all(fixture("cloudtrail_file.json").as_bytes())
        .unwrap();
    gz.finish().unwrap();

    let (ok, output) = import(&data, &[input.to_str().unwrap()]);
    assert!(ok, "{output}");
    assert!(
        output.contains("imported 3 file(s), skipped 0 already imported, 0 failed"),
        "{output}"
    );
    assert!(
        output.contains("kept 1 malformed line(s) as raw messages"),
        "{output}"
    );

    let (ok, again) = import(&data, &[input.to_str().unwrap()]);
    assert!(ok, "{again}");
    assert!(
        again.contains("imported 0 file(s), skipped 3 already imported, 0 failed; 0 events"),
        "{again}"
    );

    let (ok, refused) = import(
        &data,
        &["--format", "no-such-format", input.to_str().unwrap()],
    );
    assert!(!ok && refused.contains("unknown format"), "{refused}");

    let server = TestServer::start_in(&data);
    let logs = server.logs_client();
    let groups = logs.describe_log_groups().send().await.unwrap();
    let names: Vec<_> = groups
        .log_groups()
        .iter()
        .map(|g| g.log_group_name().unwrap().to_string())
        .collect();
    assert!(
        names.contains(&"/aws/vpc/flowlogs".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"/aws/alb/access-logs".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"aws-cloudtrail-logs".to_string()),
        "{names:?}"
    );

    let rejected = logs
        .filter_log_events()
        .log_group_name("/aws/vpc/flowlogs")
        .filter_pattern("REJECT")
        .send()
        .await
        .unwrap();
    assert_eq!(rejected.events().len(), 1);
    let event = &rejected.events()[0];
    assert_eq!(
        event.log_stream_name(),
        Some("eni-1235b8ca123456789-all"),
        "one stream per ENI, as AWS names them"
    );
    assert_eq!(
        event.timestamp(),
        Some(1_418_530_010_000),
        "the record's start time is kept"
    );

    let all_flow = logs
        .filter_log_events()
        .log_group_name("/aws/vpc/flowlogs")
        .send()
        .await
        .unwrap();
    let expected_lines = flow.lines().filter(|l| !l.starts_with("version ")).count();
    assert_eq!(
        all_flow.events().len(),
        expected_lines,
        "every record and the malformed line, nothing twice"
    );

    let trail = logs
        .filter_log_events()
        .log_group_name("aws-cloudtrail-logs")
        .send()
        .await
        .unwrap();
    assert!(!trail.events().is_empty());
    for e in trail.events() {
        let record: serde_json::Value = serde_json::from_str(e.message().unwrap())
            .expect("each event is one CloudTrail record");
        assert!(record["eventName"].is_string());
        assert!(e.log_stream_name().unwrap().contains("_CloudTrail_"));
    }
}

#[test]
fn import_refuses_a_data_dir_in_use() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    let _server = TestServer::start_in(&data);
    let file = temp.path().join("x.log");
    std::fs::write(&file, "a=1 b=2\n").unwrap();
    let (ok, output) = import(&data, &[file.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        output.contains("in use by another watchtrail process"),
        "{output}"
    );
}
