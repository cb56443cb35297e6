//! The CloudTrail service (`CloudTrail_20131101`): every call to watchtrail becomes a CloudTrail
//! record; records feed the event history (LookupEvents) and trails, which deliver log files and
//! signed digest files to S3-compatible buckets.
//!
//! Depends on the protocol crate for the wire contract. It never touches HTTP routing itself.

pub mod delivery;
pub mod digest;
pub mod history;
mod identity;
pub mod import;
mod keys;
mod lookup;
pub mod operations;
mod persist;
mod record;
pub mod recorder;
mod selectors;
pub mod trails;
pub mod validation;

pub use delivery::{LogGroupDelivery, S3Target};
pub use history::History;
pub use keys::fingerprint as keys_fingerprint;
pub use record::{AuditRecord, EventCategory, RecordSink};
pub use recorder::Recorder;
pub use trails::{Trails, TrailsConfig};

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;
use watchtrail_protocol::{AwsError, AwsJsonService, RequestContext, ServiceModel};

pub struct CloudTrailService {
    model: ServiceModel,
    trails: Option<Arc<Trails>>,
    history: Option<Arc<History>>,
}

impl CloudTrailService {
    pub fn new() -> Self {
        let model = ServiceModel::from_gzip(watchtrail_protocol::model::CLOUDTRAIL_MODEL)
            .expect("the embedded CloudTrail model is valid");
        CloudTrailService {
            model,
            trails: None,
            history: None,
        }
    }

    /// Serves LookupEvents from `history`.
    pub fn with_history(mut self, history: Arc<History>) -> Self {
        self.history = Some(history);
        self
    }

    /// Serves the trail operations (CreateTrail … ListPublicKeys) from `trails`.
    pub fn with_trails(mut self, trails: Arc<Trails>) -> Self {
        self.trails = Some(trails);
        self
    }
}

impl Default for CloudTrailService {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl AwsJsonService for CloudTrailService {
    fn model(&self) -> &ServiceModel {
        &self.model
    }

    fn validation_error_code(&self) -> &'static str {
        "InvalidParameterException"
    }

    fn refine_validation_error(&self, operation: &str, input: &Value, error: AwsError) -> AwsError {
        match operation {
            "LookupEvents" => lookup::refine_validation_error(input, error),
            _ => error,
        }
    }

    async fn call(
        &self,
        context: &RequestContext,
        operation: &str,
        input: Value,
    ) -> Result<Value, AwsError> {
        if let Some(trails) = self
            .trails
            .as_ref()
            .filter(|_| trails::OPERATIONS.contains(&operation))
        {
            return trails.call(context, operation, input).await;
        }
        if let (Some(history), "LookupEvents") = (&self.history, operation) {
            return lookup::lookup_events(history, context, &input).await;
        }
        Err(AwsError::client(
            "UnsupportedOperationException",
            format!("watchtrail does not implement CloudTrail {operation} yet"),
        ))
    }
}
