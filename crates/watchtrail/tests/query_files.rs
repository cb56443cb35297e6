//! `watchtrail query --files` through the real binary: trail files (gzip, AWS's key layout) and
//! NDJSON in a directory, each output format, the time bounds, and the errors a responder sees.

use std::io::Write;
use std::process::{Command, Output};

fn watchtrail(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_watchtrail"))
        .args(args)
        .output()
        .expect("run watchtrail")
}

fn evidence() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let day = dir
        .path()
        .join("AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20");
    std::fs::create_dir_all(&day).unwrap();
    let trail = r#"{"Records":[
      {"eventTime":"2026-11-20T02:00:00Z","eventName":"RunInstances","errorCode":"AccessDenied","userIdentity":{"arn":"arn:aws:iam::111122223333:user/mallory"}},
      {"eventTime":"2026-11-20T02:05:00Z","eventName":"RunInstances","userIdentity":{"arn":"arn:aws:iam::111122223333:user/alice"}},
      {"eventTime":"2026-11-20T03:00:00Z","eventName":"TerminateInstances","errorCode":"AccessDenied","userIdentity":{"arn":"arn:aws:iam::111122223333:user/mallory"}}
    ]}"#;
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(
            day.join("111122223333_CloudTrail_us-east-1_20261120T0200Z_x.json.gz"),
        )
        .unwrap(),
        flate2::Compression::default(),
    );
    gz.write_all(trail.as_bytes()).unwrap();
    gz.finish().unwrap();
    std::fs::write(
        dir.path().join("app.ndjson"),
        "{\"timestamp\":\"2026-11-20T02:10:00Z\",\"level\":\"error\",\"msg\":\"a,b\"}\n",
    )
    .unwrap();
    dir
}

#[test]
fn answers_over_a_directory_in_every_output_format() {
    let dir = evidence();
    let path = dir.path().to_str().unwrap();
    let q = "filter errorCode like /AccessDenied/ | stats count(*) as n by userIdentity.arn";

    let json = watchtrail(&[
        "query",
        q,
        "--files",
        path,
        "--output",
        "json",
        "--no-progress",
    ]);
    assert!(
        json.status.success(),
        "{}",
        String::from_utf8_lossy(&json.stderr)
    );
    assert_eq!(
        String::from_utf8(json.stdout).unwrap(),
        "{\"userIdentity.arn\":\"arn:aws:iam::111122223333:user/mallory\",\"n\":\"2\"}\n"
    );
    assert!(String::from_utf8_lossy(&json.stderr).contains("2 record(s) matched, 4 scanned"));

    let csv = watchtrail(&[
        "query",
        "filter level = \"error\" | fields msg",
        "--files",
        path,
        "--output",
        "csv",
        "--no-progress",
    ]);
    assert!(csv.status.success());
    assert_eq!(String::from_utf8(csv.stdout).unwrap(), "msg\n\"a,b\"\n");

    let table = watchtrail(&[
        "query",
        "stats count(*) as n",
        "--files",
        path,
        "--start",
        "2026-11-20T02:01:00Z",
        "--end",
        "2026-11-20T02:59:59Z",
        "--no-progress",
    ]);
    assert!(table.status.success());
    let table = String::from_utf8(table.stdout).unwrap();
    assert_eq!(
        table.lines().collect::<Vec<_>>(),
        vec!["+---+", "| n |", "+---+", "| 2 |", "+---+"]
    );
}

#[test]
fn errors_are_reported_not_ignored() {
    let dir = evidence();
    let path = dir.path().to_str().unwrap();

    let malformed = watchtrail(&["query", "stats count(* by x", "--files", path]);
    assert!(!malformed.status.success());
    assert!(String::from_utf8_lossy(&malformed.stderr).contains("MalformedQueryException"));

    let unknown_output = watchtrail(&["query", "fields a", "--files", path, "--output", "xml"]);
    assert!(!unknown_output.status.success());
    assert!(String::from_utf8_lossy(&unknown_output.stderr).contains("expected table, json or csv"));

    let missing = watchtrail(&["query", "fields a", "--files", "/nonexistent/evidence"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no such file or directory"));

    std::fs::write(dir.path().join("bad.json"), "{\"Records\": 5}").unwrap();
    let bad_trail = watchtrail(&[
        "query",
        "stats count(*)",
        "--files",
        path,
        "--format",
        "cloudtrail",
        "--no-progress",
    ]);
    assert!(!bad_trail.status.success());
    assert!(String::from_utf8_lossy(&bad_trail.stderr).contains("could not be read"));
}
