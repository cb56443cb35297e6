//! Trails: the trail API (CreateTrail … ListPublicKeys), their durable state, the
//! [`RecordSink`] that spools the records a logging trail selects, and the delivery cycle that
//! turns spooled records into log files and signed digest files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use watchtrail_protocol::{AwsError, RequestContext};

use crate::delivery::{read_batch, BucketCheck, Buckets, LogGroupDelivery, S3Target, Spool};
use crate::digest::{
    digest_document, digest_key, gzip, log_file_document, sha256_hex, string_to_sign,
    DeliveredLogFile, DigestInput, PreviousDigest, SIGNATURE_ALGORITHM,
};
use crate::keys::KeyRing;
use crate::persist::{read_checked, write_checked};
use crate::record::{AuditRecord, EventCategory, RecordSink};
use crate::selectors::{EventSelectors, RecordFields};

/// The operations this module answers.
pub const OPERATIONS: &[&str] = &[
    "CreateTrail",
    "GetTrail",
    "DescribeTrails",
    "ListTrails",
    "UpdateTrail",
    "DeleteTrail",
    "GetTrailStatus",
    "StartLogging",
    "StopLogging",
    "PutEventSelectors",
    "GetEventSelectors",
    "AddTags",
    "RemoveTags",
    "ListTags",
    "ListPublicKeys",
];

const MAX_TRAILS_PER_REGION: usize = 5;
const MAX_TAGS: usize = 50;

#[derive(Debug, Clone)]
pub struct TrailsConfig {
    /// `DATA/cloudtrail`: trail state, spool and signing keys.
    pub dir: PathBuf,
    /// How often spooled records become log files (AWS: about 5 minutes).
    pub delivery_interval: Duration,
    /// How often a digest file closes (AWS: hourly).
    pub digest_interval: Duration,
    /// How long one signing key signs before a new one replaces it.
    pub key_rotation: Duration,
    pub s3: S3Target,
}

