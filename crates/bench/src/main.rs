//! `watchtrail-bench ingest`: sustained durable PutLogEvents throughput against a real server.
//!
//! It starts the given `watchtrail` binary on a fresh data directory, creates one stream per
//! client, and has N clients send pre-generated, pre-signed batches back to back for a fixed
//! time. Pre-signing keeps SHA-256 of the body off the measured path, so the two cores are spent
//! on the server. The peer measured in the same run is the raw disk: appending the same bytes to
//! a file with one fdatasync per batch, the ceiling any durable ingest path can reach here.
//!
//! `watchtrail-bench insights` (in `insights.rs`) measures Logs Insights queries against DuckDB
//! and ripgrep over the same generated data.

mod insights;

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::{Parser, Subcommand};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use watchtrail_protocol::sigv4::{sign_headers, OutgoingRequest, SigningCredentials};

pub(crate) const KEY: &str = "AKIABENCHMARK0000001";
const SECRET: &str = "benchmarkSecretKey/0123456789abcdefghijk";

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Bench,
}

#[derive(Subcommand)]
enum Bench {
    /// Durable PutLogEvents throughput with concurrent clients.
    Ingest {
        /// The server binary (build it with `cargo build --release -p watchtrail`).
        #[arg(long, default_value = "target/release/watchtrail")]
        server: PathBuf,
        #[arg(long, default_value_t = 8)]
        clients: usize,
        /// Events per PutLogEvents call. 10,000 events of 150 bytes would exceed AWS's 1 MiB batch
        /// limit (26 bytes of overhead each), so the default is the largest round number that fits.
        #[arg(long, default_value_t = 5000)]
        batch: usize,
        #[arg(long, default_value_t = 150)]
        event_bytes: usize,
        #[arg(long, default_value_t = 30)]
        seconds: u64,
        /// Data directory (default: a fresh directory under /tmp); it is deleted afterwards.
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// Logs Insights queries over ≥10M generated events ingested through the API, against DuckDB
    /// (NDJSON and Parquet) and ripgrep over the same data, in the same run.
    Insights {
        #[arg(long, default_value = "target/release/watchtrail")]
        server: PathBuf,
        #[arg(long, default_value_t = 10_000_000)]
        events: u64,
        /// Runs per query; the median is reported.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Working directory for the data files and the server's data (default: under /tmp; deleted afterwards).
        #[arg(long)]
        work: Option<PathBuf>,
        /// Keep the working directory.
        #[arg(long)]
        keep: bool,
    },
    /// Writes deterministic gzipped VPC Flow Logs (default v2 format) in AWS's S3 delivery layout,
    /// for timing `watchtrail import` against the cost of just reading and decompressing them.
    GenFlowLogs {
        #[arg(long)]
        out: PathBuf,
        /// Total compressed size to write, in MiB.
        #[arg(long, default_value_t = 1024)]
        mib: u64,
    },
}

/// xorshift64*: deterministic across runs and platforms.
pub(crate) struct Generator(u64);

impl Generator {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545F4914F6CDD1D)
    }

    /// An application log line of exactly `len` bytes.
    fn message(&mut self, len: usize) -> String {
        const LEVELS: [&str; 4] = ["INFO", "INFO", "WARN", "ERROR"];
        const PATHS: [&str; 5] = [
            "/api/v1/orders",
            "/api/v1/users",
            "/health",
            "/api/v2/search",
            "/static/app.js",
        ];
        let r = self.next();
        let mut line = format!(
            "{} req={:016x} method=GET path={} status={} latency_ms={} user=u{} ",
            LEVELS[(r % 4) as usize],
            self.next(),
            PATHS[((r >> 8) % 5) as usize],
            [200, 200, 201, 404, 500][((r >> 16) % 5) as usize],
            (r >> 24) % 2000,
            (r >> 40) % 10_000
        );
        while line.len() < len {
            line.push((b'a' + (self.next() % 26) as u8) as char);
        }
        line.truncate(len);
        line
    }
}

pub(crate) struct PreparedRequest {
    headers: Vec<(String, String)>,
    body: Bytes,
}

pub(crate) fn signed(host: &str, target: &str, body: Vec<u8>) -> PreparedRequest {
    let headers = sign_headers(
        &OutgoingRequest {
            method: "POST",
            host,
            path: "/",
            headers: &[
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", target),
            ],
            body: &body,
        },
        &SigningCredentials {
            access_key_id: KEY,
            secret_access_key: SECRET,
            region: "us-east-1",
            service: "logs",
        },
        chrono::Utc::now(),
    );
    PreparedRequest {
        headers,
        body: Bytes::from(body),
    }
}

pub(crate) type HttpClient =
    Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

async fn send(client: &HttpClient, host: &str, request: &PreparedRequest) -> anyhow::Result<()> {
    send_for_body(client, host, request).await.map(|_| ())
}

