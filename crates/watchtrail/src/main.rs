//! The `watchtrail` command: `serve` runs the server; other subcommands work on data offline.

mod config;
mod data_dir;
mod import;
mod import_cloudtrail;
mod query;
mod serve;
mod trail_delivery;
mod validate;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

// PutLogEvents allocates and frees millions of small strings per second across threads; glibc's
// allocator spent over a third of the server's CPU in its free lists under the ingest benchmark.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "watchtrail",
    version,
    about = "Self-hosted log and audit platform that speaks AWS's APIs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate CloudTrail log files against their signed digest files, like
    /// `aws cloudtrail validate-logs`, from S3 or from a local copy (`--local DIR`).
    ValidateLogs(validate::ValidateLogsArgs),
    /// Run the server (CloudWatch Logs API on awsJson 1.1, SigV4-authenticated).
    Serve {
        /// Address to listen on.
        #[arg(long, env = "WATCHTRAIL_LISTEN")]
        listen: Option<String>,
        /// Data directory (WAL, segments, catalog, credentials).
        #[arg(long, env = "WATCHTRAIL_DATA")]
        data: Option<PathBuf>,
        /// Home region, used by offline subcommands and printed for clients.
        #[arg(long, env = "WATCHTRAIL_REGION")]
        region: Option<String>,
        /// TOML config file with [server] and [storage] tables.
        #[arg(long, env = "WATCHTRAIL_CONFIG")]
        config: Option<PathBuf>,
        /// Keep segments in an S3-compatible bucket (s3://bucket/prefix) instead of the data directory.
        #[arg(long, env = "WATCHTRAIL_SEGMENT_URL")]
        segment_url: Option<String>,
        /// Log line format: text or json.
        #[arg(long, env = "WATCHTRAIL_LOG_FORMAT")]
        log_format: Option<String>,
    },
    /// Bulk-load AWS log files (VPC Flow, ALB/ELB/NLB, S3, CloudFront, WAF, Route 53, Lambda,
    /// CloudTrail, …; plain, gzip or zstd) into log groups, through the durable write path.
    /// Idempotent: files already imported are skipped. The server must not be running on DIR.
    Import {
        /// Files, directories (recursive) or glob patterns.
        #[arg(required = true)]
        inputs: Vec<String>,
        /// `auto` (detect from the object key layout, then from a sample of lines) or a format name.
        #[arg(long, default_value = "auto")]
        format: String,
        /// Put everything into this log group instead of the per-format default.
        #[arg(long)]
        log_group: Option<String>,
        #[arg(long, env = "WATCHTRAIL_DATA", default_value = config::DEFAULT_DATA_DIR)]
        data: PathBuf,
        #[arg(long, env = "WATCHTRAIL_REGION", default_value = config::DEFAULT_REGION)]
        region: String,
        /// Do not draw the progress bar.
        #[arg(long)]
        no_progress: bool,
    },
    /// Run a Logs Insights query over log files, with no server: CloudTrail trail files
    /// (`{"Records":[…]}`, .json/.json.gz), NDJSON, VPC Flow Logs and the other AWS formats, or
    /// plain text lines; plain, gzip or zstd; files, directories (recursive) or globs.
    Query {
        /// The query, in the Logs Insights query language.
        query: String,
        /// Files, directories (recursive) or glob patterns.
        #[arg(long, required = true, num_args = 1..)]
        files: Vec<String>,
        /// table, json (one object per line) or csv.
        #[arg(long, default_value = "table")]
        output: query::OutputFormat,
        /// `auto` (CloudTrail files by content, others from the key layout or a sample of lines) or a format name.
        #[arg(long, default_value = "auto")]
        format: String,
        /// Only events at or after this time (epoch seconds, epoch milliseconds or ISO 8601).
        #[arg(long)]
        start: Option<String>,
        /// Only events at or before this time (epoch seconds, epoch milliseconds or ISO 8601).
        #[arg(long)]
        end: Option<String>,
        /// Rows to return when the query has no `limit` (default 10,000, as StartQuery).
        #[arg(long)]
        limit: Option<usize>,
        /// Do not draw the progress bar.
        #[arg(long)]
        no_progress: bool,
    },
}