impl TrailsConfig {
    pub fn new(dir: PathBuf, s3: S3Target) -> TrailsConfig {
        TrailsConfig {
            dir,
            delivery_interval: Duration::from_secs(300),
            digest_interval: Duration::from_secs(3600),
            key_rotation: Duration::from_secs(30 * 24 * 3600),
            s3,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct TrailStatus {
    is_logging: bool,
    start_logging_ms: Option<i64>,
    stop_logging_ms: Option<i64>,
    latest_delivery_ms: Option<i64>,
    latest_delivery_attempt_ms: Option<i64>,
    latest_delivery_error: Option<String>,
    latest_digest_delivery_ms: Option<i64>,
    latest_digest_delivery_error: Option<String>,
    latest_cloudwatch_delivery_ms: Option<i64>,
    latest_cloudwatch_delivery_error: Option<String>,
}

/// A digest chain for one source region of a trail.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Chain {
    /// Start of the next digest's window: the previous digest's end, or when logging started.
    window_start_ms: i64,
    previous: Option<PreviousDigest>,
    /// Log files delivered since the previous digest.
    pending: Vec<DeliveredLogFile>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Trail {
    /// Internal identity: a deleted and recreated trail is a different trail with its own spool.
    id: String,
    name: String,
    account_id: String,
    home_region: String,
    s3_bucket_name: String,
    s3_key_prefix: Option<String>,
    include_global_service_events: bool,
    is_multi_region_trail: bool,
    log_file_validation: bool,
    cloudwatch_logs_log_group_arn: Option<String>,
    cloudwatch_logs_role_arn: Option<String>,
    tags: BTreeMap<String, String>,
    selectors: EventSelectors,
    status: TrailStatus,
    chains: BTreeMap<String, Chain>,
}

impl Trail {
    fn arn(&self) -> String {
        trail_arn(&self.home_region, &self.account_id, &self.name)
    }

    fn describe(&self) -> Value {
        let mut out = self.settings();
        out.insert("HomeRegion".into(), json!(self.home_region));
        out.insert(
            "HasCustomEventSelectors".into(),
            json!(self.selectors.is_custom()),
        );
        out.insert("HasInsightSelectors".into(), json!(false));
        Value::Object(out)
    }

    /// The members CreateTrail and UpdateTrail echo.
    fn settings(&self) -> Map<String, Value> {
        let mut out = Map::new();
        out.insert("Name".into(), json!(self.name));
        out.insert("S3BucketName".into(), json!(self.s3_bucket_name));
        if let Some(p) = &self.s3_key_prefix {
            out.insert("S3KeyPrefix".into(), json!(p));
        }
        out.insert(
            "IncludeGlobalServiceEvents".into(),
            json!(self.include_global_service_events),
        );
        out.insert(
            "IsMultiRegionTrail".into(),
            json!(self.is_multi_region_trail),
        );
        out.insert("TrailARN".into(), json!(self.arn()));
        out.insert(
            "LogFileValidationEnabled".into(),
            json!(self.log_file_validation),
        );
        if let Some(a) = &self.cloudwatch_logs_log_group_arn {
            out.insert("CloudWatchLogsLogGroupArn".into(), json!(a));
        }
        if let Some(a) = &self.cloudwatch_logs_role_arn {
            out.insert("CloudWatchLogsRoleArn".into(), json!(a));
        }
        out.insert("IsOrganizationTrail".into(), json!(false));
        out
    }
}

pub fn trail_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:cloudtrail:{region}:{account}:trail/{name}")
}

/// (account, home region, name)
type TrailKey = (String, String, String);

#[derive(Default, Serialize, Deserialize)]
struct State {
    trails: Vec<Trail>,
}

/// What `wants`/`accept` need of a logging trail, rebuilt after every change so recording never
/// waits on the state lock.
struct ActiveTrail {
    id: String,
    account_id: String,
    home_region: String,
    multi_region: bool,
    selectors: EventSelectors,
}

pub struct Trails {
    config: TrailsConfig,
    state: Mutex<BTreeMap<TrailKey, Trail>>,
    active: RwLock<Arc<Vec<ActiveTrail>>>,
    keys: KeyRing,
    spool: Spool,
    buckets: Buckets,
    log_groups: Option<Arc<dyn LogGroupDelivery>>,
    /// One delivery at a time, so log files and digests of a trail never interleave.
    delivery: tokio::sync::Mutex<()>,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn epoch_seconds(ms: i64) -> Value {
    json!(ms as f64 / 1000.0)
}

fn not_found(name: &str, account: &str) -> AwsError {
    AwsError::client(
        "TrailNotFoundException",
        format!("Unknown trail: {name} for the user: {account}"),
    )
}

impl Trails {
    pub fn open(
        config: TrailsConfig,
        log_groups: Option<Arc<dyn LogGroupDelivery>>,
    ) -> std::io::Result<Arc<Trails>> {
        std::fs::create_dir_all(&config.dir)?;
        let state: State = match read_checked(&config.dir.join("trails.json"))? {
            Some(bytes) => serde_json::from_slice(&bytes).map_err(std::io::Error::other)?,
            None => State::default(),
        };
        let trails = state
            .trails
            .into_iter()
            .map(|t| {
                (
                    (t.account_id.clone(), t.home_region.clone(), t.name.clone()),
                    t,
                )
            })
            .collect();
        let keys = KeyRing::open(&config.dir.join("keys"), config.key_rotation)?;
        let spool = Spool::open(&config.dir.join("spool"))?;
        let buckets = Buckets::new(config.s3.clone());
        let this = Arc::new(Trails {
            config,
            state: Mutex::new(trails),
            active: RwLock::new(Arc::new(Vec::new())),
            keys,
            spool,
            buckets,
            log_groups,
            delivery: tokio::sync::Mutex::new(()),
        });
        this.refresh_active(&this.state.lock().unwrap());
        Ok(this)
    }

    fn refresh_active(&self, trails: &BTreeMap<TrailKey, Trail>) {
        let active = trails
            .values()
            .filter(|t| t.status.is_logging)
            .map(|t| ActiveTrail {
                id: t.id.clone(),
                account_id: t.account_id.clone(),
                home_region: t.home_region.clone(),
                multi_region: t.is_multi_region_trail,
                selectors: t.selectors.clone(),
            })
            .collect();
        *self.active.write().unwrap() = Arc::new(active);
    }

    /// Persists the state; called with the state lock held so saves never reorder.
    fn save(&self, trails: &BTreeMap<TrailKey, Trail>) -> Result<(), AwsError> {
        let state = State {
            trails: trails.values().cloned().collect(),
        };
        let bytes = serde_json::to_vec(&state).expect("trail state serializes");
        write_checked(&self.config.dir.join("trails.json"), &bytes, false).map_err(|e| {
            tracing::error!(error = %e, "saving trail state");
            AwsError::service_unavailable("watchtrail could not save the trail state")
        })?;
        self.refresh_active(trails);
        Ok(())
    }

    pub async fn call(
        self: &Arc<Self>,
        context: &RequestContext,
        operation: &str,
        input: Value,
    ) -> Result<Value, AwsError> {
        match operation {
            "CreateTrail" => self.create_trail(context, &input).await,
            "GetTrail" => {
                let trail = self.find(context, required_str(&input, "Name")?)?;
                Ok(json!({ "Trail": trail.describe() }))
            }
            "DescribeTrails" => self.describe_trails(context, &input),
            "ListTrails" => Ok(self.list_trails(context)),
            "UpdateTrail" => self.update_trail(context, &input).await,
            "DeleteTrail" => self.delete_trail(context, &input).await,
            "GetTrailStatus" => {
                let trail = self.find(context, required_str(&input, "Name")?)?;
                Ok(status_response(&trail.status))
            }
            "StartLogging" => {
                let out = self.start_logging(context, &input)?;
                // Generating a signing key takes a moment: do it now, off the reactor, rather
                // than inside the first digest delivery.
                let this = self.clone();
                let account = context.account_id().to_string();
                let region = context.region.clone();
                let now = now_ms();
                let warmed = tokio::task::spawn_blocking(move || {
                    this.keys.public_keys(&account, &region, now, now, now)
                })
                .await;
                if let Ok(Err(e)) = warmed {
                    tracing::warn!(error = %e, "preparing the digest signing key");
                }
                Ok(out)
            }
            "StopLogging" => self.stop_logging(context, &input).await,
            "PutEventSelectors" => self.put_event_selectors(context, &input),
            "GetEventSelectors" => {
                let trail = self.find(context, required_str(&input, "TrailName")?)?;
                let mut out = trail.selectors.response_members();
                out.insert("TrailARN".into(), json!(trail.arn()));
                Ok(Value::Object(out))
            }
            "AddTags" => self.add_tags(context, &input),
            "RemoveTags" => self.remove_tags(context, &input),
            "ListTags" => self.list_tags(context, &input),
            "ListPublicKeys" => self.list_public_keys(context, &input).await,
            other => Err(AwsError::client(
                "UnsupportedOperationException",
                format!("watchtrail does not implement CloudTrail {other} yet"),
            )),
        }
    }

    /// Resolves a trail name or ARN as AWS does: names are looked up in the caller's region
    /// (including multi-region trails homed elsewhere), ARNs name the home region.
    fn resolve(&self, context: &RequestContext, name_or_arn: &str) -> Result<TrailKey, AwsError> {
        let account = context.account_id();
        if name_or_arn.starts_with("arn:") {
            let (region, arn_account, name) = parse_trail_arn(name_or_arn)?;
            if arn_account != account {
                return Err(not_found(name_or_arn, account));
            }
            let key = (arn_account, region, name);
            return if self.state.lock().unwrap().contains_key(&key) {
                Ok(key)
            } else {
                Err(not_found(name_or_arn, account))
            };
        }
        validate_trail_name(name_or_arn)?;
        let trails = self.state.lock().unwrap();
        let key = (
            account.to_string(),
            context.region.clone(),
            name_or_arn.to_string(),
        );
        if trails.contains_key(&key) {
            return Ok(key);
        }
        trails
            .iter()
            .find(|(k, t)| k.0 == account && k.2 == name_or_arn && t.is_multi_region_trail)
            .map(|(k, _)| k.clone())
            .ok_or_else(|| not_found(name_or_arn, account))
    }

    fn find(&self, context: &RequestContext, name_or_arn: &str) -> Result<Trail, AwsError> {
        let key = self.resolve(context, name_or_arn)?;
        self.state
            .lock()
            .unwrap()
            .get(&key)
            .cloned()
            .ok_or_else(|| not_found(name_or_arn, context.account_id()))
    }

    /// Mutating calls must come from the trail's home region.
    fn resolve_home(
        &self,
        context: &RequestContext,
        name_or_arn: &str,
    ) -> Result<TrailKey, AwsError> {
        let key = self.resolve(context, name_or_arn)?;
        if key.1 != context.region {
            return Err(AwsError::client(
                "InvalidHomeRegionException",
                format!(
                    "This operation must be called from the trail's home region, {}.",
                    key.1
                ),
            ));
        }
        Ok(key)
    }

    async fn check_bucket(&self, bucket: &str) -> Result<(), AwsError> {
        validate_bucket_name(bucket)?;
        match self.buckets.check(bucket).await {
            BucketCheck::Exists => Ok(()),
            BucketCheck::Missing => Err(AwsError::client(
                "S3BucketDoesNotExistException",
                format!("S3 bucket {bucket} does not exist."),
            )),
            BucketCheck::Unreachable(reason) => {
                tracing::warn!(bucket, %reason, "trail bucket check failed");
                Err(AwsError::client(
                    "InsufficientS3BucketPolicyException",
                    format!("Incorrect S3 bucket policy is detected for bucket: {bucket}"),
                ))
            }
        }
    }

    async fn check_log_group(
        &self,
        context: &RequestContext,
        group_arn: Option<&str>,
        role_arn: Option<&str>,
    ) -> Result<(), AwsError> {
        let Some(group_arn) = group_arn else {
            if role_arn.is_some() {
                return Err(AwsError::client(
                    "InvalidCloudWatchLogsLogGroupArnException",
                    "You must specify a log group ARN along with a role ARN.",
                ));
            }
            return Ok(());
        };
        let (region, account, group) = parse_log_group_arn(group_arn)?;
        let Some(role_arn) = role_arn else {
            return Err(AwsError::client(
                "InvalidCloudWatchLogsRoleArnException",
                "You must specify a role ARN along with a log group ARN.",
            ));
        };
        if !role_arn.starts_with("arn:aws:iam::") || !role_arn.contains(":role/") {
            return Err(AwsError::client(
                "InvalidCloudWatchLogsRoleArnException",
                format!("Role ARN {role_arn} is not valid."),
            ));
        }
        if account != context.account_id() || region != context.region {
            return Err(AwsError::client(
                "InvalidCloudWatchLogsLogGroupArnException",
                "The log group must be in the trail's account and home region.",
            ));
        }
        let Some(log_groups) = &self.log_groups else {
            return Err(AwsError::client(
                "CloudWatchLogsDeliveryUnavailableException",
                "This watchtrail server cannot deliver trail records to a log group.",
            ));
        };
        match log_groups.group_exists(&account, &region, &group).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(AwsError::client(
                "InvalidCloudWatchLogsLogGroupArnException",
                format!("Log group {group} does not exist."),
            )),
            Err(e) => {
                tracing::error!(error = %e, "looking up a trail's log group");
                Err(AwsError::service_unavailable(
                    "watchtrail could not look up the log group",
                ))
            }
        }
    }

    async fn create_trail(
        &self,
        context: &RequestContext,
        input: &Value,
    ) -> Result<Value, AwsError> {
        let name = required_str(input, "Name")?;
        validate_trail_name(name)?;
        reject_unsupported(input)?;
        let bucket = required_str(input, "S3BucketName")?;
        let prefix = optional_prefix(input)?;
        let tags = tag_map(
            input["TagsList"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or(&[]),
        )?;
        if tags.len() > MAX_TAGS {
            return Err(tags_limit());
        }
        let account = context.account_id().to_string();
        let key = (account.clone(), context.region.clone(), name.to_string());
        {
            let trails = self.state.lock().unwrap();
            if trails.contains_key(&key)
                || trails
                    .iter()
                    .any(|(k, t)| k.0 == account && k.2 == name && t.is_multi_region_trail)
            {
                return Err(AwsError::client(
                    "TrailAlreadyExistsException",
                    format!("Trail {name} already exists for customer: {account}"),
                ));
            }
            let in_region = trails
                .keys()
                .filter(|k| k.0 == account && k.1 == context.region)
                .count();
            if in_region >= MAX_TRAILS_PER_REGION {
                return Err(AwsError::client(
                    "MaximumNumberOfTrailsExceededException",
                    format!(
                        "User: {} already has {MAX_TRAILS_PER_REGION} trails in {}.",
                        context.principal.arn, context.region
                    ),
                ));
            }
        }
        let group_arn = input["CloudWatchLogsLogGroupArn"]
            .as_str()
            .filter(|s| !s.is_empty());
        let role_arn = input["CloudWatchLogsRoleArn"]
            .as_str()
            .filter(|s| !s.is_empty());
        self.check_log_group(context, group_arn, role_arn).await?;
        self.check_bucket(bucket).await?;
        let trail = Trail {
            id: uuid::Uuid::new_v4().simple().to_string(),
            name: name.to_string(),
            account_id: account.clone(),
            home_region: context.region.clone(),
            s3_bucket_name: bucket.to_string(),
            s3_key_prefix: prefix,
            include_global_service_events: input["IncludeGlobalServiceEvents"]
                .as_bool()
                .unwrap_or(true),
            is_multi_region_trail: input["IsMultiRegionTrail"].as_bool().unwrap_or(false),
            log_file_validation: input["EnableLogFileValidation"].as_bool().unwrap_or(false),
            cloudwatch_logs_log_group_arn: group_arn.map(String::from),
            cloudwatch_logs_role_arn: role_arn.map(String::from),
            tags,
            selectors: EventSelectors::Default,
            status: TrailStatus::default(),
            chains: BTreeMap::new(),
        };
        if trail.is_multi_region_trail && !trail.include_global_service_events {
            return Err(AwsError::client(
                "InvalidParameterCombinationException",
                "Multi-Region trail must include global service events.",
            ));
        }
        let mut trails = self.state.lock().unwrap();
        if trails.contains_key(&key) {
            return Err(AwsError::client(
                "TrailAlreadyExistsException",
                format!("Trail {name} already exists for customer: {account}"),
            ));
        }
        let out = Value::Object(trail.settings());
        trails.insert(key, trail);
        self.save(&trails)?;
        Ok(out)
    }

    async fn update_trail(
        &self,
        context: &RequestContext,
        input: &Value,
    ) -> Result<Value, AwsError> {
        let key = self.resolve_home(context, required_str(input, "Name")?)?;
        reject_unsupported(input)?;
        let current = self
            .state
            .lock()
            .unwrap()
            .get(&key)
            .cloned()
            .ok_or_else(|| not_found(&key.2, &key.0))?;
        let bucket = input["S3BucketName"].as_str();
        if let Some(bucket) = bucket {
            if bucket != current.s3_bucket_name {
                self.check_bucket(bucket).await?;
            }
        }
        let prefix = if input.get("S3KeyPrefix").is_some_and(|v| !v.is_null()) {
            Some(optional_prefix(input)?)
        } else {
            None
        };
        // An empty string clears the CloudWatch Logs delivery, as in AWS.
        let group_arn = match input["CloudWatchLogsLogGroupArn"].as_str() {
            Some("") => None,
            Some(a) => Some(a.to_string()),
            None => current.cloudwatch_logs_log_group_arn.clone(),
        };
        let role_arn = match input["CloudWatchLogsRoleArn"].as_str() {
            Some("") => None,
            Some(a) => Some(a.to_string()),
            None if group_arn.is_none() => None,
            None => current.cloudwatch_logs_role_arn.clone(),
        };
        if group_arn != current.cloudwatch_logs_log_group_arn
            || role_arn != current.cloudwatch_logs_role_arn
        {
            self.check_log_group(context, group_arn.as_deref(), role_arn.as_deref())
                .await?;
        }
        let mut trails = self.state.lock().unwrap();
        let trail = trails
            .get_mut(&key)
            .ok_or_else(|| not_found(&key.2, &key.0))?;
        let mut updated = trail.clone();
        if let Some(bucket) = bucket {
            updated.s3_bucket_name = bucket.to_string();
        }
        if let Some(prefix) = prefix {
            updated.s3_key_prefix = prefix;
        }
        if let Some(v) = input["IncludeGlobalServiceEvents"].as_bool() {
            updated.include_global_service_events = v;
        }
        if let Some(v) = input["IsMultiRegionTrail"].as_bool() {
            updated.is_multi_region_trail = v;
        }
        if updated.is_multi_region_trail && !updated.include_global_service_events {
            return Err(AwsError::client(
                "InvalidParameterCombinationException",
                "Multi-Region trail must include global service events.",
            ));
        }
        if let Some(v) = input["EnableLogFileValidation"].as_bool() {
            if v && !updated.log_file_validation {
                // A new chain starts now; files delivered while validation was off stay undigested.
                let now = now_ms();
                for chain in updated.chains.values_mut() {
                    chain.window_start_ms = now;
                    chain.pending.clear();
                }
            }
            if !v {
                updated.chains.clear();
            }
            updated.log_file_validation = v;
        }
        updated.cloudwatch_logs_log_group_arn = group_arn;
        updated.cloudwatch_logs_role_arn = role_arn;
        *trail = updated.clone();
        self.save(&trails)?;
        Ok(Value::Object(updated.settings()))
    }

    async fn delete_trail(
        &self,
        context: &RequestContext,
        input: &Value,
    ) -> Result<Value, AwsError> {
        let key = self.resolve_home(context, required_str(input, "Name")?)?;
        let logging = self
            .state
            .lock()
            .unwrap()
            .get(&key)
            .is_some_and(|t| t.status.is_logging);
        if logging {
            // AWS closes the trail's files and digest chain when it is deleted.
            self.set_logging(&key, false)?;
            self.deliver_trail(&key, true).await;
        }
        let mut trails = self.state.lock().unwrap();
        let trail = trails
            .remove(&key)
            .ok_or_else(|| not_found(&key.2, &key.0))?;
        self.save(&trails)?;
        drop(trails);
        self.spool.discard(&trail.id);
        Ok(json!({}))
    }

    fn describe_trails(&self, context: &RequestContext, input: &Value) -> Result<Value, AwsError> {
        let include_shadow = input["includeShadowTrails"].as_bool().unwrap_or(true);
        let account = context.account_id();
        let names: Vec<&str> = input["trailNameList"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let trails = self.state.lock().unwrap();
        let visible = trails.values().filter(|t| {
            t.account_id == account
                && (t.home_region == context.region || (include_shadow && t.is_multi_region_trail))
        });
        let list: Vec<Value> = if names.is_empty() {
            visible.map(Trail::describe).collect()
        } else {
            for name in &names {
                if name.starts_with("arn:") {
                    parse_trail_arn(name)?;
                } else {
                    validate_trail_name(name)?;
                }
            }
            visible
                .filter(|t| names.iter().any(|n| *n == t.name || *n == t.arn()))
                .map(Trail::describe)
                .collect()
        };
        Ok(json!({ "trailList": list }))
    }

    fn list_trails(&self, context: &RequestContext) -> Value {
        let trails = self.state.lock().unwrap();
        let list: Vec<Value> = trails
            .values()
            .filter(|t| t.account_id == context.account_id())
            .map(|t| json!({"TrailARN": t.arn(), "Name": t.name, "HomeRegion": t.home_region}))
            .collect();
        json!({ "Trails": list })
    }

    fn set_logging(&self, key: &TrailKey, logging: bool) -> Result<(), AwsError> {
        let mut trails = self.state.lock().unwrap();
        let trail = trails
            .get_mut(key)
            .ok_or_else(|| not_found(&key.2, &key.0))?;
        let now = now_ms();
        if logging && !trail.status.is_logging {
            trail.status.start_logging_ms = Some(now);
            for chain in trail.chains.values_mut() {
                chain.window_start_ms = now;
            }
        } else if !logging && trail.status.is_logging {
            trail.status.stop_logging_ms = Some(now);
        }
        trail.status.is_logging = logging;
        self.save(&trails)
    }

    fn start_logging(&self, context: &RequestContext, input: &Value) -> Result<Value, AwsError> {
        let key = self.resolve_home(context, required_str(input, "Name")?)?;
        self.set_logging(&key, true)?;
        Ok(json!({}))
    }

    async fn stop_logging(
        &self,
        context: &RequestContext,
        input: &Value,
    ) -> Result<Value, AwsError> {
        let key = self.resolve_home(context, required_str(input, "Name")?)?;
        self.set_logging(&key, false)?;
        // Deliver what was recorded so far and close the digest chain, as AWS does on stop.
        self.deliver_trail(&key, true).await;
        Ok(json!({}))
    }

    fn put_event_selectors(
        &self,
        context: &RequestContext,
        input: &Value,
    ) -> Result<Value, AwsError> {
        let key = self.resolve_home(context, required_str(input, "TrailName")?)?;
        let selectors = EventSelectors::from_request(input)?;
        let mut trails = self.state.lock().unwrap();
        let trail = trails
            .get_mut(&key)
            .ok_or_else(|| not_found(&key.2, &key.0))?;
        trail.selectors = selectors;
        let mut out = trail.selectors.response_members();
        out.insert("TrailARN".into(), json!(trail.arn()));
        self.save(&trails)?;
        Ok(Value::Object(out))
    }

    fn tag_target(
        &self,
        context: &RequestContext,
        resource_id: &str,
    ) -> Result<TrailKey, AwsError> {
        let (region, account, name) = parse_trail_arn(resource_id)?;
        let key = (account, region, name);
        if key.0 != context.account_id() || !self.state.lock().unwrap().contains_key(&key) {
            return Err(AwsError::client(
                "ResourceNotFoundException",
                format!("Resource not found: {resource_id}"),
            ));
        }
        Ok(key)
    }

    fn add_tags(&self, context: &RequestContext, input: &Value) -> Result<Value, AwsError> {
        let key = self.tag_target(context, required_str(input, "ResourceId")?)?;
        let new = tag_map(
            input["TagsList"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or(&[]),
        )?;
        let mut trails = self.state.lock().unwrap();
        let trail = trails
            .get_mut(&key)
            .ok_or_else(|| not_found(&key.2, &key.0))?;
        let mut merged = trail.tags.clone();
        merged.extend(new);
        if merged.len() > MAX_TAGS {
            return Err(tags_limit());
        }
        trail.tags = merged;
        self.save(&trails)?;
        Ok(json!({}))
    }

    fn remove_tags(&self, context: &RequestContext, input: &Value) -> Result<Value, AwsError> {
        let key = self.tag_target(context, required_str(input, "ResourceId")?)?;
        let remove = tag_map(
            input["TagsList"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or(&[]),
        )?;
        let mut trails = self.state.lock().unwrap();
        let trail = trails
            .get_mut(&key)
            .ok_or_else(|| not_found(&key.2, &key.0))?;
        for k in remove.keys() {
            trail.tags.remove(k);
        }
        self.save(&trails)?;
        Ok(json!({}))
    }

    fn list_tags(&self, context: &RequestContext, input: &Value) -> Result<Value, AwsError> {
        let ids: Vec<&str> = input["ResourceIdList"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let mut out = Vec::new();
        for id in ids {
            let key = self.tag_target(context, id)?;
            let trails = self.state.lock().unwrap();
            let trail = trails.get(&key).ok_or_else(|| not_found(&key.2, &key.0))?;
            let tags: Vec<Value> = trail
                .tags
                .iter()
                .map(|(k, v)| json!({"Key": k, "Value": v}))
                .collect();
            out.push(json!({"ResourceId": id, "TagsList": tags}));
        }
        Ok(json!({ "ResourceTagList": out }))
    }

    async fn list_public_keys(
        self: &Arc<Self>,
        context: &RequestContext,
        input: &Value,
    ) -> Result<Value, AwsError> {
        if input["NextToken"].as_str().is_some() {
            return Err(AwsError::client(
                "InvalidTokenException",
                "Reference to the invalid token.",
            ));
        }
        let now = now_ms();
        let ms = |field: &str| input[field].as_f64().map(|s| (s * 1000.0) as i64);
        let end = ms("EndTime").unwrap_or(now);
        let start = ms("StartTime").unwrap_or(end);
        if start > end {
            return Err(AwsError::client(
                "InvalidTimeRangeException",
                "Occurs if the timestamp values are invalid. Either the start time occurs after the end time or the time range is outside the range of possible values.",
            ));
        }
        let this = self.clone();
        let account = context.account_id().to_string();
        let region = context.region.clone();
        let keys = tokio::task::spawn_blocking(move || {
            this.keys.public_keys(&account, &region, now, start, end)
        })
        .await
        .map_err(|e| AwsError::service_unavailable(format!("listing public keys: {e}")))?
        .map_err(|e| {
            tracing::error!(error = %e, "reading digest signing keys");
            AwsError::service_unavailable("watchtrail could not read its signing keys")
        })?;
        use base64::Engine;
        let list: Vec<Value> = keys
            .iter()
            .map(|k| {
                json!({
                    "Value": base64::engine::general_purpose::STANDARD.encode(&k.der),
                    "ValidityStartTime": epoch_seconds(k.valid_from_ms),
                    "ValidityEndTime": epoch_seconds(k.valid_until_ms),
                    "Fingerprint": k.fingerprint,
                })
            })
            .collect();
        Ok(json!({ "PublicKeyList": list }))
    }

    /// Retires the current digest signing key of an account and region.
    pub fn rotate_key(&self, account: &str, region: &str) -> std::io::Result<String> {
        self.keys.rotate(account, region, now_ms())
    }

    // ---- delivery ----

    /// Runs the delivery cycle until `shutdown` resolves, then delivers what is spooled.
    pub async fn run(self: Arc<Self>, shutdown: impl std::future::Future<Output = ()>) {
        let tick = self
            .config
            .delivery_interval
            .min(self.config.digest_interval)
            .min(Duration::from_secs(1));
        let mut ticker = tokio::time::interval(tick);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_delivery = tokio::time::Instant::now();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                _ = ticker.tick() => {}
            }
            let logs_due = last_delivery.elapsed() >= self.config.delivery_interval;
            if logs_due {
                last_delivery = tokio::time::Instant::now();
            }
            self.deliver_due(logs_due).await;
        }
        self.deliver_all_logs().await;
    }

    /// Delivers every trail's spool now (shutdown).
    pub async fn deliver_all_logs(&self) {
        let keys: Vec<TrailKey> = self.state.lock().unwrap().keys().cloned().collect();
        for key in keys {
            let _guard = self.delivery.lock().await;
            self.deliver_logs(&key).await;
        }
    }

    async fn deliver_due(&self, logs_due: bool) {
        let now = now_ms();
        let digest_ms = self.config.digest_interval.as_millis() as i64;
        let due: Vec<(TrailKey, bool)> = self
            .state
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, t)| t.status.is_logging)
            .map(|(k, t)| {
                let digest_due = t.log_file_validation
                    && (t.chains.is_empty()
                        && t.status.start_logging_ms.unwrap_or(now) + digest_ms <= now
                        || t.chains
                            .values()
                            .any(|c| c.window_start_ms + digest_ms <= now));
                (k.clone(), digest_due)
            })
            .collect();
        for (key, digest_due) in due {
            if logs_due || digest_due {
                let _guard = self.delivery.lock().await;
                self.deliver_logs(&key).await;
                if digest_due {
                    self.deliver_digests(&key).await;
                }
            }
        }
    }

    /// Delivers a trail's spool, then (if `close`) a digest for every region regardless of cadence.
    async fn deliver_trail(&self, key: &TrailKey, close: bool) {
        let _guard = self.delivery.lock().await;
        self.deliver_logs(key).await;
        if close {
            self.deliver_digests(key).await;
        }
    }

    async fn deliver_logs(&self, key: &TrailKey) {
        let Some(trail) = self.state.lock().unwrap().get(key).cloned() else {
            return;
        };
        let batches = match self.spool.take(&trail.id) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(trail = %trail.name, error = %e, "reading the trail spool");
                return;
            }
        };
        for batch in batches {
            let records = match read_batch(&batch) {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(trail = %trail.name, error = %e, "reading a spooled batch");
                    continue;
                }
            };
            let now = now_ms();
            let mut by_region: BTreeMap<String, Vec<Value>> = BTreeMap::new();
            for record in records {
                let region = record["awsRegion"].as_str().unwrap_or("").to_string();
                by_region.entry(region).or_default().push(record);
            }
            let mut delivered: Vec<(String, DeliveredLogFile)> = Vec::new();
            let mut error = None;
            for (region, records) in &by_region {
                let document = log_file_document(records);
                let times: Vec<i64> = records.iter().filter_map(event_time_ms).collect();
                let unique: String = uuid::Uuid::new_v4().simple().to_string()[..16].to_string();
                let object_key = crate::digest::log_file_key(
                    trail.s3_key_prefix.as_deref(),
                    &trail.account_id,
                    region,
                    now,
                    &unique,
                );
                let file = DeliveredLogFile {
                    bucket: trail.s3_bucket_name.clone(),
                    key: object_key.clone(),
                    sha256: sha256_hex(&document),
                    oldest_event_ms: times.iter().copied().min().unwrap_or(now),
                    newest_event_ms: times.iter().copied().max().unwrap_or(now),
                };
                match self
                    .buckets
                    .put(&trail.s3_bucket_name, &object_key, gzip(&document), &[])
                    .await
                {
                    Ok(()) => delivered.push((region.clone(), file)),
                    Err(e) => {
                        error = Some(e);
                        break;
                    }
                }
            }
            if let Some(group_arn) = &trail.cloudwatch_logs_log_group_arn {
                self.deliver_to_log_group(key, &trail, group_arn, &by_region)
                    .await;
            }
            let ok = error.is_none();
            {
                let mut trails = self.state.lock().unwrap();
                let Some(current) = trails.get_mut(key) else {
                    return;
                };
                current.status.latest_delivery_attempt_ms = Some(now);
                match &error {
                    None => {
                        current.status.latest_delivery_ms = Some(now);
                        current.status.latest_delivery_error = None;
                    }
                    Some(e) => {
                        tracing::warn!(trail = %trail.name, error = %e, "log file delivery failed; will retry");
                        current.status.latest_delivery_error = Some(e.clone());
                    }
                }
                if current.log_file_validation {
                    let start = current.status.start_logging_ms.unwrap_or(now);
                    for (region, file) in delivered {
                        current
                            .chains
                            .entry(region)
                            .or_insert_with(|| Chain {
                                window_start_ms: start,
                                ..Chain::default()
                            })
                            .pending
                            .push(file);
                    }
                }
                if let Err(e) = self.save(&trails) {
                    tracing::error!(error = %e.message, "saving trail state after delivery");
                    return;
                }
            }
            if ok {
                let _ = std::fs::remove_file(&batch);
            } else {
                // Keep the batch (and the ones after it) for the next cycle.
                return;
            }
        }
    }

