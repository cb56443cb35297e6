//! The embedded S3 endpoint, driven by the unmodified AWS CLI (`aws s3api`, `aws s3`), by
//! object_store's AmazonS3 client, and by hand-signed raw requests for the `aws-chunked` body
//! encodings (the CLI uses them only over TLS). The AWS CLI comes from `scripts/test.sh`.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{TestServer, ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY};
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload};
use serde_json::Value;
use watchtrail_protocol::sigv4::{self, ChunkSigner, OutgoingRequest, SigningCredentials};

struct Cli {
    endpoint: String,
    dir: tempfile::TempDir,
    secret: String,
    key_id: String,
}

struct CliOutput {
    ok: bool,
    stdout: String,
    stderr: String,
}

impl CliOutput {
    fn json(&self) -> Value {
        assert!(self.ok, "aws failed: {}", self.stderr);
        if self.stdout.trim().is_empty() {
            return Value::Null;
        }
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }

    /// The error code the CLI printed, e.g. `NoSuchKey` from
    /// "An error occurred (NoSuchKey) when calling the GetObject operation: …".
    fn error_code(&self) -> String {
        assert!(!self.ok, "expected a failure, got: {}", self.stdout);
        self.stderr
            .split_once("An error occurred (")
            .and_then(|(_, rest)| rest.split_once(')'))
            .map(|(code, _)| code.to_string())
            .unwrap_or_else(|| format!("<no error code in: {}>", self.stderr))
    }
}

