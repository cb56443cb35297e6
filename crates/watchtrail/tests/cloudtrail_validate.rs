//! Log-file integrity end to end: a logging trail with validation delivers log files and signed
//! digests to an S3-compatible bucket (the embedded S3 endpoint, and moto's S3 server as an
//! external bucket), and the REAL
//! AWS CLI's `cloudtrail validate-logs` — plus `watchtrail validate-logs`, from S3 and from a
//! local copy — reports everything valid; after a log file is modified, another deleted and a
//! digest modified, both report each of them.
//!
//! Needs `aws` (AWS CLI v1) and moto; `scripts/test.sh` installs both and sets
//! WATCHTRAIL_REQUIRE_S3=1, so in CI this test cannot silently skip.

mod common;

use std::collections::BTreeMap;
use std::io::Read;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::{MotoServer, TestServer, ACCESS_KEY_ID, ACCOUNT_ID, REGION, SECRET_ACCESS_KEY};

const BUCKET: &str = "wt-trail-bucket";
const TRAIL: &str = "audit-trail";

fn tools_installed() -> bool {
    let moto = Command::new("python3")
        .args(["-c", "import moto.server"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let aws = Command::new("aws")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    moto && aws
}

fn start_moto() -> MotoServer {
    common::start_moto().expect("start moto")
}

struct Cli<'a> {
    server: &'a str,
    s3: String,
}

impl Cli<'_> {
    fn command(&self) -> Command {
        let mut c = Command::new("aws");
        c.env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
            .env("AWS_DEFAULT_REGION", REGION)
            .env("AWS_ENDPOINT_URL_S3", &self.s3)
            .env_remove("AWS_PROFILE")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
        c
    }

    fn cloudtrail(&self, args: &[&str]) -> Output {
        self.command()
            .args(["--endpoint-url", self.server, "cloudtrail"])
            .args(args)
            .output()
            .expect("run aws")
    }

    fn logs(&self, args: &[&str]) -> Output {
        self.command()
            .args(["--endpoint-url", self.server, "logs"])
            .args(args)
            .output()
            .expect("run aws")
    }

    fn s3(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("run aws")
    }
}