    async fn deliver_to_log_group(
        &self,
        key: &TrailKey,
        trail: &Trail,
        group_arn: &str,
        by_region: &BTreeMap<String, Vec<Value>>,
    ) {
        let Some(log_groups) = &self.log_groups else {
            return;
        };
        let Ok((region, account, group)) = parse_log_group_arn(group_arn) else {
            return;
        };
        let mut result = Ok(());
        for (record_region, records) in by_region {
            let mut events: Vec<(i64, String)> = records
                .iter()
                .map(|r| (event_time_ms(r).unwrap_or_else(now_ms), r.to_string()))
                .collect();
            events.sort_by_key(|e| e.0);
            let stream = format!("{}_CloudTrail_{record_region}", trail.account_id);
            if let Err(e) = log_groups
                .deliver(&account, &region, &group, &stream, events)
                .await
            {
                result = Err(e);
                break;
            }
        }
        let mut trails = self.state.lock().unwrap();
        if let Some(current) = trails.get_mut(key) {
            match result {
                Ok(()) => {
                    current.status.latest_cloudwatch_delivery_ms = Some(now_ms());
                    current.status.latest_cloudwatch_delivery_error = None;
                }
                Err(e) => {
                    tracing::warn!(trail = %trail.name, error = %e, "log group delivery failed");
                    current.status.latest_cloudwatch_delivery_error = Some(e);
                }
            }
        }
    }

