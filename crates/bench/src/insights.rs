//! `watchtrail-bench insights`: Logs Insights queries over ≥10M events ingested through the API,
//! against DuckDB over the same data as NDJSON and as Parquet, and ripgrep for the needle search,
//! all measured in the same run.
//!
//! The generator is deterministic (seeded xorshift): CloudTrail-like JSON records, VPC Flow Logs
//! (default v2 format) and Lambda logs (START/END/REPORT and JSON application lines) in three
//! log groups. Timestamps are laid out over the ten hours before the run so PutLogEvents' 14-day
//! window accepts them. The same events are written as NDJSON (one file per group, the records as
//! a DuckDB user would load them), converted to Parquet by DuckDB, and as raw message text for
//! ripgrep.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::{signed, start_server, Generator, HttpClient, KEY};

pub struct InsightsArgs {
    pub server: PathBuf,
    pub events: u64,
    pub runs: usize,
    pub work: Option<PathBuf>,
    pub keep: bool,
}

const CLOUDTRAIL_GROUP: &str = "/bench/cloudtrail";
const FLOW_GROUP: &str = "/bench/vpcflow";
const LAMBDA_GROUP: &str = "/aws/lambda/bench-fn";
/// Exactly one event carries it; the needle query must find that one.
const NEEDLE: &str = "needle-7f3a9c21e4";
const SPAN_MS: i64 = 10 * 3600 * 1000;

const EVENT_NAMES: [&str; 24] = [
    "DescribeInstances",
    "DescribeInstances",
    "DescribeInstances",
    "GetObject",
    "GetObject",
    "PutObject",
    "AssumeRole",
    "AssumeRole",
    "ListBuckets",
    "GetCallerIdentity",
    "RunInstances",
    "TerminateInstances",
    "CreateLogStream",
    "PutLogEvents",
    "Decrypt",
    "Decrypt",
    "GenerateDataKey",
    "DescribeLogGroups",
    "ConsoleLogin",
    "CreateUser",
    "AttachRolePolicy",
    "GetSecretValue",
    "DescribeSecurityGroups",
    "UpdateFunctionCode",
];
const EVENT_SOURCES: [&str; 6] = [
    "ec2.amazonaws.com",
    "s3.amazonaws.com",
    "sts.amazonaws.com",
    "logs.amazonaws.com",
    "kms.amazonaws.com",
    "iam.amazonaws.com",
];

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn uuid(g: &mut Generator) -> String {
    let a = g.next();
    let b = g.next();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        (b >> 48) & 0x3fff | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

fn cloudtrail_record(g: &mut Generator, ts: i64) -> String {
    let r = g.next();
    let user = (r >> 8) % 200;
    let name = EVENT_NAMES[(r % EVENT_NAMES.len() as u64) as usize];
    let source = EVENT_SOURCES[((r >> 16) % EVENT_SOURCES.len() as u64) as usize];
    let mut record = json!({
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": format!("AIDA{:016X}", user * 7919),
            "arn": format!("arn:aws:iam::123456789012:user/user-{user}"),
            "accountId": "123456789012",
            "accessKeyId": format!("AKIA{:016X}", user * 104729),
            "userName": format!("user-{user}"),
        },
        "eventTime": iso(ts),
        "eventSource": source,
        "eventName": name,
        "awsRegion": (["us-east-1", "us-west-2", "eu-west-1"][((r >> 24) % 3) as usize]),
        "sourceIPAddress": format!("{}.{}.{}.{}", 10 + (r >> 28) % 200, (r >> 36) % 256, (r >> 44) % 256, (r >> 52) % 256),
        "userAgent": "aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64",
        "requestParameters": {"instancesSet": {"items": [{"instanceId": format!("i-{:017x}", g.next() >> 4)}]}, "filterSet": {}},
        "responseElements": null,
        "requestID": uuid(g),
        "eventID": uuid(g),
        "readOnly": name.starts_with("Describe") || name.starts_with("Get") || name.starts_with("List"),
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": "123456789012",
        "eventCategory": "Management",
    });
    let e = (r >> 58) % 64;
    if e < 3 {
        record["errorCode"] = json!("AccessDenied");
        record["errorMessage"] = json!(format!(
            "User: arn:aws:iam::123456789012:user/user-{user} is not authorized to perform: {source}:{name}"
        ));
    } else if e == 3 {
        record["errorCode"] = json!("Client.UnauthorizedOperation");
    }
    record.to_string()
}