impl Cli {
    fn new(server: &TestServer) -> Cli {
        let dir = tempfile::tempdir().unwrap();
        // `bucket.localhost` does not resolve here; for virtual-host style the CLI's Python
        // resolves `*.localhost` to loopback while still sending `Host: bucket.localhost:PORT`.
        std::fs::write(
            dir.path().join("sitecustomize.py"),
            "import socket\n_resolve = socket.getaddrinfo\n\
             def _localhost(host, *args, **kwargs):\n    \
             if isinstance(host, str) and host.endswith('.localhost'):\n        host = '127.0.0.1'\n    \
             return _resolve(host, *args, **kwargs)\nsocket.getaddrinfo = _localhost\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("config"), "[default]\n").unwrap();
        Cli {
            endpoint: server.endpoint.clone(),
            dir,
            secret: SECRET_ACCESS_KEY.into(),
            key_id: ACCESS_KEY_ID.into(),
        }
    }

    fn config(&self, text: &str) {
        std::fs::write(self.dir.path().join("config"), text).unwrap();
    }

    fn run(&self, args: &[&str]) -> CliOutput {
        self.run_in_region(REGION, args)
    }

    fn run_in_region(&self, region: &str, args: &[&str]) -> CliOutput {
        let output = Command::new("aws")
            .args(["--endpoint-url", &self.endpoint, "--output", "json"])
            .args(args)
            .env("AWS_ACCESS_KEY_ID", &self.key_id)
            .env("AWS_SECRET_ACCESS_KEY", &self.secret)
            .env("AWS_DEFAULT_REGION", region)
            .env("AWS_CONFIG_FILE", self.dir.path().join("config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", self.dir.path().join("none"))
            .env("AWS_MAX_ATTEMPTS", "1")
            .env("AWS_RETRY_MODE", "standard")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_PAGER", "")
            .env("PYTHONPATH", self.dir.path())
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .output()
            .expect("the AWS CLI is installed (scripts/test.sh installs it)");
        CliOutput {
            ok: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    fn file(&self, name: &str, content: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_string_lossy().into_owned()
    }
}

fn md5_hex(data: &[u8]) -> String {
    use md5::Digest;
    hex::encode(md5::Md5::digest(data))
}

fn object_file(server: &TestServer, bucket: &str, key: &str) -> PathBuf {
    server
        .data_dir
        .join("s3")
        .join(common::ACCOUNT_ID)
        .join(bucket)
        .join("objects")
        .join(watchtrail_s3::key_file_name(key))
}

#[test]
fn cli_buckets_and_their_errors() {
    let server = TestServer::start();
    let cli = Cli::new(&server);

    assert!(
        cli.run(&["s3api", "create-bucket", "--bucket", "trail-logs"])
            .ok
    );
    assert_eq!(
        cli.run(&["s3api", "create-bucket", "--bucket", "trail-logs"])
            .error_code(),
        "BucketAlreadyOwnedByYou"
    );
    assert_eq!(
        cli.run(&["s3api", "create-bucket", "--bucket", "Bad_Name"])
            .error_code(),
        "InvalidBucketName"
    );
    assert!(
        cli.run(&["s3api", "head-bucket", "--bucket", "trail-logs"])
            .ok
    );
    let missing = cli.run(&["s3api", "head-bucket", "--bucket", "no-such-bucket"]);
    assert!(missing.stderr.contains("404"), "{}", missing.stderr);
    let location = cli
        .run(&["s3api", "get-bucket-location", "--bucket", "trail-logs"])
        .json();
    assert_eq!(location["LocationConstraint"], Value::Null);

    // A bucket in another region, created with a LocationConstraint body.
    let created = cli.run_in_region(
        "eu-west-1",
        &[
            "s3api",
            "create-bucket",
            "--bucket",
            "eu-bucket",
            "--create-bucket-configuration",
            "LocationConstraint=eu-west-1",
        ],
    );
    assert!(created.ok, "{}", created.stderr);
    let location = cli
        .run(&["s3api", "get-bucket-location", "--bucket", "eu-bucket"])
        .json();
    assert_eq!(location["LocationConstraint"], "eu-west-1");
    assert_eq!(
        cli.run_in_region(
            "eu-west-1",
            &["s3api", "create-bucket", "--bucket", "eu-bucket-2"]
        )
        .error_code(),
        "IllegalLocationConstraintException"
    );

    let names: Vec<String> = cli.run(&["s3api", "list-buckets"]).json()["Buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["Name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["eu-bucket", "trail-logs"]);

    let body = cli.file("one.txt", b"one");
    assert!(
        cli.run(&[
            "s3api",
            "put-object",
            "--bucket",
            "trail-logs",
            "--key",
            "k",
            "--body",
            body.to_str().unwrap()
        ])
        .ok
    );
    assert_eq!(
        cli.run(&["s3api", "delete-bucket", "--bucket", "trail-logs"])
            .error_code(),
        "BucketNotEmpty"
    );
    assert_eq!(
        cli.run(&[
            "s3api",
            "get-object",
            "--bucket",
            "trail-logs",
            "--key",
            "nope",
            &cli.path("out")
        ])
        .error_code(),
        "NoSuchKey"
    );
    assert_eq!(
        cli.run(&["s3api", "list-objects-v2", "--bucket", "nope-bucket"])
            .error_code(),
        "NoSuchBucket"
    );
    assert!(
        cli.run(&[
            "s3api",
            "delete-object",
            "--bucket",
            "trail-logs",
            "--key",
            "k"
        ])
        .ok
    );
    assert!(
        cli.run(&["s3api", "delete-bucket", "--bucket", "trail-logs"])
            .ok
    );
    assert_eq!(
        cli.run(&["s3api", "delete-bucket", "--bucket", "trail-logs"])
            .error_code(),
        "NoSuchBucket"
    );

    // Authentication failures, in S3's codes.
    let mut wrong_secret = Cli::new(&server);
    wrong_secret.secret = "not-the-secret".into();
    assert_eq!(
        wrong_secret.run(&["s3api", "list-buckets"]).error_code(),
        "SignatureDoesNotMatch"
    );
    let mut unknown_key = Cli::new(&server);
    unknown_key.key_id = "AKIAUNKNOWNKEY000000".into();
    assert_eq!(
        unknown_key.run(&["s3api", "list-buckets"]).error_code(),
        "InvalidAccessKeyId"
    );
    // Unsigned requests get S3's AccessDenied in XML, not the awsJson shape.
    let (status, _, body) = raw_request(&server.addr, "GET", "/eu-bucket", &[], b"");
    assert_eq!(status, 403);
    assert!(body.contains("<Code>AccessDenied</Code>"), "{body}");
}

#[test]
fn cli_objects_metadata_ranges_and_copies() {
    let server = TestServer::start();
    let cli = Cli::new(&server);
    assert!(cli.run(&["s3api", "create-bucket", "--bucket", "data"]).ok);

    let content = b"0123456789abcdefghij";
    let file = cli.file("obj.bin", content);
    let put = cli
        .run(&[
            "s3api",
            "put-object",
            "--bucket",
            "data",
            "--key",
            "dir/with space/é.json",
            "--body",
            file.to_str().unwrap(),
            "--content-type",
            "application/json",
            "--metadata",
            "signature=0a1b2c,signature-algorithm=SHA256withRSA",
        ])
        .json();
    assert_eq!(put["ETag"], format!("\"{}\"", md5_hex(content)));

    let head = cli
        .run(&[
            "s3api",
            "head-object",
            "--bucket",
            "data",
            "--key",
            "dir/with space/é.json",
        ])
        .json();
    assert_eq!(head["ContentLength"], 20);
    assert_eq!(head["ContentType"], "application/json");
    assert_eq!(head["ETag"], format!("\"{}\"", md5_hex(content)));
    assert_eq!(head["Metadata"]["signature"], "0a1b2c");
    assert_eq!(head["Metadata"]["signature-algorithm"], "SHA256withRSA");

    let out = cli.path("range.out");
    let ranged = cli
        .run(&[
            "s3api",
            "get-object",
            "--bucket",
            "data",
            "--key",
            "dir/with space/é.json",
            "--range",
            "bytes=2-5",
            &out,
        ])
        .json();
    assert_eq!(ranged["ContentRange"], "bytes 2-5/20");
    assert_eq!(std::fs::read(&out).unwrap(), b"2345");
    assert_eq!(
        cli.run(&[
            "s3api",
            "get-object",
            "--bucket",
            "data",
            "--key",
            "dir/with space/é.json",
            "--range",
            "bytes=50-",
            &out,
        ])
        .error_code(),
        "InvalidRange"
    );

    // A verified x-amz-checksum-sha256 is kept and returned when asked for.
    let put = cli.run(&[
        "s3api",
        "put-object",
        "--bucket",
        "data",
        "--key",
        "checksummed",
        "--body",
        file.to_str().unwrap(),
        "--checksum-algorithm",
        "SHA256",
    ]);
    assert!(put.ok, "{}", put.stderr);
    let head = cli
        .run(&[
            "s3api",
            "head-object",
            "--bucket",
            "data",
            "--key",
            "checksummed",
            "--checksum-mode",
            "ENABLED",
        ])
        .json();
    use base64::Engine;
    use sha2::Digest;
    assert_eq!(
        head["ChecksumSHA256"],
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(content))
    );

    // A wrong Content-MD5 is refused and nothing is stored.
    let bad_md5 = cli.run(&[
        "s3api",
        "put-object",
        "--bucket",
        "data",
        "--key",
        "md5",
        "--body",
        file.to_str().unwrap(),
        "--content-md5",
        "AAAAAAAAAAAAAAAAAAAAAA==",
    ]);
    assert_eq!(bad_md5.error_code(), "BadDigest");
    assert_eq!(
        cli.run(&["s3api", "head-object", "--bucket", "data", "--key", "md5"])
            .error_code(),
        "404"
    );

    // aws s3 cp up, down, and server-side copy keeping the metadata.
    assert!(
        cli.run(&["s3", "cp", file.to_str().unwrap(), "s3://data/cp/obj.bin"])
            .ok
    );
    let down = cli.path("down.bin");
    assert!(cli.run(&["s3", "cp", "s3://data/cp/obj.bin", &down]).ok);
    assert_eq!(std::fs::read(&down).unwrap(), content);
    let copy = cli.run(&[
        "s3api",
        "copy-object",
        "--bucket",
        "data",
        "--key",
        "copy.json",
        "--copy-source",
        "data/dir/with space/é.json",
    ]);
    assert!(copy.ok, "{}", copy.stderr);
    let head = cli
        .run(&[
            "s3api",
            "head-object",
            "--bucket",
            "data",
            "--key",
            "copy.json",
        ])
        .json();
    assert_eq!(head["Metadata"]["signature"], "0a1b2c");

    let listing = cli.run(&["s3", "ls", "s3://data/", "--recursive"]);
    assert!(listing.ok, "{}", listing.stderr);
    for key in ["dir/with space/é.json", "cp/obj.bin", "copy.json"] {
        assert!(
            listing.stdout.contains(key),
            "{key} missing from {}",
            listing.stdout
        );
    }

    // Unsupported features are refused by name, never ignored.
    let tagged = cli.run(&[
        "s3api",
        "put-object",
        "--bucket",
        "data",
        "--key",
        "t",
        "--body",
        file.to_str().unwrap(),
        "--tagging",
        "a=b",
    ]);
    assert_eq!(tagged.error_code(), "NotImplemented");
    assert_eq!(
        cli.run(&["s3api", "get-bucket-versioning", "--bucket", "data"])
            .error_code(),
        "NotImplemented"
    );

    // The CLI v1 presigns with SigV2 by default: refused with S3's message for SigV4-only regions.
    let url = cli.run(&["s3", "presign", "s3://data/cp/obj.bin"]);
    assert!(url.stdout.contains("AWSAccessKeyId="), "{}", url.stdout);
    let path_and_query = url
        .stdout
        .trim()
        .split_once(&server.addr)
        .unwrap()
        .1
        .to_string();
    let (status, _, body) = raw_request(&server.addr, "GET", &path_and_query, &[], b"");
    assert_eq!(status, 400);
    assert!(body.contains("Please use AWS4-HMAC-SHA256"), "{body}");

    // A SigV4 presigned URL (query-string signature) works without any header.
    cli.config("[default]\ns3 =\n    signature_version = s3v4\n");
    let url = cli.run(&["s3", "presign", "s3://data/cp/obj.bin"]);
    assert!(url.ok, "{}", url.stderr);
    let path_and_query = url
        .stdout
        .trim()
        .split_once(&server.addr)
        .unwrap()
        .1
        .to_string();
    let (status, _, body) = raw_request(&server.addr, "GET", &path_and_query, &[], b"");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.as_bytes(), content);
    let tampered = path_and_query.replace("obj.bin", "obj.bim");
    let (status, _, body) = raw_request(&server.addr, "GET", &tampered, &[], b"");
    assert_eq!(status, 403);
    assert!(
        body.contains("<Code>SignatureDoesNotMatch</Code>"),
        "{body}"
    );

    assert!(
        cli.run(&[
            "s3api",
            "delete-object",
            "--bucket",
            "data",
            "--key",
            "copy.json"
        ])
        .ok
    );
    assert_eq!(
        cli.run(&[
            "s3api",
            "head-object",
            "--bucket",
            "data",
            "--key",
            "copy.json"
        ])
        .error_code(),
        "404"
    );
}

#[test]
fn cli_listing_pages_prefixes_and_url_encoding() {
    let server = TestServer::start();
    let cli = Cli::new(&server);
    assert!(cli.run(&["s3api", "create-bucket", "--bucket", "list"]).ok);
    // Objects go in through object_store to keep the test quick; the CLI lists them.
    let store = object_store_client(&server, "list");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut keys = Vec::new();
    for dir in ["AWSLogs/a", "AWSLogs/b", "other"] {
        for i in 0..9 {
            keys.push(format!("{dir}/f{i:02}.json"));
        }
    }
    keys.push("top level.txt".into());
    runtime.block_on(async {
        for key in &keys {
            store
                .put(
                    &ObjectPath::from(key.as_str()),
                    PutPayload::from(key.clone().into_bytes()),
                )
                .await
                .unwrap();
        }
    });
    keys.sort();

    // Pagination with page size 4: every key exactly once, in order (v2 and v1).
    for command in ["list-objects-v2", "list-objects"] {
        let listed = cli
            .run(&["s3api", command, "--bucket", "list", "--page-size", "4"])
            .json();
        let got: Vec<&str> = listed["Contents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["Key"].as_str().unwrap())
            .collect();
        assert_eq!(got, keys, "{command}");
    }
    // One page by hand: max-keys, truncation, the continuation token.
    let first = cli
        .run(&[
            "s3api",
            "list-objects-v2",
            "--bucket",
            "list",
            "--max-keys",
            "5",
            "--no-paginate",
        ])
        .json();
    assert_eq!(first["KeyCount"], 5);
    assert_eq!(first["IsTruncated"], true);
    let token = first["NextContinuationToken"].as_str().unwrap();
    let second = cli
        .run(&[
            "s3api",
            "list-objects-v2",
            "--bucket",
            "list",
            "--max-keys",
            "5",
            "--no-paginate",
            "--continuation-token",
            token,
        ])
        .json();
    assert_eq!(second["Contents"][0]["Key"], keys[5]);
    assert_eq!(
        cli.run(&[
            "s3api",
            "list-objects-v2",
            "--bucket",
            "list",
            "--no-paginate",
            "--continuation-token",
            "garbage",
        ])
        .error_code(),
        "InvalidArgument"
    );
    let after = cli
        .run(&[
            "s3api",
            "list-objects-v2",
            "--bucket",
            "list",
            "--start-after",
            "other/f07.json",
        ])
        .json();
    let after_keys: Vec<&str> = after["Contents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["Key"].as_str().unwrap())
        .collect();
    assert_eq!(after_keys, ["other/f08.json", "top level.txt"]);

    // Delimiter: common prefixes, paged across CommonPrefixes too.
    let grouped = cli
        .run(&[
            "s3api",
            "list-objects-v2",
            "--bucket",
            "list",
            "--delimiter",
            "/",
            "--prefix",
            "AWSLogs/",
        ])
        .json();
    assert_eq!(
        grouped["CommonPrefixes"],
        serde_json::json!([{"Prefix": "AWSLogs/a/"}, {"Prefix": "AWSLogs/b/"}])
    );
    assert!(grouped.get("Contents").is_none());
    let v1 = cli
        .run(&[
            "s3api",
            "list-objects",
            "--bucket",
            "list",
            "--delimiter",
            "/",
            "--page-size",
            "1",
        ])
        .json();
    assert_eq!(
        v1["CommonPrefixes"],
        serde_json::json!([{"Prefix": "AWSLogs/"}, {"Prefix": "other/"}])
    );
    assert_eq!(v1["Contents"][0]["Key"], "top level.txt");

    // aws s3 ls reads CommonPrefixes and decodes encoding-type=url answers (the key has a space).
    let ls = cli.run(&["s3", "ls", "s3://list/"]);
    assert!(ls.ok, "{}", ls.stderr);
    assert!(ls.stdout.contains("PRE AWSLogs/"), "{}", ls.stdout);
    assert!(ls.stdout.contains("top level.txt"), "{}", ls.stdout);
    let (status, _, body) = signed_request(
        &server,
        "GET",
        "/list?encoding-type=url&prefix=top",
        &[],
        b"",
        None,
    );
    assert_eq!(status, 200);
    assert!(body.contains("<Key>top%20level.txt</Key>"), "{body}");
    assert_eq!(
        cli.run(&[
            "s3api",
            "list-objects-v2",
            "--bucket",
            "list",
            "--max-keys",
            "-1"
        ])
        .error_code(),
        "InvalidArgument"
    );
}

#[test]
fn cli_multipart_upload_and_virtual_host_addressing() {
    let server = TestServer::start();
    let cli = Cli::new(&server);
    assert!(cli.run(&["s3api", "create-bucket", "--bucket", "big"]).ok);
    // 9 MiB: above the CLI's 8 MiB multipart threshold, so `aws s3 cp` uses
    // CreateMultipartUpload / UploadPart / CompleteMultipartUpload.
    let content: Vec<u8> = (0..9u32 << 20).map(|i| (i % 251) as u8).collect();
    let file = cli.file("big.bin", &content);
    let up = cli.run(&["s3", "cp", file.to_str().unwrap(), "s3://big/big.bin"]);
    assert!(up.ok, "{}", up.stderr);
    let head = cli
        .run(&[
            "s3api",
            "head-object",
            "--bucket",
            "big",
            "--key",
            "big.bin",
        ])
        .json();
    assert_eq!(head["ContentLength"], 9 << 20);
    assert!(head["ETag"].as_str().unwrap().ends_with("-2\""), "{head}");
    let down = cli.path("big.out");
    assert!(cli.run(&["s3", "cp", "s3://big/big.bin", &down]).ok);
    assert!(std::fs::read(&down).unwrap() == content);

    // An aborted upload is gone; completing it afterwards is NoSuchUpload.
    let upload = cli
        .run(&[
            "s3api",
            "create-multipart-upload",
            "--bucket",
            "big",
            "--key",
            "aborted",
        ])
        .json();
    let upload_id = upload["UploadId"].as_str().unwrap().to_string();
    assert!(
        cli.run(&[
            "s3api",
            "abort-multipart-upload",
            "--bucket",
            "big",
            "--key",
            "aborted",
            "--upload-id",
            &upload_id
        ])
        .ok
    );
    assert_eq!(
        cli.run(&[
            "s3api",
            "complete-multipart-upload",
            "--bucket",
            "big",
            "--key",
            "aborted",
            "--upload-id",
            &upload_id,
            "--multipart-upload",
            "Parts=[{ETag=x,PartNumber=1}]",
        ])
        .error_code(),
        "NoSuchUpload"
    );

    // Virtual-host style: Host: big.localhost:PORT.
    cli.config("[default]\ns3 =\n    addressing_style = virtual\n");
    let endpoint_host = server.addr.replace("127.0.0.1", "localhost");
    let virtual_cli = Cli {
        endpoint: format!("http://{endpoint_host}"),
        ..cli
    };
    let small = virtual_cli.file("small.txt", b"virtually hosted");
    let put = virtual_cli.run(&["s3", "cp", small.to_str().unwrap(), "s3://big/v/small.txt"]);
    assert!(put.ok, "{}", put.stderr);
    let listing = virtual_cli
        .run(&[
            "s3api",
            "list-objects-v2",
            "--bucket",
            "big",
            "--prefix",
            "v/",
        ])
        .json();
    assert_eq!(listing["Contents"][0]["Key"], "v/small.txt");
    let (status, _, body) = signed_request_with_host(
        &server,
        &format!("big.{endpoint_host}"),
        "GET",
        "/v/small.txt",
        &[],
        b"",
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(body, "virtually hosted");
}

#[test]
fn object_store_client_and_corruption_detection() {
    let server = TestServer::start();
    let cli = Cli::new(&server);
    assert!(cli.run(&["s3api", "create-bucket", "--bucket", "store"]).ok);
    let store = object_store_client(&server, "store");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let path = ObjectPath::from("segments/0001.parquet");
        let put = store
            .put(&path, PutPayload::from(b"parquet bytes".to_vec()))
            .await
            .unwrap();
        assert!(put.e_tag.unwrap().contains(&md5_hex(b"parquet bytes")));
        let got = store.get(&path).await.unwrap().bytes().await.unwrap();
        assert_eq!(&got[..], b"parquet bytes");
        let range = store.get_range(&path, 2..7).await.unwrap();
        assert_eq!(&range[..], b"rquet");
        let meta = store.head(&path).await.unwrap();
        assert_eq!(meta.size, 13);

        // Multipart through object_store: two parts, the first at S3's 5 MiB minimum.
        let big = ObjectPath::from("segments/big.parquet");
        let mut upload = store.put_multipart(&big).await.unwrap();
        upload
            .put_part(PutPayload::from(vec![7u8; 5 << 20]))
            .await
            .unwrap();
        upload
            .put_part(PutPayload::from(vec![9u8; 1000]))
            .await
            .unwrap();
        upload.complete().await.unwrap();
        let got = store.get(&big).await.unwrap().bytes().await.unwrap();
        assert_eq!(got.len(), (5 << 20) + 1000);
        assert_eq!(got[(5 << 20) + 999], 9);

        let listed = store
            .list_with_delimiter(Some(&ObjectPath::from("segments")))
            .await
            .unwrap();
        let names: Vec<String> = listed
            .objects
            .iter()
            .map(|o| o.location.to_string())
            .collect();
        assert_eq!(names, ["segments/0001.parquet", "segments/big.parquet"]);

        store.delete(&big).await.unwrap();
        assert!(matches!(
            store.get(&big).await.unwrap_err(),
            object_store::Error::NotFound { .. }
        ));
    });

    // Flip one content byte on disk: the object is refused, never served.
    let file = object_file(&server, "store", "segments/0001.parquet");
    let mut bytes = std::fs::read(&file).unwrap();
    let at = bytes.len() - 32 - 3;
    bytes[at] ^= 0x20;
    std::fs::write(&file, bytes).unwrap();
    runtime.block_on(async {
        let err = store
            .get(&ObjectPath::from("segments/0001.parquet"))
            .await
            .unwrap_err();
        assert!(
            !matches!(err, object_store::Error::NotFound { .. }),
            "{err}"
        );
    });
    let out = cli.path("corrupt.out");
    let corrupt = cli.run(&[
        "s3api",
        "get-object",
        "--bucket",
        "store",
        "--key",
        "segments/0001.parquet",
        &out,
    ]);
    assert_eq!(corrupt.error_code(), "InternalError");
    assert!(!Path::new(&out).exists(), "corrupt content was written out");
}

#[test]
fn aws_chunked_bodies_are_decoded_and_verified() {
    let server = TestServer::start();
    let cli = Cli::new(&server);
    assert!(
        cli.run(&["s3api", "create-bucket", "--bucket", "chunks"])
            .ok
    );
    let content: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();

    // STREAMING-AWS4-HMAC-SHA256-PAYLOAD: every chunk signed, chained from the seed signature.
    let (status, _, body) = streaming_put(&server, "/chunks/signed.bin", &content, false);
    assert_eq!(status, 200, "{body}");
    let out = cli.path("signed.out");
    assert!(
        cli.run(&[
            "s3api",
            "get-object",
            "--bucket",
            "chunks",
            "--key",
            "signed.bin",
            &out
        ])
        .ok
    );
    assert_eq!(std::fs::read(&out).unwrap(), content);

    // A chunk altered in flight fails its chunk signature; nothing is stored.
    let (status, _, body) = streaming_put(&server, "/chunks/tampered.bin", &content, true);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("SignatureDoesNotMatch"), "{body}");
    assert_eq!(
        cli.run(&[
            "s3api",
            "head-object",
            "--bucket",
            "chunks",
            "--key",
            "tampered.bin"
        ])
        .error_code(),
        "404"
    );

    // STREAMING-UNSIGNED-PAYLOAD-TRAILER with a CRC32 trailer, as SDKs send over TLS.
    let framed = |crc: u32| {
        let mut framed = Vec::new();
        for chunk in content.chunks(65536) {
            framed.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            framed.extend_from_slice(chunk);
            framed.extend_from_slice(b"\r\n");
        }
        use base64::Engine;
        let crc = base64::engine::general_purpose::STANDARD.encode(crc.to_be_bytes());
        framed.extend_from_slice(format!("0\r\nx-amz-checksum-crc32:{crc}\r\n\r\n").as_bytes());
        framed
    };
    let length = content.len().to_string();
    let headers = [
        ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", length.as_str()),
        ("x-amz-trailer", "x-amz-checksum-crc32"),
    ];
    let good = framed(crc32fast::hash(&content));
    let (status, _, body) = signed_request(
        &server,
        "PUT",
        "/chunks/trailer.bin",
        &headers,
        &good,
        Some("STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
    );
    assert_eq!(status, 200, "{body}");
    let out = cli.path("trailer.out");
    assert!(
        cli.run(&[
            "s3api",
            "get-object",
            "--bucket",
            "chunks",
            "--key",
            "trailer.bin",
            &out
        ])
        .ok
    );
    assert_eq!(std::fs::read(&out).unwrap(), content);
    let bad = framed(crc32fast::hash(&content) ^ 1);
    let (status, _, body) = signed_request(
        &server,
        "PUT",
        "/chunks/bad-trailer.bin",
        &headers,
        &bad,
        Some("STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
    );
    assert_eq!(status, 400);
    assert!(body.contains("<Code>BadDigest</Code>"), "{body}");

    // UNSIGNED-PAYLOAD: the body is not hashed into the signature but still stored exactly.
    let (status, _, body) = signed_request(
        &server,
        "PUT",
        "/chunks/unsigned.txt",
        &[],
        b"unsigned body",
        Some("UNSIGNED-PAYLOAD"),
    );
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = signed_request(&server, "GET", "/chunks/unsigned.txt", &[], b"", None);
    assert_eq!((status, body.as_str()), (200, "unsigned body"));
}

fn object_store_client(server: &TestServer, bucket: &str) -> object_store::aws::AmazonS3 {
    AmazonS3Builder::new()
        .with_endpoint(&server.endpoint)
        .with_allow_http(true)
        .with_bucket_name(bucket)
        .with_region(REGION)
        .with_access_key_id(ACCESS_KEY_ID)
        .with_secret_access_key(SECRET_ACCESS_KEY)
        .with_retry(object_store::RetryConfig {
            max_retries: 0,
            ..Default::default()
        })
        .build()
        .unwrap()
}

/// A PUT with a `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` body in 64 KiB chunks; `tamper` flips a
/// byte of the second chunk after signing.
fn streaming_put(
    server: &TestServer,
    path: &str,
    content: &[u8],
    tamper: bool,
) -> (u16, Vec<(String, String)>, String) {
    let now = chrono::Utc::now();
    let credentials = signing_credentials();
    let chunks: Vec<&[u8]> = content.chunks(65536).collect();
    let encoded_length: usize = chunks
        .iter()
        .map(|c| format!("{:x}", c.len()).len() + 17 + 64 + 2 + c.len() + 2)
        .sum::<usize>()
        + 1
        + 17
        + 64
        + 2
        + 2;
    let decoded = content.len().to_string();
    let encoded = encoded_length.to_string();
    let headers = [
        ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", decoded.as_str()),
        ("content-length", encoded.as_str()),
        ("x-amz-content-sha256", sigv4::STREAMING_SIGNED),
    ];
    let signed = sigv4::sign_s3_headers(
        &OutgoingRequest {
            method: "PUT",
            host: &server.addr,
            path,
            headers: &headers,
            body: b"",
        },
        &credentials,
        now,
        sigv4::STREAMING_SIGNED,
    );
    let authorization = &signed.iter().find(|(k, _)| k == "authorization").unwrap().1;
    let seed = authorization.rsplit_once("Signature=").unwrap().1;
    let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
    let mut signer = ChunkSigner::for_client(&credentials, &amz_date, seed);
    let mut body = Vec::new();
    for (i, chunk) in chunks.iter().chain([&&b""[..]]).enumerate() {
        let signature = signer.sign_chunk(chunk);
        body.extend_from_slice(
            format!("{:x};chunk-signature={signature}\r\n", chunk.len()).as_bytes(),
        );
        let start = body.len();
        body.extend_from_slice(chunk);
        if tamper && i == 1 {
            body[start + 10] ^= 1;
        }
        body.extend_from_slice(b"\r\n");
    }
    assert_eq!(body.len(), encoded_length);
    // raw_request sends content-length itself (the same value that was signed).
    let all: Vec<(&str, &str)> = signed
        .iter()
        .filter(|(k, _)| k != "content-length")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    raw_request(&server.addr, "PUT", path, &all, &body)
}

fn signing_credentials() -> SigningCredentials<'static> {
    SigningCredentials {
        access_key_id: ACCESS_KEY_ID,
        secret_access_key: SECRET_ACCESS_KEY,
        region: REGION,
        service: "s3",
    }
}

/// A SigV4-signed S3 request; `payload` overrides the payload hash (default: SHA-256 of `body`).
fn signed_request(
    server: &TestServer,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    payload: Option<&str>,
) -> (u16, Vec<(String, String)>, String) {
    signed_request_with_host(server, &server.addr, method, path, headers, body, payload)
}

fn signed_request_with_host(
    server: &TestServer,
    host: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    payload: Option<&str>,
) -> (u16, Vec<(String, String)>, String) {
    use sha2::Digest;
    let payload = payload
        .map(str::to_string)
        .unwrap_or_else(|| hex::encode(sha2::Sha256::digest(body)));
    let mut to_sign: Vec<(&str, &str)> = headers.to_vec();
    to_sign.push(("x-amz-content-sha256", &payload));
    let signed = sigv4::sign_s3_headers(
        &OutgoingRequest {
            method,
            host,
            path,
            headers: &to_sign,
            body,
        },
        &signing_credentials(),
        chrono::Utc::now(),
        &payload,
    );
    let mut all: Vec<(&str, &str)> = signed
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    all.push(("host", host));
    raw_request(&server.addr, method, path, &all, body)
}

/// HTTP/1.1 over a plain socket, so tests control every header and byte of the body.
fn raw_request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<(String, String)>, String) {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        request.push_str(&format!("host: {addr}\r\n"));
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));
    stream.write_all(request.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response head");
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let body = String::from_utf8_lossy(&response[split + 4..]).into_owned();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, body)
}
