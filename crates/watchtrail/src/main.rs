//! The `watchtrail` command: `serve` runs the server; other subcommands work on data offline.

mod config;
mod serve;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "watchtrail", version, about = "Self-hosted log and audit platform that speaks AWS's APIs")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
}

fn init_tracing(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("WATCHTRAIL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { listen, data, region, config, segment_url, log_format } => {
            let file = match &config {
                Some(path) => config::ConfigFile::load(path)?,
                None => config::ConfigFile::default(),
            };
            let settings = config::ServeSettings::resolve(
                config::ServeOverrides { listen, data, region, segment_url, log_format },
                file,
            )?;
            init_tracing(settings.json_logs);
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(serve::run(settings))
        }
    }
}