/// Returns the line and the NDJSON object DuckDB gets for it.
fn flow_line(g: &mut Generator, ts: i64) -> (String, String) {
    let r = g.next();
    let start = ts / 1000;
    let src = format!("10.{}.{}.{}", (r >> 8) % 4, (r >> 16) % 16, (r >> 24) % 64);
    let dst = format!(
        "{}.{}.{}.{}",
        [10, 172, 52, 203][((r >> 32) % 4) as usize],
        (r >> 34) % 256,
        (r >> 42) % 256,
        (r >> 50) % 256
    );
    let src_port = 1024 + (r >> 28) % 60000;
    let dst_port = [443, 80, 22, 3389, 53, 8080][((r >> 12) % 6) as usize];
    let protocol = [6, 17, 1][((r >> 40) % 3) as usize];
    let packets = 1 + (r >> 44) % 500;
    let bytes = 40 + (r >> 36) % 1_000_000;
    let action = if (r >> 60).is_multiple_of(5) {
        "REJECT"
    } else {
        "ACCEPT"
    };
    let eni = format!("eni-{:017x}", (r >> 20) % 64);
    let line = format!(
        "2 123456789012 {eni} {src} {dst} {src_port} {dst_port} {protocol} {packets} {bytes} {start} {} {action} OK",
        start + 60
    );
    let object = json!({
        "ts": ts, "version": 2, "accountId": "123456789012", "interfaceId": eni,
        "srcAddr": src, "dstAddr": dst, "srcPort": src_port, "dstPort": dst_port,
        "protocol": protocol, "packets": packets, "bytes": bytes, "start": start,
        "end": start + 60, "action": action, "logStatus": "OK",
    })
    .to_string();
    (line, object)
}

/// One Lambda invocation's four lines: START, an application line, END, REPORT.
fn lambda_lines(g: &mut Generator, ts: i64, out: &mut Vec<(i64, String)>) {
    let id = uuid(g);
    let r = g.next();
    let duration = (r % 300_000) as f64 / 100.0 + 0.5;
    let billed = duration.ceil() as u64;
    out.push((ts, format!("START RequestId: {id} Version: $LATEST")));
    out.push((
        ts,
        json!({"timestamp": iso(ts), "level": (["INFO", "WARN", "ERROR"][((r >> 20) % 3) as usize]),
               "requestId": id, "message": format!("processed order {}", (r >> 24) % 100_000)})
        .to_string(),
    ));
    out.push((ts, format!("END RequestId: {id}")));
    out.push((
        ts,
        format!(
            "REPORT RequestId: {id}\tDuration: {duration:.2} ms\tBilled Duration: {billed} ms\tMemory Size: 512 MB\tMax Memory Used: {} MB\t",
            60 + (r >> 40) % 400
        ),
    ));
}

struct Dataset {
    /// Per group, events in timestamp order.
    cloudtrail: Vec<(i64, String)>,
    flow: Vec<(i64, String)>,
    lambda: Vec<(i64, String)>,
}