    async fn deliver_digests(&self, key: &TrailKey) {
        let Some(trail) = self.state.lock().unwrap().get(key).cloned() else {
            return;
        };
        if !trail.log_file_validation {
            return;
        }
        let mut regions: BTreeSet<String> = trail.chains.keys().cloned().collect();
        regions.insert(trail.home_region.clone());
        for region in regions {
            // Digest times have second precision and name the file: keep them whole seconds.
            let end_ms = now_ms() / 1000 * 1000;
            let chain = trail.chains.get(&region).cloned().unwrap_or(Chain {
                window_start_ms: trail.status.start_logging_ms.unwrap_or(end_ms),
                ..Chain::default()
            });
            let start_ms = chain.window_start_ms / 1000 * 1000;
            let mut end_ms = end_ms;
            if end_ms <= start_ms && chain.previous.is_some() {
                // A digest already ends this second and digest keys are per second: wait for the
                // next one rather than leave these files undigested.
                let wait = (start_ms + 1000 - now_ms()).max(0) as u64;
                tokio::time::sleep(Duration::from_millis(wait)).await;
                end_ms = start_ms + 1000;
            }
            let object_key = digest_key(
                trail.s3_key_prefix.as_deref(),
                &trail.account_id,
                &region,
                &trail.name,
                &trail.home_region,
                end_ms,
            );
            let result = self
                .write_digest(
                    &trail,
                    &region,
                    &object_key,
                    start_ms.min(end_ms),
                    end_ms,
                    &chain,
                )
                .await;
            let mut trails = self.state.lock().unwrap();
            let Some(current) = trails.get_mut(key) else {
                return;
            };
            match result {
                Ok(previous) => {
                    let entry = current.chains.entry(region.clone()).or_default();
                    let included = chain.pending.len().min(entry.pending.len());
                    entry.pending.drain(..included);
                    entry.previous = Some(previous);
                    entry.window_start_ms = end_ms;
                    current.status.latest_digest_delivery_ms = Some(now_ms());
                    current.status.latest_digest_delivery_error = None;
                }
                Err(e) => {
                    tracing::warn!(trail = %trail.name, error = %e, "digest delivery failed; will retry");
                    current.status.latest_digest_delivery_error = Some(e);
                }
            }
            if let Err(e) = self.save(&trails) {
                tracing::error!(error = %e.message, "saving trail state after a digest");
            }
        }
    }

