//! `watchtrail validate-logs`: the AWS CLI's `cloudtrail validate-logs`, natively, against a
//! watchtrail server (or AWS) and an S3-compatible endpoint, or against a local copy of the files.

use std::collections::HashMap;
use std::path::PathBuf;

use base64::Engine;
use serde_json::{json, Value};
use watchtrail_cloudtrail::validation::{
    summary, validate, LocalSource, ObjectSource, S3Source, ValidationRequest,
};
use watchtrail_cloudtrail::S3Target;
use watchtrail_protocol::sigv4::{sign_headers, OutgoingRequest, SigningCredentials};

#[derive(clap::Args)]
pub struct ValidateLogsArgs {
    /// ARN of the trail, e.g. arn:aws:cloudtrail:us-east-1:123456789012:trail/main.
    #[arg(long)]
    trail_arn: String,
    /// Validate files delivered at or after this UTC time (2026-01-08T05:21:42Z or epoch seconds).
    #[arg(long)]
    start_time: String,
    /// Validate files delivered at or before this time (default: now).
    #[arg(long)]
    end_time: Option<String>,
    /// The bucket holding the digests (default: the trail's, from DescribeTrails).
    #[arg(long)]
    s3_bucket: Option<String>,
    /// The key prefix of the digests (default: the trail's, from DescribeTrails).
    #[arg(long)]
    s3_prefix: Option<String>,
    /// The CloudTrail endpoint (DescribeTrails, ListPublicKeys), e.g. http://127.0.0.1:4588.
    #[arg(long, env = "AWS_ENDPOINT_URL_CLOUDTRAIL")]
    endpoint_url: Option<String>,
    /// The S3 endpoint holding the files (default: --endpoint-url, watchtrail's embedded S3).
    #[arg(long, env = "AWS_ENDPOINT_URL_S3")]
    s3_endpoint_url: Option<String>,
    /// The region whose files are validated (default: the trail's home region).
    #[arg(long, env = "AWS_REGION")]
    region: Option<String>,
    /// Validate a local copy (DIR/BUCKET/KEY or DIR/KEY) instead of reading S3. S3 metadata does
    /// not survive a download: put each digest's signature (hex) in KEY.signature beside it.
    #[arg(long)]
    local: Option<PathBuf>,
    /// Public key files (base64 DER PKCS#1 as ListPublicKeys returns, or raw DER) instead of
    /// calling ListPublicKeys.
    #[arg(long)]
    public_key: Vec<PathBuf>,
    /// Also print every valid file.
    #[arg(long)]
    verbose: bool,
}

struct Credentials {
    access_key_id: String,
    secret_access_key: String,
}

fn credentials() -> anyhow::Result<Credentials> {
    let get = |name: &str| {
        std::env::var(name).map_err(|_| anyhow::anyhow!("{name} must be set to call the endpoint"))
    };
    Ok(Credentials {
        access_key_id: get("AWS_ACCESS_KEY_ID")?,
        secret_access_key: get("AWS_SECRET_ACCESS_KEY")?,
    })
}

fn parse_time(text: &str) -> anyhow::Result<i64> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.timestamp_millis());
    }
    for format in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y%m%dT%H%M%SZ"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, format) {
            return Ok(t.and_utc().timestamp_millis());
        }
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_millis());
    }
    if let Ok(secs) = text.parse::<f64>() {
        return Ok((secs * 1000.0) as i64);
    }
    anyhow::bail!("Unable to parse date value: {text}")
}

/// One signed awsJson 1.1 call to the CloudTrail endpoint.
async fn cloudtrail_call(
    endpoint: &str,
    region: &str,
    operation: &str,
    body: Value,
) -> anyhow::Result<Value> {
    let creds = credentials()?;
    let url: reqwest::Url = endpoint.parse()?;
    let host = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or("")),
        None => url.host_str().unwrap_or("").to_string(),
    };
    let body = serde_json::to_vec(&body)?;
    let target = format!("com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.{operation}");
    let headers = sign_headers(
        &OutgoingRequest {
            method: "POST",
            host: &host,
            path: "/",
            headers: &[
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", &target),
            ],
            body: &body,
        },
        &SigningCredentials {
            access_key_id: &creds.access_key_id,
            secret_access_key: &creds.secret_access_key,
            region,
            service: "cloudtrail",
        },
        chrono::Utc::now(),
    );
    let mut request = reqwest::Client::new().post(url).body(body);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let response = request.send().await?;
    let status = response.status();
    let value: Value = serde_json::from_slice(&response.bytes().await?).unwrap_or(Value::Null);
    if !status.is_success() {
        anyhow::bail!(
            "{operation} failed: {} {}",
            value["__type"].as_str().unwrap_or(status.as_str()),
            value["message"].as_str().unwrap_or("")
        );
    }
    Ok(value)
}

fn read_public_key(path: &PathBuf) -> anyhow::Result<Vec<u8>> {
    let bytes = std::fs::read(path)
        .map_err(|e| anyhow::anyhow!("reading public key {}: {e}", path.display()))?;
    let text = String::from_utf8_lossy(&bytes);
    let compact: String = text.split_whitespace().collect();
    match base64::engine::general_purpose::STANDARD.decode(compact.as_bytes()) {
        Ok(der) if !der.is_empty() => Ok(der),
        _ => Ok(bytes),
    }
}