fn ok(output: Output, what: &str) -> String {
    assert!(
        output.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Digest key → the log-file keys it lists, from a local copy of the bucket.
fn digests_in(dir: &Path) -> BTreeMap<String, Vec<String>> {
    let mut files = Vec::new();
    walk(dir, &mut files);
    let mut out = BTreeMap::new();
    for f in files {
        let key = f.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
        if key.contains("/CloudTrail-Digest/") && key.ends_with(".json.gz") {
            let doc: serde_json::Value =
                serde_json::from_slice(&gunzip(&std::fs::read(&f).unwrap())).unwrap();
            let logs = doc["logFiles"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["s3Object"].as_str().unwrap().to_string())
                .collect();
            out.insert(key, logs);
        }
    }
    out
}

fn watchtrail_validate(args: &[&str], s3: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_watchtrail"))
        .arg("validate-logs")
        .args(args)
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
        .env("AWS_ENDPOINT_URL_S3", s3)
        .env("AWS_REGION", REGION)
        .output()
        .expect("run watchtrail validate-logs")
}

fn tools_or_skip() -> bool {
    if tools_installed() {
        return true;
    }
    assert!(
        std::env::var("WATCHTRAIL_REQUIRE_S3").is_err(),
        "moto and the AWS CLI are required (scripts/test.sh installs them)"
    );
    eprintln!("SKIPPED: moto or the AWS CLI is not installed; scripts/test.sh installs them");
    false
}

const FAST_CADENCE: [(&str, &str); 2] = [
    ("WATCHTRAIL_CLOUDTRAIL_DELIVERY_SECONDS", "1"),
    ("WATCHTRAIL_CLOUDTRAIL_DIGEST_SECONDS", "2"),
];

/// The trail's bucket on moto's S3 server, an external S3-compatible endpoint.
#[test]
fn validate_logs_with_an_external_s3_bucket() {
    if !tools_or_skip() {
        return;
    }
    let moto = start_moto();
    let s3_endpoint = format!("http://127.0.0.1:{}", moto.port);
    let data = tempfile::tempdir().unwrap();
    let mut env = vec![
        ("WATCHTRAIL_CLOUDTRAIL_S3_ENDPOINT", s3_endpoint.as_str()),
        ("WATCHTRAIL_CLOUDTRAIL_S3_ACCESS_KEY_ID", "moto"),
        ("WATCHTRAIL_CLOUDTRAIL_S3_SECRET_ACCESS_KEY", "moto"),
    ];
    env.extend(FAST_CADENCE);
    let server = TestServer::start_with(&data.path().join("data"), &env);
    deliver_validate_and_tamper(&server, &s3_endpoint);
}

/// The default: the embedded S3 endpoint on watchtrail's own listener.
#[test]
fn validate_logs_with_the_embedded_s3_endpoint() {
    if !tools_or_skip() {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(&data.path().join("data"), &FAST_CADENCE);
    let endpoint = server.endpoint.clone();
    deliver_validate_and_tamper(&server, &endpoint);
}

fn deliver_validate_and_tamper(server: &TestServer, s3_endpoint: &str) {
    let s3_endpoint = s3_endpoint.to_string();
    let start_time = chrono::Utc::now() - chrono::Duration::minutes(2);
    let start_arg = start_time.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let cli = Cli {
        server: &server.endpoint,
        s3: s3_endpoint.clone(),
    };
    ok(
        cli.s3(&["s3api", "create-bucket", "--bucket", BUCKET]),
        "create-bucket",
    );

    let created = ok(
        cli.cloudtrail(&[
            "create-trail",
            "--name",
            TRAIL,
            "--s3-bucket-name",
            BUCKET,
            "--enable-log-file-validation",
        ]),
        "create-trail",
    );
    let created: serde_json::Value = serde_json::from_str(&created).unwrap();
    let trail_arn = created["TrailARN"].as_str().unwrap().to_string();
    assert_eq!(
        trail_arn,
        format!("arn:aws:cloudtrail:{REGION}:{ACCOUNT_ID}:trail/{TRAIL}")
    );
    assert_eq!(created["LogFileValidationEnabled"], true);
    ok(
        cli.cloudtrail(&["start-logging", "--name", TRAIL]),
        "start-logging",
    );

    // Management calls spread over several delivery and digest cycles.
    for i in 0..8 {
        ok(
            cli.logs(&[
                "create-log-group",
                "--log-group-name",
                &format!("/audit/{i}"),
            ]),
            "create-log-group",
        );
        std::thread::sleep(Duration::from_millis(700));
    }
    ok(
        cli.cloudtrail(&["stop-logging", "--name", TRAIL]),
        "stop-logging",
    );
    let status: serde_json::Value = serde_json::from_str(&ok(
        cli.cloudtrail(&["get-trail-status", "--name", TRAIL]),
        "get-trail-status",
    ))
    .unwrap();
    assert_eq!(status["IsLogging"], false);
    assert!(status["LatestDeliveryTime"].is_number(), "{status}");
    assert!(status["LatestDigestDeliveryTime"].is_number(), "{status}");

    // The delivered layout and contents.
    let copy = tempfile::tempdir().unwrap();
    ok(
        cli.s3(&[
            "s3",
            "sync",
            &format!("s3://{BUCKET}"),
            copy.path().to_str().unwrap(),
        ]),
        "s3 sync",
    );
    let digests = digests_in(copy.path());
    assert!(digests.len() >= 3, "expected several digests: {digests:?}");
    let listed: Vec<(String, String)> = digests
        .iter()
        .flat_map(|(d, logs)| logs.iter().map(move |l| (d.clone(), l.clone())))
        .collect();
    assert!(
        listed.len() >= 2,
        "expected several digested log files: {digests:?}"
    );
    let mut seen_create = false;
    for (_, log) in &listed {
        assert!(
            log.starts_with(&format!("AWSLogs/{ACCOUNT_ID}/CloudTrail/{REGION}/")),
            "{log}"
        );
        let body = gunzip(&std::fs::read(copy.path().join(log)).unwrap());
        let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
        for r in doc["Records"].as_array().unwrap() {
            if r["eventName"] == "CreateLogGroup" {
                seen_create = true;
                assert_eq!(r["eventSource"], "logs.amazonaws.com");
            }
        }
    }
    assert!(seen_create, "the CreateLogGroup calls were delivered");

    // 1. Everything valid: the AWS CLI.
    let valid = cli.cloudtrail(&[
        "validate-logs",
        "--trail-arn",
        &trail_arn,
        "--start-time",
        &start_arg,
        "--verbose",
    ]);
    let stdout = String::from_utf8_lossy(&valid.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&valid.stderr).into_owned();
    assert!(
        valid.status.success(),
        "aws validate-logs: {stdout}\n{stderr}"
    );
    assert!(
        !stdout.contains("INVALID") && !stderr.contains("INVALID"),
        "{stdout}\n{stderr}"
    );
    let digest_total = digests.len();
    assert!(
        stdout.contains(&format!("{digest_total}/{digest_total} digest files valid")),
        "{stdout}"
    );
    let log_total = listed.len();
    assert!(
        stdout.contains(&format!("{log_total}/{log_total} log files valid")),
        "{stdout}"
    );

    // 2. Everything valid: watchtrail's validator, from S3 and from the local copy.
    let native = watchtrail_validate(
        &[
            "--trail-arn",
            &trail_arn,
            "--start-time",
            &start_arg,
            "--endpoint-url",
            &server.endpoint,
        ],
        &s3_endpoint,
    );
    let native_out = String::from_utf8_lossy(&native.stdout).into_owned();
    assert!(
        native.status.success(),
        "{native_out}\n{}",
        String::from_utf8_lossy(&native.stderr)
    );
    assert!(
        native_out.contains(&format!("{digest_total}/{digest_total} digest files valid")),
        "{native_out}"
    );
    for digest in digests.keys() {
        let head: serde_json::Value = serde_json::from_str(&ok(
            cli.s3(&["s3api", "head-object", "--bucket", BUCKET, "--key", digest]),
            "head-object",
        ))
        .unwrap();
        let signature = head["Metadata"]["signature"]
            .as_str()
            .expect("signature metadata");
        assert_eq!(head["Metadata"]["signature-algorithm"], "SHA256withRSA");
        std::fs::write(copy.path().join(format!("{digest}.signature")), signature).unwrap();
    }
    let local = watchtrail_validate(
        &[
            "--trail-arn",
            &trail_arn,
            "--start-time",
            &start_arg,
            "--endpoint-url",
            &server.endpoint,
            "--s3-bucket",
            BUCKET,
            "--local",
            copy.path().to_str().unwrap(),
        ],
        &s3_endpoint,
    );
    let local_out = String::from_utf8_lossy(&local.stdout).into_owned();
    assert!(
        local.status.success(),
        "{local_out}\n{}",
        String::from_utf8_lossy(&local.stderr)
    );
    assert!(
        local_out.contains(&format!("{log_total}/{log_total} log files valid")),
        "{local_out}"
    );

    // 3. Tamper: modify one log file, delete another (each in a different digest), and modify
    //    a third digest while keeping its signature metadata.
    let (digest_a, modified_log) = listed[0].clone();
    let (_, deleted_log) = listed
        .iter()
        .find(|(d, _)| *d != digest_a)
        .cloned()
        .unwrap_or_else(|| listed[1].clone());
    let digest_b = listed
        .iter()
        .find(|(_, l)| *l == deleted_log)
        .map(|(d, _)| d.clone())
        .unwrap();
    let tampered_digest = digests
        .keys()
        .find(|d| **d != digest_a && **d != digest_b)
        .cloned()
        .expect("a third digest");

    let forged = copy.path().join("forged.json.gz");
    {
        let original = gunzip(&std::fs::read(copy.path().join(&modified_log)).unwrap());
        // Any edit will do; this one changes no record but still changes the bytes.
        let text =
            String::from_utf8(original)
                .unwrap()
                .replacen("{\"Records\":[", "{\"Records\": [", 1);
        assert!(text.starts_with("{\"Records\": ["));
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut enc, text.as_bytes()).unwrap();
        std::fs::write(&forged, enc.finish().unwrap()).unwrap();
    }
    ok(
        cli.s3(&[
            "s3",
            "cp",
            forged.to_str().unwrap(),
            &format!("s3://{BUCKET}/{modified_log}"),
        ]),
        "overwrite log",
    );
    ok(
        cli.s3(&["s3", "rm", &format!("s3://{BUCKET}/{deleted_log}")]),
        "delete log",
    );
    let digest_path = copy.path().join(&tampered_digest);
    let signature =
        std::fs::read_to_string(copy.path().join(format!("{tampered_digest}.signature"))).unwrap();
    let forged_digest = copy.path().join("forged-digest.json.gz");
    {
        let original = gunzip(&std::fs::read(&digest_path).unwrap());
        let mut doc: serde_json::Value = serde_json::from_slice(&original).unwrap();
        doc["newestEventTime"] = serde_json::json!("2000-01-01T00:00:00Z");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut enc, &serde_json::to_vec(&doc).unwrap()).unwrap();
        std::fs::write(&forged_digest, enc.finish().unwrap()).unwrap();
    }
    ok(
        cli.s3(&[
            "s3",
            "cp",
            forged_digest.to_str().unwrap(),
            &format!("s3://{BUCKET}/{tampered_digest}"),
            "--metadata",
            &format!("signature={signature},signature-algorithm=SHA256withRSA"),
        ]),
        "overwrite digest",
    );

    let expectations = [
        format!("Log file\ts3://{BUCKET}/{modified_log}\tINVALID: hash value doesn't match"),
        format!("Log file\ts3://{BUCKET}/{deleted_log}\tINVALID: not found"),
        format!(
            "Digest file\ts3://{BUCKET}/{tampered_digest}\tINVALID: signature verification failed"
        ),
    ];
    let invalid = cli.cloudtrail(&[
        "validate-logs",
        "--trail-arn",
        &trail_arn,
        "--start-time",
        &start_arg,
    ]);
    let stderr = String::from_utf8_lossy(&invalid.stderr).into_owned();
    assert_eq!(invalid.status.code(), Some(1), "{stderr}");
    for e in &expectations {
        assert!(
            stderr.contains(e.as_str()),
            "aws validate-logs did not report {e:?}:\n{stderr}"
        );
    }
    let native = watchtrail_validate(
        &[
            "--trail-arn",
            &trail_arn,
            "--start-time",
            &start_arg,
            "--endpoint-url",
            &server.endpoint,
        ],
        &s3_endpoint,
    );
    let native_err = String::from_utf8_lossy(&native.stderr).into_owned();
    assert_eq!(native.status.code(), Some(1), "{native_err}");
    for e in &expectations {
        assert!(
            native_err.contains(e.as_str()),
            "watchtrail validate-logs did not report {e:?}:\n{native_err}"
        );
    }
}