    async fn write_digest(
        &self,
        trail: &Trail,
        region: &str,
        object_key: &str,
        start_ms: i64,
        end_ms: i64,
        chain: &Chain,
    ) -> Result<PreviousDigest, String> {
        // The key ring may generate a key; the CLI lists keys in the region it validates.
        let fingerprint = {
            let keys = self
                .keys
                .public_keys(&trail.account_id, region, end_ms, end_ms, end_ms)
                .map_err(|e| format!("loading the signing key: {e}"))?;
            keys.last()
                .map(|k| k.fingerprint.clone())
                .ok_or("no signing key")?
        };
        let document = digest_document(&DigestInput {
            account: &trail.account_id,
            bucket: &trail.s3_bucket_name,
            key: object_key,
            start_ms,
            end_ms,
            fingerprint: &fingerprint,
            previous: chain.previous.as_ref(),
            log_files: &chain.pending,
        });
        let value: Value = serde_json::from_slice(&document).expect("just serialized");
        let to_sign = string_to_sign(&value, &document);
        let signed = self
            .keys
            .sign(&trail.account_id, region, end_ms, to_sign.as_bytes())
            .map_err(|e| format!("signing the digest: {e}"))?;
        if signed.fingerprint != fingerprint {
            return Err("the signing key rotated while the digest was built".into());
        }
        self.buckets
            .put(
                &trail.s3_bucket_name,
                object_key,
                gzip(&document),
                &[
                    ("signature", &signed.signature_hex),
                    ("signature-algorithm", SIGNATURE_ALGORITHM),
                ],
            )
            .await?;
        Ok(PreviousDigest {
            bucket: trail.s3_bucket_name.clone(),
            key: object_key.to_string(),
            sha256: sha256_hex(&document),
            signature_hex: signed.signature_hex,
        })
    }
}