/// 40 % CloudTrail, 40 % flow logs, 20 % Lambda lines; NDJSON for DuckDB and raw text for
/// ripgrep are written on the way.
fn generate(total: u64, base_ms: i64, dir: &Path) -> anyhow::Result<Dataset> {
    let mut g = Generator(0x0b5e_55ed_1095);
    let n_ct = total * 2 / 5;
    let n_flow = total * 2 / 5;
    let n_lambda = total - n_ct - n_flow;
    let mut raw = BufWriter::new(std::fs::File::create(dir.join("all-messages.txt"))?);
    let ts_of = |i: u64, n: u64| base_ms + (i as i128 * SPAN_MS as i128 / n.max(1) as i128) as i64;

    let mut ct_ndjson = BufWriter::new(std::fs::File::create(dir.join("cloudtrail.ndjson"))?);
    let mut cloudtrail = Vec::with_capacity(n_ct as usize);
    for i in 0..n_ct {
        let ts = ts_of(i, n_ct);
        let message = cloudtrail_record(&mut g, ts);
        writeln!(ct_ndjson, "{message}")?;
        writeln!(raw, "{message}")?;
        cloudtrail.push((ts, message));
    }
    ct_ndjson.flush()?;

    let mut flow_ndjson = BufWriter::new(std::fs::File::create(dir.join("vpcflow.ndjson"))?);
    let mut flow = Vec::with_capacity(n_flow as usize);
    for i in 0..n_flow {
        let ts = ts_of(i, n_flow);
        let (line, object) = flow_line(&mut g, ts);
        writeln!(flow_ndjson, "{object}")?;
        writeln!(raw, "{line}")?;
        flow.push((ts, line));
    }
    flow_ndjson.flush()?;

    let mut lambda_ndjson = BufWriter::new(std::fs::File::create(dir.join("lambda.ndjson"))?);
    let mut lambda = Vec::with_capacity(n_lambda as usize);
    let invocations = n_lambda / 4;
    for i in 0..invocations {
        lambda_lines(&mut g, ts_of(i, invocations), &mut lambda);
    }
    // The needle hides in one application line in the middle of the Lambda group.
    let middle = lambda.len() / 2 + 1;
    lambda[middle].1 = lambda[middle]
        .1
        .replace("processed order", &format!("processed order {NEEDLE}"));
    for (ts, message) in &lambda {
        writeln!(lambda_ndjson, "{}", json!({"ts": ts, "message": message}))?;
        writeln!(raw, "{message}")?;
    }
    lambda_ndjson.flush()?;
    raw.flush()?;
    Ok(Dataset {
        cloudtrail,
        flow,
        lambda,
    })
}

async fn call(
    client: &HttpClient,
    host: &str,
    operation: &str,
    body: &Value,
) -> anyhow::Result<Value> {
    let request = signed(
        host,
        &format!("Logs_20140328.{operation}"),
        serde_json::to_vec(body)?,
    );
    crate::send_for_body(client, host, &request).await
}