/// Sends a prepared awsJson request; a non-2xx answer is an error carrying the body.
pub(crate) async fn send_for_body(
    client: &HttpClient,
    host: &str,
    request: &PreparedRequest,
) -> anyhow::Result<serde_json::Value> {
    let mut builder = hyper::Request::post(format!("http://{host}/")).header("host", host);
    for (k, v) in &request.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    let response = client
        .request(builder.body(Full::new(request.body.clone()))?)
        .await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    if !status.is_success() {
        anyhow::bail!("{status}: {}", String::from_utf8_lossy(&body));
    }
    if body.is_empty() {
        return Ok(serde_json::Value::Null);
    }
    Ok(serde_json::from_slice(&body)?)
}

/// A `watchtrail serve` child process on an ephemeral port with the benchmark's credentials.
pub(crate) struct RunningServer {
    pub host: String,
    pub child: std::process::Child,
}

impl RunningServer {
    pub fn peak_rss_mib(&self) -> f64 {
        rss_peak_kib(self.child.id()).unwrap_or(0) as f64 / 1024.0
    }

    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

pub(crate) fn start_server(
    server: &std::path::Path,
    data: &std::path::Path,
) -> anyhow::Result<RunningServer> {
    let mut child = Command::new(server)
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .env("WATCHTRAIL_ROOT_ACCESS_KEY_ID", KEY)
        .env("WATCHTRAIL_ROOT_SECRET_ACCESS_KEY", SECRET)
        .env("WATCHTRAIL_ACCOUNT_ID", "123456789012")
        .env("WATCHTRAIL_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| anyhow::anyhow!("starting {}: {e}", server.display()))?;
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let host = loop {
        let line = lines
            .next()
            .ok_or_else(|| anyhow::anyhow!("server exited"))??;
        if let Some(rest) = line.strip_prefix("watchtrail listening on http://") {
            break rest.trim().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Ok(RunningServer { host, child })
}

fn rss_peak_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// The hardware ceiling: the same bytes appended with one fdatasync per batch, from one writer.
fn raw_disk_ceiling(
    dir: &std::path::Path,
    batch_bytes: usize,
    seconds: f64,
) -> anyhow::Result<f64> {
    let path = dir.join("raw-disk-peer.bin");
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&path)?;
    let chunk = vec![b'x'; batch_bytes];
    let started = Instant::now();
    let mut batches = 0u64;
    while started.elapsed().as_secs_f64() < seconds {
        file.write_all(&chunk)?;
        file.sync_data()?;
        batches += 1;
    }
    let rate = batches as f64 / started.elapsed().as_secs_f64();
    std::fs::remove_file(path)?;
    Ok(rate)
}

/// One flow-log file per 5-minute window per ENI, as AWS delivers them.
fn generate_flow_logs(out: &std::path::Path, mib: u64) -> anyhow::Result<()> {
    let mut generator = Generator(0x000f_100f_1095);
    let dir = out.join("AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/20");
    std::fs::create_dir_all(&dir)?;
    let target = mib << 20;
    let mut written = 0u64;
    let mut window = 1_795_000_000u64; // 2026-11-18, within retention-free groups
    let mut file_no = 0;
    while written < target {
        let eni = format!("eni-{:017x}", generator.next() % 64);
        let path = dir.join(format!(
            "123456789012_vpcflowlogs_us-east-1_fl-0123456789abcdef0_{window}_{file_no:06}.log.gz"
        ));
        let file = std::fs::File::create(&path)?;
        // Buffer in front of the encoder: writeln! issues one tiny write per formatted piece.
        let mut gz = std::io::BufWriter::with_capacity(
            1 << 20,
            flate2::write::GzEncoder::new(
                std::io::BufWriter::new(file),
                flate2::Compression::fast(),
            ),
        );
        gz.write_all(b"version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n")?;
        for _ in 0..200_000 {
            let r = generator.next();
            let start = window + (r % 300);
            writeln!(
                gz,
                "2 123456789012 {eni} 10.{}.{}.{} {}.{}.{}.{} {} {} {} {} {} {start} {} {} OK",
                (r >> 8) % 256,
                (r >> 16) % 256,
                (r >> 24) % 256,
                [10, 172, 52, 203][((r >> 32) % 4) as usize],
                (r >> 34) % 256,
                (r >> 42) % 256,
                (r >> 50) % 256,
                [443, 80, 22, 3389, 53, 49152 + (r >> 20) % 16000][((r >> 12) % 6) as usize],
                1024 + (r >> 28) % 60000,
                [6, 17, 1][((r >> 40) % 3) as usize],
                1 + (r >> 44) % 500,
                40 + (r >> 36) % 1_000_000,
                start + 60,
                if (r >> 60).is_multiple_of(5) {
                    "REJECT"
                } else {
                    "ACCEPT"
                },
            )?;
        }
        gz.into_inner()
            .map_err(|e| e.into_error())?
            .finish()?
            .flush()?;
        written += std::fs::metadata(&path)?.len();
        window += 300;
        file_no += 1;
    }
    println!(
        "wrote {file_no} files, {:.1} MiB compressed, under {}",
        written as f64 / (1 << 20) as f64,
        out.display()
    );
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let (server, clients, batch, event_bytes, seconds, data) = match Cli::parse().command {
        Bench::GenFlowLogs { out, mib } => return generate_flow_logs(&out, mib),
        Bench::Insights {
            server,
            events,
            runs,
            work,
            keep,
        } => {
            return insights::run(insights::InsightsArgs {
                server,
                events,
                runs,
                work,
                keep,
            })
            .await
        }
        Bench::Ingest {
            server,
            clients,
            batch,
            event_bytes,
            seconds,
            data,
        } => (server, clients, batch, event_bytes, seconds, data),
    };
    let data = data.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("watchtrail-bench-{}", std::process::id()))
    });
    let _ = std::fs::remove_dir_all(&data);
    let running = start_server(&server, &data)?;
    let pid = running.child.id();
    let host = running.host.clone();

    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    send(
        &client,
        &host,
        &signed(
            &host,
            "Logs_20140328.CreateLogGroup",
            br#"{"logGroupName":"bench"}"#.to_vec(),
        ),
    )
    .await?;
    let mut generator = Generator(0x005e_ed0f_1095);
    let now_ms = chrono::Utc::now().timestamp_millis();
    let mut per_client: Vec<Vec<PreparedRequest>> = Vec::new();
    let mut batch_bytes = 0usize;
    for c in 0..clients {
        let stream = format!("client-{c}");
        let create = format!(r#"{{"logGroupName":"bench","logStreamName":"{stream}"}}"#);
        send(
            &client,
            &host,
            &signed(&host, "Logs_20140328.CreateLogStream", create.into_bytes()),
        )
        .await?;
        let mut prepared = Vec::new();
        for _ in 0..4 {
            let events: Vec<serde_json::Value> = (0..batch)
                .map(|i| serde_json::json!({"timestamp": now_ms + i as i64, "message": generator.message(event_bytes)}))
                .collect();
            let body = serde_json::to_vec(&serde_json::json!({
                "logGroupName": "bench", "logStreamName": stream, "logEvents": events
            }))?;
            batch_bytes = body.len();
            prepared.push(signed(&host, "Logs_20140328.PutLogEvents", body));
        }
        per_client.push(prepared);
    }

    let cpu_before = cpu_seconds(pid).unwrap_or(0.0);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for prepared in per_client {
        let client = client.clone();
        let host = host.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let prepared = Arc::new(prepared);
            let mut i = 0;
            let mut throttled = 0u64;
            while Instant::now() < deadline {
                let t = Instant::now();
                // Like the SDKs: a ThrottlingException (flushing behind ingest) is retried after a
                // pause; the request's latency includes the wait, so the figures stay honest.
                loop {
                    match send(&client, &host, &prepared[i % prepared.len()]).await {
                        Ok(()) => break,
                        Err(e) if e.to_string().contains("ThrottlingException") => {
                            throttled += 1;
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                        Err(e) => return Err(e),
                    }
                }
                latencies.push(t.elapsed());
                i += 1;
            }
            anyhow::Ok((latencies, throttled))
        }));
    }
    let mut latencies = Vec::new();
    let mut throttled = 0;
    let mut failure = None;
    for task in tasks {
        match task.await? {
            Ok((l, t)) => {
                latencies.extend(l);
                throttled += t;
            }
            Err(e) => failure = Some(e),
        }
    }
    if let Some(e) = failure {
        running.stop();
        return Err(e);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds(pid).unwrap_or(0.0) - cpu_before;
    let rss = rss_peak_kib(pid).unwrap_or(0);
    latencies.sort();
    let pct = |p: f64| {
        latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)].as_secs_f64()
            * 1000.0
    };
    let events = latencies.len() * batch;
    let events_per_s = events as f64 / elapsed;
    let mb_per_s = events_per_s * event_bytes as f64 / 1e6;

    running.stop();
    let disk_batches_per_s = raw_disk_ceiling(&data, batch_bytes, 5.0)?;
    let _ = std::fs::remove_dir_all(&data);

    println!("ingest: {clients} clients x {batch}-event batches of {event_bytes}-byte events, {seconds} s, fsync on");
    println!(
        "  requests           {} ({throttled} throttled retries)",
        latencies.len()
    );
    println!("  events/s           {events_per_s:.0}");
    println!("  payload MB/s       {mb_per_s:.1}");
    println!(
        "  latency p50 / p99  {:.1} ms / {:.1} ms",
        pct(0.50),
        pct(0.99)
    );
    println!("  server peak RSS    {:.0} MiB", rss as f64 / 1024.0);
    println!("  server CPU         {:.2} cores", cpu / elapsed);
    println!("  peer: raw append+fdatasync of the same {batch_bytes}-byte bodies: {disk_batches_per_s:.0} batches/s");
    println!(
        "  ratio: watchtrail achieves {:.2}x the raw single-writer disk batch rate",
        latencies.len() as f64 / elapsed / disk_batches_per_s
    );
    Ok(())
}