fn event_time_ms(record: &Value) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(record["eventTime"].as_str()?)
        .ok()
        .map(|t| t.timestamp_millis())
}

impl RecordSink for Trails {
    fn wants(&self, event_source: &str, event_name: &str, category: EventCategory) -> bool {
        let active = self.active.read().unwrap().clone();
        let fields = RecordFields {
            category,
            event_source,
            event_name,
            read_only: None,
            body: None,
        };
        active.iter().any(|t| t.selectors.selects(&fields))
    }

    fn accept(&self, record: &AuditRecord) {
        let active = self.active.read().unwrap().clone();
        let fields = RecordFields {
            category: record.category,
            event_source: &record.event_source,
            event_name: &record.event_name,
            read_only: Some(record.read_only),
            body: Some(&record.body),
        };
        let mut line: Option<Vec<u8>> = None;
        for trail in active.iter() {
            let region_ok = trail.multi_region || trail.home_region == record.region;
            if trail.account_id != record.account_id || !region_ok {
                continue;
            }
            if !trail.selectors.selects(&fields) {
                continue;
            }
            let bytes = line.get_or_insert_with(|| {
                serde_json::to_vec(&record.body).expect("a JSON value serializes")
            });
            if let Err(e) = self.spool.append(&trail.id, bytes) {
                tracing::error!(error = %e, "spooling a CloudTrail record");
            }
        }
    }
}

