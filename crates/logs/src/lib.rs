//! The CloudWatch Logs service (`Logs_20140328`): AWS's request semantics, validation beyond the
//! model, pagination and error codes, on top of the store.
//!
//! Depends on the protocol crate for the wire contract and on the store for durability; it never
//! touches HTTP, files or Parquet directly.

pub mod arn;
mod events;
mod groups;
mod insights;
mod insights_definitions;
mod insights_records;
pub mod insights_runs;
mod streams;
mod tags;
pub mod token;

use std::sync::Arc;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde_json::Value;
use watchtrail_protocol::{AwsError, AwsJsonService, RequestContext, ServiceModel};
use watchtrail_store::{Scope, Store, StoreError};

/// Retention values CloudWatch Logs accepts, in the order AWS lists them in its error message.
pub const RETENTION_DAYS: [i32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

pub struct LogsService {
    model: ServiceModel,
    store: Arc<Store>,
    insights: insights_runs::QueryRunner,
}

impl LogsService {
    pub fn new(store: Arc<Store>) -> Self {
        Self::with_insights(store, insights_runs::InsightsConfig::default())
    }

    /// Like [`LogsService::new`] with Logs Insights limits other than AWS's (tests, tuning).
    pub fn with_insights(store: Arc<Store>, insights: insights_runs::InsightsConfig) -> Self {
        let model = ServiceModel::from_gzip(watchtrail_protocol::model::LOGS_MODEL)
            .expect("the embedded CloudWatch Logs model is valid");
        LogsService {
            model,
            store,
            insights: insights_runs::QueryRunner::new(insights),
        }
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }
}

pub(crate) fn scope_of(context: &RequestContext) -> Scope {
    Scope {
        account_id: context.account_id().to_string(),
        region: context.region.clone(),
    }
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub(crate) fn invalid_parameter(message: impl Into<String>) -> AwsError {
    AwsError::client("InvalidParameterException", message)
}

pub(crate) fn parse<T: DeserializeOwned>(input: Value) -> Result<T, AwsError> {
    serde_json::from_value(input).map_err(|e| AwsError::serialization(e.to_string()))
}

pub(crate) fn to_value<T: serde::Serialize>(output: &T) -> Result<Value, AwsError> {
    serde_json::to_value(output).map_err(|e| AwsError::client("InternalFailure", e.to_string()))
}

/// Maps store failures to what CloudWatch Logs would answer.
pub(crate) fn store_error(err: StoreError) -> AwsError {
    match err {
        StoreError::LogGroupAlreadyExists => AwsError::client(
            "ResourceAlreadyExistsException",
            "The specified log group already exists",
        ),
        StoreError::LogGroupNotFound => arn::not_found_group(),
        StoreError::LogStreamAlreadyExists => AwsError::client(
            "ResourceAlreadyExistsException",
            "The specified log stream already exists",
        ),
        StoreError::LogStreamNotFound => arn::not_found_stream(),
        StoreError::Throttled(reason) => {
            tracing::warn!(%reason, "throttling");
            AwsError::throttling("Rate exceeded")
        }
        StoreError::Unavailable(reason) => {
            tracing::warn!(%reason, "service unavailable");
            AwsError::service_unavailable(format!("The service is unavailable: {reason}"))
        }
        StoreError::Corrupt(reason) => {
            tracing::error!(%reason, "corrupt data refused");
            AwsError::service_unavailable(
                "Stored data failed its integrity check and is not served",
            )
        }
        StoreError::Internal(reason) => {
            tracing::error!(%reason, "store failure");
            AwsError::service_unavailable("The service is unavailable")
        }
    }
}

#[async_trait]
impl AwsJsonService for LogsService {
    fn model(&self) -> &ServiceModel {
        &self.model
    }

    fn validation_error_code(&self) -> &'static str {
        "InvalidParameterException"
    }

    async fn call(
        &self,
        context: &RequestContext,
        operation: &str,
        input: Value,
    ) -> Result<Value, AwsError> {
        let scope = scope_of(context);
        match operation {
            "CreateLogGroup" => groups::create_log_group(self, &scope, parse(input)?).await,
            "DeleteLogGroup" => groups::delete_log_group(self, &scope, parse(input)?).await,
            "DescribeLogGroups" => groups::describe_log_groups(self, &scope, parse(input)?).await,
            "ListLogGroups" => groups::list_log_groups(self, &scope, parse(input)?).await,
            "PutRetentionPolicy" => groups::put_retention_policy(self, &scope, parse(input)?).await,
            "DeleteRetentionPolicy" => {
                groups::delete_retention_policy(self, &scope, parse(input)?).await
            }
            "CreateLogStream" => streams::create_log_stream(self, &scope, parse(input)?).await,
            "DeleteLogStream" => streams::delete_log_stream(self, &scope, parse(input)?).await,
            "DescribeLogStreams" => {
                streams::describe_log_streams(self, &scope, parse(input)?).await
            }
            "PutLogEvents" => events::put_log_events(self, &scope, parse(input)?).await,
            "GetLogEvents" => events::get_log_events(self, &scope, parse(input)?).await,
            "FilterLogEvents" => events::filter_log_events(self, &scope, parse(input)?).await,
            "TagResource" => tags::tag_resource(self, &scope, parse(input)?).await,
            "UntagResource" => tags::untag_resource(self, &scope, parse(input)?).await,
            "ListTagsForResource" => {
                tags::list_tags_for_resource(self, &scope, parse(input)?).await
            }
            "TagLogGroup" => tags::tag_log_group(self, &scope, parse(input)?).await,
            "UntagLogGroup" => tags::untag_log_group(self, &scope, parse(input)?).await,
            "ListTagsLogGroup" => tags::list_tags_log_group(self, &scope, parse(input)?).await,
            "StartQuery" => insights::start_query(self, &scope, parse(input)?).await,
            "GetQueryResults" => insights::get_query_results(self, &scope, parse(input)?).await,
            "StopQuery" => insights::stop_query(self, &scope, parse(input)?).await,
            "DescribeQueries" => insights::describe_queries(self, &scope, parse(input)?).await,
            "PutQueryDefinition" => {
                insights_definitions::put_query_definition(self, &scope, parse(input)?).await
            }
            "DescribeQueryDefinitions" => {
                insights_definitions::describe_query_definitions(self, &scope, parse(input)?).await
            }
            "DeleteQueryDefinition" => {
                insights_definitions::delete_query_definition(self, &scope, parse(input)?).await
            }
            "GetLogRecord" => insights_records::get_log_record(self, &scope, parse(input)?).await,
            "GetLogGroupFields" => {
                insights_records::get_log_group_fields(self, &scope, parse(input)?).await
            }
            other => Err(AwsError::client(
                "InvalidOperationException",
                format!("The operation {other} is not supported by this watchtrail server yet."),
            )),
        }
    }
}

/// Looks up a group by name, failing with AWS's not-found error.
pub(crate) async fn require_group(
    service: &LogsService,
    scope: &Scope,
    name: &str,
) -> Result<watchtrail_store::LogGroup, AwsError> {
    service
        .store
        .log_group(scope, name)
        .await
        .map_err(store_error)?
        .ok_or_else(arn::not_found_group)
}

/// Looks up a stream of a group, failing with AWS's not-found error.
pub(crate) async fn require_stream(
    service: &LogsService,
    group: watchtrail_store::GroupId,
    name: &str,
) -> Result<watchtrail_store::LogStream, AwsError> {
    service
        .store
        .log_stream(group, name)
        .await
        .map_err(store_error)?
        .ok_or_else(arn::not_found_stream)
}

/// Resolves the `logGroupName` xor `logGroupIdentifier` pair several operations take.
pub(crate) fn group_name_or_identifier(
    scope: &Scope,
    name: Option<String>,
    identifier: Option<String>,
) -> Result<String, AwsError> {
    match (name, identifier) {
        (Some(_), Some(_)) => Err(invalid_parameter(
            "LogGroup name and LogGroup ARN are mutually exclusive parameters.",
        )),
        (Some(name), None) => Ok(name),
        (None, Some(identifier)) => arn::resolve_identifier(scope, &identifier),
        (None, None) => Err(invalid_parameter(
            "Should provide either logGroupName or logGroupIdentifier.",
        )),
    }
}