/// PutLogEvents in ≤1 MiB, ≤10,000-event batches from `streams` concurrent writers per group.
async fn ingest(
    client: &HttpClient,
    host: &str,
    group: &str,
    events: &[(i64, String)],
) -> anyhow::Result<()> {
    call(
        client,
        host,
        "CreateLogGroup",
        &json!({"logGroupName": group}),
    )
    .await?;
    const STREAMS: usize = 4;
    let chunk = events.len().div_ceil(STREAMS);
    let mut tasks = Vec::new();
    for (s, part) in events.chunks(chunk.max(1)).enumerate() {
        let stream = format!("stream-{s}");
        call(
            client,
            host,
            "CreateLogStream",
            &json!({"logGroupName": group, "logStreamName": stream}),
        )
        .await?;
        let part = part.to_vec();
        let client = client.clone();
        let host = host.to_string();
        let group = group.to_string();
        tasks.push(tokio::spawn(async move {
            let mut i = 0;
            while i < part.len() {
                let mut bytes = 0;
                let mut batch = Vec::new();
                while i < part.len()
                    && batch.len() < 10_000
                    && bytes + part[i].1.len() + 26 < 1_000_000
                {
                    bytes += part[i].1.len() + 26;
                    batch.push(json!({"timestamp": part[i].0, "message": part[i].1}));
                    i += 1;
                }
                let body = serde_json::to_vec(&json!({
                    "logGroupName": group, "logStreamName": stream, "logEvents": batch
                }))?;
                let request = signed(&host, "Logs_20140328.PutLogEvents", body);
                loop {
                    match crate::send_for_body(&client, &host, &request).await {
                        Ok(_) => break,
                        Err(e) if e.to_string().contains("ThrottlingException") => {
                            tokio::time::sleep(Duration::from_millis(50)).await
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(())
}

struct InsightsQuery {
    name: &'static str,
    groups: &'static [&'static str],
    text: &'static str,
    /// DuckDB SQL with `{ct}`, `{flow}`, `{lambda}` for the table expressions.
    duckdb: &'static str,
}

const QUERIES: [InsightsQuery; 6] = [
    InsightsQuery {
        name: "count by eventName",
        groups: &[CLOUDTRAIL_GROUP],
        text: "stats count(*) by eventName",
        duckdb: "SELECT eventName, count(*) FROM {ct} GROUP BY eventName",
    },
    InsightsQuery {
        name: "AccessDenied by user ARN",
        groups: &[CLOUDTRAIL_GROUP],
        text: "filter errorCode like /AccessDenied/ | stats count(*) by userIdentity.arn",
        duckdb: "SELECT userIdentity.arn, count(*) FROM {ct} WHERE regexp_matches(errorCode, 'AccessDenied') GROUP BY 1",
    },
    InsightsQuery {
        name: "top 10 talkers by bytes",
        groups: &[FLOW_GROUP],
        text: "stats sum(bytes) as total by srcAddr | sort total desc | limit 10",
        duckdb: "SELECT srcAddr, sum(bytes) AS total FROM {flow} GROUP BY srcAddr ORDER BY total DESC LIMIT 10",
    },
    InsightsQuery {
        name: "REPORT avg/max duration by 5m",
        groups: &[LAMBDA_GROUP],
        text: "filter @type = \"REPORT\" | stats avg(@duration), max(@duration) by bin(5m)",
        duckdb: "SELECT time_bucket(INTERVAL 5 MINUTE, to_timestamp(ts / 1000)) AS b, avg(d), max(d) FROM (SELECT ts, CAST(regexp_extract(message, 'Duration: ([0-9.]+) ms', 1) AS DOUBLE) AS d FROM {lambda} WHERE starts_with(message, 'REPORT')) GROUP BY b",
    },
    InsightsQuery {
        name: "needle search",
        groups: &[CLOUDTRAIL_GROUP, FLOW_GROUP, LAMBDA_GROUP],
        text: "filter @message like \"needle-7f3a9c21e4\" | fields @timestamp, @message",
        duckdb: "SELECT ts, message FROM {lambda} WHERE contains(message, 'needle-7f3a9c21e4')",
    },
    InsightsQuery {
        name: "latest 20 events",
        groups: &[CLOUDTRAIL_GROUP],
        text: "fields @timestamp, @message | sort @timestamp desc | limit 20",
        duckdb: "SELECT eventTime, eventName FROM {ct} ORDER BY eventTime DESC LIMIT 20",
    },
];

/// Runs one query to completion; returns the wall time and the final response.
async fn run_query(
    client: &HttpClient,
    host: &str,
    groups: &[&str],
    text: &str,
    start_s: i64,
    end_s: i64,
) -> anyhow::Result<(Duration, Value)> {
    let started = Instant::now();
    let response = call(
        client,
        host,
        "StartQuery",
        &json!({"logGroupNames": groups, "queryString": text, "startTime": start_s, "endTime": end_s}),
    )
    .await?;
    let id = response["queryId"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("StartQuery returned no queryId: {response}"))?
        .to_string();
    loop {
        let results = call(client, host, "GetQueryResults", &json!({"queryId": id})).await?;
        match results["status"].as_str() {
            Some("Complete") => return Ok((started.elapsed(), results)),
            Some("Scheduled") | Some("Running") => {
                tokio::time::sleep(Duration::from_millis(5)).await
            }
            other => anyhow::bail!("query {text:?} ended {other:?}: {results}"),
        }
    }
}

const DUCKDB_SCRIPT: &str = r#"
import duckdb, json, sys, time
work, runs = sys.argv[1], int(sys.argv[2])
queries = json.loads(sys.argv[3])
con = duckdb.connect()
con.execute("SET threads=2")
for name in ("cloudtrail", "vpcflow", "lambda"):
    con.execute(f"COPY (SELECT * FROM read_json_auto('{work}/{name}.ndjson', maximum_object_size=1048576)) TO '{work}/{name}.parquet' (FORMAT parquet, COMPRESSION zstd)")
sources = {
  "ndjson": {"ct": f"read_json_auto('{work}/cloudtrail.ndjson')", "flow": f"read_json_auto('{work}/vpcflow.ndjson')", "lambda": f"read_json_auto('{work}/lambda.ndjson')"},
  "parquet": {"ct": f"read_parquet('{work}/cloudtrail.parquet')", "flow": f"read_parquet('{work}/vpcflow.parquet')", "lambda": f"read_parquet('{work}/lambda.parquet')"},
}
out = {}
for kind, tables in sources.items():
    for q in queries:
        sql = q["sql"].replace("{ct}", tables["ct"]).replace("{flow}", tables["flow"]).replace("{lambda}", tables["lambda"])
        times, rows = [], None
        for _ in range(runs):
            t = time.perf_counter()
            rows = con.execute(sql).fetchall()
            times.append(time.perf_counter() - t)
        times.sort()
        out.setdefault(kind, {})[q["name"]] = {"seconds": times[len(times) // 2], "rows": [[str(c) for c in r] for r in rows]}
print(json.dumps(out))
"#;

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn row_value<'a>(row: &'a Value, field: &str) -> Option<&'a str> {
    row.as_array()?
        .iter()
        .find(|c| c["field"] == field)
        .and_then(|c| c["value"].as_str())
}

pub async fn run(args: InsightsArgs) -> anyhow::Result<()> {
    let work = args.work.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("watchtrail-bench-insights-{}", std::process::id()))
    });
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let now_ms = chrono::Utc::now().timestamp_millis();
    let base_ms = now_ms - SPAN_MS - 60_000;

    let started = Instant::now();
    let data = generate(args.events, base_ms, &work)?;
    let total = data.cloudtrail.len() + data.flow.len() + data.lambda.len();
    let raw_bytes = std::fs::metadata(work.join("all-messages.txt"))?.len();
    println!(
        "generated {total} events ({:.2} GB of messages) in {:.1} s under {}",
        raw_bytes as f64 / 1e9,
        started.elapsed().as_secs_f64(),
        work.display()
    );

    let server = start_server(&args.server, &work.join("data"))?;
    let client: HttpClient =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
    let host = server.host.clone();
    let started = Instant::now();
    for (group, events) in [
        (CLOUDTRAIL_GROUP, &data.cloudtrail),
        (FLOW_GROUP, &data.flow),
        (LAMBDA_GROUP, &data.lambda),
    ] {
        ingest(&client, &host, group, events).await?;
    }
    let ingest_s = started.elapsed().as_secs_f64();
    println!(
        "ingested {total} events through PutLogEvents in {ingest_s:.1} s ({:.0} events/s)",
        total as f64 / ingest_s
    );
    drop(data);

    // Freshness: a new event is queryable this long after PutLogEvents acknowledged it.
    let fresh_stream = "freshness";
    call(
        &client,
        &host,
        "CreateLogStream",
        &json!({"logGroupName": LAMBDA_GROUP, "logStreamName": fresh_stream}),
    )
    .await?;
    let marker = "fresh-marker-0001";
    let ts = chrono::Utc::now().timestamp_millis();
    call(
        &client,
        &host,
        "PutLogEvents",
        &json!({"logGroupName": LAMBDA_GROUP, "logStreamName": fresh_stream, "logEvents": [{"timestamp": ts, "message": marker}]}),
    )
    .await?;
    let acked = Instant::now();
    let visible_after = loop {
        let (_, result) = run_query(
            &client,
            &host,
            &[LAMBDA_GROUP],
            &format!("filter @message like \"{marker}\" | stats count(*) as n"),
            ts / 1000 - 5,
            ts / 1000 + 5,
        )
        .await?;
        let n = result["results"][0]
            .as_array()
            .and_then(|r| r.iter().find(|c| c["field"] == "n"))
            .and_then(|c| c["value"].as_str())
            .unwrap_or("0")
            .to_string();
        if n == "1" {
            break acked.elapsed();
        }
        if acked.elapsed() > Duration::from_secs(30) {
            anyhow::bail!("the acknowledged event was not visible after 30 s");
        }
    };

    let start_s = base_ms / 1000 - 1;
    let end_s = now_ms / 1000 + 3600;
    let mut watchtrail: Vec<(f64, Value)> = Vec::new();
    for q in &QUERIES {
        let mut times = Vec::new();
        let mut last = Value::Null;
        for _ in 0..args.runs {
            let (elapsed, result) =
                run_query(&client, &host, q.groups, q.text, start_s, end_s).await?;
            times.push(elapsed.as_secs_f64());
            last = result;
        }
        println!(
            "  watchtrail  {:<32} {:>8.3} s  scanned {} matched {}",
            q.name,
            median(times.clone()),
            last["statistics"]["recordsScanned"],
            last["statistics"]["recordsMatched"]
        );
        watchtrail.push((median(times), last));
    }
    let server_rss = server.peak_rss_mib();
    server.stop();

    let queries_json: Vec<Value> = QUERIES
        .iter()
        .map(|q| json!({"name": q.name, "sql": q.duckdb}))
        .collect();
    let script = work.join("duckdb_peer.py");
    std::fs::write(&script, DUCKDB_SCRIPT)?;
    let output = Command::new("python3")
        .arg(&script)
        .arg(&work)
        .arg(args.runs.to_string())
        .arg(serde_json::to_string(&queries_json)?)
        .output()?;
    if !output.status.success() {
        anyhow::bail!(
            "the DuckDB peer failed (pip install duckdb): {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let duck: Value = serde_json::from_slice(&output.stdout)?;

    // ripgrep over the raw text, warm cache, as a responder would grep.
    let raw = work.join("all-messages.txt");
    let mut rg_times = Vec::new();
    let mut rg_count = String::new();
    for _ in 0..args.runs.max(1) {
        let t = Instant::now();
        let out = Command::new("rg").args(["-c", NEEDLE]).arg(&raw).output();
        match out {
            Ok(out) => {
                rg_times.push(t.elapsed().as_secs_f64());
                rg_count = String::from_utf8_lossy(&out.stdout).trim().to_string();
            }
            Err(e) => anyhow::bail!("ripgrep (apt-get install ripgrep) failed to start: {e}"),
        }
    }
    let rg = median(rg_times);

    // Same answers as the peer, or the timings mean nothing.
    let mut mismatches = Vec::new();
    let ct_total: u64 = watchtrail[0].1["results"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .filter_map(|r| row_value(r, "count(*)"))
                .filter_map(|v| v.parse::<u64>().ok())
                .sum()
        })
        .unwrap_or(0);
    let duck_total: u64 = duck["parquet"]["count by eventName"]["rows"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .filter_map(|r| r[1].as_str()?.parse::<u64>().ok())
                .sum()
        })
        .unwrap_or(0);
    if ct_total != duck_total {
        mismatches.push(format!(
            "count by eventName: watchtrail {ct_total}, DuckDB {duck_total}"
        ));
    }
    let top_wt: Vec<String> = watchtrail[2].1["results"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .filter_map(|r| {
                    Some(format!(
                        "{}={}",
                        row_value(r, "srcAddr")?,
                        row_value(r, "total")?
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let top_duck: Vec<String> = duck["parquet"]["top 10 talkers by bytes"]["rows"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| {
                    format!(
                        "{}={}",
                        r[0].as_str().unwrap_or(""),
                        r[1].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    if top_wt != top_duck {
        mismatches.push(format!(
            "top talkers: watchtrail {top_wt:?}, DuckDB {top_duck:?}"
        ));
    }
    let needle_rows = watchtrail[4].1["results"].as_array().map_or(0, |r| r.len());
    if needle_rows != 1 || rg_count != "1" {
        mismatches.push(format!(
            "needle: watchtrail {needle_rows} row(s), ripgrep {rg_count:?}"
        ));
    }

    println!();
    println!(
        "| query | watchtrail | DuckDB NDJSON | ratio (DuckDB NDJSON ÷ watchtrail) | DuckDB Parquet | ratio (DuckDB Parquet ÷ watchtrail) |"
    );
    println!("|---|---|---|---|---|---|");
    for (q, (wt, _)) in QUERIES.iter().zip(&watchtrail) {
        let nd = duck["ndjson"][q.name]["seconds"]
            .as_f64()
            .unwrap_or(f64::NAN);
        let pq = duck["parquet"][q.name]["seconds"]
            .as_f64()
            .unwrap_or(f64::NAN);
        println!(
            "| `{}` | {wt:.3} s | {nd:.3} s | {:.2}× | {pq:.3} s | {:.2}× |",
            q.text,
            nd / wt,
            pq / wt
        );
    }
    println!(
        "| needle vs `rg -c` over {:.2} GB of raw text | {:.3} s | ripgrep {rg:.3} s | watchtrail ÷ ripgrep = {:.2}× | | |",
        raw_bytes as f64 / 1e9,
        watchtrail[4].0,
        watchtrail[4].0 / rg
    );
    println!();
    println!(
        "events {total}; ingest {:.0} events/s; new event visible {:.0} ms after its acknowledgement; server peak RSS {server_rss:.0} MiB",
        total as f64 / ingest_s,
        visible_after.as_secs_f64() * 1000.0
    );
    if mismatches.is_empty() {
        println!("results agree with DuckDB and ripgrep (count by eventName total, top-10 talkers, needle)");
    } else {
        for m in &mismatches {
            println!("MISMATCH: {m}");
        }
    }
    if !args.keep {
        let _ = std::fs::remove_dir_all(&work);
    }
    if !mismatches.is_empty() {
        anyhow::bail!("results differ from the peers");
    }
    let _ = KEY;
    Ok(())
}