fn required_str<'a>(input: &'a Value, field: &str) -> Result<&'a str, AwsError> {
    input[field].as_str().ok_or_else(|| {
        AwsError::client("InvalidParameterException", format!("{field} is required"))
    })
}

fn tags_limit() -> AwsError {
    AwsError::client(
        "TagsLimitExceededException",
        format!("The number of tags on the trail cannot exceed {MAX_TAGS}."),
    )
}

fn tag_map(list: &[Value]) -> Result<BTreeMap<String, String>, AwsError> {
    let mut out = BTreeMap::new();
    for tag in list {
        let key = tag["Key"].as_str().unwrap_or("");
        if key.is_empty() || key.starts_with("aws:") {
            return Err(AwsError::client(
                "InvalidTagParameterException",
                format!("Tag key {key:?} is not valid: keys must be non-empty and must not start with aws:."),
            ));
        }
        out.insert(
            key.to_string(),
            tag["Value"].as_str().unwrap_or("").to_string(),
        );
    }
    Ok(out)
}

/// Features watchtrail has no backend for get an error instead of being silently ignored.
fn reject_unsupported(input: &Value) -> Result<(), AwsError> {
    if input["SnsTopicName"]
        .as_str()
        .is_some_and(|s| !s.is_empty())
    {
        return Err(AwsError::client(
            "InvalidSnsTopicNameException",
            "watchtrail has no SNS: SnsTopicName is not supported.",
        ));
    }
    if input["KmsKeyId"].as_str().is_some_and(|s| !s.is_empty()) {
        return Err(AwsError::client(
            "KmsKeyNotFoundException",
            "watchtrail has no KMS: log files cannot be encrypted with KmsKeyId.",
        ));
    }
    if input["IsOrganizationTrail"].as_bool() == Some(true) {
        return Err(AwsError::client(
            "OrganizationsNotInUseException",
            "This account is not using AWS Organizations.",
        ));
    }
    Ok(())
}

fn optional_prefix(input: &Value) -> Result<Option<String>, AwsError> {
    match input["S3KeyPrefix"].as_str() {
        None | Some("") => Ok(None),
        Some(p) if p.len() > 200 || p.starts_with('/') || p.ends_with('/') => {
            Err(AwsError::client(
                "InvalidS3PrefixException",
                format!("Invalid S3 prefix: {p}"),
            ))
        }
        Some(p) => Ok(Some(p.to_string())),
    }
}

