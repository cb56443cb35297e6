//! The CloudTrail service (`CloudTrail_20131101`): every call to watchtrail becomes a CloudTrail
//! record; records feed the event history (LookupEvents) and trails, which deliver log files and
//! signed digest files to S3-compatible buckets.
//!
//! Depends on the protocol crate for the wire contract. It never touches HTTP routing itself.

mod record;

pub use record::{AuditRecord, EventCategory, RecordSink};

use async_trait::async_trait;
use serde_json::Value;
use watchtrail_protocol::{AwsError, AwsJsonService, RequestContext, ServiceModel};

pub struct CloudTrailService {
    model: ServiceModel,
}

impl CloudTrailService {
    pub fn new() -> Self {
        let model = ServiceModel::from_gzip(watchtrail_protocol::model::CLOUDTRAIL_MODEL)
            .expect("the embedded CloudTrail model is valid");
        CloudTrailService { model }
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

    async fn call(
        &self,
        _context: &RequestContext,
        operation: &str,
        _input: Value,
    ) -> Result<Value, AwsError> {
        Err(AwsError::client(
            "UnsupportedOperationException",
            format!("watchtrail does not implement CloudTrail {operation} yet"),
        ))
    }
}
