//! Starts the real `watchtrail` binary on an ephemeral port and builds official SDK clients for it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_cloudwatchlogs::config::{BehaviorVersion, Region};

pub const ACCESS_KEY_ID: &str = "AKIAWATCHTRAILTEST01";
pub const SECRET_ACCESS_KEY: &str = "wtTestSecretKey/0123456789abcdefghijklmn";
pub const ACCOUNT_ID: &str = "111122223333";
pub const REGION: &str = "us-east-1";

pub struct TestServer {
    child: Option<Child>,
    pub endpoint: String,
    pub addr: String,
    pub data_dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

impl TestServer {
    pub fn start() -> TestServer {
        let temp = tempfile::tempdir().expect("tempdir");
        let data = temp.path().join("data");
        let mut server = Self::start_in(&data);
        server._temp = Some(temp);
        server
    }

    /// Starts a server on an existing data directory (used to restart after a crash).
    pub fn start_in(data_dir: &Path) -> TestServer {
        Self::start_with(data_dir, &[])
    }

    pub fn start_with(data_dir: &Path, extra_env: &[(&str, &str)]) -> TestServer {
        let mut command = Command::new(env!("CARGO_BIN_EXE_watchtrail"));
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data_dir)
            .env("WATCHTRAIL_ROOT_ACCESS_KEY_ID", ACCESS_KEY_ID)
            .env("WATCHTRAIL_ROOT_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
            .env("WATCHTRAIL_ACCOUNT_ID", ACCOUNT_ID)
            .env("WATCHTRAIL_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in extra_env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("spawn watchtrail");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("server exited before listening")
                .expect("read stdout");
            if let Some(rest) = line.strip_prefix("watchtrail listening on http://") {
                break rest.trim().to_string();
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        TestServer {
            child: Some(child),
            endpoint: format!("http://{addr}"),
            addr,
            data_dir: data_dir.to_path_buf(),
            _temp: None,
        }
    }

    pub fn logs_client(&self) -> aws_sdk_cloudwatchlogs::Client {
        logs_client(&self.endpoint, ACCESS_KEY_ID, SECRET_ACCESS_KEY)
    }

    /// `kill -9`: no flush, no graceful shutdown.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL");
            child.wait().expect("reap");
        }
    }

    /// SIGTERM and wait for the graceful shutdown to finish.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let child = self.child.take().expect("running");
        let pid = child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill -TERM");
        let mut child = child;
        for _ in 0..300 {
            if let Some(status) = child.try_wait().expect("try_wait") {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        child.kill().ok();
        panic!("server did not stop within 15 s of SIGTERM");
    }

    /// Keeps the temp dir alive while handing it to a restarted server.
    pub fn take_temp(&mut self) -> Option<tempfile::TempDir> {
        self._temp.take()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub fn logs_client(endpoint: &str, key: &str, secret: &str) -> aws_sdk_cloudwatchlogs::Client {
    logs_client_with_retries(
        endpoint,
        key,
        secret,
        aws_sdk_cloudwatchlogs::config::retry::RetryConfig::standard(),
    )
}

/// A client that surfaces the first error instead of retrying throttling and 5xx answers.
pub fn logs_client_without_retries(endpoint: &str) -> aws_sdk_cloudwatchlogs::Client {
    logs_client_with_retries(
        endpoint,
        ACCESS_KEY_ID,
        SECRET_ACCESS_KEY,
        aws_sdk_cloudwatchlogs::config::retry::RetryConfig::disabled(),
    )
}

fn logs_client_with_retries(
    endpoint: &str,
    key: &str,
    secret: &str,
    retry: aws_sdk_cloudwatchlogs::config::retry::RetryConfig,
) -> aws_sdk_cloudwatchlogs::Client {
    let http = aws_smithy_http_client::Builder::new().build_http();
    let config = aws_sdk_cloudwatchlogs::Config::builder()
        .retry_config(retry)
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            key,
            secret,
            None,
            None,
            "watchtrail-tests",
        ))
        .http_client(http)
        .build();
    aws_sdk_cloudwatchlogs::Client::from_conf(config)
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// The AWS error code of an SDK error, for asserting on error paths.
pub fn error_code<E, R>(err: &aws_sdk_cloudwatchlogs::error::SdkError<E, R>) -> String
where
    E: aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match err {
        aws_sdk_cloudwatchlogs::error::SdkError::ServiceError(service) => {
            service.err().code().unwrap_or("<no code>").to_string()
        }
        other => format!("<not a service error: {other:?}>"),
    }
}

pub fn error_message<E, R>(err: &aws_sdk_cloudwatchlogs::error::SdkError<E, R>) -> String
where
    E: aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match err {
        aws_sdk_cloudwatchlogs::error::SdkError::ServiceError(service) => {
            service.err().message().unwrap_or("").to_string()
        }
        other => format!("{other:?}"),
    }
}

/// Creates a log group and one stream in it, the setup most tests start from.
pub async fn create_group_and_stream(
    logs: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    stream: &str,
) {
    logs.create_log_group()
        .log_group_name(group)
        .send()
        .await
        .expect("create log group");
    logs.create_log_stream()
        .log_group_name(group)
        .log_stream_name(stream)
        .send()
        .await
        .expect("create log stream");
}

pub fn cloudtrail_client(endpoint: &str) -> aws_sdk_cloudtrail::Client {
    cloudtrail_client_with_retries(
        endpoint,
        aws_sdk_cloudtrail::config::retry::RetryConfig::standard(),
    )
}

/// A CloudTrail client that surfaces the first error instead of retrying.
pub fn cloudtrail_client_without_retries(endpoint: &str) -> aws_sdk_cloudtrail::Client {
    cloudtrail_client_with_retries(
        endpoint,
        aws_sdk_cloudtrail::config::retry::RetryConfig::disabled(),
    )
}

fn cloudtrail_client_with_retries(
    endpoint: &str,
    retry: aws_sdk_cloudtrail::config::retry::RetryConfig,
) -> aws_sdk_cloudtrail::Client {
    let config = aws_sdk_cloudtrail::Config::builder()
        .retry_config(retry)
        .behavior_version(aws_sdk_cloudtrail::config::BehaviorVersion::latest())
        .region(aws_sdk_cloudtrail::config::Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            ACCESS_KEY_ID,
            SECRET_ACCESS_KEY,
            None,
            None,
            "watchtrail-tests",
        ))
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    aws_sdk_cloudtrail::Client::from_conf(config)
}

/// moto's S3 server on an ephemeral port, an S3-compatible bucket store for tests; killed on drop.
pub struct MotoServer {
    child: Child,
    pub port: u16,
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `None` when moto is not installed; callers decide whether that may skip the test
/// (`scripts/test.sh` sets WATCHTRAIL_REQUIRE_S3=1 so it cannot in CI).
pub fn start_moto() -> Option<MotoServer> {
    // `python3 -m moto.server` needs no console-script shim on PATH (pyenv creates those lazily).
    let installed = Command::new("python3")
        .args(["-c", "import moto.server"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("python3")
        .args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let server = MotoServer { child, port };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(server);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("moto's S3 server did not start listening on {port}");
}
