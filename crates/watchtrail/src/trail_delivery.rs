//! Wiring CloudTrail trails into the server: their settings (`WATCHTRAIL_CLOUDTRAIL_*`) and the
//! log-group hand-off over the store, for trails with `CloudWatchLogsLogGroupArn`.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use watchtrail_cloudtrail::{LogGroupDelivery, S3Target, TrailsConfig};
use watchtrail_protocol::RootCredentials;

use crate::config::CloudTrailSection;
use watchtrail_store::{InputEvent, Scope, Store, StoreError};

/// The environment variable, else the config-file value.
fn seconds(name: &str, file: Option<u64>) -> anyhow::Result<Option<Duration>> {
    let secs = match std::env::var(name) {
        Ok(v) => Some(
            v.trim()
                .parse::<u64>()
                .map_err(|_| anyhow::anyhow!("{name}={v:?} is not a whole number of seconds"))?,
        ),
        Err(_) => file,
    };
    Ok(secs.map(|s| Duration::from_secs(s.max(1))))
}

/// Trail settings: delivery to the embedded S3 endpoint on our own listener, signed with the root
/// credentials, unless `WATCHTRAIL_CLOUDTRAIL_S3_ENDPOINT` (`[cloudtrail] s3_endpoint`) names
/// another S3-compatible endpoint (with `…_S3_ACCESS_KEY_ID`/`_SECRET_ACCESS_KEY`/`_REGION`).
pub fn trails_config(
    data_dir: &Path,
    listen: SocketAddr,
    region: &str,
    root: &RootCredentials,
    file: &CloudTrailSection,
) -> anyhow::Result<TrailsConfig> {
    let var = |name: &str| {
        let from_file = match name {
            "WATCHTRAIL_CLOUDTRAIL_S3_ENDPOINT" => &file.s3_endpoint,
            "WATCHTRAIL_CLOUDTRAIL_S3_ACCESS_KEY_ID" => &file.s3_access_key_id,
            "WATCHTRAIL_CLOUDTRAIL_S3_SECRET_ACCESS_KEY" => &file.s3_secret_access_key,
            _ => &file.s3_region,
        };
        std::env::var(name)
            .ok()
            .or_else(|| from_file.clone())
            .filter(|v| !v.is_empty())
    };
    let s3 = match var("WATCHTRAIL_CLOUDTRAIL_S3_ENDPOINT") {
        Some(endpoint) => S3Target {
            endpoint,
            access_key_id: var("WATCHTRAIL_CLOUDTRAIL_S3_ACCESS_KEY_ID")
                .unwrap_or_else(|| root.access_key_id.clone()),
            secret_access_key: var("WATCHTRAIL_CLOUDTRAIL_S3_SECRET_ACCESS_KEY")
                .unwrap_or_else(|| root.secret_access_key.clone()),
            region: var("WATCHTRAIL_CLOUDTRAIL_S3_REGION").unwrap_or_else(|| region.to_string()),
        },
        None => {
            // A wildcard listen address is reached through loopback.
            let host = if listen.ip().is_unspecified() {
                SocketAddr::new([127, 0, 0, 1].into(), listen.port())
            } else {
                listen
            };
            S3Target {
                endpoint: format!("http://{host}"),
                access_key_id: root.access_key_id.clone(),
                secret_access_key: root.secret_access_key.clone(),
                region: region.to_string(),
            }
        }
    };
    let mut config = TrailsConfig::new(data_dir.join("cloudtrail"), s3);
    if let Some(d) = seconds(
        "WATCHTRAIL_CLOUDTRAIL_DELIVERY_SECONDS",
        file.delivery_interval_seconds,
    )? {
        config.delivery_interval = d;
    }
    if let Some(d) = seconds(
        "WATCHTRAIL_CLOUDTRAIL_DIGEST_SECONDS",
        file.digest_interval_seconds,
    )? {
        config.digest_interval = d;
    }
    if let Some(d) = seconds(
        "WATCHTRAIL_CLOUDTRAIL_KEY_ROTATION_SECONDS",
        file.key_rotation_seconds,
    )? {
        config.key_rotation = d;
    }
    Ok(config)
}

/// Appends trail records to log groups through the durable store, like PutLogEvents.
pub struct StoreLogGroups {
    pub store: Arc<Store>,
}

#[async_trait]
impl LogGroupDelivery for StoreLogGroups {
    async fn group_exists(&self, account: &str, region: &str, group: &str) -> Result<bool, String> {
        let scope = Scope {
            account_id: account.to_string(),
            region: region.to_string(),
        };
        self.store
            .log_group(&scope, group)
            .await
            .map(|g| g.is_some())
            .map_err(|e| e.to_string())
    }

    async fn deliver(
        &self,
        account: &str,
        region: &str,
        group: &str,
        stream: &str,
        events: Vec<(i64, String)>,
    ) -> Result<(), String> {
        let scope = Scope {
            account_id: account.to_string(),
            region: region.to_string(),
        };
        let now = chrono::Utc::now().timestamp_millis();
        let group = self
            .store
            .log_group(&scope, group)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("log group {group} no longer exists"))?;
        let stream_id = match self.store.log_stream(group.id, stream).await {
            Ok(Some(s)) => s.id,
            Ok(None) => match self.store.create_log_stream(group.id, stream, now).await {
                Ok(s) => s.id,
                Err(StoreError::LogStreamAlreadyExists) => {
                    self.store
                        .log_stream(group.id, stream)
                        .await
                        .map_err(|e| e.to_string())?
                        .ok_or("log stream vanished")?
                        .id
                }
                Err(e) => return Err(e.to_string()),
            },
            Err(e) => return Err(e.to_string()),
        };
        let events = events
            .into_iter()
            .map(|(timestamp, message)| InputEvent { timestamp, message })
            .collect();
        self.store
            .append(group.id, stream_id, now, events)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}