fn validate_bucket_name(bucket: &str) -> Result<(), AwsError> {
    let ok = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
        && bucket.ends_with(|c: char| c.is_ascii_alphanumeric())
        && !bucket.contains("..");
    if ok {
        Ok(())
    } else {
        Err(AwsError::client(
            "InvalidS3BucketNameException",
            format!("Bucket name is not valid: {bucket}"),
        ))
    }
}

/// AWS's trail-name rules, with its messages.
pub fn validate_trail_name(name: &str) -> Result<(), AwsError> {
    let fail = |m: String| Err(AwsError::client("InvalidTrailNameException", m));
    if name.len() < 3 {
        return fail(format!("Trail name too short. Minimum allowed length: 3 characters. Specified name length: {} characters.", name.len()));
    }
    if name.len() > 128 {
        return fail(format!("Trail name too long. Maximum allowed length: 128 characters. Specified name length: {} characters.", name.len()));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
    {
        return fail("Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, periods (.), hyphens (-), and underscores (_).".into());
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return fail("Trail name must starts with a letter or number.".into());
    }
    if !name.ends_with(|c: char| c.is_ascii_alphanumeric()) {
        return fail("Trail name must ends with a letter or number.".into());
    }
    let bytes = name.as_bytes();
    if bytes
        .windows(2)
        .any(|w| !w[0].is_ascii_alphanumeric() && !w[1].is_ascii_alphanumeric())
    {
        return fail(
            "Trail name cannot have adjacent periods (.), hyphens (-), or underscores (_).".into(),
        );
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return fail("Trail name cannot be formatted as an IP address.".into());
    }
    Ok(())
}

/// `arn:PARTITION:cloudtrail:REGION:ACCOUNT:trail/NAME` → (region, account, name).
pub fn parse_trail_arn(arn: &str) -> Result<(String, String, String), AwsError> {
    let invalid = || {
        AwsError::client(
            "CloudTrailARNInvalidException",
            format!("Invalid trail ARN: {arn}"),
        )
    };
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" || parts[2] != "cloudtrail" {
        return Err(invalid());
    }
    let (region, account) = (parts[3], parts[4]);
    let name = parts[5].strip_prefix("trail/").ok_or_else(invalid)?;
    if region.is_empty() || account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    validate_trail_name(name)?;
    Ok((region.to_string(), account.to_string(), name.to_string()))
}

/// `arn:aws:logs:REGION:ACCOUNT:log-group:NAME:*` → (region, account, group name).
fn parse_log_group_arn(arn: &str) -> Result<(String, String, String), AwsError> {
    let invalid = || {
        AwsError::client(
            "InvalidCloudWatchLogsLogGroupArnException",
            format!("CloudWatch Logs log group ARN {arn} is not valid."),
        )
    };
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    if parts.len() != 7 || parts[0] != "arn" || parts[2] != "logs" || parts[5] != "log-group" {
        return Err(invalid());
    }
    let group = parts[6].strip_suffix(":*").ok_or_else(invalid)?;
    if group.is_empty() || parts[3].is_empty() || parts[4].is_empty() {
        return Err(invalid());
    }
    Ok((
        parts[3].to_string(),
        parts[4].to_string(),
        group.to_string(),
    ))
}

fn status_response(status: &TrailStatus) -> Value {
    let mut out = Map::new();
    out.insert("IsLogging".into(), json!(status.is_logging));
    let mut time = |name: &str, ms: Option<i64>| {
        if let Some(ms) = ms {
            out.insert(name.into(), epoch_seconds(ms));
        }
    };
    time("LatestDeliveryTime", status.latest_delivery_ms);
    time("StartLoggingTime", status.start_logging_ms);
    time("StopLoggingTime", status.stop_logging_ms);
    time("LatestDigestDeliveryTime", status.latest_digest_delivery_ms);
    time(
        "LatestCloudWatchLogsDeliveryTime",
        status.latest_cloudwatch_delivery_ms,
    );
    let text = |ms: Option<i64>| ms.map(|ms| json!(crate::digest::iso_seconds(ms)));
    for (name, value) in [
        ("TimeLoggingStarted", text(status.start_logging_ms)),
        ("TimeLoggingStopped", text(status.stop_logging_ms)),
        (
            "LatestDeliveryAttemptTime",
            text(status.latest_delivery_attempt_ms),
        ),
        (
            "LatestDeliveryError",
            status.latest_delivery_error.clone().map(Value::String),
        ),
        (
            "LatestDigestDeliveryError",
            status
                .latest_digest_delivery_error
                .clone()
                .map(Value::String),
        ),
        (
            "LatestCloudWatchLogsDeliveryError",
            status
                .latest_cloudwatch_delivery_error
                .clone()
                .map(Value::String),
        ),
    ] {
        if let Some(v) = value {
            out.insert(name.into(), v);
        }
    }
    if status.latest_delivery_attempt_ms.is_some() {
        out.insert(
            "LatestDeliveryAttemptSucceeded".into(),
            json!(text(status.latest_delivery_ms).unwrap_or(json!(""))),
        );
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trail_names_follow_aws_rules() {
        for good in ["abc", "My-Trail_1.x", "a1b"] {
            validate_trail_name(good).unwrap();
        }
        for bad in ["ab", "-abc", "abc-", "a--b", "a._b", "a b", "192.168.5.4"] {
            assert_eq!(
                validate_trail_name(bad).unwrap_err().code,
                "InvalidTrailNameException",
                "{bad}"
            );
        }
    }

    #[test]
    fn trail_arns_parse() {
        assert_eq!(
            parse_trail_arn("arn:aws:cloudtrail:us-east-1:123456789012:trail/trail1").unwrap(),
            ("us-east-1".into(), "123456789012".into(), "trail1".into())
        );
        assert_eq!(
            parse_trail_arn("arn:aws:cloudtrail:us-east-1:12:trail/t1")
                .unwrap_err()
                .code,
            "CloudTrailARNInvalidException"
        );
        assert_eq!(
            parse_log_group_arn("arn:aws:logs:us-east-1:123456789012:log-group:/ct/x:*").unwrap(),
            ("us-east-1".into(), "123456789012".into(), "/ct/x".into())
        );
    }
}
