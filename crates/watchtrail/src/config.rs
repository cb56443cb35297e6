//! Server configuration: flags, then `WATCHTRAIL_*` environment variables, then a TOML file, then defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:4588";
pub const DEFAULT_DATA_DIR: &str = "./watchtrail-data";
pub const DEFAULT_REGION: &str = "us-east-1";

/// The `[server]`/`[storage]` tables of a config file; every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub server: ServerSection,
    #[serde(default)]
    pub storage: StorageSection,
    #[serde(default)]
    pub cloudtrail: CloudTrailSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    pub listen: Option<String>,
    pub data: Option<PathBuf>,
    pub region: Option<String>,
    pub log_format: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSection {
    /// `s3://bucket/prefix` to keep segments in an S3-compatible bucket.
    pub segment_url: Option<String>,
    pub memtable_flush_mib: Option<usize>,
    pub memtable_limit_mib: Option<usize>,
    pub flush_interval_seconds: Option<u64>,
    pub min_free_disk_mib: Option<u64>,
    pub retention_interval_seconds: Option<u64>,
}

/// Trail delivery (`WATCHTRAIL_CLOUDTRAIL_*` variables override these).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudTrailSection {
    pub delivery_interval_seconds: Option<u64>,
    pub digest_interval_seconds: Option<u64>,
    pub key_rotation_seconds: Option<u64>,
    /// An external S3-compatible endpoint for trail buckets instead of the embedded one.
    pub s3_endpoint: Option<String>,
    pub s3_access_key_id: Option<String>,
    pub s3_secret_access_key: Option<String>,
    pub s3_region: Option<String>,
}

impl ConfigFile {
    pub fn load(path: &Path) -> anyhow::Result<ConfigFile> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("reading config file {}: {e}", path.display()))?;
        toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("parsing config file {}: {e}", path.display()))
    }
}

#[derive(Debug, Clone)]
pub struct ServeSettings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub region: String,
    pub json_logs: bool,
    pub store: watchtrail_store::StoreConfig,
    pub cloudtrail: CloudTrailSection,
}

pub struct ServeOverrides {
    pub listen: Option<String>,
    pub data: Option<PathBuf>,
    pub region: Option<String>,
    pub segment_url: Option<String>,
    pub log_format: Option<String>,
}

impl ServeSettings {
    pub fn resolve(overrides: ServeOverrides, file: ConfigFile) -> anyhow::Result<ServeSettings> {
        let listen = overrides
            .listen
            .or(file.server.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.to_string());
        let listen: SocketAddr = listen.parse().map_err(|e| {
            anyhow::anyhow!("--listen {listen:?} is not an address like 127.0.0.1:4588: {e}")
        })?;
        let data_dir = overrides
            .data
            .or(file.server.data)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let region = overrides
            .region
            .or(file.server.region)
            .unwrap_or_else(|| DEFAULT_REGION.to_string());
        let log_format = overrides
            .log_format
            .or(file.server.log_format)
            .unwrap_or_else(|| "text".into());
        let json_logs = match log_format.as_str() {
            "json" => true,
            "text" => false,
            other => anyhow::bail!("log format must be text or json, got {other:?}"),
        };
        let mut store = watchtrail_store::StoreConfig::new(&data_dir);
        store.segment_url = overrides.segment_url.or(file.storage.segment_url.clone());
        let s = &file.storage;
        if let Some(v) = s.memtable_flush_mib {
            store.memtable_flush_bytes = v << 20;
        }
        if let Some(v) = s.memtable_limit_mib {
            store.memtable_limit_bytes = v << 20;
        }
        if let Some(v) = s.flush_interval_seconds {
            store.flush_interval = std::time::Duration::from_secs(v.max(1));
        }
        if let Some(v) = s.min_free_disk_mib {
            store.min_free_disk_bytes = v << 20;
        }
        if let Some(v) = s.retention_interval_seconds {
            store.retention_interval = std::time::Duration::from_secs(v.max(1));
        }
        Ok(ServeSettings {
            listen,
            data_dir,
            region,
            json_logs,
            store,
            cloudtrail: file.cloudtrail,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloudtrail_section_is_read_and_checked() {
        let file: ConfigFile = toml::from_str(
            "[cloudtrail]\ndelivery_interval_seconds = 60\ns3_endpoint = \"http://127.0.0.1:9000\"\n",
        )
        .unwrap();
        assert_eq!(file.cloudtrail.delivery_interval_seconds, Some(60));
        assert_eq!(
            file.cloudtrail.s3_endpoint.as_deref(),
            Some("http://127.0.0.1:9000")
        );
        assert!(toml::from_str::<ConfigFile>("[cloudtrail]\ndelivery_seconds = 1\n").is_err());
    }

    #[test]
    fn flags_beat_file_beats_defaults() {
        let file: ConfigFile = toml::from_str(
            "[server]\nlisten = \"0.0.0.0:9000\"\nregion = \"eu-west-1\"\n[storage]\nmemtable_flush_mib = 8\n",
        )
        .unwrap();
        let settings = ServeSettings::resolve(
            ServeOverrides {
                listen: Some("127.0.0.1:1234".into()),
                data: None,
                region: None,
                segment_url: None,
                log_format: None,
            },
            file,
        )
        .unwrap();
        assert_eq!(settings.listen.port(), 1234);
        assert_eq!(settings.region, "eu-west-1");
        assert_eq!(settings.data_dir, PathBuf::from(DEFAULT_DATA_DIR));
        assert_eq!(settings.store.memtable_flush_bytes, 8 << 20);
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<ConfigFile>("[server]\nlisten_addr = \"x\"\n").is_err());
    }
}