fn parse_format_name(format: &str) -> anyhow::Result<Option<watchtrail_formats::FormatKind>> {
    match format {
        "auto" => Ok(None),
        name => name
            .parse::<watchtrail_formats::FormatKind>()
            .map(Some)
            .map_err(|_| {
                let known: Vec<&str> = watchtrail_formats::FormatKind::ALL
                    .iter()
                    .map(|k| k.name())
                    .collect();
                anyhow::anyhow!(
                    "unknown format {name:?}; known formats: auto, {}",
                    known.join(", ")
                )
            }),
    }
}

fn init_tracing(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("WATCHTRAIL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::ValidateLogs(args) => {
            let code = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?
                .block_on(validate::run(args))?;
            std::process::exit(code);
        }
        Command::Serve {
            listen,
            data,
            region,
            config,
            segment_url,
            log_format,
        } => {
            let file = match &config {
                Some(path) => config::ConfigFile::load(path)?,
                None => config::ConfigFile::default(),
            };
            let settings = config::ServeSettings::resolve(
                config::ServeOverrides {
                    listen,
                    data,
                    region,
                    segment_url,
                    log_format,
                },
                file,
            )?;
            init_tracing(settings.json_logs);
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(serve::run(settings))
        }
        Command::Import {
            inputs,
            format,
            log_group,
            data,
            region,
            no_progress,
        } => {
            init_tracing(false);
            // `watchtrail import cloudtrail …` loads trail files into the event history as well.
            if inputs.len() > 1 && inputs[0] == "cloudtrail" {
                return import_cloudtrail::main(
                    &inputs[1..],
                    log_group,
                    &data,
                    &region,
                    !no_progress,
                );
            }
            let format = parse_format_name(&format)?;
            let files = import::expand_inputs(&inputs)?;
            let options = import::ImportOptions {
                format,
                log_group,
                progress: !no_progress,
            };
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(async move {
                    let _lock = data_dir::DataDirLock::acquire(&data)?;
                    let (root, _) = data_dir::root_credentials(&data, &region)?;
                    let store =
                        watchtrail_store::Store::open(watchtrail_store::StoreConfig::new(&data))
                            .await
                            .map_err(|e| anyhow::anyhow!("opening store: {e}"))?;
                    let scope = watchtrail_store::Scope {
                        account_id: root.account_id.clone(),
                        region,
                    };
                    let started = std::time::Instant::now();
                    let result = import::run(&store, &scope, &files, &options).await;
                    store
                        .shutdown()
                        .await
                        .map_err(|e| anyhow::anyhow!("flushing: {e}"))?;
                    let summary = result?;
                    summary.print(started.elapsed().as_secs_f64());
                    if !summary.files_failed.is_empty() {
                        anyhow::bail!(
                            "{} file(s) could not be imported",
                            summary.files_failed.len()
                        );
                    }
                    Ok(())
                })
        }
        Command::Query {
            query,
            files,
            output,
            format,
            start,
            end,
            limit,
            no_progress,
        } => {
            init_tracing(false);
            let parsed = watchtrail_insights::parse(&query).map_err(|e| {
                anyhow::anyhow!(
                    "MalformedQueryException: {e}\n  {query}\n  {}{}",
                    " ".repeat(e.start),
                    "^".repeat((e.end - e.start).max(1))
                )
            })?;
            let options = query::FileQueryOptions {
                format: parse_format_name(&format)?,
                start_ms: start
                    .as_deref()
                    .map(query::parse_time_bound)
                    .transpose()?
                    .unwrap_or(i64::MIN),
                end_ms: end
                    .as_deref()
                    .map(query::parse_time_bound)
                    .transpose()?
                    .unwrap_or(i64::MAX),
                limit,
                progress: !no_progress,
            };
            let files = import::expand_inputs(&files)?;
            let (result, report) = query::run(&parsed, &files, &options);
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            query::write_output(&mut out, output, &parsed, &result)?;
            std::io::Write::flush(&mut out)?;
            eprintln!(
                "{} row(s); {} record(s) matched, {} scanned, {:.1} MB scanned in {} file(s)",
                result.rows.len(),
                result.records_matched,
                result.records_scanned,
                result.bytes_scanned as f64 / 1e6,
                report.files_read
            );
            for (path, error) in &report.files_failed {
                eprintln!("  failed: {}: {error}", path.display());
            }
            if !report.files_failed.is_empty() {
                anyhow::bail!("{} file(s) could not be read", report.files_failed.len());
            }
            Ok(())
        }
    }
}