pub async fn run(args: ValidateLogsArgs) -> anyhow::Result<i32> {
    let arn_ok = regex_like_trail_arn(&args.trail_arn);
    if !arn_ok {
        anyhow::bail!("Invalid trail ARN provided: {}", args.trail_arn);
    }
    let parts: Vec<&str> = args.trail_arn.split(':').collect();
    let home_region = parts[3].to_string();
    let account = parts[4].to_string();
    let trail_name = args.trail_arn.rsplit('/').next().unwrap_or("").to_string();
    let source_region = args.region.clone().unwrap_or_else(|| home_region.clone());
    let start_ms = parse_time(&args.start_time)?;
    let end_ms = match &args.end_time {
        Some(t) => parse_time(t)?,
        None => chrono::Utc::now().timestamp_millis(),
    };
    if start_ms > end_ms {
        anyhow::bail!("Invalid time range specified: start-time must occur before end-time");
    }

    let (bucket, prefix) = match &args.s3_bucket {
        Some(b) => (b.clone(), args.s3_prefix.clone()),
        None => {
            let endpoint = args.endpoint_url.as_deref().ok_or_else(|| {
                anyhow::anyhow!(
                    "--s3-bucket or --endpoint-url is needed to find the trail's bucket"
                )
            })?;
            let trails =
                cloudtrail_call(endpoint, &source_region, "DescribeTrails", json!({})).await?;
            let trail = trails["trailList"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|t| t["TrailARN"].as_str() == Some(args.trail_arn.as_str()))
                .ok_or_else(|| {
                    anyhow::anyhow!("A trail could not be found for {}", args.trail_arn)
                })?;
            (
                trail["S3BucketName"].as_str().unwrap_or("").to_string(),
                trail["S3KeyPrefix"].as_str().map(String::from),
            )
        }
    };

    let mut public_keys: HashMap<String, Vec<u8>> = HashMap::new();
    if args.public_key.is_empty() {
        let endpoint = args.endpoint_url.as_deref().ok_or_else(|| {
            anyhow::anyhow!("--public-key or --endpoint-url is needed to get the public keys")
        })?;
        let keys = cloudtrail_call(
            endpoint,
            &source_region,
            "ListPublicKeys",
            json!({"StartTime": start_ms / 1000, "EndTime": (end_ms + 2 * 3_600_000) / 1000}),
        )
        .await?;
        for key in keys["PublicKeyList"].as_array().into_iter().flatten() {
            let der = base64::engine::general_purpose::STANDARD
                .decode(key["Value"].as_str().unwrap_or(""))
                .map_err(|e| {
                    anyhow::anyhow!("ListPublicKeys returned a key that is not base64: {e}")
                })?;
            public_keys.insert(key["Fingerprint"].as_str().unwrap_or("").to_string(), der);
        }
    } else {
        for path in &args.public_key {
            let der = read_public_key(path)?;
            public_keys.insert(watchtrail_cloudtrail::keys_fingerprint(&der), der);
        }
    }
    if public_keys.is_empty() {
        anyhow::bail!(
            "No public keys found between {} and {}",
            watchtrail_cloudtrail::digest::iso_seconds(start_ms),
            watchtrail_cloudtrail::digest::iso_seconds(end_ms + 2 * 3_600_000)
        );
    }

    let source: Box<dyn ObjectSource> = match &args.local {
        Some(root) => Box::new(LocalSource { root: root.clone() }),
        None => {
            let endpoint = args
                .s3_endpoint_url
                .clone()
                .or_else(|| args.endpoint_url.clone())
                .ok_or_else(|| {
                    anyhow::anyhow!("--s3-endpoint-url (AWS_ENDPOINT_URL_S3) is needed")
                })?;
            let creds = credentials()?;
            Box::new(S3Source::new(S3Target {
                endpoint,
                access_key_id: creds.access_key_id,
                secret_access_key: creds.secret_access_key,
                region: source_region.clone(),
            }))
        }
    };

    println!(
        "Validating log files for trail {} between {} and {}\n",
        args.trail_arn,
        watchtrail_cloudtrail::digest::iso_seconds(start_ms),
        watchtrail_cloudtrail::digest::iso_seconds(end_ms)
    );
    let report = validate(
        source.as_ref(),
        &ValidationRequest {
            account,
            trail_name,
            home_region,
            source_region,
            bucket,
            prefix,
            start_ms,
            end_ms,
            public_keys,
        },
    )
    .await;
    for (problem, line) in &report.lines {
        if *problem {
            eprintln!("{line}\n");
        } else if args.verbose {
            println!("{line}");
        }
    }
    print!("{}", summary(&report, start_ms, end_ms));
    Ok(if report.is_valid() { 0 } else { 1 })
}

/// `arn:.+:cloudtrail:.+:\d{12}:trail/.+`, the AWS CLI's check.
fn regex_like_trail_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && parts[2] == "cloudtrail"
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5]
            .strip_prefix("trail/")
            .is_some_and(|n| !n.is_empty())
}
